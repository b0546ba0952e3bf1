//! Lossless JPEG (ITU T.81 process 14, SOF3) as DNG uses it: decoder with predictors 1–7,
//! several components (CinemaDNG's "2 components × half width"), restart intervals and
//! point transform; and a simple encoder (predictor 1) for the synthetic camera clip.
//!
//! The decoder reads untrusted bytes: every read is bounds-checked, table and frame sizes are
//! validated before allocation, and a stream that ends early is an error naming where.

use crate::ImagingError;

fn err(what: impl Into<String>) -> ImagingError {
    ImagingError::Format {
        what: format!("lossless JPEG: {}", what.into()),
    }
}

#[derive(Clone)]
struct Huffman {
    /// (code length, code) → symbol, via per-length ranges (canonical codes).
    min_code: [i32; 17],
    max_code: [i32; 17],
    val_ptr: [i32; 17],
    symbols: Vec<u8>,
    /// Fast lookup for codes up to 9 bits: (symbol, length) or length 0.
    fast: Vec<(u8, u8)>,
}

const FAST_BITS: u32 = 9;

impl Huffman {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Result<Self, ImagingError> {
        let mut min_code = [0i32; 17];
        let mut max_code = [-1i32; 17];
        let mut val_ptr = [0i32; 17];
        let mut code = 0i32;
        let mut k = 0i32;
        for len in 1..=16 {
            let n = counts[len - 1] as i32;
            val_ptr[len] = k;
            min_code[len] = code;
            code += n;
            k += n;
            max_code[len] = if n > 0 { code - 1 } else { -1 };
            if code > (1 << len) {
                return Err(err("Huffman table has more codes than fit their lengths"));
            }
            code <<= 1;
        }
        if k as usize != symbols.len() {
            return Err(err("Huffman table symbol count mismatch"));
        }
        let mut fast = vec![(0u8, 0u8); 1 << FAST_BITS];
        for len in 1..=FAST_BITS as usize {
            if max_code[len] < 0 {
                continue;
            }
            for c in min_code[len]..=max_code[len] {
                let sym = symbols[(val_ptr[len] + c - min_code[len]) as usize];
                let shift = FAST_BITS as usize - len;
                for fill in 0..(1 << shift) {
                    fast[((c as usize) << shift) | fill] = (sym, len as u8);
                }
            }
        }
        Ok(Huffman {
            min_code,
            max_code,
            val_ptr,
            symbols: symbols.to_vec(),
            fast,
        })
    }
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    n: u32,
    /// Set when a marker or the end was met: the stream yields zeros after it.
    hit_marker: bool,
    /// Zero bytes supplied past the end; more than the 8-byte look-ahead means data was missing.
    overrun: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos,
            acc: 0,
            n: 0,
            hit_marker: false,
            overrun: 0,
        }
    }

    fn fill(&mut self) {
        while self.n <= 56 {
            let mut byte = 0u8;
            if !self.hit_marker && self.pos < self.data.len() {
                byte = self.data[self.pos];
                if byte == 0xFF {
                    match self.data.get(self.pos + 1) {
                        Some(0x00) => self.pos += 2,
                        _ => {
                            self.hit_marker = true;
                            byte = 0;
                        }
                    }
                } else {
                    self.pos += 1;
                }
            } else {
                self.hit_marker = true;
            }
            if self.hit_marker {
                self.overrun += 1;
            }
            self.acc |= (byte as u64) << (56 - self.n);
            self.n += 8;
        }
    }

    fn peek(&mut self, k: u32) -> u32 {
        if self.n < k {
            self.fill();
        }
        (self.acc >> (64 - k)) as u32
    }

    fn consume(&mut self, k: u32) {
        self.acc <<= k;
        self.n -= k;
    }

    fn get(&mut self, k: u32) -> u32 {
        if k == 0 {
            return 0;
        }
        let v = self.peek(k);
        self.consume(k);
        v
    }

    fn symbol(&mut self, h: &Huffman) -> Result<u8, ImagingError> {
        let look = self.peek(FAST_BITS) as usize;
        let (sym, len) = h.fast[look];
        if len > 0 {
            self.consume(len as u32);
            return Ok(sym);
        }
        let mut code = self.get(FAST_BITS) as i32;
        for len in FAST_BITS as usize + 1..=16 {
            code = (code << 1) | self.get(1) as i32;
            if h.max_code[len] >= 0 && code <= h.max_code[len] && code >= h.min_code[len] {
                return Ok(h.symbols[(h.val_ptr[len] + code - h.min_code[len]) as usize]);
            }
        }
        Err(err("invalid Huffman code in the entropy-coded data"))
    }

    fn diff(&mut self, h: &Huffman) -> Result<i32, ImagingError> {
        let s = self.symbol(h)? as u32;
        Ok(match s {
            0 => 0,
            16 => 32768,
            1..=15 => {
                let v = self.get(s) as i32;
                if v < (1 << (s - 1)) {
                    v - (1 << s) + 1
                } else {
                    v
                }
            }
            _ => {
                return Err(err(format!(
                    "difference category {s} is out of range 0..=16"
                )))
            }
        })
    }

    /// Skips to just after the next RSTn marker.
    fn restart(&mut self) -> Result<(), ImagingError> {
        self.acc = 0;
        self.n = 0;
        self.hit_marker = false;
        self.overrun = 0;
        while self.pos + 1 < self.data.len() {
            if self.data[self.pos] == 0xFF && (0xD0..=0xD7).contains(&self.data[self.pos + 1]) {
                self.pos += 2;
                return Ok(());
            }
            self.pos += 1;
        }
        Err(err("restart marker missing"))
    }
}

/// A decoded lossless JPEG: `width` samples per row (components interleaved), `height` rows.
#[derive(Debug, Clone, PartialEq)]
pub struct LjpegImage {
    pub width: usize,
    pub height: usize,
    pub components: usize,
    pub precision: u8,
    pub data: Vec<u16>,
}

/// Decodes one lossless JPEG stream; `max_samples` bounds the allocation.
pub fn decode(data: &[u8], max_samples: u64) -> Result<LjpegImage, ImagingError> {
    if data.get(0..2) != Some(&[0xFF, 0xD8]) {
        return Err(err("missing SOI marker"));
    }
    let mut pos = 2;
    let mut tables: [Option<Huffman>; 4] = [None, None, None, None];
    let mut frame: Option<(u8, usize, usize, Vec<u8>)> = None; // precision, height, width, component ids
    let mut restart_interval = 0usize;
    loop {
        // Find the next marker.
        while pos < data.len() && data[pos] != 0xFF {
            pos += 1;
        }
        while pos < data.len() && data[pos] == 0xFF {
            pos += 1;
        }
        let marker = *data
            .get(pos)
            .ok_or_else(|| err("stream ended before the scan"))?;
        pos += 1;
        if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            continue;
        }
        if marker == 0xD9 {
            return Err(err("EOI before any scan"));
        }
        let len = u16::from_be_bytes([
            *data.get(pos).ok_or_else(|| err("truncated segment"))?,
            *data.get(pos + 1).ok_or_else(|| err("truncated segment"))?,
        ]) as usize;
        let seg = data
            .get(pos + 2..pos + len)
            .filter(|_| len >= 2)
            .ok_or_else(|| err(format!("segment FF{marker:02X} truncated")))?;
        match marker {
            0xC4 => {
                let mut p = 0;
                while p < seg.len() {
                    let tc_th = seg[p];
                    let th = (tc_th & 0x0F) as usize;
                    if th > 3 {
                        return Err(err(format!("Huffman table id {th} > 3")));
                    }
                    let counts: [u8; 16] = seg
                        .get(p + 1..p + 17)
                        .ok_or_else(|| err("DHT truncated"))?
                        .try_into()
                        .expect("16");
                    let n: usize = counts.iter().map(|c| *c as usize).sum();
                    let symbols = seg
                        .get(p + 17..p + 17 + n)
                        .ok_or_else(|| err("DHT symbols truncated"))?;
                    tables[th] = Some(Huffman::new(&counts, symbols)?);
                    p += 17 + n;
                }
            }
            0xC3 => {
                if seg.len() < 6 {
                    return Err(err("SOF3 truncated"));
                }
                let precision = seg[0];
                let height = u16::from_be_bytes([seg[1], seg[2]]) as usize;
                let width = u16::from_be_bytes([seg[3], seg[4]]) as usize;
                let nf = seg[5] as usize;
                if !(2..=16).contains(&precision) || nf == 0 || nf > 4 || seg.len() < 6 + 3 * nf {
                    return Err(err(format!(
                        "unsupported frame: precision {precision}, {nf} components"
                    )));
                }
                let mut ids = Vec::new();
                for c in 0..nf {
                    let hv = seg[6 + 3 * c + 1];
                    if hv != 0x11 {
                        return Err(err(format!(
                            "component sampling {hv:#04x} (only 1×1 is used by DNG)"
                        )));
                    }
                    ids.push(seg[6 + 3 * c]);
                }
                if width == 0 || height == 0 || (width * nf) as u64 * height as u64 > max_samples {
                    return Err(err(format!(
                        "frame {width}×{height}×{nf} is empty or exceeds the decode limits"
                    )));
                }
                frame = Some((precision, height, width, ids));
            }
            0xC0..=0xC2 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(ImagingError::Unsupported {
                    what: format!(
                        "JPEG process with SOF marker FF{marker:02X} (DNG needs lossless SOF3)"
                    ),
                })
            }
            0xDD => {
                restart_interval = u16::from_be_bytes([
                    *seg.first().ok_or_else(|| err("DRI truncated"))?,
                    *seg.get(1).ok_or_else(|| err("DRI truncated"))?,
                ]) as usize;
            }
            0xDA => {
                let (precision, height, width, ids) = frame
                    .clone()
                    .ok_or_else(|| err("scan before the frame header"))?;
                let ns = *seg.first().ok_or_else(|| err("SOS truncated"))? as usize;
                if ns != ids.len() || seg.len() < 1 + 2 * ns + 3 {
                    return Err(err(format!(
                        "scan has {ns} components, frame has {}",
                        ids.len()
                    )));
                }
                let mut comp_tables = Vec::new();
                for c in 0..ns {
                    let td = (seg[1 + 2 * c + 1] >> 4) as usize;
                    comp_tables.push(tables.get(td).and_then(|t| t.clone()).ok_or_else(|| {
                        err(format!("component {c} uses undefined Huffman table {td}"))
                    })?);
                }
                let predictor = seg[1 + 2 * ns];
                let point_transform = seg[1 + 2 * ns + 2] & 0x0F;
                if !(1..=7).contains(&predictor) {
                    return Err(err(format!("predictor {predictor} is not 1..=7")));
                }
                let start = pos + len;
                let data = decode_scan(
                    data,
                    start,
                    precision,
                    point_transform,
                    height,
                    width,
                    &comp_tables,
                    predictor,
                    restart_interval,
                )?;
                return Ok(LjpegImage {
                    width: width * ns,
                    height,
                    components: ns,
                    precision,
                    data,
                });
            }
            _ => {}
        }
        pos += len;
    }
}

#[allow(clippy::too_many_arguments)]
fn decode_scan(
    data: &[u8],
    start: usize,
    precision: u8,
    pt: u8,
    height: usize,
    width: usize,
    tables: &[Huffman],
    predictor: u8,
    restart_interval: usize,
) -> Result<Vec<u16>, ImagingError> {
    let nc = tables.len();
    let row_len = width * nc;
    let mut out = vec![0u16; row_len * height];
    let mut bits = Bits::new(data, start);
    let initial = 1i32 << (precision as i32 - pt as i32 - 1).max(0);
    let mut mcus_left = restart_interval;
    let mut restart_row = true; // first row of the image or of a restart interval
    for y in 0..height {
        let (prev, cur) = if y == 0 {
            (None, &mut out[..row_len])
        } else {
            let (a, b) = out.split_at_mut(y * row_len);
            (Some(&a[(y - 1) * row_len..]), &mut b[..row_len])
        };
        for x in 0..width {
            if restart_interval > 0 {
                if mcus_left == 0 {
                    bits.restart()?;
                    mcus_left = restart_interval;
                    restart_row = true;
                }
                mcus_left -= 1;
            }
            for (c, table) in tables.iter().enumerate() {
                let i = x * nc + c;
                let pred = if x == 0 && (y == 0 || restart_row) {
                    initial
                } else if y == 0 || restart_row {
                    cur[i - nc] as i32
                } else if x == 0 {
                    prev.expect("row above")[i] as i32
                } else {
                    let (ra, rb, rc) = (
                        cur[i - nc] as i32,
                        prev.expect("row above")[i] as i32,
                        prev.expect("row above")[i - nc] as i32,
                    );
                    match predictor {
                        1 => ra,
                        2 => rb,
                        3 => rc,
                        4 => ra + rb - rc,
                        5 => ra + ((rb - rc) >> 1),
                        6 => rb + ((ra - rc) >> 1),
                        _ => (ra + rb) >> 1,
                    }
                };
                let d = bits.diff(table)?;
                cur[i] = ((pred + d) & 0xFFFF) as u16;
            }
        }
        if restart_interval == 0 || mcus_left != restart_interval {
            restart_row = false;
        }
        if bits.overrun > 8 {
            return Err(err(format!(
                "entropy-coded data ends at row {} of {height} (truncated?)",
                y + 1
            )));
        }
    }
    // Shift back a point transform (rare in DNG, but part of the process).
    if pt > 0 {
        out.iter_mut().for_each(|v| *v <<= pt);
    }
    Ok(out)
}

/// Encodes `components`-interleaved samples (`width` pixels × `components` per row) with
/// predictor 1 and one Huffman table of fixed 5-bit category codes. Simple and valid; the
/// synthetic clip needs a real compressed stream, not the best ratio.
pub fn encode(
    samples: &[u16],
    width: usize,
    height: usize,
    components: usize,
    precision: u8,
) -> Vec<u8> {
    assert_eq!(
        samples.len(),
        width * height * components,
        "sample buffer matches the frame"
    );
    let mut out = vec![0xFF, 0xD8];
    // DHT: 17 symbols (categories 0..=16), all 5 bits long.
    out.extend_from_slice(&[0xFF, 0xC4]);
    let mut counts = [0u8; 16];
    counts[4] = 17;
    let dht_len = 2 + 1 + 16 + 17;
    out.extend_from_slice(&(dht_len as u16).to_be_bytes());
    out.push(0x00);
    out.extend_from_slice(&counts);
    out.extend((0..=16u8).collect::<Vec<_>>());
    // SOF3
    out.extend_from_slice(&[0xFF, 0xC3]);
    out.extend_from_slice(&((8 + 3 * components) as u16).to_be_bytes());
    out.push(precision);
    out.extend_from_slice(&(height as u16).to_be_bytes());
    out.extend_from_slice(&(width as u16).to_be_bytes());
    out.push(components as u8);
    for c in 0..components {
        out.extend_from_slice(&[c as u8 + 1, 0x11, 0]);
    }
    // SOS
    out.extend_from_slice(&[0xFF, 0xDA]);
    out.extend_from_slice(&((6 + 2 * components) as u16).to_be_bytes());
    out.push(components as u8);
    for c in 0..components {
        out.extend_from_slice(&[c as u8 + 1, 0x00]);
    }
    out.extend_from_slice(&[1, 0, 0]); // predictor 1, Se, Ah/Al
    let mut w = BitWriter { out, acc: 0, n: 0 };
    let row_len = width * components;
    let initial = 1i32 << (precision - 1);
    for y in 0..height {
        let row = &samples[y * row_len..][..row_len];
        for i in 0..row_len {
            let pred = if i < components {
                if y == 0 {
                    initial
                } else {
                    samples[(y - 1) * row_len + i] as i32
                }
            } else {
                row[i - components] as i32
            };
            let mut d = (row[i] as i32 - pred) & 0xFFFF;
            if d >= 32768 {
                d -= 65536;
            }
            let (cat, bits, nbits) = if d == 0 {
                (0, 0, 0)
            } else if d == -32768 {
                (16, 0, 0)
            } else {
                let cat = 32 - (d.unsigned_abs()).leading_zeros();
                let bits = if d < 0 {
                    (d - 1) as u32 & ((1 << cat) - 1)
                } else {
                    d as u32
                };
                (cat, bits, cat)
            };
            w.put(cat, 5);
            w.put(bits, nbits);
        }
    }
    w.finish()
}

struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn put(&mut self, v: u32, k: u32) {
        if k == 0 {
            return;
        }
        self.acc = (self.acc << k) | (v as u64 & ((1u64 << k) - 1));
        self.n += k;
        while self.n >= 8 {
            let byte = (self.acc >> (self.n - 8)) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0x00);
            }
            self.n -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put((1 << pad) - 1, pad); // pad with ones, as T.81 asks
        }
        self.out.extend_from_slice(&[0xFF, 0xD9]);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: usize, h: usize, c: usize, bits: u8) -> Vec<u16> {
        let max = (1u32 << bits) - 1;
        (0..w * h * c)
            .map(|i| ((i as u32).wrapping_mul(2654435761u32) >> 7) as u16 & max as u16)
            .collect()
    }

    #[test]
    fn round_trip_precisions_and_components() {
        for (bits, comps) in [(12u8, 2usize), (16, 1), (14, 4), (10, 2)] {
            let (w, h) = (37, 11);
            let px = image(w, h, comps, bits);
            let bytes = encode(&px, w, h, comps, bits);
            let img = decode(&bytes, u64::MAX).unwrap();
            assert_eq!(
                (img.width, img.height, img.components),
                (w * comps, h, comps)
            );
            assert_eq!(img.data, px, "{bits}-bit, {comps} components");
        }
    }

    #[test]
    fn corrupt_streams_are_errors() {
        let px = image(64, 32, 2, 12);
        let bytes = encode(&px, 64, 32, 2, 12);
        for cut in [0, 1, 5, 30, 60, bytes.len() / 2] {
            assert!(decode(&bytes[..cut], u64::MAX).is_err(), "cut at {cut}");
        }
        let mut bad = bytes.clone();
        let sos = bad.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        bad[sos + 2 + 2 + 1 + 2 * 2] = 9; // predictor 9
        assert!(decode(&bad, u64::MAX).is_err());
        assert!(decode(&bytes, 100).is_err(), "limits");
    }
}

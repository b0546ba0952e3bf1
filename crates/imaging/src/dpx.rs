//! DPX (SMPTE 268M) images: decode 8/10/12/16-bit RGB(A)/luma with packing 0 (packed) and
//! 1 / 2 (filled A / B) in either byte order, keeping the header fields a pipeline needs
//! (timecode, frame rate, film and creator info); encode 10-bit RGB filled A.
//!
//! Untrusted bytes: every offset and size is checked against the buffer and the decode limits
//! before anything is allocated.

use rayon::prelude::*;

const HEADER_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DpxError {
    #[error("not a DPX file (magic {0:02x?}, expected \"SDPX\" or \"XPDS\")")]
    Magic([u8; 4]),
    #[error("DPX truncated: {what} needs bytes {start}..{end}, the file has {len}")]
    Truncated {
        what: &'static str,
        start: usize,
        end: usize,
        len: usize,
    },
    #[error("DPX {field} = {value} is not supported ({supported})")]
    Unsupported {
        field: &'static str,
        value: u32,
        supported: &'static str,
    },
    #[error("DPX image {width}×{height} exceeds the decode limits ({limit})")]
    Limits {
        width: u32,
        height: u32,
        limit: String,
    },
}

/// Header fields kept with the pixels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DpxMetadata {
    pub creator: String,
    pub project: String,
    pub file_name: String,
    pub creation_time: String,
    /// SMPTE timecode `HH:MM:SS:FF` from the TV header, if set.
    pub timecode: Option<String>,
    /// Frame rate from the film or TV header, if set.
    pub frame_rate: Option<f32>,
    pub film_frame_id: String,
    pub slate: String,
    /// Orientation header: the input device (scanner, camera) and its serial number.
    pub input_device: String,
    pub input_device_serial: String,
    /// The element's transfer characteristic code (e.g. 1 printing density, 2 linear, 13 SMPTE 240M).
    pub transfer: u8,
    pub colorimetric: u8,
    pub big_endian: bool,
    pub packing: u16,
}

/// Decoded code values, interleaved, `channels` per pixel, in the file's bit depth.
#[derive(Debug, Clone, PartialEq)]
pub struct DpxImage {
    pub width: u32,
    pub height: u32,
    pub channels: usize,
    pub bit_depth: u8,
    pub data: Vec<u16>,
    pub metadata: DpxMetadata,
}

struct Reader<'a> {
    b: &'a [u8],
    be: bool,
}

impl Reader<'_> {
    fn bytes(&self, what: &'static str, at: usize, n: usize) -> Result<&[u8], DpxError> {
        self.b.get(at..at + n).ok_or(DpxError::Truncated {
            what,
            start: at,
            end: at + n,
            len: self.b.len(),
        })
    }
    fn u32(&self, what: &'static str, at: usize) -> Result<u32, DpxError> {
        let s: [u8; 4] = self.bytes(what, at, 4)?.try_into().expect("4 bytes");
        Ok(if self.be {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }
    fn u16(&self, what: &'static str, at: usize) -> Result<u16, DpxError> {
        let s: [u8; 2] = self.bytes(what, at, 2)?.try_into().expect("2 bytes");
        Ok(if self.be {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        })
    }
    fn f32(&self, what: &'static str, at: usize) -> Result<f32, DpxError> {
        self.u32(what, at).map(f32::from_bits)
    }
    fn text(&self, at: usize, n: usize) -> String {
        let raw = self.b.get(at..at + n).unwrap_or(&[]);
        let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
        String::from_utf8_lossy(&raw[..end]).trim().to_string()
    }
}

/// Undefined fields in DPX are all-ones.
fn defined_u32(v: u32) -> Option<u32> {
    (v != u32::MAX).then_some(v)
}

fn defined_f32(v: f32) -> Option<f32> {
    (v.is_finite() && v > 0.0 && v.to_bits() != u32::MAX).then_some(v)
}

fn bcd_timecode(tc: u32) -> Option<String> {
    if tc == u32::MAX || tc == 0 {
        return None;
    }
    let digit = |shift: u32| (tc >> shift) & 0xF;
    let pair = |shift: u32| digit(shift + 4) * 10 + digit(shift);
    if (0..8).any(|i| digit(i * 4) > 9) {
        return None;
    }
    Some(format!(
        "{:02}:{:02}:{:02}:{:02}",
        pair(24),
        pair(16),
        pair(8),
        pair(0)
    ))
}

fn to_bcd(tc: &str) -> Option<u32> {
    let parts: Vec<u32> = tc
        .split([':', ';'])
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if parts.len() != 4 || parts.iter().any(|p| *p > 99) {
        return None;
    }
    Some(
        parts
            .iter()
            .fold(0u32, |acc, p| (acc << 8) | ((p / 10) << 4) | (p % 10)),
    )
}

/// Decodes a DPX file's first image element.
pub fn decode_dpx(bytes: &[u8], limits: &crate::DecodeLimits) -> Result<DpxImage, DpxError> {
    let layout = parse_dpx(bytes, limits)?;
    let per_line = layout.width as usize * layout.channels;
    let mut data = vec![0u16; per_line * layout.height as usize];
    data.par_chunks_mut(per_line)
        .enumerate()
        .for_each(|(y, out)| layout.unpack_row(bytes, y, out));
    Ok(DpxImage {
        width: layout.width,
        height: layout.height,
        channels: layout.channels,
        bit_depth: layout.bit_depth,
        data,
        metadata: layout.metadata,
    })
}

/// Where a DPX's first image element lies and how its lines are packed: what decoding a row
/// needs, checked against the file's length, so rows can be unpacked one at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct DpxLayout {
    pub width: u32,
    pub height: u32,
    pub channels: usize,
    pub bit_depth: u8,
    pub metadata: DpxMetadata,
    packing: u16,
    be: bool,
    element_offset: usize,
    stride: usize,
    line_bytes: usize,
}

impl DpxLayout {
    /// Unpacks line `y` (below the height) of `bytes` (the file `parse_dpx` read) into
    /// `out` (`width × channels` codes).
    pub fn unpack_row(&self, bytes: &[u8], y: usize, out: &mut [u16]) {
        let line = &bytes[self.element_offset + y * self.stride..][..self.line_bytes];
        unpack_line(line, out, self.bit_depth, self.packing, self.be);
    }
}

/// Reads and checks a DPX's headers; the pixels stay in `bytes`.
pub fn parse_dpx(bytes: &[u8], limits: &crate::DecodeLimits) -> Result<DpxLayout, DpxError> {
    let magic: [u8; 4] = bytes
        .get(0..4)
        .ok_or(DpxError::Truncated {
            what: "magic",
            start: 0,
            end: 4,
            len: bytes.len(),
        })?
        .try_into()
        .expect("4");
    let be = match &magic {
        b"SDPX" => true,
        b"XPDS" => false,
        _ => return Err(DpxError::Magic(magic)),
    };
    let r = Reader { b: bytes, be };
    r.bytes("header", 0, HEADER_LEN.min(1664))?;
    let data_offset = r.u32("image data offset", 4)? as usize;
    let n_elements = r.u16("number of elements", 770)?;
    if n_elements == 0 || n_elements > 8 {
        return Err(DpxError::Unsupported {
            field: "number of elements",
            value: n_elements as u32,
            supported: "1..=8",
        });
    }
    let width = r.u32("pixels per line", 772)?;
    let height = r.u32("lines per element", 776)?;
    let pixels = width as u64 * height as u64;
    if width == 0
        || height == 0
        || width > limits.max_width
        || height > limits.max_height
        || pixels > limits.max_pixels
    {
        return Err(DpxError::Limits {
            width,
            height,
            limit: format!(
                "max {}×{}, {} pixels",
                limits.max_width, limits.max_height, limits.max_pixels
            ),
        });
    }
    let el = 780;
    let descriptor = r.bytes("descriptor", el + 20, 1)?[0];
    let transfer = r.bytes("transfer", el + 21, 1)?[0];
    let colorimetric = r.bytes("colorimetric", el + 22, 1)?[0];
    let bit_depth = r.bytes("bit size", el + 23, 1)?[0];
    let packing = r.u16("packing", el + 24)?;
    let encoding = r.u16("encoding", el + 26)?;
    let element_offset = defined_u32(r.u32("element data offset", el + 28)?)
        .filter(|o| *o != 0)
        .map(|o| o as usize)
        .unwrap_or(data_offset);
    let eol_padding = defined_u32(r.u32("end-of-line padding", el + 32)?).unwrap_or(0) as usize;
    let channels = match descriptor {
        6 | 1 | 2 | 3 | 4 => 1, // luma, red, green, blue, alpha
        50 => 3,
        51 | 52 => 4,
        d => {
            return Err(DpxError::Unsupported {
                field: "image descriptor",
                value: d as u32,
                supported: "1-4, 6 (single channel), 50 (RGB), 51/52 (RGBA/ABGR)",
            })
        }
    };
    if encoding != 0 {
        return Err(DpxError::Unsupported {
            field: "encoding",
            value: encoding as u32,
            supported: "0 (uncompressed)",
        });
    }
    if !matches!(bit_depth, 8 | 10 | 12 | 16) {
        return Err(DpxError::Unsupported {
            field: "bit size",
            value: bit_depth as u32,
            supported: "8, 10, 12, 16",
        });
    }
    if packing > 2 {
        return Err(DpxError::Unsupported {
            field: "packing",
            value: packing as u32,
            supported: "0 (packed), 1 (filled A), 2 (filled B)",
        });
    }
    let per_line = width as usize * channels;
    let unpadded = match bit_depth {
        8 => per_line,
        16 => per_line * 2,
        _ => 0,
    };
    let mut line_bytes = match (bit_depth, packing) {
        (8, _) => per_line.div_ceil(4) * 4,
        (16, _) => (per_line * 2).div_ceil(4) * 4,
        (10, 0) => (per_line * 10).div_ceil(32) * 4,
        (10, _) => per_line.div_ceil(3) * 4,
        (12, 0) => (per_line * 12).div_ceil(32) * 4,
        (12, _) => (per_line * 2).div_ceil(4) * 4,
        _ => unreachable!("bit depth checked above"),
    };
    // SMPTE 268M pads every line to 32 bits, but common writers (libdpx, hence OIIO) leave
    // 8- and 16-bit lines unpadded: when the data is exactly the unpadded size, it is that.
    let remaining = bytes.len().saturating_sub(element_offset) as u64;
    if unpadded != 0 && eol_padding == 0 && remaining == unpadded as u64 * height as u64 {
        line_bytes = unpadded;
    }
    let stride = line_bytes + eol_padding;
    let needed = element_offset as u64 + stride as u64 * (height as u64 - 1) + line_bytes as u64;
    if needed > bytes.len() as u64 || needed > limits.max_bytes {
        return Err(DpxError::Truncated {
            what: "image data",
            start: element_offset,
            end: needed as usize,
            len: bytes.len(),
        });
    }
    let film = 1664;
    let tv = 1920;
    let frame_rate = r
        .f32("film frame rate", film + 60)
        .ok()
        .and_then(defined_f32)
        .or_else(|| r.f32("TV frame rate", tv + 20).ok().and_then(defined_f32));
    let metadata = DpxMetadata {
        file_name: r.text(36, 100),
        creation_time: r.text(136, 24),
        creator: r.text(160, 100),
        project: r.text(260, 200),
        timecode: r.u32("timecode", tv).ok().and_then(bcd_timecode),
        frame_rate,
        film_frame_id: r.text(film + 68, 32),
        slate: r.text(film + 100, 100),
        input_device: r.text(1556, 32),
        input_device_serial: r.text(1588, 32),
        transfer,
        colorimetric,
        big_endian: be,
        packing,
    };
    Ok(DpxLayout {
        width,
        height,
        channels,
        bit_depth,
        metadata,
        packing,
        be,
        element_offset,
        stride,
        line_bytes,
    })
}

fn word(line: &[u8], i: usize, be: bool) -> u32 {
    let s: [u8; 4] = line[i * 4..i * 4 + 4].try_into().expect("in bounds");
    if be {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    }
}

fn unpack_line(line: &[u8], out: &mut [u16], bit_depth: u8, packing: u16, be: bool) {
    match (bit_depth, packing) {
        (8, _) => out.iter_mut().zip(line).for_each(|(o, b)| *o = *b as u16),
        (16, _) => out.iter_mut().enumerate().for_each(|(i, o)| {
            let s = [line[2 * i], line[2 * i + 1]];
            *o = if be {
                u16::from_be_bytes(s)
            } else {
                u16::from_le_bytes(s)
            };
        }),
        (10, 0) | (12, 0) => {
            // Packed: datums laid end to end, filling each 32-bit word from its least
            // significant bit (the convention of SMPTE 268M and libdpx).
            let bits = bit_depth as usize;
            let mask = (1u64 << bits) - 1;
            for (i, o) in out.iter_mut().enumerate() {
                let bit = i * bits;
                let (w, off) = (bit / 32, bit % 32);
                let lo = word(line, w, be) as u64;
                let hi = if off + bits > 32 {
                    word(line, w + 1, be) as u64
                } else {
                    0
                };
                *o = (((lo | (hi << 32)) >> off) & mask) as u16;
            }
        }
        (10, m) => {
            // Filled: three datums per word; method A pads the 2 low bits, method B the 2 high.
            let shift0 = if m == 1 { 2 } else { 0 };
            // Whole words in a tight loop per byte order (the hot path of a 10-bit plate).
            let whole = out.len() / 3;
            let unpack = |o: &mut [u16], w: u32| {
                o[0] = ((w >> (shift0 + 20)) & 0x3FF) as u16;
                o[1] = ((w >> (shift0 + 10)) & 0x3FF) as u16;
                o[2] = ((w >> shift0) & 0x3FF) as u16;
            };
            let words = line[..whole * 4].chunks_exact(4);
            let outs = out[..whole * 3].chunks_exact_mut(3);
            if be {
                for (o, b) in outs.zip(words) {
                    unpack(o, u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                }
            } else {
                for (o, b) in outs.zip(words) {
                    unpack(o, u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                }
            }
            if out.len() > whole * 3 {
                let w = word(line, whole, be);
                for (k, o) in out[whole * 3..].iter_mut().enumerate() {
                    *o = ((w >> (shift0 + 20 - 10 * k as u32)) & 0x3FF) as u16;
                }
            }
        }
        (12, m) => out.iter_mut().enumerate().for_each(|(i, o)| {
            let s = [line[2 * i], line[2 * i + 1]];
            let v = if be {
                u16::from_be_bytes(s)
            } else {
                u16::from_le_bytes(s)
            };
            *o = if m == 1 { v >> 4 } else { v & 0x0FFF };
        }),
        _ => unreachable!("bit depth checked by the caller"),
    }
}

/// Encodes 10-bit RGB code values (`0..=1023`, interleaved) as a big-endian DPX, filled A.
pub fn encode_dpx_10bit(width: u32, height: u32, rgb: &[u16], meta: &DpxMetadata) -> Vec<u8> {
    assert_eq!(
        rgb.len(),
        width as usize * height as usize * 3,
        "RGB buffer matches the size"
    );
    let line_words = (width as usize * 3).div_ceil(3);
    let image_bytes = line_words * 4 * height as usize;
    let mut out = vec![0u8; HEADER_LEN + image_bytes];
    let put_u32 =
        |out: &mut [u8], at: usize, v: u32| out[at..at + 4].copy_from_slice(&v.to_be_bytes());
    let put_u16 =
        |out: &mut [u8], at: usize, v: u16| out[at..at + 2].copy_from_slice(&v.to_be_bytes());
    let put_text = |out: &mut [u8], at: usize, n: usize, s: &str| {
        let b = s.as_bytes();
        let k = b.len().min(n - 1);
        out[at..at + k].copy_from_slice(&b[..k]);
    };
    out[0..4].copy_from_slice(b"SDPX");
    put_u32(&mut out, 4, HEADER_LEN as u32);
    put_text(&mut out, 8, 8, "V2.0");
    put_u32(&mut out, 16, (HEADER_LEN + image_bytes) as u32);
    put_u32(&mut out, 20, 1); // ditto key: new frame
    put_u32(&mut out, 24, 1664); // generic header size
    put_u32(&mut out, 28, 384); // industry header size
    put_u32(&mut out, 32, 0); // user data
    put_text(&mut out, 36, 100, &meta.file_name);
    put_text(&mut out, 136, 24, &meta.creation_time);
    put_text(&mut out, 160, 100, &meta.creator);
    put_text(&mut out, 260, 200, &meta.project);
    put_u32(&mut out, 660, u32::MAX); // no encryption
    put_u16(&mut out, 768, 0); // orientation: left to right, top to bottom
    put_u16(&mut out, 770, 1);
    put_u32(&mut out, 772, width);
    put_u32(&mut out, 776, height);
    let el = 780;
    put_u32(&mut out, el, 0); // unsigned
    put_u32(&mut out, el + 4, 0);
    put_u32(&mut out, el + 8, 0f32.to_bits());
    put_u32(&mut out, el + 12, 1023);
    put_u32(&mut out, el + 16, 2.048f32.to_bits());
    out[el + 20] = 50; // RGB
    out[el + 21] = meta.transfer;
    out[el + 22] = meta.colorimetric;
    out[el + 23] = 10;
    put_u16(&mut out, el + 24, 1); // filled A
    put_u16(&mut out, el + 26, 0);
    put_u32(&mut out, el + 28, HEADER_LEN as u32);
    put_u32(&mut out, el + 32, 0);
    put_u32(&mut out, el + 36, 0);
    for other in 1..8 {
        out[el + other * 72..el + other * 72 + 72].fill(0xFF);
    }
    // Undefined fields are all ones: orientation header offsets, film and TV headers.
    out[1408..2048].fill(0xFF);
    out[1432..1620].fill(0); // orientation text fields empty
    put_text(&mut out, 1556, 32, &meta.input_device);
    put_text(&mut out, 1588, 32, &meta.input_device_serial);
    out[1664..1664 + 48].fill(0); // film text fields empty
    out[1664 + 68..1664 + 100].fill(0);
    put_text(&mut out, 1664 + 68, 32, &meta.film_frame_id);
    out[1664 + 100..1664 + 200].fill(0);
    put_text(&mut out, 1664 + 100, 100, &meta.slate);
    if let Some(rate) = meta.frame_rate {
        put_u32(&mut out, 1664 + 60, rate.to_bits());
        put_u32(&mut out, 1920 + 20, rate.to_bits());
    }
    if let Some(tc) = meta.timecode.as_deref().and_then(to_bcd) {
        put_u32(&mut out, 1920, tc);
    }
    out[HEADER_LEN..]
        .par_chunks_mut(line_words * 4)
        .zip(rgb.par_chunks(width as usize * 3))
        .for_each(|(line, px)| {
            for (w, c) in line.chunks_mut(4).zip(px.chunks(3)) {
                let v = ((c[0].min(1023) as u32) << 22)
                    | ((c[1].min(1023) as u32) << 12)
                    | ((c[2].min(1023) as u32) << 2);
                w.copy_from_slice(&v.to_be_bytes());
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> crate::DecodeLimits {
        crate::DecodeLimits::default()
    }

    #[test]
    fn round_trip_10bit_with_metadata() {
        let (w, h) = (7u32, 3u32);
        let rgb: Vec<u16> = (0..w * h * 3).map(|i| (i * 37 % 1024) as u16).collect();
        let meta = DpxMetadata {
            creator: "platefarm".into(),
            timecode: Some("01:02:03:04".into()),
            frame_rate: Some(24.0),
            transfer: 2,
            ..DpxMetadata::default()
        };
        let bytes = encode_dpx_10bit(w, h, &rgb, &meta);
        let img = decode_dpx(&bytes, &limits()).unwrap();
        assert_eq!(
            (img.width, img.height, img.channels, img.bit_depth),
            (w, h, 3, 10)
        );
        assert_eq!(img.data, rgb);
        assert_eq!(img.metadata.timecode.as_deref(), Some("01:02:03:04"));
        assert_eq!(img.metadata.frame_rate, Some(24.0));
        assert_eq!(img.metadata.creator, "platefarm");
        assert!(img.metadata.big_endian);
    }

    #[test]
    fn truncations_and_garbage_are_errors() {
        let bytes = encode_dpx_10bit(16, 16, &vec![512; 16 * 16 * 3], &DpxMetadata::default());
        for cut in [0, 3, 100, 800, 2047, 2048, bytes.len() - 1] {
            assert!(
                decode_dpx(&bytes[..cut], &limits()).is_err(),
                "cut at {cut}"
            );
        }
        assert!(matches!(
            decode_dpx(b"GIF89a..", &limits()),
            Err(DpxError::Magic(_))
        ));
        let mut huge = bytes.clone();
        huge[772..776].copy_from_slice(&1_000_000u32.to_be_bytes());
        assert!(matches!(
            decode_dpx(&huge, &limits()),
            Err(DpxError::Limits { .. })
        ));
        let mut odd = bytes.clone();
        odd[780 + 23] = 11;
        assert!(matches!(
            decode_dpx(&odd, &limits()),
            Err(DpxError::Unsupported {
                field: "bit size",
                ..
            })
        ));
    }

    #[test]
    fn bcd_round_trip() {
        assert_eq!(
            to_bcd("23:59:59:23").and_then(bcd_timecode).as_deref(),
            Some("23:59:59:23")
        );
        assert_eq!(bcd_timecode(u32::MAX), None);
    }
}

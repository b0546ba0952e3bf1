//! OpenEXR PIZ block compression of our own (encoder only): value bitmap and lookup table,
//! the 2D Haar wavelet, and the Huffman coder with its run-length pseudo-symbol, laid out
//! exactly as OpenEXR's `ImfPizCompressor` / `ImfHuf` expect. Written because the `exr`
//! crate's coder spends most of a plate's encode time writing one byte at a time; this one
//! keeps a 64-bit bit buffer and builds code lengths with a sort and two queues. Pure and
//! deterministic: the same block gives the same bytes on any thread.

const USHORT_RANGE: usize = 1 << 16;
const BITMAP_SIZE: usize = USHORT_RANGE >> 3;
const HUF_ENCSIZE: usize = USHORT_RANGE + 1;
const SHORT_ZEROCODE_RUN: u64 = 59;
const LONG_ZEROCODE_RUN: u64 = 63;
const SHORTEST_LONG_RUN: usize = 2 + LONG_ZEROCODE_RUN as usize - SHORT_ZEROCODE_RUN as usize;
const LONGEST_LONG_RUN: usize = 255 + SHORTEST_LONG_RUN;
/// OpenEXR's decoder accepts code lengths up to 58 bits.
const MAX_CODE_LEN: u8 = 58;

/// Compresses one block given as little-endian bytes laid out as OpenEXR stores a scanline
/// block (for each line, each channel's samples in turn), `width` samples per line,
/// `u16s_per_sample[c]` = 1 for half, 2 for float channels. Returns `None` if the block's code
/// would exceed OpenEXR's code-length limit (the caller then stores the block raw).
pub(crate) fn compress(
    raw_le: &[u8],
    width: usize,
    lines: usize,
    u16s_per_sample: &[usize],
) -> Option<Vec<u8>> {
    let n = raw_le.len() / 2;
    // Gather each channel's lines contiguously (OpenEXR's tmp buffer order).
    let mut starts = Vec::with_capacity(u16s_per_sample.len());
    let mut acc = 0;
    for &size in u16s_per_sample {
        starts.push(acc);
        acc += width * size * lines;
    }
    debug_assert_eq!(acc, n);
    let mut tmp = vec![0u16; n];
    let mut at = 0;
    for y in 0..lines {
        for (c, &size) in u16s_per_sample.iter().enumerate() {
            let row = width * size;
            let dst = &mut tmp[starts[c] + y * row..][..row];
            let src = &raw_le[at..at + 2 * row];
            at += 2 * row;
            for (d, b) in dst.iter_mut().zip(src.chunks_exact(2)) {
                *d = u16::from_le_bytes([b[0], b[1]]);
            }
        }
    }
    // Bitmap of the values present (zero is implied), and the forward table.
    // A byte per value first: plain stores, no read-modify-write chain through one bitmap
    // byte when neighbouring samples are alike (they usually are).
    let mut seen = vec![0u8; USHORT_RANGE];
    for &v in &tmp {
        seen[v as usize] = 1;
    }
    let mut bitmap = vec![0u8; BITMAP_SIZE];
    for (b, bits) in bitmap.iter_mut().zip(seen.chunks_exact(8)) {
        *b = bits.iter().enumerate().fold(0, |acc, (k, s)| acc | s << k);
    }
    bitmap[0] &= !1;
    let (mut min_nz, mut max_nz) = (BITMAP_SIZE - 1, 0);
    for (i, &b) in bitmap.iter().enumerate() {
        if b != 0 {
            min_nz = min_nz.min(i);
            max_nz = max_nz.max(i);
        }
    }
    let mut lut = vec![0u16; USHORT_RANGE];
    let mut k: u32 = 0;
    for (i, l) in lut.iter_mut().enumerate() {
        if i == 0 || bitmap[i >> 3] & (1 << (i & 7)) != 0 {
            *l = k as u16;
            k += 1;
        }
    }
    let max_value = (k - 1) as u16;
    for v in tmp.iter_mut() {
        *v = lut[*v as usize];
    }
    for (c, &size) in u16s_per_sample.iter().enumerate() {
        let region = &mut tmp[starts[c]..][..width * size * lines];
        for j in 0..size {
            wav2_encode(region, j, width, size, lines, width * size, max_value);
        }
    }
    let mut out = Vec::with_capacity(n);
    out.extend_from_slice(&(min_nz as u16).to_le_bytes());
    out.extend_from_slice(&(max_nz as u16).to_le_bytes());
    if min_nz <= max_nz {
        out.extend_from_slice(&bitmap[min_nz..=max_nz]);
    }
    let length_at = out.len();
    out.extend_from_slice(&[0; 4]);
    huf_compress(&tmp, &mut out)?;
    let length = (out.len() - length_at - 4) as i32;
    out[length_at..length_at + 4].copy_from_slice(&length.to_le_bytes());
    Some(out)
}

#[inline]
fn wenc14(a: u16, b: u16) -> (u16, u16) {
    let (a, b) = (a as i16 as i32, b as i16 as i32);
    (((a + b) >> 1) as u16, (a - b) as u16)
}

#[inline]
fn wenc16(a: u16, b: u16) -> (u16, u16) {
    const A_OFFSET: i32 = 1 << 15;
    const MOD_MASK: i32 = (1 << 16) - 1;
    let ao = (a as i32 + A_OFFSET) & MOD_MASK;
    let mut m = (ao + b as i32) >> 1;
    let d = ao - b as i32;
    if d < 0 {
        m = (m + A_OFFSET) & MOD_MASK;
    }
    (m as u16, (d & MOD_MASK) as u16)
}

/// OpenEXR's `wav2Encode` on `buf[base + x·ox + y·oy]`, `nx` × `ny` samples.
fn wav2_encode(buf: &mut [u16], base: usize, nx: usize, ox: usize, ny: usize, oy: usize, mx: u16) {
    let enc = if mx < (1 << 14) { wenc14 } else { wenc16 };
    let n = nx.min(ny);
    let (mut p, mut p2) = (1usize, 2usize);
    while p2 <= n {
        let (oy1, oy2, ox1, ox2) = (oy * p, oy * p2, ox * p, ox * p2);
        let mut py = base;
        let ey = base + oy * (ny - p2);
        while py <= ey {
            let mut px = py;
            let ex = py + ox * (nx - p2);
            while px <= ex {
                let (p01, p10) = (px + ox1, px + oy1);
                let p11 = p10 + ox1;
                let (i00, i01) = enc(buf[px], buf[p01]);
                let (i10, i11) = enc(buf[p10], buf[p11]);
                (buf[px], buf[p10]) = enc(i00, i10);
                (buf[p01], buf[p11]) = enc(i01, i11);
                px += ox2;
            }
            if nx & p != 0 {
                let p10 = px + oy1;
                let (i00, h) = enc(buf[px], buf[p10]);
                buf[p10] = h;
                buf[px] = i00;
            }
            py += oy2;
        }
        if ny & p != 0 {
            let mut px = py;
            let ex = py + ox * (nx - p2);
            while px <= ex {
                let p01 = px + ox1;
                let (i00, h) = enc(buf[px], buf[p01]);
                buf[p01] = h;
                buf[px] = i00;
                px += ox2;
            }
        }
        p = p2;
        p2 <<= 1;
    }
}

/// MSB-first bit writer with a 64-bit buffer, as OpenEXR's `outputBits`.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n_bits: u32,
    total: u64,
}

impl BitWriter<'_> {
    #[inline]
    fn put(&mut self, len: u32, bits: u64) {
        // len ≤ 32 and fewer than 32 bits pending, so acc never overflows; whole 32-bit words
        // are flushed at once.
        self.acc = (self.acc << len) | bits;
        self.n_bits += len;
        self.total += u64::from(len);
        if self.n_bits >= 32 {
            self.n_bits -= 32;
            let word = (self.acc >> self.n_bits) as u32;
            self.out.extend_from_slice(&word.to_be_bytes());
        }
    }

    fn finish(mut self) -> u64 {
        while self.n_bits >= 8 {
            self.n_bits -= 8;
            self.out.push((self.acc >> self.n_bits) as u8);
        }
        if self.n_bits > 0 {
            self.out.push((self.acc << (8 - self.n_bits)) as u8);
        }
        self.total
    }
}

/// Huffman code lengths for `freq` (non-zero entries only), at most `MAX_CODE_LEN`, or `None`.
fn code_lengths(freq: &[u64], lengths: &mut [u8]) -> Option<()> {
    let mut leaves: Vec<(u64, u32)> = freq
        .iter()
        .enumerate()
        .filter(|(_, f)| **f != 0)
        .map(|(i, f)| (*f, i as u32))
        .collect();
    // Ties broken by symbol so the lengths are a pure function of the frequencies.
    leaves.sort_unstable();
    let n = leaves.len();
    if n == 1 {
        lengths[leaves[0].1 as usize] = 1;
        return Some(());
    }
    // Two-queue Huffman: leaves in order, internal nodes are created in non-decreasing weight.
    let mut weight: Vec<u64> = Vec::with_capacity(n - 1);
    let mut parent: Vec<u32> = vec![0; 2 * n - 1]; // nodes 0..n leaves, n.. internal
    let (mut li, mut ni) = (0usize, 0usize);
    let take = |weight: &Vec<u64>, li: &mut usize, ni: &mut usize| -> (u64, usize) {
        if *li < n && (*ni >= weight.len() || leaves[*li].0 <= weight[*ni]) {
            *li += 1;
            (leaves[*li - 1].0, *li - 1)
        } else {
            *ni += 1;
            (weight[*ni - 1], n + *ni - 1)
        }
    };
    for _ in 0..n - 1 {
        let (wa, a) = take(&weight, &mut li, &mut ni);
        let (wb, b) = take(&weight, &mut li, &mut ni);
        let node = n + weight.len();
        weight.push(wa + wb);
        parent[a] = node as u32;
        parent[b] = node as u32;
    }
    // Depths: the root is the last node; parents have larger indices than children.
    let mut depth = vec![0u8; 2 * n - 1];
    for i in (0..2 * n - 2).rev() {
        depth[i] = depth[parent[i] as usize].saturating_add(1);
    }
    for (i, &(_, sym)) in leaves.iter().enumerate() {
        if depth[i] > MAX_CODE_LEN.min(32) {
            return None;
        }
        lengths[sym as usize] = depth[i];
    }
    Some(())
}

/// OpenEXR's `hufCompress`: 20-byte header, packed code-length table, coded data.
fn huf_compress(data: &[u16], out: &mut Vec<u8>) -> Option<()> {
    if data.is_empty() {
        return Some(());
    }
    // Two interleaved histograms, so equal neighbours do not wait on each other's increment.
    let mut halves = [vec![0u32; HUF_ENCSIZE], vec![0u32; HUF_ENCSIZE]];
    let (even, odd) = halves.split_at_mut(1);
    let (even, odd) = (&mut even[0], &mut odd[0]);
    for pair in data.chunks_exact(2) {
        even[pair[0] as usize] += 1;
        odd[pair[1] as usize] += 1;
    }
    if let Some(&last) = data.chunks_exact(2).remainder().first() {
        even[last as usize] += 1;
    }
    let mut freq: Vec<u64> = even
        .iter()
        .zip(odd.iter())
        .map(|(a, b)| u64::from(*a) + u64::from(*b))
        .collect();
    let im = freq.iter().position(|f| *f != 0)?;
    let max_sym = HUF_ENCSIZE - 1 - freq.iter().rev().position(|f| *f != 0)?;
    // The run-length pseudo-symbol follows the largest symbol, with a count of 1.
    let rlc = max_sym + 1;
    freq[rlc] = 1;
    let mut lengths = vec![0u8; HUF_ENCSIZE];
    code_lengths(&freq[..=rlc], &mut lengths)?;
    // Canonical codes, exactly as `hufCanonicalCodeTable` assigns them (the decoder rebuilds
    // them from the lengths the same way).
    let mut count = [0u64; 59];
    for &l in &lengths {
        count[l as usize] += 1;
    }
    let mut c = 0u64;
    for l in (1..=58).rev() {
        let nc = (c + count[l]) >> 1;
        count[l] = c;
        c = nc;
    }
    let mut codes = vec![0u64; rlc + 1];
    for (sym, code) in codes.iter_mut().enumerate() {
        let l = lengths[sym] as usize;
        if l > 0 {
            *code = count[l];
            count[l] += 1;
        }
    }
    let header_at = out.len();
    out.extend_from_slice(&[0; 20]);
    // Packed code lengths: 6 bits each, runs of zero lengths shortened.
    let table_start = out.len();
    {
        let mut w = BitWriter {
            out,
            acc: 0,
            n_bits: 0,
            total: 0,
        };
        let mut i = im;
        while i <= rlc {
            let l = lengths[i];
            if l == 0 {
                let mut run = 1;
                while i < rlc && run < LONGEST_LONG_RUN && lengths[i + 1] == 0 {
                    i += 1;
                    run += 1;
                }
                if run >= 2 {
                    if run >= SHORTEST_LONG_RUN {
                        w.put(6, LONG_ZEROCODE_RUN);
                        w.put(8, (run - SHORTEST_LONG_RUN) as u64);
                    } else {
                        w.put(6, SHORT_ZEROCODE_RUN + run as u64 - 2);
                    }
                    i += 1;
                    continue;
                }
            }
            w.put(6, u64::from(l));
            i += 1;
        }
        w.finish();
    }
    let table_len = out.len() - table_start;
    let n_bits = {
        let mut w = BitWriter {
            out,
            acc: 0,
            n_bits: 0,
            total: 0,
        };
        let rl_len = u32::from(lengths[rlc]);
        let rl_code = codes[rlc];
        let send = |w: &mut BitWriter, sym: u16, run: u32| {
            let (len, code) = (u32::from(lengths[sym as usize]), codes[sym as usize]);
            if len + rl_len + 8 < len * run {
                w.put(len, code);
                w.put(rl_len, rl_code);
                w.put(8, u64::from(run));
            } else {
                for _ in 0..=run {
                    w.put(len, code);
                }
            }
        };
        let mut s = data[0];
        let mut run = 0u32;
        for &v in &data[1..] {
            if v == s && run < 255 {
                run += 1;
            } else {
                send(&mut w, s, run);
                run = 0;
            }
            s = v;
        }
        send(&mut w, s, run);
        w.finish()
    };
    let header = [
        im as u32,
        rlc as u32,
        table_len as u32,
        u32::try_from(n_bits).ok()?,
        0,
    ];
    for (k, v) in header.iter().enumerate() {
        out[header_at + 4 * k..header_at + 4 * k + 4].copy_from_slice(&v.to_le_bytes());
    }
    Some(())
}

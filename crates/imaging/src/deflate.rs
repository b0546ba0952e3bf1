//! A fast zlib stream for OpenEXR's ZIP blocks: after OpenEXR's byte split and delta
//! predictor an image block is mostly small differences and runs of one byte, so runs
//! (matches at distance 1) and one dynamic Huffman block catch nearly all of what a full LZ77
//! search finds (zlib's `Z_RLE` strategy, ~7 % larger files than zlib level 4 on a plate), at
//! a fraction of its work: no hash chains, one table lookup and one bit-writer step per symbol.
//! Any inflater reads it (RFC 1950/1951; checked bit-exactly against OpenEXR's own reader by
//! `tests/exr_write_openexr.rs`).

use crate::huffman::minimum_redundancy_lengths;
use std::cell::RefCell;

/// Literal/length symbols: 256 literals, end of block, 29 length codes.
const N_LITLEN: usize = 286;
const END_OF_BLOCK: usize = 256;
const MAX_MATCH: usize = 258;
const MIN_MATCH: usize = 3;
/// Deflate's code lengths are at most 15 bits, and the code-length code's at most 7.
const MAX_BITS: u32 = 15;
const MAX_CL_BITS: u32 = 7;
/// The order the code-length code's lengths are sent in.
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Deflate's length codes: the first length of each code 257..=285 and its extra bits.
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// Per-thread buffers, reused from block to block.
#[derive(Default)]
struct Scratch {
    /// A literal (0–255) or a run of the previous byte: 256 + length − 3.
    tokens: Vec<u16>,
    keys: Vec<u64>,
    lengths: Vec<u64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `data` as a zlib stream (one dynamic-Huffman deflate block), appended to `out`.
pub(crate) fn zlib_compress(data: &[u8], out: &mut Vec<u8>) {
    SCRATCH.with(|s| compress_with(&mut s.borrow_mut(), data, out));
}

fn compress_with(s: &mut Scratch, data: &[u8], out: &mut Vec<u8>) {
    let mut litlen_freq = [0u64; N_LITLEN];
    let n_tokens = tokenize(data, &mut s.tokens, &mut litlen_freq);
    litlen_freq[END_OF_BLOCK] = 1;
    let litlen_len = limited_lengths(&litlen_freq, MAX_BITS, &mut s.keys, &mut s.lengths);
    let litlen_code = canonical_codes(&litlen_len);
    // Two distance codes of one bit (a complete code every inflater accepts); only code 0,
    // distance 1, is used.
    let dist_len = [1u8, 1];

    // The code lengths of both alphabets as one sequence, zero runs as codes 17 and 18.
    let n_lit = (0..N_LITLEN)
        .rev()
        .find(|&i| litlen_len[i] != 0)
        .map_or(257, |i| (i + 1).max(257));
    let mut cl_syms: Vec<(u8, u8)> = Vec::new(); // (symbol, extra bits value)
    let all: Vec<u8> = litlen_len[..n_lit]
        .iter()
        .chain(&dist_len)
        .copied()
        .collect();
    let mut i = 0;
    while i < all.len() {
        let zeros = all[i..].iter().take_while(|&&l| l == 0).count().min(138);
        if zeros >= 11 {
            cl_syms.push((18, (zeros - 11) as u8));
            i += zeros;
        } else if zeros >= 3 {
            cl_syms.push((17, (zeros - 3) as u8));
            i += zeros;
        } else {
            cl_syms.push((all[i], 0));
            i += 1;
        }
    }
    let mut cl_freq = [0u64; 19];
    for &(sym, _) in &cl_syms {
        cl_freq[usize::from(sym)] += 1;
    }
    let cl_len = limited_lengths(&cl_freq, MAX_CL_BITS, &mut s.keys, &mut s.lengths);
    let cl_code = canonical_codes(&cl_len);
    let n_cl = (4..=19)
        .rev()
        .find(|&k| cl_len[CL_ORDER[k - 1]] != 0)
        .unwrap_or(4);

    // zlib header: deflate, 32 KiB window, "fast" level, check bits.
    out.extend_from_slice(&[0x78, 0x01]);
    let mut w = LsbWriter::new(out);
    w.put(1, 1); // last block
    w.put(2, 2); // dynamic Huffman
    w.put((n_lit - 257) as u64, 5);
    w.put((dist_len.len() - 1) as u64, 5);
    w.put((n_cl - 4) as u64, 4);
    for &sym in &CL_ORDER[..n_cl] {
        w.put(u64::from(cl_len[sym]), 3);
    }
    for &(sym, extra) in &cl_syms {
        let sym = usize::from(sym);
        w.put(u64::from(cl_code[sym]), u32::from(cl_len[sym]));
        match sym {
            17 => w.put(u64::from(extra), 3),
            18 => w.put(u64::from(extra), 7),
            _ => {}
        }
    }
    // Every token's bits and length in one table: a literal's code, or a run's length code,
    // extra bits and distance code 0 (one 0 bit).
    let mut table = [(0u64, 0u32); 512];
    for (b, t) in table[..256].iter_mut().enumerate() {
        *t = (u64::from(litlen_code[b]), u32::from(litlen_len[b]));
    }
    for (k, t) in table[256..256 + MAX_MATCH - MIN_MATCH + 1]
        .iter_mut()
        .enumerate()
    {
        let len = k + MIN_MATCH;
        let c = length_code(len);
        let sym = 257 + c;
        let extra = (len - usize::from(LENGTH_BASE[c])) as u64;
        let code_len = u32::from(litlen_len[sym]);
        let bits = u64::from(litlen_code[sym]) | extra << code_len;
        *t = (bits, code_len + u32::from(LENGTH_EXTRA[c]) + 1);
    }
    // Two tokens a step, as one write when together they fit (literals always do).
    let mut pairs = s.tokens[..n_tokens].chunks_exact(2);
    for pair in &mut pairs {
        let (b0, l0) = table[usize::from(pair[0])];
        let (b1, l1) = table[usize::from(pair[1])];
        if l0 + l1 <= 32 {
            w.put(b0 | b1 << l0, l0 + l1);
        } else {
            w.put(b0, l0);
            w.put(b1, l1);
        }
    }
    for &t in pairs.remainder() {
        let (bits, len) = table[usize::from(t)];
        w.put(bits, len);
    }
    w.put(
        u64::from(litlen_code[END_OF_BLOCK]),
        u32::from(litlen_len[END_OF_BLOCK]),
    );
    w.finish();
    out.extend_from_slice(&zlib_rs::adler32::adler32(1, data).to_be_bytes());
}

/// Splits `data` into literals and runs of the byte before (3–258 long), counting symbols.
/// A byte not followed by three copies of itself is a literal after one compare (most bytes
/// of a noisy block); only then is the run measured.
fn tokenize(data: &[u8], tokens: &mut Vec<u16>, freq: &mut [u64; N_LITLEN]) -> usize {
    let n = data.len();
    // Grown, never shrunk: every token is written before it is read.
    if tokens.len() < n {
        tokens.resize(n, 0);
    }
    let mut k = 0;
    let mut i = 0;
    while i < n {
        let b = data[i];
        tokens[k] = u16::from(b);
        freq[usize::from(b)] += 1;
        k += 1;
        i += 1;
        let starts_run = data.get(i..i + MIN_MATCH) == Some(&[b; MIN_MATCH][..]);
        if starts_run {
            let run = MIN_MATCH + run_length(&data[i + MIN_MATCH..(i + MAX_MATCH).min(n)], b);
            tokens[k] = (256 + run - MIN_MATCH) as u16;
            freq[257 + length_code(run)] += 1;
            k += 1;
            i += run;
        }
    }
    k
}

/// The index of deflate's length code for each run length 3–258, built at compile time.
const LENGTH_CODE: [u8; MAX_MATCH - MIN_MATCH + 1] = {
    let mut table = [0u8; MAX_MATCH - MIN_MATCH + 1];
    let mut c = 0;
    let mut len = MIN_MATCH;
    while len <= MAX_MATCH {
        while c + 1 < LENGTH_BASE.len() && LENGTH_BASE[c + 1] as usize <= len {
            c += 1;
        }
        table[len - MIN_MATCH] = c as u8;
        len += 1;
    }
    table
};

/// The index of deflate's length code for a run of `len` (3–258).
#[inline(always)]
fn length_code(len: usize) -> usize {
    usize::from(LENGTH_CODE[len - MIN_MATCH])
}

/// How many bytes at the start of `data` equal `b`, eight at a time.
#[inline(always)]
fn run_length(data: &[u8], b: u8) -> usize {
    let pattern = u64::from(b) * 0x0101_0101_0101_0101;
    let mut n = 0;
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let diff = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ pattern;
        if diff != 0 {
            return n + diff.trailing_zeros() as usize / 8;
        }
        n += 8;
    }
    n + chunks.remainder().iter().take_while(|&&x| x == b).count()
}

/// Huffman code lengths of the symbols with a non-zero count, at most `max_bits` long
/// (frequencies are flattened until they fit); at least two symbols get a length, so the code
/// is complete.
fn limited_lengths<const N: usize>(
    freq: &[u64; N],
    max_bits: u32,
    keys: &mut Vec<u64>,
    lengths: &mut Vec<u64>,
) -> [u8; N] {
    let mut f = *freq;
    // A second symbol if there is only one (any code needs two leaves to be complete).
    if f.iter().filter(|&&x| x != 0).count() < 2 {
        let spare = f.iter().position(|&x| x == 0).expect("an unused symbol");
        f[spare] = 1;
    }
    loop {
        keys.clear();
        keys.extend(
            f.iter()
                .enumerate()
                .filter(|(_, &x)| x != 0)
                .map(|(sym, &x)| x << 16 | sym as u64),
        );
        keys.sort_unstable();
        lengths.clear();
        lengths.extend(keys.iter().map(|k| k >> 16));
        minimum_redundancy_lengths(lengths);
        if lengths.iter().all(|&l| l <= u64::from(max_bits)) {
            let mut out = [0u8; N];
            for (k, &l) in keys.iter().zip(lengths.iter()) {
                out[(k & 0xffff) as usize] = l as u8;
            }
            return out;
        }
        // Too deep: halve every count (keeping it non-zero), which evens out the rare ones.
        for x in f.iter_mut().filter(|x| **x != 0) {
            *x = (*x >> 1) | 1;
        }
    }
}

/// Deflate's canonical codes from the lengths, bit-reversed for the LSB-first writer.
fn canonical_codes<const N: usize>(lengths: &[u8; N]) -> [u16; N] {
    let mut count = [0u16; 16];
    for &l in lengths {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    let mut codes = [0u16; N];
    for (c, &l) in codes.iter_mut().zip(lengths) {
        if l != 0 {
            let v = next[usize::from(l)];
            next[usize::from(l)] += 1;
            *c = v.reverse_bits() >> (16 - l);
        }
    }
    codes
}

/// Least-significant-bit-first writer (deflate's order), 32 bits out at a time.
struct LsbWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl<'a> LsbWriter<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        LsbWriter { out, acc: 0, n: 0 }
    }

    /// Appends the low `len` bits of `bits` (`len` ≤ 32, no bits above them).
    #[inline(always)]
    fn put(&mut self, bits: u64, len: u32) {
        self.acc |= bits << self.n;
        self.n += len;
        if self.n >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    /// Writes the pending bits, zero-padded to a byte.
    fn finish(self) {
        let bytes = self.n.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn inflate(z: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(z)
            .read_to_end(&mut out)
            .expect("a valid zlib stream");
        out
    }

    #[test]
    fn zlib_inflates_what_we_deflate() {
        let mut noise = 0x1234_5678u32;
        let cases: Vec<Vec<u8>> = vec![
            vec![7],
            vec![0; 10_000],
            (0..=255).collect(),
            (0..100_000)
                .map(|i| {
                    noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    if i % 1000 < 300 {
                        128
                    } else {
                        (noise >> 24) as u8
                    }
                })
                .collect(),
            // Runs of every length around the limits.
            (0..600usize)
                .flat_map(|k| vec![(k % 7) as u8; k % 270])
                .collect(),
        ];
        for data in cases {
            let mut z = Vec::new();
            zlib_compress(&data, &mut z);
            assert_eq!(inflate(&z), data, "{} bytes", data.len());
        }
    }
}

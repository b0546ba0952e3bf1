//! OpenEXR's PIZ block compressor (bitmap and reverse-LUT, 14/16-bit Haar wavelet, canonical
//! Huffman with OpenEXR's run code), written for speed: the `exr` crate's coder spends most of
//! a plate's encode in per-block tables over all 65,537 symbols and a byte-at-a-time bit
//! writer. Here every table lives in per-thread scratch reused from block to block, tables are
//! built over the symbols a block uses, and bits go out 32 at a time from a 64-bit
//! accumulator. The output is what OpenEXR's own reader decodes (checked bit-exactly by
//! `tests/exr_write_openexr.rs`); it need not match OpenEXR's encoder byte for byte, only be
//! deterministic, which it is: nothing depends on which thread or which earlier block used
//! the scratch.

use crate::huffman::minimum_redundancy_lengths;
use crate::wavelet::wav2_encode;
use std::cell::RefCell;

/// Distinct 16-bit values.
const U16_RANGE: usize = 1 << 16;
/// The bitmap of used values: one bit per 16-bit value.
const BITMAP_SIZE: usize = U16_RANGE / 8;
/// Huffman symbols: every 16-bit value plus the run code one past the largest used value.
const ENC_SIZE: usize = U16_RANGE + 1;
/// OpenEXR's decoders take code lengths up to 58 bits.
const MAX_CODE_LEN: u32 = 58;
/// Packed code-length table: 59–62 stand for 2–5 zero lengths, 63 plus 8 bits for 6–261.
const SHORT_ZEROCODE_RUN: u32 = 59;
const LONG_ZEROCODE_RUN: u32 = 63;
const SHORTEST_LONG_RUN: u32 = 2 + LONG_ZEROCODE_RUN - SHORT_ZEROCODE_RUN;
const LONGEST_LONG_RUN: u32 = 255 + SHORTEST_LONG_RUN;
/// The longest run one run code stands for (its count is 8 bits).
const MAX_RUN: usize = 255;
/// Runs up to this long are coded sample by sample: the run code costs its own code and 8
/// bits, so it pays only for longer runs (OpenEXR's rule still decides each one). Also the
/// stride of the search for runs.
const MIN_LONG_RUN: u32 = 8;

/// One channel of a block as the wavelet sees it: `nx × ny` samples of `spp` 16-bit words
/// (1 for half, 2 for float), at `start` in the block's sample buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PizChannel {
    pub start: usize,
    pub nx: usize,
    pub ny: usize,
    pub spp: usize,
}

/// Everything one block's compression needs, kept per thread so no block allocates.
pub(crate) struct PizScratch {
    /// The block's samples, channel after channel (each `nx × ny × spp` words, rows in order).
    samples: Vec<u16>,
    /// `seen[v] != 0` if value `v` occurs (plain stores: no read-modify-write chain on
    /// repeated values, as setting bits in a bitmap would have).
    seen: Box<[u8; U16_RANGE]>,
    lut: Box<[u16; U16_RANGE]>,
    /// Per symbol: how often it occurs; zero again after every block.
    freq: Box<[u32; ENC_SIZE]>,
    /// Per used symbol: `code << 6 | length` (entries of unused symbols are stale, never read).
    codes: Box<[u64; ENC_SIZE]>,
    /// Runs longer than [`MIN_LONG_RUN`]: first index and length.
    long_runs: Vec<(u32, u32)>,
    /// Used symbols, ascending, and their (frequency, symbol) keys for the code-length build.
    used: Vec<u32>,
    keys: Vec<u64>,
    lengths: Vec<u64>,
    /// The coded samples, 64 bits a word, before they become bytes.
    words: Vec<u64>,
    out: Vec<u8>,
}

/// A zeroed table of `N` entries on the heap (too large for the stack).
fn table<T: Copy + Default, const N: usize>() -> Box<[T; N]> {
    vec![T::default(); N]
        .into_boxed_slice()
        .try_into()
        .unwrap_or_else(|_| unreachable!("the vector has N entries"))
}

thread_local! {
    static SCRATCH: RefCell<PizScratch> = RefCell::new(PizScratch::new());
}

/// Runs `f` with this thread's scratch (allocated on a thread's first block, then reused).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut PizScratch) -> R) -> R {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}

impl PizScratch {
    fn new() -> Self {
        PizScratch {
            samples: Vec::new(),
            seen: table(),
            lut: table(),
            freq: table(),
            codes: table(),
            long_runs: Vec::new(),
            used: Vec::new(),
            keys: Vec::new(),
            lengths: Vec::new(),
            words: Vec::new(),
            out: Vec::new(),
        }
    }

    /// The sample buffer of the next block, `n` words long, for the caller to fill.
    pub(crate) fn samples(&mut self, n: usize) -> &mut [u16] {
        self.samples.resize(n, 0);
        &mut self.samples
    }

    /// Compresses the filled samples as one PIZ block of `channels`; `None` if the result is
    /// not smaller than `raw_len` bytes (OpenEXR then stores the block as it is).
    pub(crate) fn compress(&mut self, channels: &[PizChannel], raw_len: usize) -> Option<&[u8]> {
        self.out.clear();
        let (min_nz, max_nz, max_value) = self.bitmap_and_lut();
        self.out.extend_from_slice(&(min_nz as u16).to_le_bytes());
        self.out.extend_from_slice(&(max_nz as u16).to_le_bytes());
        if min_nz <= max_nz {
            for byte in min_nz..=max_nz {
                self.out.push(self.bitmap_byte(byte));
            }
        }
        self.apply_lut();
        self.seen.fill(0);
        for ch in channels {
            for offset in 0..ch.spp {
                wav2_encode(
                    &mut self.samples[ch.start + offset..],
                    ch.nx,
                    ch.spp,
                    ch.ny,
                    ch.nx * ch.spp,
                    max_value,
                );
            }
        }
        let length_at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        let ok = self.huffman(raw_len);
        // The frequency table starts the next block at zero, whatever happened here.
        for &s in &self.used {
            self.freq[s as usize] = 0;
        }
        if !ok || self.out.len() >= raw_len {
            return None;
        }
        let huffman_len = (self.out.len() - length_at - 4) as u32;
        self.out[length_at..length_at + 4].copy_from_slice(&huffman_len.to_le_bytes());
        Some(&self.out)
    }

    /// Marks the values that occur and numbers them in ascending order (0 is always number
    /// 0); returns the first and last non-zero bitmap bytes (OpenEXR's empty range when no
    /// value but 0 occurs) and the largest number.
    fn bitmap_and_lut(&mut self) -> (usize, usize, u16) {
        let seen = &mut *self.seen;
        for &v in &self.samples {
            seen[usize::from(v)] = 1;
        }
        self.seen[0] = 1;
        let (mut min_nz, mut max_nz) = (BITMAP_SIZE - 1, 0);
        let mut next = 0u32;
        for (byte, chunk) in self.seen.chunks_exact(8).enumerate() {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            if word == 0 {
                continue;
            }
            for (bit, &s) in chunk.iter().enumerate() {
                if s != 0 {
                    self.lut[byte * 8 + bit] = next as u16;
                    next += 1;
                }
            }
            if bitmap_bits(byte, word) != 0 {
                min_nz = min_nz.min(byte);
                max_nz = byte;
            }
        }
        (min_nz, max_nz, (next - 1) as u16)
    }

    /// Bitmap byte `i` from the `seen` flags.
    fn bitmap_byte(&self, i: usize) -> u8 {
        let chunk = &self.seen[i * 8..i * 8 + 8];
        bitmap_bits(i, u64::from_le_bytes(chunk.try_into().expect("8 bytes")))
    }

    /// Replaces every sample by its number.
    fn apply_lut(&mut self) {
        let lut = &*self.lut;
        for v in &mut self.samples {
            *v = lut[usize::from(*v)];
        }
    }

    /// Appends OpenEXR's Huffman stream of the (wavelet-coded) samples to `out`; false if it
    /// grows past `raw_len` (the block is then stored raw).
    fn huffman(&mut self, raw_len: usize) -> bool {
        self.count_runs();
        // Used symbols ascending (OpenEXR assigns canonical codes in symbol order).
        self.used.clear();
        self.used.extend(
            self.freq[..U16_RANGE]
                .iter()
                .enumerate()
                .filter(|(_, &f)| f != 0)
                .map(|(s, _)| s as u32),
        );
        let Some(&last) = self.used.last() else {
            return false;
        };
        // The run code is one past the largest used value; OpenEXR's encoder counts it once,
        // we count the runs long enough to use it, so it gets a fitting length.
        let rlc = last + 1;
        let rlc_uses: u32 = self
            .long_runs
            .iter()
            .map(|&(_, len)| len.div_ceil(MAX_RUN as u32 + 1))
            .sum();
        self.freq[rlc as usize] = rlc_uses.max(1);
        self.used.push(rlc);
        if !self.code_lengths() {
            return false;
        }
        self.canonical_codes();
        let header_at = self.out.len();
        self.out.extend_from_slice(&[0; 20]);
        let table_at = self.out.len();
        self.pack_table();
        let table_len = self.out.len() - table_at;
        let Some(n_bits) = self.encode(rlc, raw_len) else {
            return false;
        };
        let header = [self.used[0], rlc, table_len as u32, n_bits, 0];
        for (k, v) in header.iter().enumerate() {
            self.out[header_at + 4 * k..][..4].copy_from_slice(&v.to_le_bytes());
        }
        true
    }

    /// Lists the runs of one value long enough that the run code may pay (`long_runs`: first
    /// index, length) and counts every value, as OpenEXR does, into `freq`. Runs are looked
    /// for every [`MIN_LONG_RUN`] samples, so one shorter than twice that may be missed and
    /// coded sample by sample — still valid, and the same for the same samples.
    fn count_runs(&mut self) {
        let data = &self.samples[..];
        let n = data.len();
        let step = MIN_LONG_RUN as usize;
        self.long_runs.clear();
        let (mut i, mut done) = (0, 0);
        while i + step < n {
            let v = data[i];
            if data[i + step] != v {
                i += step;
                continue;
            }
            let mut first = i;
            while first > done && data[first - 1] == v {
                first -= 1;
            }
            let mut end = i + step + 1;
            while end < n && data[end] == v {
                end += 1;
            }
            if end - first > step && data[first..end].iter().all(|&x| x == v) {
                self.long_runs.push((first as u32, (end - first) as u32));
                done = end;
                i = end;
            } else {
                i += step;
            }
        }
        let freq = &mut *self.freq;
        let mut at = 0;
        for &(first, len) in &self.long_runs {
            for &v in &data[at..first as usize] {
                freq[usize::from(v)] += 1;
            }
            freq[usize::from(data[first as usize])] += len;
            at = (first + len) as usize;
        }
        for &v in &data[at..] {
            freq[usize::from(v)] += 1;
        }
    }

    /// Huffman code lengths of the used symbols into `codes` (in-place minimum-redundancy
    /// lengths over the symbols sorted by frequency; ties by symbol, so it is deterministic).
    /// False if a length would exceed what OpenEXR decodes (it cannot for a block's counts).
    fn code_lengths(&mut self) -> bool {
        self.keys.clear();
        self.keys.extend(
            self.used
                .iter()
                .map(|&s| u64::from(self.freq[s as usize]) << 17 | u64::from(s)),
        );
        self.keys.sort_unstable();
        self.lengths.clear();
        self.lengths.extend(self.keys.iter().map(|k| k >> 17));
        minimum_redundancy_lengths(&mut self.lengths);
        for (k, &len) in self.keys.iter().zip(&self.lengths) {
            if len == 0 || len > u64::from(MAX_CODE_LEN) {
                return false;
            }
            self.codes[(k & 0x1_ffff) as usize] = len;
        }
        true
    }

    /// OpenEXR's canonical code assignment from the lengths: per length, codes count up in
    /// symbol order, and shorter codes sit numerically above longer ones.
    fn canonical_codes(&mut self) {
        let mut n = [0u64; MAX_CODE_LEN as usize + 1];
        for &s in &self.used {
            n[self.codes[s as usize] as usize] += 1;
        }
        let mut c = 0u64;
        for l in (1..=MAX_CODE_LEN as usize).rev() {
            let nc = (c + n[l]) >> 1;
            n[l] = c;
            c = nc;
        }
        for &s in &self.used {
            let len = self.codes[s as usize];
            self.codes[s as usize] = len | n[len as usize] << 6;
            n[len as usize] += 1;
        }
    }

    /// The code-length table from the first used symbol to the run code, 6 bits a length,
    /// zero lengths between used symbols run-length coded.
    fn pack_table(&mut self) {
        // 6 bits a used symbol, plus up to 14 for the zeros before it and 14 more for every
        // further 261 of them (at most 252 in all).
        self.words
            .resize((self.used.len() * 20 + 252 * 14) / 64 + 2, 0);
        let mut w = WordWriter::new(&mut self.words);
        let mut prev: Option<u32> = None;
        for &s in &self.used {
            if let Some(p) = prev {
                let mut zeros = s - p - 1;
                while zeros > 0 {
                    if zeros >= SHORTEST_LONG_RUN {
                        let run = zeros.min(LONGEST_LONG_RUN);
                        w.put(u64::from(LONG_ZEROCODE_RUN), 6);
                        w.put(u64::from(run - SHORTEST_LONG_RUN), 8);
                        zeros -= run;
                    } else if zeros >= 2 {
                        w.put(u64::from(SHORT_ZEROCODE_RUN + zeros - 2), 6);
                        zeros = 0;
                    } else {
                        w.put(0, 6);
                        zeros = 0;
                    }
                }
            }
            w.put(self.codes[s as usize] & 63, 6);
            prev = Some(s);
        }
        let written = w.finish().expect("sized for the longest table");
        append_words(&mut self.out, &self.words, written);
    }

    /// Appends the coded samples to `out`; returns the number of bits, or `None` if they
    /// would not fit in `raw_len` bytes (the block is then stored raw).
    fn encode(&mut self, rlc: u32, raw_len: usize) -> Option<u32> {
        let codes = &*self.codes;
        let data = &self.samples[..];
        let rlc_code = codes[rlc as usize];
        let rlc_len = rlc_code & 63;
        self.words.resize(raw_len / 8 + 1, 0);
        let mut w = WordWriter::new(&mut self.words);
        let mut i = 0;
        // Samples one by one up to each long run, then the run as code and run code (or the
        // code repeated, whichever is shorter, as OpenEXR decides).
        let end = (data.len() as u32, 0);
        for &(run_start, run_len) in self.long_runs.iter().chain(std::iter::once(&end)) {
            let run_start = run_start as usize;
            // Two samples a step, as one code when together they fit (nearly always): half
            // the writer's work per sample.
            let samples = &data[i..run_start];
            let mut pairs = samples.chunks_exact(2);
            for pair in &mut pairs {
                let (c0, c1) = (codes[usize::from(pair[0])], codes[usize::from(pair[1])]);
                let (l0, l1) = ((c0 & 63) as u32, (c1 & 63) as u32);
                if l0 + l1 <= MAX_CODE_LEN {
                    w.put((c0 >> 6) << l1 | c1 >> 6, l0 + l1);
                } else {
                    w.put_code(c0);
                    w.put_code(c1);
                }
            }
            for &v in pairs.remainder() {
                w.put_code(codes[usize::from(v)]);
            }
            if run_len == 0 {
                break;
            }
            let code = codes[usize::from(data[run_start])];
            let len = code & 63;
            let mut left = run_len as usize;
            while left > 0 {
                let extra = (left - 1).min(MAX_RUN) as u64;
                if extra > 0 && len + rlc_len + 8 < len * extra {
                    w.put_code(code);
                    w.put_code(rlc_code);
                    w.put(extra, 8);
                } else {
                    for _ in 0..=extra {
                        w.put_code(code);
                    }
                }
                left -= extra as usize + 1;
            }
            i = run_start + run_len as usize;
        }
        let written = w.finish()?;
        append_words(&mut self.out, &self.words, written);
        u32::try_from(written.0 as u64 * 64 + u64::from(written.1)).ok()
    }
}

/// Appends what a [`WordWriter`] wrote (its full words, then the bits of the last partial
/// word zero-padded to a byte) to `out` as bytes, most significant first.
fn append_words(out: &mut Vec<u8>, words: &[u64], (full, tail_bits, tail): (usize, u32, u64)) {
    out.reserve(full * 8 + 8);
    for word in &words[..full] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend_from_slice(&tail.to_be_bytes()[..tail_bits.div_ceil(8) as usize]);
}

/// Most-significant-bit-first writer of 64-bit words: codes fill a word from the top; a full
/// word is stored and the code's remaining bits start the next. Writing past the buffer only
/// counts the words (the caller then stores the block raw).
struct WordWriter<'a> {
    words: &'a mut [u64],
    n_words: usize,
    word: u64,
    /// Bits still free at the bottom of `word` (1–64).
    free: u32,
}

impl<'a> WordWriter<'a> {
    fn new(words: &'a mut [u64]) -> Self {
        WordWriter {
            words,
            n_words: 0,
            word: 0,
            free: 64,
        }
    }

    /// Appends the low `len` bits of `bits` (1 ≤ `len` ≤ 58; no bits above them).
    #[inline(always)]
    fn put(&mut self, bits: u64, len: u32) {
        if len < self.free {
            self.free -= len;
            self.word |= bits << self.free;
        } else {
            let spill = len - self.free;
            let full = self.word | bits >> spill;
            if let Some(w) = self.words.get_mut(self.n_words) {
                *w = full;
            }
            self.n_words += 1;
            self.free = 64 - spill;
            // In two steps: `free` is 64 when nothing spilled, and a shift by 64 is undefined.
            self.word = bits << (self.free - 1) << 1;
        }
    }

    /// Appends a `code << 6 | length` table entry.
    #[inline(always)]
    fn put_code(&mut self, code: u64) {
        self.put(code >> 6, (code & 63) as u32);
    }

    /// The full words written, the bits in the last partial word and that word; `None` if the
    /// words did not fit.
    fn finish(self) -> Option<(usize, u32, u64)> {
        (self.n_words < self.words.len()).then_some((self.n_words, 64 - self.free, self.word))
    }
}

/// Bitmap byte `i` from the eight 0/1 `seen` flags in `word` (byte k becomes bit k); bit 0 of
/// byte 0, the value 0, is never stored.
fn bitmap_bits(i: usize, word: u64) -> u8 {
    // The multiply moves the low bit of byte k to bit 56 + k without carries between them.
    let bits = (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8;
    if i == 0 {
        bits & !1
    } else {
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_writer_packs_msb_first() {
        let mut words = [0u64; 3];
        let mut w = WordWriter::new(&mut words);
        w.put(0b101, 3);
        w.put((1 << 57) | 1, 58);
        w.put(0b11, 2);
        w.put(0b11, 2);
        // 101 1000…0001 11 1 | 1: one full word, one bit after it.
        let written = w.finish().unwrap();
        assert_eq!(written, (1, 1, 1 << 63));
        assert_eq!(words[0], 0b1011 << 60 | 0b1111);
        let mut out = Vec::new();
        append_words(&mut out, &words, written);
        assert_eq!(
            out,
            [0b1011_0000, 0, 0, 0, 0, 0, 0, 0b0000_1111, 0b1000_0000]
        );
    }
}

//! One scanline block of an OpenEXR file from its interleaved float rows: the raw
//! little-endian bytes, ZIP (our own zlib stream, `deflate.rs`) and PIZ (our own coder, `piz.rs`)
//! compressed. Each is
//! what OpenEXR's reader expects; a compressed block that does not shrink is stored raw, as
//! OpenEXR's writer does.

use crate::deflate;
use crate::exr_io::{ExrCompression, ExrPixel};
use crate::piz::{self, PizChannel};
use half::f16;
use half::slice::{HalfBitsSliceExt, HalfFloatSliceExt};
use std::cell::RefCell;

/// How a block's rows are laid out: `w` pixels of `channels` interleaved floats a row, and the
/// source index of each file channel in the file's (sorted) channel order.
pub(crate) struct BlockShape<'a> {
    pub w: usize,
    pub channels: usize,
    pub order: &'a [usize],
    pub pixel: ExrPixel,
}

impl BlockShape<'_> {
    fn sample_bytes(&self) -> usize {
        match self.pixel {
            ExrPixel::Half => 2,
            ExrPixel::Float => 4,
        }
    }
}

/// The file chunk of the block of `rows` starting at line `y`: line number, byte count, data.
pub(crate) fn encode_chunk(
    rows: &[f32],
    y: i32,
    shape: &BlockShape,
    compression: ExrCompression,
) -> Vec<u8> {
    let chunk = |data: &[u8]| {
        let mut chunk = Vec::with_capacity(8 + data.len());
        chunk.extend_from_slice(&y.to_le_bytes());
        chunk.extend_from_slice(&(data.len() as i32).to_le_bytes());
        chunk.extend_from_slice(data);
        chunk
    };
    let words_per_sample = shape.sample_bytes() / 2;
    let n_words = rows.len() * words_per_sample;
    match compression {
        ExrCompression::None => chunk(&block_bytes(rows, shape)),
        ExrCompression::Zip | ExrCompression::Zips => ZIP_BUFFERS.with(|b| {
            let (words, predicted) = &mut *b.borrow_mut();
            // Grown, never shrunk (nor zeroed again): every word is written before it is read.
            if words.len() < n_words {
                words.resize(n_words, 0);
                predicted.resize(2 * n_words, 0);
            }
            let words = &mut words[..n_words];
            fill_words(rows, shape, WordOrder::FileLines, words);
            match zip_block(words, &mut predicted[..2 * n_words]) {
                Some(packed) => chunk(&packed),
                None => chunk(&le_bytes(words)),
            }
        }),
        ExrCompression::Piz => {
            let packed = piz::with_scratch(|s| {
                let lines = rows.len() / (shape.w * shape.channels);
                let plane = shape.w * lines * words_per_sample;
                fill_words(rows, shape, WordOrder::ChannelPlanes, s.samples(n_words));
                let channels: Vec<PizChannel> = (0..shape.channels)
                    .map(|k| PizChannel {
                        start: k * plane,
                        nx: shape.w,
                        ny: lines,
                        spp: words_per_sample,
                    })
                    .collect();
                s.compress(&channels, n_words * 2).map(chunk)
            });
            packed.unwrap_or_else(|| chunk(&block_bytes(rows, shape)))
        }
    }
}

thread_local! {
    /// A ZIP block's words and their predicted bytes, reused block after block.
    static ZIP_BUFFERS: RefCell<(Vec<u16>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// How a block's 16-bit words are ordered: the file (and ZIP) stores each line's channels in
/// turn, PIZ codes each channel's lines together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordOrder {
    FileLines,
    ChannelPlanes,
}

/// A block's samples as 16-bit words in `order` (a float is two words, low first, as its
/// little-endian bytes read): de-interleaved a row at a time, then converted a whole channel
/// at once (the `half` crate's slice conversion is its SIMD F16C path).
fn fill_words(rows: &[f32], shape: &BlockShape, order: WordOrder, words: &mut [u16]) {
    let (w, channels) = (shape.w, shape.channels);
    let lines = rows.len() / (w * channels);
    let spp = shape.sample_bytes() / 2;
    let mut planes = vec![0f32; w * channels];
    for (i, row) in rows.chunks_exact(w * channels).enumerate() {
        deinterleave_all(row, channels, &mut planes);
        for (k, &src_c) in shape.order.iter().enumerate() {
            let line = match order {
                WordOrder::FileLines => i * channels + k,
                WordOrder::ChannelPlanes => k * lines + i,
            };
            let dst = &mut words[line * w * spp..][..w * spp];
            let plane = &planes[src_c * w..][..w];
            match shape.pixel {
                ExrPixel::Half => dst
                    .reinterpret_cast_mut::<f16>()
                    .convert_from_f32_slice(plane),
                ExrPixel::Float => {
                    for (d, v) in dst.chunks_exact_mut(2).zip(plane) {
                        let bits = v.to_bits();
                        d[0] = bits as u16;
                        d[1] = (bits >> 16) as u16;
                    }
                }
            }
        }
    }
}

/// Words as little-endian bytes.
fn le_bytes(words: &[u16]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The uncompressed bytes of one block (what the file stores when compression does not pay).
fn block_bytes(rows: &[f32], shape: &BlockShape) -> Vec<u8> {
    let mut words = vec![0u16; rows.len() * shape.sample_bytes() / 2];
    fill_words(rows, shape, WordOrder::FileLines, &mut words);
    le_bytes(&words)
}

/// Every channel of a row of interleaved pixels into its own plane (`planes` holds
/// `channels` planes of the row's width), in one pass for the usual RGB and RGBA.
fn deinterleave_all(row: &[f32], channels: usize, planes: &mut [f32]) {
    let w = row.len() / channels;
    match channels {
        3 => {
            let (r, rest) = planes.split_at_mut(w);
            let (g, b) = rest.split_at_mut(w);
            for ((px, r), (g, b)) in row.chunks_exact(3).zip(r).zip(g.iter_mut().zip(b)) {
                (*r, *g, *b) = (px[0], px[1], px[2]);
            }
        }
        4 => {
            let (r, rest) = planes.split_at_mut(w);
            let (g, rest) = rest.split_at_mut(w);
            let (b, a) = rest.split_at_mut(w);
            let dst = r.iter_mut().zip(g).zip(b.iter_mut().zip(a));
            for (px, ((r, g), (b, a))) in row.chunks_exact(4).zip(dst) {
                (*r, *g, *b, *a) = (px[0], px[1], px[2], px[3]);
            }
        }
        _ => {
            for (c, plane) in planes.chunks_exact_mut(w).enumerate() {
                deinterleave(row, channels, c, plane);
            }
        }
    }
}

/// Channel `c` of interleaved pixels into a plane.
fn deinterleave(row: &[f32], channels: usize, c: usize, plane: &mut [f32]) {
    for (p, px) in plane.iter_mut().zip(row.chunks_exact(channels)) {
        *p = px[c];
    }
}

/// OpenEXR's ZIP block from the raw block's words: its little-endian bytes split into even
/// (low) and odd (high) halves and delta-coded, as one pass per half, then a zlib stream
/// (`deflate.rs`: runs and one dynamic Huffman block rather than OpenEXR's zlib level 4 —
/// see there). `None` when compression does not shrink it (stored raw).
fn zip_block(words: &[u16], predicted: &mut [u8]) -> Option<Vec<u8>> {
    let n = words.len();
    let (&first, &last) = (words.first()?, words.last()?);
    let (lo, hi) = predicted.split_at_mut(n);
    let delta = |cur: u8, prev: u8| cur.wrapping_sub(prev).wrapping_add(128);
    lo[0] = first as u8;
    for (d, pair) in lo[1..].iter_mut().zip(words.windows(2)) {
        *d = delta(pair[1] as u8, pair[0] as u8);
    }
    // The high half continues the low one: its first byte follows the last low byte.
    hi[0] = delta((first >> 8) as u8, last as u8);
    for (d, pair) in hi[1..].iter_mut().zip(words.windows(2)) {
        *d = delta((pair[1] >> 8) as u8, (pair[0] >> 8) as u8);
    }
    let mut packed = Vec::with_capacity(n);
    deflate::zlib_compress(predicted, &mut packed);
    (packed.len() < 2 * n).then_some(packed)
}

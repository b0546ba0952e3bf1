//! One scanline block of an OpenEXR file from its interleaved float rows: the raw
//! little-endian bytes, ZIP (zlib-rs) and PIZ (our own coder, `piz.rs`) compressed. Each is
//! what OpenEXR's reader expects; a compressed block that does not shrink is stored raw, as
//! OpenEXR's writer does.

use crate::exr_io::{ExrCompression, ExrPixel};
use crate::piz::{self, PizChannel};
use crate::ImagingError;
use half::f16;
use half::slice::{HalfBitsSliceExt, HalfFloatSliceExt};

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

fn enc_err(what: impl Into<String>) -> ImagingError {
    ImagingError::Encode { what: what.into() }
}

/// The file chunk of the block of `rows` starting at line `y`: line number, byte count, data.
pub(crate) fn encode_chunk(
    rows: &[f32],
    y: i32,
    shape: &BlockShape,
    compression: ExrCompression,
) -> Result<Vec<u8>, ImagingError> {
    let chunk = |data: &[u8]| {
        let mut chunk = Vec::with_capacity(8 + data.len());
        chunk.extend_from_slice(&y.to_le_bytes());
        chunk.extend_from_slice(&(data.len() as i32).to_le_bytes());
        chunk.extend_from_slice(data);
        chunk
    };
    match compression {
        ExrCompression::None => Ok(chunk(&block_bytes(rows, shape))),
        ExrCompression::Zip | ExrCompression::Zips => {
            let raw = block_bytes(rows, shape);
            Ok(chunk(&zip_block(&raw)?.unwrap_or(raw)))
        }
        ExrCompression::Piz => {
            let packed = piz::with_scratch(|s| {
                let lines = rows.len() / (shape.w * shape.channels);
                let spp = shape.sample_bytes() / 2;
                let plane = shape.w * lines * spp;
                fill_planes(rows, shape, s.samples(plane * shape.channels));
                let channels: Vec<PizChannel> = (0..shape.channels)
                    .map(|k| PizChannel {
                        start: k * plane,
                        nx: shape.w,
                        ny: lines,
                        spp,
                    })
                    .collect();
                s.compress(&channels, rows.len() * shape.sample_bytes())
                    .map(chunk)
            });
            Ok(packed.unwrap_or_else(|| chunk(&block_bytes(rows, shape))))
        }
    }
}

/// The samples PIZ codes: channel after channel in file order, each its lines in turn (a
/// float as two 16-bit words, low word first, as its little-endian bytes read).
fn fill_planes(rows: &[f32], shape: &BlockShape, samples: &mut [u16]) {
    let (w, channels) = (shape.w, shape.channels);
    let lines = rows.len() / (w * channels);
    let mut planes = vec![0f32; w * channels];
    for (i, row) in rows.chunks_exact(w * channels).enumerate() {
        deinterleave_all(row, channels, &mut planes);
        for (k, &src_c) in shape.order.iter().enumerate() {
            let plane = &planes[src_c * w..][..w];
            match shape.pixel {
                ExrPixel::Half => {
                    let dst = &mut samples[(k * lines + i) * w..][..w];
                    dst.reinterpret_cast_mut::<f16>()
                        .convert_from_f32_slice(plane);
                }
                ExrPixel::Float => {
                    let dst = &mut samples[(k * lines + i) * w * 2..][..w * 2];
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

/// The uncompressed bytes of one block from its rows: for each line, each channel's samples in
/// turn, little-endian.
fn block_bytes(rows: &[f32], shape: &BlockShape) -> Vec<u8> {
    let (w, channels) = (shape.w, shape.channels);
    let sample = shape.sample_bytes();
    let mut out = vec![0u8; rows.len() * sample];
    let mut plane = vec![0f32; w];
    let mut halves = vec![f16::ZERO; w];
    let line_bytes = w * channels * sample;
    for (row, out_line) in rows
        .chunks_exact(w * channels)
        .zip(out.chunks_exact_mut(line_bytes))
    {
        for (k, &src_c) in shape.order.iter().enumerate() {
            // De-interleave first, then convert a whole plane: the slice conversion is the
            // SIMD (F16C) path of the `half` crate.
            deinterleave(row, channels, src_c, &mut plane);
            let dst = &mut out_line[k * w * sample..][..w * sample];
            match shape.pixel {
                ExrPixel::Half => {
                    halves.convert_from_f32_slice(&plane);
                    for (d, v) in dst.chunks_exact_mut(2).zip(&halves) {
                        d.copy_from_slice(&v.to_bits().to_le_bytes());
                    }
                }
                ExrPixel::Float => {
                    for (d, v) in dst.chunks_exact_mut(4).zip(&plane) {
                        d.copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
    }
    out
}

/// OpenEXR's ZIP block: bytes split into even and odd halves, delta-coded, zlib level 4
/// (OpenEXR's default level). `None` when compression does not shrink it (stored raw).
fn zip_block(raw: &[u8]) -> Result<Option<Vec<u8>>, ImagingError> {
    use std::io::Write;
    let n = raw.len();
    if n == 0 {
        return Ok(None);
    }
    let mut tmp = vec![0u8; n];
    let (evens, odds) = tmp.split_at_mut(n.div_ceil(2));
    for (i, pair) in raw.chunks(2).enumerate() {
        evens[i] = pair[0];
        if let Some(&b) = pair.get(1) {
            odds[i] = b;
        }
    }
    let mut prev = tmp[0];
    for v in tmp.iter_mut().skip(1) {
        let cur = *v;
        *v = cur.wrapping_sub(prev).wrapping_add(128);
        prev = cur;
    }
    let level = std::env::var("PLATEFARM_ZIP_LEVEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(n / 2),
        flate2::Compression::new(level),
    );
    z.write_all(&tmp)
        .and_then(|()| z.finish())
        .map_err(|e| enc_err(format!("zlib: {e}")))
        .map(|packed| (packed.len() < n).then_some(packed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore]
    fn speed() {
        let path = std::env::var("PIZ_SPEED_FILE").unwrap();
        let bytes = std::fs::read(path).unwrap();
        let img = crate::decode_exr(&bytes, &crate::DecodeLimits::default()).unwrap();
        let w = img.width as usize;
        let shape = BlockShape {
            w,
            channels: 3,
            order: &[2, 1, 0],
            pixel: ExrPixel::Half,
        };
        let comp = match std::env::var("PIZ_SPEED_COMP").as_deref() {
            Ok("zip") => ExrCompression::Zip,
            _ => ExrCompression::Piz,
        };
        let lines = if comp == ExrCompression::Zip { 16 } else { 32 };
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let mut total = 0;
            for rows in img.data.chunks(w * 3 * lines) {
                total += encode_chunk(rows, 0, &shape, comp).unwrap().len();
            }
            eprintln!("{comp:?}: {:?}, {total} bytes", t.elapsed());
        }
    }
}

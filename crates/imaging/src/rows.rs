//! Images as rows made on demand, so a frame streams decode → colour → resample → encode in
//! bands instead of holding a full float buffer for every stage: a 4448×3096 RGB frame is
//! 165 MB of `f32`, and before streaming a plate held three or four of them at once.
//!
//! A [`Rows`] is an image whose rows are computed when asked for; a stage wraps the stage
//! before it ([`MapRows`] for per-pixel maps, `reframe::Resampled` for framing and resizing).
//! Each parallel task takes its own [`RowCursor`] and reads its rows top to bottom, so a stage
//! with a window (the vertical filter) keeps what the next band reuses. Every value is computed
//! the same way whatever band asks for it, so the bytes do not depend on the banding or the
//! number of threads.

use rayon::prelude::*;
use std::borrow::Cow;

/// An image of `width × height` pixels, `channels` interleaved `f32` per pixel, whose rows are
/// produced on demand.
pub trait Rows: Sync {
    fn width(&self) -> usize;
    fn height(&self) -> usize;
    fn channels(&self) -> usize;
    /// A reader of rows for one task (it may keep state between calls: read top to bottom).
    fn cursor(&self) -> Box<dyn RowCursor + '_>;
}

/// Reads rows of a [`Rows`].
pub trait RowCursor {
    /// Rows `y0 .. y0 + n`, interleaved (`width × channels` values a row); the slice lives until
    /// the next call. `y0 + n` is at most the height.
    fn rows(&mut self, y0: usize, n: usize) -> &[f32];
}

/// A whole image in memory.
pub struct BufferRows<'a> {
    data: Cow<'a, [f32]>,
    width: usize,
    height: usize,
    channels: usize,
}

impl<'a> BufferRows<'a> {
    /// `data` holds `width × height × channels` values (checked by the caller's constructor of
    /// the buffer; a mismatch panics here, it is a programming error).
    pub fn new(data: impl Into<Cow<'a, [f32]>>, width: u32, height: u32, channels: usize) -> Self {
        let data = data.into();
        assert_eq!(
            data.len(),
            width as usize * height as usize * channels,
            "buffer size matches {width}×{height}×{channels}"
        );
        BufferRows {
            data,
            width: width as usize,
            height: height as usize,
            channels,
        }
    }
}

impl Rows for BufferRows<'_> {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn channels(&self) -> usize {
        self.channels
    }
    fn cursor(&self) -> Box<dyn RowCursor + '_> {
        Box::new(BufferCursor(self))
    }
}

struct BufferCursor<'a, 'b>(&'a BufferRows<'b>);

impl RowCursor for BufferCursor<'_, '_> {
    fn rows(&mut self, y0: usize, n: usize) -> &[f32] {
        let stride = self.0.width * self.0.channels;
        &self.0.data[y0 * stride..(y0 + n) * stride]
    }
}

/// RGB and a separate alpha plane, read as interleaved RGBA.
pub struct RgbAlphaRows<'a> {
    rgb: Cow<'a, [f32]>,
    alpha: Cow<'a, [f32]>,
    width: usize,
    height: usize,
}

impl<'a> RgbAlphaRows<'a> {
    pub fn new(
        rgb: impl Into<Cow<'a, [f32]>>,
        alpha: impl Into<Cow<'a, [f32]>>,
        width: u32,
        height: u32,
    ) -> Self {
        let (rgb, alpha) = (rgb.into(), alpha.into());
        let n = width as usize * height as usize;
        assert!(
            rgb.len() == n * 3 && alpha.len() == n,
            "RGB and alpha buffers match {width}×{height}"
        );
        RgbAlphaRows {
            rgb,
            alpha,
            width: width as usize,
            height: height as usize,
        }
    }
}

impl Rows for RgbAlphaRows<'_> {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn channels(&self) -> usize {
        4
    }
    fn cursor(&self) -> Box<dyn RowCursor + '_> {
        Box::new(RgbAlphaCursor {
            src: self,
            out: Vec::new(),
        })
    }
}

struct RgbAlphaCursor<'a, 'b> {
    src: &'a RgbAlphaRows<'b>,
    out: Vec<f32>,
}

impl RowCursor for RgbAlphaCursor<'_, '_> {
    fn rows(&mut self, y0: usize, n: usize) -> &[f32] {
        let w = self.src.width;
        let rgb = &self.src.rgb[y0 * w * 3..(y0 + n) * w * 3];
        let alpha = &self.src.alpha[y0 * w..(y0 + n) * w];
        self.out.resize(n * w * 4, 0.0);
        for ((o, p), a) in self
            .out
            .chunks_exact_mut(4)
            .zip(rgb.chunks_exact(3))
            .zip(alpha)
        {
            o.copy_from_slice(&[p[0], p[1], p[2], *a]);
        }
        &self.out
    }
}

/// A map over a band of interleaved rows, given the channel count.
type BandMap<'a> = dyn Fn(&mut [f32], usize) + Sync + 'a;

/// A per-pixel map over rows (`f` sees a band of interleaved rows and the channel count).
pub struct MapRows<'a> {
    inner: Box<dyn Rows + 'a>,
    f: Box<BandMap<'a>>,
}

impl<'a> MapRows<'a> {
    pub fn new(inner: Box<dyn Rows + 'a>, f: impl Fn(&mut [f32], usize) + Sync + 'a) -> Self {
        MapRows {
            inner,
            f: Box::new(f),
        }
    }
}

impl Rows for MapRows<'_> {
    fn width(&self) -> usize {
        self.inner.width()
    }
    fn height(&self) -> usize {
        self.inner.height()
    }
    fn channels(&self) -> usize {
        self.inner.channels()
    }
    fn cursor(&self) -> Box<dyn RowCursor + '_> {
        Box::new(MapCursor {
            map: self,
            inner: self.inner.cursor(),
            out: Vec::new(),
        })
    }
}

struct MapCursor<'a> {
    map: &'a MapRows<'a>,
    inner: Box<dyn RowCursor + 'a>,
    out: Vec<f32>,
}

impl RowCursor for MapCursor<'_> {
    fn rows(&mut self, y0: usize, n: usize) -> &[f32] {
        let src = self.inner.rows(y0, n);
        self.out.clear();
        self.out.extend_from_slice(src);
        (self.map.f)(&mut self.out, self.map.inner.channels());
        &self.out
    }
}

/// Applies `f` (which takes interleaved straight RGB) to interleaved RGB or premultiplied RGBA
/// rows: RGBA is divided by alpha first (where alpha is not 0) and multiplied back after, as a
/// colour transform that is not linear must see straight colour.
pub fn map_straight_rgb(rows: &mut [f32], channels: usize, f: impl Fn(&mut [f32])) {
    match channels {
        3 => f(rows),
        4 => {
            let mut rgb: Vec<f32> = rows
                .chunks_exact(4)
                .flat_map(|p| {
                    let a = p[3];
                    if a != 0.0 {
                        [p[0] / a, p[1] / a, p[2] / a]
                    } else {
                        [p[0], p[1], p[2]]
                    }
                })
                .collect();
            f(&mut rgb);
            for (p, c) in rows.chunks_exact_mut(4).zip(rgb.chunks_exact(3)) {
                let a = p[3];
                p[0] = c[0] * a;
                p[1] = c[1] * a;
                p[2] = c[2] * a;
            }
        }
        n => unreachable!("colour maps run on RGB or RGBA rows, not {n} channels"),
    }
}

/// Rows per band when a whole image is gathered: large enough that a resampler's window
/// overlap between bands costs little, small enough that both cores get several.
const BAND: usize = 256;

/// The whole image, computed in parallel bands on the caller's pool.
pub fn collect(rows: &dyn Rows) -> Vec<f32> {
    let stride = rows.width() * rows.channels();
    let mut out = vec![0f32; rows.height() * stride];
    if stride == 0 {
        return out;
    }
    out.par_chunks_mut(BAND * stride)
        .enumerate()
        .for_each(|(b, dst)| {
            let mut cursor = rows.cursor();
            dst.copy_from_slice(cursor.rows(b * BAND, dst.len() / stride));
        });
    out
}

/// The whole image split into RGB and, for four channels, its alpha plane.
pub fn collect_rgb_alpha(rows: &dyn Rows) -> (Vec<f32>, Option<Vec<f32>>) {
    let all = collect(rows);
    match rows.channels() {
        4 => {
            let rgb = all
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            let alpha = all.chunks_exact(4).map(|p| p[3]).collect();
            (rgb, Some(alpha))
        }
        _ => (all, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_and_maps_read_back_what_they_hold() {
        let rgb: Vec<f32> = (0..5 * 600 * 3).map(|i| i as f32).collect();
        let alpha: Vec<f32> = (0..5 * 600).map(|i| (i % 3) as f32 * 0.5).collect();
        let plain = BufferRows::new(&rgb[..], 5, 600, 3);
        assert_eq!(collect(&plain), rgb);
        let rgba = RgbAlphaRows::new(&rgb[..], &alpha[..], 5, 600);
        let (back, a) = collect_rgb_alpha(&rgba);
        assert_eq!((back, a), (rgb.clone(), Some(alpha.clone())));
        // A map over premultiplied RGBA sees straight colour and leaves alpha alone.
        let doubled = MapRows::new(Box::new(rgba), |rows, c| {
            map_straight_rgb(rows, c, |rgb| rgb.iter_mut().for_each(|v| *v *= 2.0))
        });
        let (d, a2) = collect_rgb_alpha(&doubled);
        assert_eq!(a2.as_deref(), Some(&alpha[..]));
        for (i, (got, src)) in d.iter().zip(&rgb).enumerate() {
            let a = alpha[i / 3];
            let want = if a != 0.0 {
                src / a * 2.0 * a
            } else {
                src * 2.0 * a
            };
            assert_eq!(got.to_bits(), want.to_bits(), "value {i}");
        }
    }
}

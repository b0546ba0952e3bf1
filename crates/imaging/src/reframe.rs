//! Framing and resampling: crop a source region, scale it per axis (anamorphic de-squeeze is
//! just `scale_x != scale_y`), place it on an output canvas at a translation, pad the rest.
//! Separable filtering in f32 with weight tables computed once per axis: a horizontal pass per
//! source row, then a vertical pass per output row, streamed in bands ([`Resampled`] is a
//! [`Rows`]) so no full intermediate image is held. Every output value is a fixed-order sum,
//! so results do not depend on the banding or the number of threads.

use crate::rows::{collect, BufferRows, RowCursor, Rows};

/// Resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    /// Lanczos, 3 lobes: sharp, the default for plates.
    #[default]
    Lanczos3,
    /// Mitchell–Netravali (B = C = 1/3): softer, fewer ringing artefacts.
    Mitchell,
    /// Area average: exact for integer downscales.
    Box,
    /// Linear interpolation (tent).
    Bilinear,
}

impl Filter {
    fn radius(self) -> f64 {
        match self {
            Filter::Lanczos3 => 3.0,
            Filter::Mitchell => 2.0,
            Filter::Box => 0.5,
            Filter::Bilinear => 1.0,
        }
    }

    fn weight(self, x: f64) -> f64 {
        let ax = x.abs();
        match self {
            Filter::Lanczos3 => {
                if ax < 1e-12 {
                    1.0
                } else if ax < 3.0 {
                    let px = std::f64::consts::PI * x;
                    3.0 * px.sin() * (px / 3.0).sin() / (px * px)
                } else {
                    0.0
                }
            }
            Filter::Mitchell => {
                let (b, c) = (1.0 / 3.0, 1.0 / 3.0);
                if ax < 1.0 {
                    ((12.0 - 9.0 * b - 6.0 * c) * ax.powi(3)
                        + (-18.0 + 12.0 * b + 6.0 * c) * ax * ax
                        + (6.0 - 2.0 * b))
                        / 6.0
                } else if ax < 2.0 {
                    ((-b - 6.0 * c) * ax.powi(3)
                        + (6.0 * b + 30.0 * c) * ax * ax
                        + (-12.0 * b - 48.0 * c) * ax
                        + (8.0 * b + 24.0 * c))
                        / 6.0
                } else {
                    0.0
                }
            }
            Filter::Box => {
                if ax < 0.5 || (x - -0.5).abs() < 1e-12 {
                    1.0
                } else {
                    0.0
                }
            }
            Filter::Bilinear => (1.0 - ax).max(0.0),
        }
    }
}

/// Where a source region lands on the output canvas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Framing {
    /// Source region `(x, y, width, height)` in source pixels (may be fractional).
    pub source: (f64, f64, f64, f64),
    /// Output pixels per source pixel, per axis.
    pub scale: (f64, f64),
    /// Output canvas size.
    pub canvas: (u32, u32),
    /// Output position of the source region's top-left corner.
    pub translation: (f64, f64),
    pub filter: Filter,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FramingError {
    #[error("source region {region:?} is not inside the {width}×{height} image")]
    SourceOutside {
        region: (f64, f64, f64, f64),
        width: u32,
        height: u32,
    },
    #[error("scale {0:?} must be finite and > 0 on both axes")]
    BadScale((f64, f64)),
    #[error("output canvas {0}×{1} is empty or larger than 65536 on a side")]
    BadCanvas(u32, u32),
    #[error(
        "image buffer holds {got} values, expected {expected} for {width}×{height}×{channels}"
    )]
    BadBuffer {
        got: usize,
        expected: usize,
        width: u32,
        height: u32,
        channels: usize,
    },
}

/// Per output index: the source taps and their normalised weights, or none (padding).
struct Taps {
    first: Vec<u32>,
    weights: Vec<Vec<f32>>,
}

fn taps(
    n_src: u32,
    n_out: u32,
    rect_start: f64,
    rect_len: f64,
    scale: f64,
    translation: f64,
    filter: Filter,
) -> Taps {
    let lo = (rect_start.floor().max(0.0) as i64).min(i64::from(n_src) - 1);
    // The region may end a rounding error past the image (the caller's check allows 1e-9).
    let hi = ((rect_start + rect_len).ceil() as i64 - 1)
        .min(i64::from(n_src) - 1)
        .max(lo);
    // Downscaling widens the filter so every source pixel contributes (no aliasing).
    let stretch = (1.0 / scale).max(1.0);
    let radius = filter.radius() * stretch;
    let mut first = Vec::with_capacity(n_out as usize);
    let mut weights = Vec::with_capacity(n_out as usize);
    for o in 0..n_out {
        let centre = rect_start + (o as f64 + 0.5 - translation) / scale;
        if centre < rect_start || centre >= rect_start + rect_len {
            first.push(0);
            weights.push(Vec::new());
            continue;
        }
        let i0 = (centre - radius - 0.5).floor() as i64;
        let i1 = (centre + radius - 0.5).ceil() as i64;
        let start = i0.clamp(lo, hi);
        let end = i1.clamp(lo, hi);
        let mut w = vec![0.0f64; (end - start + 1) as usize];
        for i in i0..=i1 {
            let x = (i as f64 + 0.5 - centre) / stretch;
            let wt = filter.weight(x);
            if wt != 0.0 {
                // Taps beyond the region repeat its edge pixel (no black bleeding in).
                w[(i.clamp(lo, hi) - start) as usize] += wt;
            }
        }
        let sum: f64 = w.iter().sum();
        let w: Vec<f32> = if sum.abs() < 1e-12 {
            // Degenerate (e.g. box filter exactly between pixels): nearest pixel.
            let mut v = vec![0.0; w.len()];
            let nearest = ((centre - 0.5).round() as i64).clamp(start, end);
            v[(nearest - start) as usize] = 1.0;
            v
        } else {
            w.iter().map(|x| (x / sum) as f32).collect()
        };
        first.push(start as u32);
        weights.push(w);
    }
    Taps { first, weights }
}

/// Reframes an interleaved image (`channels` values per pixel, row-major) and returns the
/// canvas-sized result.
pub fn reframe(
    src: &[f32],
    width: u32,
    height: u32,
    channels: usize,
    framing: &Framing,
) -> Result<Vec<f32>, FramingError> {
    let expected = width as usize * height as usize * channels;
    if src.len() != expected {
        return Err(FramingError::BadBuffer {
            got: src.len(),
            expected,
            width,
            height,
            channels,
        });
    }
    let source = BufferRows::new(src, width, height, channels);
    Ok(collect(&Resampled::new(Box::new(source), framing)?))
}

/// A reframed image as rows: each band reads only the source rows its vertical taps need and
/// resamples them horizontally once per cursor (a window slides down with the bands).
pub struct Resampled<'a> {
    inner: Box<dyn Rows + 'a>,
    htaps: Taps,
    vtaps: Taps,
    canvas: (usize, usize),
    /// Output columns no source pixel lands on (padding).
    padding_columns: Vec<usize>,
}

impl<'a> Resampled<'a> {
    /// Checks the framing against the source's size; the work happens when rows are read.
    pub fn new(inner: Box<dyn Rows + 'a>, framing: &Framing) -> Result<Self, FramingError> {
        let (width, height) = (inner.width() as u32, inner.height() as u32);
        let (sx, sy, sw, sh) = framing.source;
        let inside = sx >= 0.0
            && sy >= 0.0
            && sw > 0.0
            && sh > 0.0
            && sx + sw <= width as f64 + 1e-9
            && sy + sh <= height as f64 + 1e-9;
        if !inside || ![sx, sy, sw, sh].iter().all(|v| v.is_finite()) {
            return Err(FramingError::SourceOutside {
                region: framing.source,
                width,
                height,
            });
        }
        let (kx, ky) = framing.scale;
        if !(kx.is_finite() && ky.is_finite() && kx > 0.0 && ky > 0.0) {
            return Err(FramingError::BadScale(framing.scale));
        }
        let (cw, ch) = framing.canvas;
        if cw == 0 || ch == 0 || cw > 65536 || ch > 65536 {
            return Err(FramingError::BadCanvas(cw, ch));
        }
        let (tx, ty) = framing.translation;
        let htaps = taps(width, cw, sx, sw, kx, tx, framing.filter);
        let vtaps = taps(height, ch, sy, sh, ky, ty, framing.filter);
        let padding_columns = (0..cw as usize)
            .filter(|&o| htaps.weights[o].is_empty())
            .collect();
        Ok(Resampled {
            inner,
            htaps,
            vtaps,
            canvas: (cw as usize, ch as usize),
            padding_columns,
        })
    }

    /// Source rows `[lo, hi]` the output rows `y0 .. y0 + n` read, if any.
    fn source_rows(&self, y0: usize, n: usize) -> Option<(usize, usize)> {
        (y0..y0 + n)
            .filter(|&o| !self.vtaps.weights[o].is_empty())
            .map(|o| {
                let first = self.vtaps.first[o] as usize;
                (first, first + self.vtaps.weights[o].len() - 1)
            })
            .reduce(|(lo, hi), (l, h)| (lo.min(l), hi.max(h)))
    }

    /// One source row resampled horizontally into a canvas-width row (every value written).
    fn horizontal(&self, srow: &[f32], trow: &mut [f32]) {
        let channels = self.inner.channels();
        let taps = self.htaps.first.iter().zip(&self.htaps.weights);
        if channels == 3 {
            // The common RGB case: accumulate in registers, one store per output pixel.
            for ((first, w), dst) in taps.zip(trow.chunks_exact_mut(3)) {
                let s = &srow[*first as usize * 3..][..w.len() * 3];
                let mut acc = [0f32; 3];
                for (wk, px) in w.iter().zip(s.chunks_exact(3)) {
                    acc[0] += wk * px[0];
                    acc[1] += wk * px[1];
                    acc[2] += wk * px[2];
                }
                dst.copy_from_slice(&acc);
            }
            return;
        }
        for ((first, w), dst) in taps.zip(trow.chunks_exact_mut(channels)) {
            dst.fill(0.0);
            for (k, wk) in w.iter().enumerate() {
                let s = &srow[(*first as usize + k) * channels..][..channels];
                for (d, v) in dst.iter_mut().zip(s) {
                    *d += wk * v;
                }
            }
        }
    }
}

impl Rows for Resampled<'_> {
    fn width(&self) -> usize {
        self.canvas.0
    }
    fn height(&self) -> usize {
        self.canvas.1
    }
    fn channels(&self) -> usize {
        self.inner.channels()
    }
    fn cursor(&self) -> Box<dyn RowCursor + '_> {
        Box::new(ResampleCursor {
            r: self,
            inner: self.inner.cursor(),
            window: Vec::new(),
            window_first: 0,
            window_rows: 0,
            out: Vec::new(),
        })
    }
}

struct ResampleCursor<'a> {
    r: &'a Resampled<'a>,
    inner: Box<dyn RowCursor + 'a>,
    /// Horizontally resampled source rows `window_first .. window_first + window_rows`.
    window: Vec<f32>,
    window_first: usize,
    window_rows: usize,
    out: Vec<f32>,
}

impl ResampleCursor<'_> {
    /// Makes the window hold source rows `[lo, hi]`, keeping what it already has of them.
    fn slide(&mut self, lo: usize, hi: usize) {
        let stride = self.r.canvas.0 * self.r.inner.channels();
        let end = self.window_first + self.window_rows;
        if self.window_rows == 0 || lo < self.window_first || lo >= end {
            self.window_first = lo;
            self.window_rows = 0;
        } else if lo > self.window_first {
            let drop = lo - self.window_first;
            self.window
                .copy_within(drop * stride..self.window_rows * stride, 0);
            self.window_first = lo;
            self.window_rows -= drop;
        }
        let have = self.window_first + self.window_rows;
        if hi + 1 > have {
            let n = hi + 1 - have;
            self.window.resize((self.window_rows + n) * stride, 0.0);
            let src_stride = self.r.inner.width() * self.r.inner.channels();
            let src = self.inner.rows(have, n);
            let dst = &mut self.window[self.window_rows * stride..];
            for (srow, trow) in src
                .chunks_exact(src_stride)
                .zip(dst.chunks_exact_mut(stride))
            {
                self.r.horizontal(srow, trow);
            }
            self.window_rows += n;
        }
    }
}

impl RowCursor for ResampleCursor<'_> {
    fn rows(&mut self, y0: usize, n: usize) -> &[f32] {
        let channels = self.r.inner.channels();
        let stride = self.r.canvas.0 * channels;
        self.out.resize(n * stride, 0.0);
        let Some((lo, hi)) = self.r.source_rows(y0, n) else {
            self.out.fill(0.0); // nothing of the source lands on these rows
            return &self.out;
        };
        self.slide(lo, hi);
        let vt = &self.r.vtaps;
        for (i, orow) in self.out.chunks_exact_mut(stride).enumerate() {
            let w = &vt.weights[y0 + i];
            if w.is_empty() {
                orow.fill(0.0);
                continue;
            }
            let first = vt.first[y0 + i] as usize - self.window_first;
            let taps = &self.window[first * stride..(first + w.len()) * stride];
            // A strip of the row at a time through every tap, so the sums stay in registers
            // and the row is written once (not read and written back once per tap). Each
            // value is still the first tap's product plus the others in tap order.
            const STRIP: usize = 32;
            let mut strips = orow.chunks_exact_mut(STRIP);
            for (j, strip) in (&mut strips).enumerate() {
                let x0 = j * STRIP;
                let src = |k: usize| -> &[f32; STRIP] {
                    taps[k * stride + x0..][..STRIP]
                        .try_into()
                        .expect("a whole strip")
                };
                let mut acc = [0f32; STRIP];
                for (a, s) in acc.iter_mut().zip(src(0)) {
                    *a = w[0] * s;
                }
                for (k, wk) in w.iter().enumerate().skip(1) {
                    for (a, s) in acc.iter_mut().zip(src(k)) {
                        *a += wk * s;
                    }
                }
                strip.copy_from_slice(&acc);
            }
            let rest = strips.into_remainder();
            let x0 = stride - rest.len();
            for (x, d) in rest.iter_mut().enumerate() {
                *d = w[0] * taps[x0 + x];
                for (k, wk) in w.iter().enumerate().skip(1) {
                    *d += wk * taps[k * stride + x0 + x];
                }
            }
            // Columns outside the source region stay padding.
            for &ocol in &self.r.padding_columns {
                orow[ocol * channels..][..channels].fill(0.0);
            }
        }
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::BufferRows;

    fn ramp(w: u32, h: u32) -> Vec<f32> {
        (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| [x as f32, y as f32, (x + y) as f32 * 0.5]))
            .collect()
    }

    fn framing(
        source: (f64, f64, f64, f64),
        scale: (f64, f64),
        canvas: (u32, u32),
        translation: (f64, f64),
        filter: Filter,
    ) -> Framing {
        Framing {
            source,
            scale,
            canvas,
            translation,
            filter,
        }
    }

    #[test]
    fn integer_crop_is_exact_for_every_filter() {
        let src = ramp(64, 40);
        for filter in [
            Filter::Lanczos3,
            Filter::Mitchell,
            Filter::Box,
            Filter::Bilinear,
        ] {
            let f = framing(
                (8.0, 4.0, 32.0, 20.0),
                (1.0, 1.0),
                (32, 20),
                (0.0, 0.0),
                filter,
            );
            let out = reframe(&src, 64, 40, 3, &f).unwrap();
            for y in 0..20usize {
                for x in 0..32usize {
                    let got = &out[(y * 32 + x) * 3..][..3];
                    let want = &src[((y + 4) * 64 + x + 8) * 3..][..3];
                    if filter == Filter::Mitchell {
                        // Mitchell is not interpolating: it smooths even at scale 1.
                        assert!(
                            (got[0] - want[0]).abs() < 0.05 || x == 0 || x == 31,
                            "{filter:?} {x},{y}"
                        );
                    } else {
                        assert_eq!(got, want, "{filter:?} at {x},{y}");
                    }
                }
            }
        }
    }

    #[test]
    fn flat_field_stays_flat_when_scaled() {
        let src = vec![0.18f32; 100 * 50 * 3];
        for (scale, canvas) in [
            ((0.37, 0.37), (37, 18)),
            ((2.5, 2.5), (250, 125)),
            ((0.5, 1.0), (50, 50)),
        ] {
            let out = reframe(
                &src,
                100,
                50,
                3,
                &framing(
                    (0.0, 0.0, 100.0, 50.0),
                    scale,
                    canvas,
                    (0.0, 0.0),
                    Filter::Lanczos3,
                ),
            )
            .unwrap();
            assert!(out.iter().all(|v| (v - 0.18).abs() < 1e-5), "{scale:?}");
        }
    }

    #[test]
    fn box_halves_are_averages() {
        let src: Vec<f32> = (0..16).map(|i| i as f32).collect(); // 4×4, one channel
        let out = reframe(
            &src,
            4,
            4,
            1,
            &framing(
                (0.0, 0.0, 4.0, 4.0),
                (0.5, 0.5),
                (2, 2),
                (0.0, 0.0),
                Filter::Box,
            ),
        )
        .unwrap();
        assert_eq!(out, vec![2.5, 4.5, 10.5, 12.5]);
    }

    #[test]
    fn desqueeze_doubles_width_and_keeps_the_ramp_monotonic() {
        let src = ramp(32, 8);
        let out = reframe(
            &src,
            32,
            8,
            3,
            &framing(
                (0.0, 0.0, 32.0, 8.0),
                (2.0, 1.0),
                (64, 8),
                (0.0, 0.0),
                Filter::Bilinear,
            ),
        )
        .unwrap();
        let row: Vec<f32> = (0..64).map(|x| out[(3 * 64 + x) * 3]).collect();
        assert!(row.windows(2).all(|w| w[1] >= w[0]), "{row:?}");
        assert!(
            (row[33] - 16.25).abs() < 1e-4,
            "centre of output pixel 33 is source x 16.75 → value 16.25"
        );
    }

    #[test]
    fn outside_the_placed_region_is_padding() {
        let src = vec![1.0f32; 10 * 10];
        let out = reframe(
            &src,
            10,
            10,
            1,
            &framing(
                (0.0, 0.0, 10.0, 10.0),
                (1.0, 1.0),
                (20, 14),
                (5.0, 2.0),
                Filter::Lanczos3,
            ),
        )
        .unwrap();
        assert_eq!(out[0], 0.0);
        assert_eq!(out[2 * 20 + 5], 1.0);
        assert_eq!(out[2 * 20 + 15], 0.0);
        assert_eq!(out[12 * 20 + 10], 0.0);
        assert_eq!(out.iter().filter(|v| **v == 1.0).count(), 100);
    }

    /// A 300×200 image of `channels` noisy values and a fractional, downscaling framing of it
    /// onto a 198×90 canvas at `translation`.
    fn noisy_case(channels: usize, translation: (f64, f64)) -> (Vec<f32>, Framing) {
        let src = (0..(300 * 200 * channels))
            .map(|i| ((i * 7919) % 1000) as f32 / 997.0)
            .collect();
        let f = framing(
            (13.5, 7.25, 270.0, 180.0),
            (0.731, 0.5),
            (198, 90),
            translation,
            Filter::Lanczos3,
        );
        (src, f)
    }

    #[test]
    fn thread_count_does_not_change_bits() {
        let (src, f) = noisy_case(3, (0.0, 0.0));
        let run = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
                .install(|| reframe(&src, 300, 200, 3, &f).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    }

    #[test]
    fn any_banding_gives_the_same_bits() {
        let (src, f) = noisy_case(4, (0.0, 3.0));
        let whole = reframe(&src, 300, 200, 4, &f).unwrap();
        let rows = Resampled::new(Box::new(BufferRows::new(&src[..], 300, 200, 4)), &f).unwrap();
        let stride = 198 * 4;
        for band in [1, 5, 32, 90] {
            let mut cursor = rows.cursor();
            let mut got = Vec::new();
            for y in (0..90).step_by(band) {
                got.extend_from_slice(cursor.rows(y, band.min(90 - y)));
            }
            assert!(
                got.iter()
                    .zip(&whole)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "bands of {band}"
            );
        }
        // Jumping back (a cursor's window restarts) gives the same rows too.
        let mut cursor = rows.cursor();
        cursor.rows(60, 10);
        let back = cursor.rows(2, 3).to_vec();
        assert_eq!(back, whole[2 * stride..5 * stride]);
        // RGBA resampled together is RGB and alpha resampled apart.
        let rgb: Vec<f32> = src
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        let alpha: Vec<f32> = src.chunks_exact(4).map(|p| p[3]).collect();
        let rgb_out = reframe(&rgb, 300, 200, 3, &f).unwrap();
        let alpha_out = reframe(&alpha, 300, 200, 1, &f).unwrap();
        for (i, p) in whole.chunks_exact(4).enumerate() {
            assert_eq!(&p[..3], &rgb_out[i * 3..i * 3 + 3], "pixel {i}");
            assert_eq!(p[3], alpha_out[i], "pixel {i}");
        }
    }

    #[test]
    fn rejects_bad_framings() {
        let src = vec![0.0f32; 4 * 4 * 3];
        let f = |source, scale, canvas| framing(source, scale, canvas, (0.0, 0.0), Filter::Box);
        assert!(matches!(
            reframe(&src, 4, 4, 3, &f((0.0, 0.0, 5.0, 4.0), (1.0, 1.0), (4, 4))),
            Err(FramingError::SourceOutside { .. })
        ));
        assert!(matches!(
            reframe(&src, 4, 4, 3, &f((0.0, 0.0, 4.0, 4.0), (0.0, 1.0), (4, 4))),
            Err(FramingError::BadScale(_))
        ));
        assert!(matches!(
            reframe(&src, 4, 4, 3, &f((0.0, 0.0, 4.0, 4.0), (1.0, 1.0), (0, 4))),
            Err(FramingError::BadCanvas(0, 4))
        ));
        assert!(matches!(
            reframe(
                &src[1..],
                4,
                4,
                3,
                &f((0.0, 0.0, 4.0, 4.0), (1.0, 1.0), (4, 4))
            ),
            Err(FramingError::BadBuffer { .. })
        ));
    }
}

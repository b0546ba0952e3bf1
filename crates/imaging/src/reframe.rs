//! Framing and resampling: crop a source region, scale it per axis (anamorphic de-squeeze is
//! just `scale_x != scale_y`), place it on an output canvas at a translation, pad the rest.
//! Separable filtering in f32 with weight tables computed once per axis, two passes, each
//! parallel over rows with rayon (in the caller's pool). Every output value is a fixed-order
//! sum, so results do not depend on the number of threads.

use rayon::prelude::*;

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
    n_out: u32,
    rect_start: f64,
    rect_len: f64,
    scale: f64,
    translation: f64,
    filter: Filter,
) -> Taps {
    let lo = rect_start.floor().max(0.0) as i64;
    let hi = ((rect_start + rect_len).ceil() as i64 - 1).max(lo);
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
    let htaps = taps(cw, sx, sw, kx, tx, framing.filter);
    let vtaps = taps(ch, sy, sh, ky, ty, framing.filter);

    // Source rows the vertical pass reads.
    let mut row_lo = u32::MAX;
    let mut row_hi = 0u32;
    for (f, w) in vtaps.first.iter().zip(&vtaps.weights) {
        if !w.is_empty() {
            row_lo = row_lo.min(*f);
            row_hi = row_hi.max(*f + w.len() as u32 - 1);
        }
    }
    let row_stride = cw as usize * channels;
    let mut out = vec![0.0f32; ch as usize * row_stride];
    if row_lo > row_hi {
        return Ok(out); // nothing of the source lands on the canvas
    }
    // Pass 1: horizontal, source rows → canvas-width rows.
    let n_rows = (row_hi - row_lo + 1) as usize;
    let mut tmp = vec![0.0f32; n_rows * row_stride];
    let src_stride = width as usize * channels;
    tmp.par_chunks_mut(row_stride)
        .enumerate()
        .for_each(|(r, trow)| {
            let srow = &src[(row_lo as usize + r) * src_stride..][..src_stride];
            if channels == 3 {
                // The common RGB case: accumulate in registers, one store per output pixel.
                for (o, (first, w)) in htaps.first.iter().zip(&htaps.weights).enumerate() {
                    if w.is_empty() {
                        continue;
                    }
                    let s = &srow[*first as usize * 3..][..w.len() * 3];
                    let mut acc = [0f32; 3];
                    for (wk, px) in w.iter().zip(s.chunks_exact(3)) {
                        acc[0] += wk * px[0];
                        acc[1] += wk * px[1];
                        acc[2] += wk * px[2];
                    }
                    trow[o * 3..o * 3 + 3].copy_from_slice(&acc);
                }
                return;
            }
            for (o, (first, w)) in htaps.first.iter().zip(&htaps.weights).enumerate() {
                if w.is_empty() {
                    continue;
                }
                let dst = &mut trow[o * channels..][..channels];
                for (k, wk) in w.iter().enumerate() {
                    let s = &srow[(*first as usize + k) * channels..][..channels];
                    for c in 0..channels {
                        dst[c] += wk * s[c];
                    }
                }
            }
        });
    // Pass 2: vertical, into the canvas.
    out.par_chunks_mut(row_stride)
        .enumerate()
        .for_each(|(o, orow)| {
            let w = &vtaps.weights[o];
            if w.is_empty() {
                return;
            }
            let first = (vtaps.first[o] - row_lo) as usize;
            // The first tap stores rather than accumulates: the row's first touch is then a
            // write, so the kernel maps fresh pages directly instead of mapping the zero page
            // on the read and copying it on the write (a TLB shootdown per page).
            for (k, wk) in w.iter().enumerate() {
                let trow = &tmp[(first + k) * row_stride..][..row_stride];
                if k == 0 {
                    for (d, s) in orow.iter_mut().zip(trow) {
                        *d = wk * s;
                    }
                } else {
                    for (d, s) in orow.iter_mut().zip(trow) {
                        *d += wk * s;
                    }
                }
            }
            // Columns outside the source region stay padding.
            for (ocol, hw) in htaps.weights.iter().enumerate() {
                if hw.is_empty() {
                    orow[ocol * channels..][..channels].fill(0.0);
                }
            }
        });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn thread_count_does_not_change_bits() {
        let src: Vec<f32> = (0..(300 * 200 * 3))
            .map(|i| ((i * 7919) % 1000) as f32 / 997.0)
            .collect();
        let f = framing(
            (13.5, 7.25, 270.0, 180.0),
            (0.731, 0.5),
            (198, 90),
            (0.0, 0.0),
            Filter::Lanczos3,
        );
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

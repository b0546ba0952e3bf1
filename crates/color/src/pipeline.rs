//! A fused conversion between two colour spaces: decode curve → one 3×3 matrix (gamut to gamut
//! through XYZ with chromatic adaptation) → encode curve, applied to interleaved RGB slices
//! without allocating. `IntegerDecoder` turns 10/12/16-bit code values into linear values with
//! one table lookup per sample.

use crate::curves::Curve;
use crate::matrix::{rgb_to_xyz, Mat3, Primaries};
use crate::spaces::ColorSpace;

/// The chromatic adaptation used between white points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Adaptation {
    #[default]
    Bradford,
    Cat02,
}

const CAT02: Mat3 = Mat3([
    [0.7328, 0.4296, -0.1624],
    [-0.7036, 1.6975, 0.0061],
    [0.0030, 0.0136, 0.9834],
]);
const BRADFORD: Mat3 = Mat3([
    [0.8951, 0.2664, -0.1614],
    [-0.7502, 1.7135, 0.0367],
    [0.0389, -0.0685, 1.0296],
]);

fn white_xyz(xy: [f64; 2]) -> [f64; 3] {
    [xy[0] / xy[1], 1.0, (1.0 - xy[0] - xy[1]) / xy[1]]
}

/// von Kries adaptation in the cone space `cat` from white `src` to white `dst`.
pub fn adaptation_matrix(src: [f64; 2], dst: [f64; 2], method: Adaptation) -> Mat3 {
    if src == dst {
        return Mat3::IDENTITY;
    }
    let cat = match method {
        Adaptation::Bradford => BRADFORD,
        Adaptation::Cat02 => CAT02,
    };
    let (s, d) = (cat.apply(white_xyz(src)), cat.apply(white_xyz(dst)));
    let scale = Mat3([
        [d[0] / s[0], 0.0, 0.0],
        [0.0, d[1] / s[1], 0.0],
        [0.0, 0.0, d[2] / s[2]],
    ]);
    cat.inverse()
        .expect("CAT matrices are invertible")
        .mul(&scale)
        .mul(&cat)
}

/// Linear RGB in `src` primaries → linear RGB in `dst` primaries.
pub fn gamut_matrix(src: &Primaries, dst: &Primaries, method: Adaptation) -> Mat3 {
    let to_dst = rgb_to_xyz(dst)
        .inverse()
        .expect("real primaries are invertible");
    to_dst
        .mul(&adaptation_matrix(src.white, dst.white, method))
        .mul(&rgb_to_xyz(src))
}

/// Linear `src` → linear `dst`, through ACES2065-1 with each space's own adaptation.
pub fn space_matrix(src: &ColorSpace, dst: &ColorSpace) -> Mat3 {
    if src.gamut == dst.gamut && src.to_ap0 == dst.to_ap0 {
        return Mat3::IDENTITY;
    }
    let from_ap0 = dst
        .to_ap0_matrix()
        .inverse()
        .expect("colour-space matrices are invertible");
    from_ap0.mul(&src.to_ap0_matrix())
}

/// A conversion between two named colour spaces.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub src: &'static ColorSpace,
    pub dst: &'static ColorSpace,
    decode: Curve,
    /// The decode curve sampled densely, for `apply_rgb` (None for linear sources).
    decode_table: Option<DecodeTable>,
    encode: Curve,
    matrix: [[f32; 3]; 3],
    matrix64: Mat3,
    identity_matrix: bool,
    /// The studio config clamps ACEScc → linear results at 0.
    clamp_negative: bool,
}

impl Pipeline {
    pub fn new(src: &'static ColorSpace, dst: &'static ColorSpace) -> Self {
        let m = space_matrix(src, dst);
        let identity_matrix =
            (0..3).all(|r| (0..3).all(|c| (m.0[r][c] - Mat3::IDENTITY.0[r][c]).abs() < 1e-12));
        let clamp_negative = src.curve == Curve::AcesCc && dst.curve == Curve::Linear;
        Pipeline {
            src,
            dst,
            decode: src.curve,
            decode_table: (src.curve != Curve::Linear).then(|| DecodeTable::new(src.curve)),
            encode: dst.curve,
            matrix: m.to_f32(),
            matrix64: m,
            identity_matrix,
            clamp_negative,
        }
    }

    /// By names, as users type them.
    pub fn from_names(src: &str, dst: &str) -> Result<Self, crate::ColorError> {
        Ok(Pipeline::new(
            ColorSpace::from_name(src)?,
            ColorSpace::from_name(dst)?,
        ))
    }

    pub fn matrix(&self) -> Mat3 {
        self.matrix64
    }

    /// One pixel, in f64 (reference path).
    pub fn apply_pixel(&self, rgb: [f64; 3]) -> [f64; 3] {
        let lin = rgb.map(|v| self.decode.decode(v));
        let mut out = if self.identity_matrix {
            lin
        } else {
            self.matrix64.apply(lin)
        };
        if self.clamp_negative {
            out = out.map(|v| v.max(0.0));
        }
        out.map(|v| self.encode.encode(v))
    }

    /// Converts interleaved RGB in place: decode by table interpolation (exact formula outside
    /// the table's range), one f32 matrix, exact encode.
    pub fn apply_rgb(&self, rgb: &mut [f32]) {
        let m = &self.matrix;
        for px in rgb.chunks_exact_mut(3) {
            let (r, g, b) = match &self.decode_table {
                Some(t) => (t.decode(px[0]), t.decode(px[1]), t.decode(px[2])),
                None => (px[0], px[1], px[2]),
            };
            let mut out = if self.identity_matrix {
                [r, g, b]
            } else {
                [
                    m[0][0] * r + m[0][1] * g + m[0][2] * b,
                    m[1][0] * r + m[1][1] * g + m[1][2] * b,
                    m[2][0] * r + m[2][1] * g + m[2][2] * b,
                ]
            };
            if self.clamp_negative {
                out = out.map(|v| v.max(0.0));
            }
            if self.encode == Curve::Linear {
                px.copy_from_slice(&out);
            } else {
                for (o, v) in px.iter_mut().zip(out) {
                    *o = self.encode.encode(v as f64) as f32;
                }
            }
        }
    }
}

/// A decode curve sampled every 2⁻¹⁵ over [−0.25, 1.75] code value (65 537 samples), read with
/// linear interpolation. The curves are exponentials with exponent slopes ≤ 13 per unit, so the
/// interpolation error is below 1e-8 relative away from the curves' cuts and ≈ 1e-6 absolute at
/// a cut's kink; codes outside the range use the exact formula.
#[derive(Clone)]
struct DecodeTable {
    curve: Curve,
    table: std::sync::Arc<[f32]>,
    /// Table position below which the exact formula is used: Apple Log's square-root toe
    /// has an unbounded slope at code 0 that linear interpolation cannot follow.
    first_x: f32,
}

const TABLE_LO: f32 = -0.25;
const TABLE_STEPS_PER_UNIT: f32 = 32768.0;
const TABLE_STEPS: usize = 65536;

impl DecodeTable {
    fn new(curve: Curve) -> Self {
        let table = (0..=TABLE_STEPS)
            .map(|i| {
                let v = f64::from(TABLE_LO) + i as f64 / f64::from(TABLE_STEPS_PER_UNIT);
                curve.decode(v) as f32
            })
            .collect();
        let exact_below = match curve {
            Curve::AppleLog => 0.002,
            _ => TABLE_LO,
        };
        DecodeTable {
            curve,
            table,
            first_x: (exact_below - TABLE_LO) * TABLE_STEPS_PER_UNIT,
        }
    }

    #[inline]
    fn decode(&self, v: f32) -> f32 {
        let x = (v - TABLE_LO) * TABLE_STEPS_PER_UNIT;
        // Also false for NaN, which the exact path passes through.
        if x >= self.first_x && x < TABLE_STEPS as f32 {
            let i = x as usize;
            let f = x - i as f32;
            let (a, b) = (self.table[i], self.table[i + 1]);
            a + f * (b - a)
        } else {
            self.curve.decode(f64::from(v)) as f32
        }
    }
}

impl std::fmt::Debug for DecodeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DecodeTable({:?}, {} samples)",
            self.curve,
            self.table.len()
        )
    }
}

impl PartialEq for DecodeTable {
    /// The table is a function of the curve.
    fn eq(&self, other: &Self) -> bool {
        self.curve == other.curve
    }
}

/// Integer code values of a camera encoding → values of a target space (normally linear, e.g.
/// ACES2065-1): a per-code table (decode curve) then the 3×3 matrix, then the target's encoding
/// if it has one. 10-bit input is a 1024-entry lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegerDecoder {
    table: Vec<f32>,
    matrix: [[f32; 3]; 3],
    max_code: u16,
    /// As in [`Pipeline`]: ACEScc → linear results are clamped at 0.
    clamp_negative: bool,
    /// The target's encoding (usually linear: then nothing is done per sample).
    encode: Curve,
}

impl IntegerDecoder {
    /// `bit_depth` 8..=16; codes are full range (0 ↔ 0.0, 2^n − 1 ↔ 1.0). Panics on another
    /// bit depth: use [`IntegerDecoder::try_new`] when it comes from a file header.
    pub fn new(src: &'static ColorSpace, dst: &'static ColorSpace, bit_depth: u8) -> Self {
        match Self::try_new(src, dst, bit_depth) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    /// As [`IntegerDecoder::new`], with an error naming an unsupported bit depth.
    pub fn try_new(
        src: &'static ColorSpace,
        dst: &'static ColorSpace,
        bit_depth: u8,
    ) -> Result<Self, crate::ColorError> {
        if !(8..=16).contains(&bit_depth) {
            return Err(crate::ColorError::BitDepth(bit_depth));
        }
        let max = (1u32 << bit_depth) - 1;
        let table = (0..=max)
            .map(|c| src.curve.decode(c as f64 / max as f64) as f32)
            .collect();
        let m = space_matrix(src, dst);
        Ok(IntegerDecoder {
            table,
            matrix: m.to_f32(),
            max_code: max as u16,
            clamp_negative: src.curve == Curve::AcesCc && dst.curve == Curve::Linear,
            encode: dst.curve,
        })
    }

    /// Decodes one row of interleaved RGB codes into linear RGB (`out.len() == codes.len()`).
    pub fn decode_row(&self, codes: &[u16], out: &mut [f32]) {
        let m = &self.matrix;
        let t = &self.table;
        for (c, o) in codes.chunks_exact(3).zip(out.chunks_exact_mut(3)) {
            let r = t[c[0].min(self.max_code) as usize];
            let g = t[c[1].min(self.max_code) as usize];
            let b = t[c[2].min(self.max_code) as usize];
            o[0] = m[0][0] * r + m[0][1] * g + m[0][2] * b;
            o[1] = m[1][0] * r + m[1][1] * g + m[1][2] * b;
            o[2] = m[2][0] * r + m[2][1] * g + m[2][2] * b;
            if self.clamp_negative {
                o.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            if self.encode != Curve::Linear {
                o.iter_mut()
                    .for_each(|v| *v = self.encode.encode(f64::from(*v)) as f32);
            }
        }
    }
}

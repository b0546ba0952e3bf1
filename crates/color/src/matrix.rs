//! 3×3 matrices, RGB primaries and the Bradford chromatic adaptation, in f64 so that composed
//! matrices lose nothing before they are rounded to f32 for the pixel loops.

/// A row-major 3×3 matrix: `out = m · in` for column vectors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mat3(pub [[f64; 3]; 3]);

impl Mat3 {
    pub const IDENTITY: Mat3 = Mat3([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);

    pub fn from_rows(rows: [[f64; 3]; 3]) -> Self {
        Mat3(rows)
    }

    /// Matrix product `self · rhs` (apply `rhs` first, then `self`).
    pub fn mul(&self, rhs: &Mat3) -> Mat3 {
        let mut out = [[0.0; 3]; 3];
        for (r, row) in out.iter_mut().enumerate() {
            for (c, cell) in row.iter_mut().enumerate() {
                *cell = (0..3).map(|k| self.0[r][k] * rhs.0[k][c]).sum();
            }
        }
        Mat3(out)
    }

    pub fn apply(&self, v: [f64; 3]) -> [f64; 3] {
        let m = &self.0;
        [
            m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
            m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
            m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
        ]
    }

    pub fn determinant(&self) -> f64 {
        let m = &self.0;
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    }

    /// The inverse, or `None` when the matrix is singular (|det| < 1e-12).
    pub fn inverse(&self) -> Option<Mat3> {
        let det = self.determinant();
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let m = &self.0;
        let inv_det = 1.0 / det;
        let cof = |r0: usize, r1: usize, c0: usize, c1: usize| {
            m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
        };
        Some(Mat3([
            [
                cof(1, 2, 1, 2) * inv_det,
                -cof(0, 2, 1, 2) * inv_det,
                cof(0, 1, 1, 2) * inv_det,
            ],
            [
                -cof(1, 2, 0, 2) * inv_det,
                cof(0, 2, 0, 2) * inv_det,
                -cof(0, 1, 0, 2) * inv_det,
            ],
            [
                cof(1, 2, 0, 1) * inv_det,
                -cof(0, 2, 0, 1) * inv_det,
                cof(0, 1, 0, 1) * inv_det,
            ],
        ]))
    }

    /// Rows as f32, for pixel loops.
    pub fn to_f32(&self) -> [[f32; 3]; 3] {
        self.0.map(|row| row.map(|v| v as f32))
    }
}

/// CIE xy chromaticities of an RGB space's primaries and white point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Primaries {
    pub red: [f64; 2],
    pub green: [f64; 2],
    pub blue: [f64; 2],
    pub white: [f64; 2],
}

/// The ACES white point (≈ D60) used by AP0 and AP1.
pub const ACES_WHITE_XY: [f64; 2] = [0.32168, 0.33767];
pub const D65_XY: [f64; 2] = [0.3127, 0.3290];
/// D50 as the DNG specification defines the profile connection space white.
pub const D50_XY: [f64; 2] = [0.3457, 0.3585];

/// ACES2065-1 primaries.
pub const AP0: Primaries = Primaries {
    red: [0.7347, 0.2653],
    green: [0.0, 1.0],
    blue: [0.0001, -0.0770],
    white: ACES_WHITE_XY,
};

/// ACEScg / ACEScct / ACEScc primaries.
pub const AP1: Primaries = Primaries {
    red: [0.713, 0.293],
    green: [0.165, 0.830],
    blue: [0.128, 0.044],
    white: ACES_WHITE_XY,
};

pub const REC709: Primaries = Primaries {
    red: [0.64, 0.33],
    green: [0.30, 0.60],
    blue: [0.15, 0.06],
    white: D65_XY,
};

fn xy_to_xyz(xy: [f64; 2]) -> [f64; 3] {
    [xy[0] / xy[1], 1.0, (1.0 - xy[0] - xy[1]) / xy[1]]
}

/// The normalised primary matrix: linear RGB → CIE XYZ (Y of white = 1).
pub fn rgb_to_xyz(p: &Primaries) -> Mat3 {
    let r = xy_to_xyz(p.red);
    let g = xy_to_xyz(p.green);
    let b = xy_to_xyz(p.blue);
    let m = Mat3([[r[0], g[0], b[0]], [r[1], g[1], b[1]], [r[2], g[2], b[2]]]);
    let w = xy_to_xyz(p.white);
    let s = m
        .inverse()
        .expect("primaries of a real RGB space are not collinear")
        .apply(w);
    Mat3([
        [r[0] * s[0], g[0] * s[1], b[0] * s[2]],
        [r[1] * s[0], g[1] * s[1], b[1] * s[2]],
        [r[2] * s[0], g[2] * s[1], b[2] * s[2]],
    ])
}

const BRADFORD: Mat3 = Mat3([
    [0.8951, 0.2664, -0.1614],
    [-0.7502, 1.7135, 0.0367],
    [0.0389, -0.0685, 1.0296],
]);

/// Bradford chromatic adaptation in XYZ from white `src_xy` to white `dst_xy`.
pub fn bradford_cat(src_xy: [f64; 2], dst_xy: [f64; 2]) -> Mat3 {
    let src = BRADFORD.apply(xy_to_xyz(src_xy));
    let dst = BRADFORD.apply(xy_to_xyz(dst_xy));
    let scale = Mat3([
        [dst[0] / src[0], 0.0, 0.0],
        [0.0, dst[1] / src[1], 0.0],
        [0.0, 0.0, dst[2] / src[2]],
    ]);
    let inv = BRADFORD.inverse().expect("Bradford matrix is invertible");
    inv.mul(&scale).mul(&BRADFORD)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &Mat3, b: &Mat3, tol: f64) -> bool {
        (0..3).all(|r| (0..3).all(|c| (a.0[r][c] - b.0[r][c]).abs() < tol))
    }

    #[test]
    fn ap0_matrix_matches_aces_spec() {
        // SMPTE ST 2065-1 publishes the AP0 → XYZ NPM to 10 digits.
        let expected = Mat3([
            [0.9525523959, 0.0, 0.0000936786],
            [0.3439664498, 0.7281660966, -0.0721325464],
            [0.0, 0.0, 1.0088251844],
        ]);
        assert!(close(&rgb_to_xyz(&AP0), &expected, 1e-9));
    }

    #[test]
    fn inverse_round_trips() {
        let m = rgb_to_xyz(&AP1);
        let id = m.mul(&m.inverse().unwrap());
        assert!(close(&id, &Mat3::IDENTITY, 1e-12));
    }

    #[test]
    fn bradford_maps_white_to_white() {
        let cat = bradford_cat(D65_XY, ACES_WHITE_XY);
        let w = cat.apply(xy_to_xyz(D65_XY));
        let t = xy_to_xyz(ACES_WHITE_XY);
        for i in 0..3 {
            assert!((w[i] - t[i]).abs() < 1e-12);
        }
    }
}

//! The ACES 2.0 output transform, written from the ACES 2.0 specification (the Academy's
//! reference CTL, `Lib.Academy.OutputTransform` / `Lib.Academy.Tonescale`): a Hellwig 2022
//! colour-appearance model (JMh) with a Daniele-Evo tone scale on lightness, in-gamut chroma
//! compression, and a gamut mapper that compresses towards a hue-dependent focus point onto the
//! limiting display gamut, reaching out to AP1.
//!
//! Everything is parametrised by peak luminance and the limiting primaries; the SDR 100-nit
//! Rec.709 view of the OpenColorIO studio config is `Aces20::new(100.0, &REC709)`. The
//! per-display tables (gamut cusps, upper-hull gammas, AP1 reach) are computed once by search,
//! as the reference does: a transform takes ≈ 10 ms to build; build it once and share it.

use crate::matrix::{rgb_to_xyz, Mat3, Primaries, AP0, AP1};

/// Hellwig 2022 viewing conditions of the reference: adapting luminance, background, and the
/// "dim" surround (F, c, Nc).
const L_A: f64 = 100.0;
const Y_B: f64 = 20.0;
const SURROUND_C: f64 = 0.59;
const SURROUND_NC: f64 = 0.9;
/// Achromatic-response weights of the Hellwig model (red, blue; green is 1).
const RA: f64 = 2.0;
const BA: f64 = 0.05;
const REFERENCE_LUMINANCE: f64 = 100.0;

/// The sharpened CAM16 cone space, as xy chromaticities of its "primaries" (white at xy 1/3·…).
const CAM16: Primaries = Primaries {
    red: [0.8336, 0.1735],
    green: [2.3854, -1.4659],
    blue: [0.087, -0.125],
    white: [0.333, 0.333],
};

// Gamut mapper constants.
const SMOOTH_CUSPS: f64 = 0.12;
const SMOOTH_M: f64 = 0.27;
const CUSP_MID_BLEND: f64 = 1.3;
const FOCUS_GAIN_BLEND: f64 = 0.3;
const FOCUS_DISTANCE: f64 = 1.35;
const FOCUS_DISTANCE_SCALING: f64 = 1.75;
const COMPRESSION_THRESHOLD: f64 = 0.75;

/// Hue samples per table (one per degree).
const HUES: usize = 360;

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + t * (b - a)
}

fn wrap_hue(h: f64) -> f64 {
    let y = h % 360.0;
    if y < 0.0 {
        y + 360.0
    } else {
        y
    }
}

/// A power that is 0 for a negative base (the reference's `spow`).
fn spow(base: f64, e: f64) -> f64 {
    if base < 0.0 {
        0.0
    } else {
        base.powf(e)
    }
}

/// Luminance adaptation factor F_L for the adapting luminance.
fn luminance_adaptation() -> f64 {
    let k = 1.0 / (5.0 * L_A + 1.0);
    let k4 = k.powi(4);
    0.2 * k4 * (5.0 * L_A) + 0.1 * (1.0 - k4).powi(2) * (5.0 * L_A).cbrt()
}

/// Exponent of lightness: c·z with z = 1.48 + √(Y_b / Y_w), Y_w = 100.
fn lightness_exponent() -> f64 {
    SURROUND_C * (1.48 + (Y_B / REFERENCE_LUMINANCE).sqrt())
}

/// Post-adaptation non-linear response compression of one channel (signed).
fn compress_response(v: f64, f_l: f64) -> f64 {
    let p = (f_l * v.abs() / 100.0).powf(0.42);
    v.signum() * 400.0 * p / (27.13 + p)
}

fn expand_response(v: f64, f_l: f64) -> f64 {
    // The reference limits the response to 99% of its asymptote.
    let a = v.abs().min(0.99 * 400.0);
    v.signum() * 100.0 / f_l * spow(27.13 * a / (400.0 - a), 1.0 / 0.42)
}

/// Achromatic lightness ↔ luminance (cd/m², reference white 100) of the model: what the tone
/// scale works on.
#[derive(Debug, Clone, Copy)]
struct Lightness {
    f_l: f64,
    /// The response of the white (per channel).
    a_w: f64,
    cz: f64,
}

impl Lightness {
    fn new() -> Self {
        let f_l = luminance_adaptation();
        Lightness {
            f_l,
            a_w: compress_response(REFERENCE_LUMINANCE, f_l),
            cz: lightness_exponent(),
        }
    }

    fn j_from_y(&self, y: f64) -> f64 {
        y.signum() * 100.0 * (compress_response(y.abs(), self.f_l) / self.a_w).powf(self.cz)
    }

    fn y_from_j(&self, j: f64) -> f64 {
        let a = self.a_w * (j.abs() / 100.0).powf(1.0 / self.cz);
        j.signum() * expand_response(a, self.f_l)
    }
}

/// The Hellwig 2022 model for one adopted white (complete adaptation, D = 1): absolute XYZ
/// (white Y = 100) ↔ J, M, h (degrees).
#[derive(Debug, Clone)]
struct Cam {
    /// XYZ → adapted cone responses (the von Kries gains folded into the CAM16 matrix).
    to_cone: Mat3,
    from_cone: Mat3,
    /// Cone responses (A, a, b) ← (R, G, B) and back.
    from_opponent: Mat3,
    f_l: f64,
    a_w: f64,
    cz: f64,
}

impl Cam {
    fn new(white_xyz: [f64; 3]) -> Self {
        let m16 = rgb_to_xyz(&CAM16).inverse().expect("CAM16 matrix");
        let rgb_w = m16.apply(white_xyz);
        let y_w = white_xyz[1];
        let gains = rgb_w.map(|v| y_w / v);
        let mut to_cone = m16;
        for (row, g) in to_cone.0.iter_mut().zip(gains) {
            row.iter_mut().for_each(|v| *v *= g);
        }
        let f_l = luminance_adaptation();
        let a_w = (RA + 1.0 + BA) * compress_response(y_w, f_l);
        let to_opponent = Mat3([
            [RA, 1.0, BA],
            [1.0, -12.0 / 11.0, 1.0 / 11.0],
            [1.0 / 9.0, 1.0 / 9.0, -2.0 / 9.0],
        ]);
        Cam {
            from_cone: to_cone.inverse().expect("adapted CAM16 matrix"),
            to_cone,
            from_opponent: to_opponent.inverse().expect("opponent matrix"),
            f_l,
            a_w,
            cz: SURROUND_C * (1.48 + (Y_B / y_w).sqrt()),
        }
    }

    fn jmh(&self, xyz: [f64; 3]) -> [f64; 3] {
        let [r, g, b] = self
            .to_cone
            .apply(xyz)
            .map(|v| compress_response(v, self.f_l));
        let a = r - 12.0 * g / 11.0 + b / 11.0;
        let bb = (r + g - 2.0 * b) / 9.0;
        let achromatic = RA * r + g + BA * b;
        if achromatic <= 0.0 {
            return [0.0; 3];
        }
        let j = 100.0 * (achromatic / self.a_w).powf(self.cz);
        let m = 43.0 * SURROUND_NC * a.hypot(bb);
        [j, m, wrap_hue(bb.atan2(a).to_degrees())]
    }

    fn xyz(&self, jmh: [f64; 3]) -> [f64; 3] {
        let [j, m, h] = jmh;
        let achromatic = self.a_w * spow(j / 100.0, 1.0 / self.cz);
        let chroma = m / (43.0 * SURROUND_NC);
        let (sin, cos) = h.to_radians().sin_cos();
        let cone = self
            .from_opponent
            .apply([achromatic, chroma * cos, chroma * sin])
            .map(|v| expand_response(v, self.f_l));
        self.from_cone.apply(cone)
    }
}

/// The ACES 2.0 tone scale (Daniele Evo curve with flare), for a peak luminance.
#[derive(Debug, Clone, Copy)]
struct ToneScale {
    n_r: f64,
    g: f64,
    t_1: f64,
    c_t: f64,
    s_2: f64,
    m_2: f64,
    r_hit: f64,
}

impl ToneScale {
    fn new(peak: f64) -> Self {
        let n = peak;
        let n_r = 100.0;
        let g = 1.15;
        let c = 0.18;
        let c_d = 10.013;
        let w_g = 0.14;
        let t_1 = 0.04;
        let (r_hit_min, r_hit_max) = (128.0, 896.0);
        let r_hit =
            r_hit_min + (r_hit_max - r_hit_min) * ((n / n_r).ln() / (10000f64 / 100.0).ln());
        let m_0 = n / n_r;
        let m_1 = 0.5 * (m_0 + (m_0 * (m_0 + 4.0 * t_1)).sqrt());
        let w_i = (n / 100.0).log2();
        let c_t = c_d / n_r * (1.0 + w_i * w_g);
        let g_ip = 0.5 * (c_t + (c_t * (c_t + 4.0 * t_1)).sqrt());
        let u = ((r_hit / m_1) / ((r_hit / m_1) + 1.0)).powf(g);
        let m = m_1 / u;
        let p = (g_ip / m).powf(1.0 / g);
        let g_ipp2 = -(m_1 * p) / (p - 1.0);
        let w_2 = c / g_ipp2;
        let s_2 = w_2 * m_1;
        let u_2 = ((r_hit / m_1) / ((r_hit / m_1) + w_2)).powf(g);
        ToneScale {
            n_r,
            g,
            t_1,
            c_t,
            s_2,
            m_2: m_1 / u_2,
            r_hit,
        }
    }

    /// Scene-linear (relative to 1 = 100 cd/m²) → display luminance in cd/m².
    fn apply(&self, x: f64) -> f64 {
        let f = self.m_2 * (x.max(0.0) / (x + self.s_2)).powf(self.g);
        (f * f / (f + self.t_1)).max(0.0) * self.n_r
    }
}

/// The ACES 2.0 display rendering for one peak luminance and limiting gamut: ACES2065-1 →
/// linear RGB in the limiting primaries, 1.0 = 100 cd/m², clamped to [0, peak / 100].
#[derive(Debug, Clone)]
pub struct Aces20 {
    peak: f64,
    tone: ToneScale,
    lightness: Lightness,
    /// The models of the input (ACES white; also AP1's, the reach gamut) and of the limiting
    /// display (its white).
    cam_in: Cam,
    cam_limit: Cam,
    ap0_to_ap1: Mat3,
    ap1_to_xyz: Mat3,
    limit_to_xyz: Mat3,
    limit_from_xyz: Mat3,
    limit_j_max: f64,
    mid_j: f64,
    /// 1 / (c·z): the model's lightness gamma.
    model_gamma: f64,
    sat: f64,
    sat_thr: f64,
    compr: f64,
    chroma_scale: f64,
    focus_dist: f64,
    lower_hull_gamma_inv: f64,
    /// The AP1 gamut's colourfulness at the limiting white's lightness, per whole degree.
    reach_m: Vec<f64>,
    /// Cusps (J, M·(1 + smoothing), h) of the limiting gamut at peak, on a hue grid that
    /// holds every corner hue of both gamuts exactly; one wrapped entry at each end.
    cusps: Vec<[f64; 3]>,
    /// 1 / upper-hull gamma on the same hue grid.
    top_gamma_inv: Vec<f64>,
}

/// Smooth minimum of `a` and `b`, smoothing width `SMOOTH_CUSPS · scale`.
fn smooth_min(a: f64, b: f64, scale: f64) -> f64 {
    let s = SMOOTH_CUSPS * scale;
    let h = (s - (a - b).abs()).max(0.0) / s;
    a.min(b) - h * h * h * s / 6.0
}

/// The reference's toe: remaps `x` in [0, limit] with a toe shaped by k1, k2.
fn toe(x: f64, limit: f64, k1: f64, k2: f64) -> f64 {
    if x > limit {
        return x;
    }
    let k2 = k2.max(0.001);
    let k1 = (k1 * k1 + k2 * k2).sqrt();
    let k3 = (limit + k1) / (limit + k2);
    let minus_b = k3 * x - k1;
    0.5 * (minus_b + (minus_b * minus_b + 4.0 * k2 * k3 * x).sqrt())
}

/// Where the line through (J, M) towards the focus point meets the J axis.
fn j_intersect(j: f64, m: f64, focus_j: f64, max_j: f64, slope_gain: f64) -> f64 {
    let m_s = m / slope_gain;
    let a = m_s / focus_j;
    if j < focus_j {
        let b = 1.0 - m_s;
        let c = -j;
        -2.0 * c / (b + (b * b - 4.0 * a * c).sqrt())
    } else {
        let b = -(1.0 + m_s + max_j * a);
        let c = max_j * m_s + j;
        -2.0 * c / (b - (b * b - 4.0 * a * c).sqrt())
    }
}

/// The slope dJ/dM of the compression line through its J-axis intersection.
fn projection_slope(j_i: f64, focus_j: f64, max_j: f64, slope_gain: f64) -> f64 {
    let d = if j_i < focus_j { j_i } else { max_j - j_i };
    d * (j_i - focus_j) / (focus_j * slope_gain)
}

/// Colourfulness where a compression line (J-axis intersection `j_i`, `slope`) meets a hull
/// edge modelled as a power curve from `(j_ref, 0)` through `(j_max, m_max)`.
fn line_meets_hull(
    j_i: f64,
    slope: f64,
    inv_gamma: f64,
    j_max: f64,
    m_max: f64,
    j_ref: f64,
) -> f64 {
    j_ref * (j_i / j_ref).powf(inv_gamma) * m_max / (j_max - slope * m_max)
}

/// The six corners of the unit RGB cube around the hue circle: R, Y, G, C, B, M.
const CUBE_CORNERS: [[f64; 3]; 6] = [
    [1.0, 0.0, 0.0],
    [1.0, 1.0, 0.0],
    [0.0, 1.0, 0.0],
    [0.0, 1.0, 1.0],
    [0.0, 0.0, 1.0],
    [1.0, 0.0, 1.0],
];

/// `(rgb, jmh)` of six corners sorted by hue, padded with the last corner (hue − 360) in front
/// and the first (hue + 360) behind.
fn hue_sorted_corners(mut corners: Vec<([f64; 3], [f64; 3])>) -> Vec<([f64; 3], [f64; 3])> {
    let first = (0..corners.len())
        .min_by(|&a, &b| corners[a].1[2].total_cmp(&corners[b].1[2]))
        .unwrap_or(0);
    corners.rotate_left(first);
    let (mut lo, mut hi) = (corners[corners.len() - 1], corners[0]);
    lo.1[2] -= 360.0;
    hi.1[2] += 360.0;
    corners.insert(0, lo);
    corners.push(hi);
    corners
}

/// The hue grid: `HUES` samples from 0 to 360 in which every corner hue (sorted, ≤ 12) is a
/// sample, the others evenly spread between them; one wrapped entry at each end.
fn hue_grid(corner_hues: &[f64]) -> Vec<f64> {
    // Each corner's position on the grid: its hue rounded to a whole degree, kept strictly
    // increasing (a collision moves the previous corner down a step if it has room, else this
    // one up).
    let mut at: Vec<usize> = Vec::with_capacity(corner_hues.len());
    let mut floor = if corner_hues.first() == Some(&0.0) {
        0
    } else {
        1
    };
    let mut last = 0usize;
    for (k, &h) in corner_hues.iter().enumerate() {
        let mut idx = (h.round() as usize).max(floor).min(HUES - 1);
        if k > 0 && last == idx {
            if k > 1 && at[k - 2] != at[k - 1] - 1 {
                at[k - 1] -= 1;
            } else {
                idx += 1;
            }
        }
        at.push(idx.min(HUES - 1));
        floor = idx;
        last = idx;
    }
    let mut grid = vec![0.0; HUES + 2];
    let mut fill = |from: usize, n: usize, lo: f64, hi: f64| {
        for i in 0..n {
            grid[1 + from + i] = lo + i as f64 * (hi - lo) / n as f64;
        }
    };
    let mut done = 0;
    let mut lo = 0.0;
    for (k, &h) in corner_hues.iter().enumerate() {
        let n = at[k] - if k == 0 { 0 } else { at[k - 1] };
        fill(done, n, lo, h);
        done += n;
        lo = h;
    }
    fill(done, HUES - done, lo, 360.0);
    grid[0] = grid[HUES] - 360.0;
    grid[HUES + 1] = grid[1] + 360.0;
    grid
}

impl Aces20 {
    /// The transform for a display of `peak` cd/m² limited to `limit` primaries (whose white is
    /// the display's white).
    pub fn new(peak: f64, limit: &Primaries) -> Self {
        let tone = ToneScale::new(peak);
        let lightness = Lightness::new();
        let ap0_to_xyz = rgb_to_xyz(&AP0);
        let ap1_to_xyz = rgb_to_xyz(&AP1);
        let limit_to_xyz = rgb_to_xyz(limit);
        let white = |m: &Mat3| m.apply([REFERENCE_LUMINANCE; 3]);
        let log_peak = (peak / tone.n_r).log10();
        let mut t = Aces20 {
            peak,
            tone,
            lightness,
            cam_in: Cam::new(white(&ap0_to_xyz)),
            cam_limit: Cam::new(white(&limit_to_xyz)),
            ap0_to_ap1: ap1_to_xyz.inverse().expect("AP1").mul(&ap0_to_xyz),
            ap1_to_xyz,
            limit_to_xyz,
            limit_from_xyz: limit_to_xyz.inverse().expect("limiting primaries"),
            limit_j_max: lightness.j_from_y(peak),
            mid_j: lightness.j_from_y(tone.c_t * 100.0),
            model_gamma: 1.0 / lightness_exponent(),
            sat: (1.3 - 1.3 * 0.69 * log_peak).max(0.2),
            sat_thr: 0.5 / peak,
            compr: 2.4 + 2.4 * 3.3 * log_peak,
            chroma_scale: (0.03379 * peak).powf(0.30596) - 0.45135,
            focus_dist: FOCUS_DISTANCE + FOCUS_DISTANCE * FOCUS_DISTANCE_SCALING * log_peak,
            lower_hull_gamma_inv: 1.0 / (1.14 + 0.07 * log_peak),
            reach_m: Vec::new(),
            cusps: Vec::new(),
            top_gamma_inv: Vec::new(),
        };
        t.reach_m = t.reach_table();
        t.cusps = t.cusp_table();
        t.top_gamma_inv = t.top_gamma_table();
        t
    }

    /// Limiting-gamut RGB (1.0 = 100 cd/m²) → JMh in the display's model, and back.
    fn limit_jmh(&self, rgb: [f64; 3]) -> [f64; 3] {
        self.cam_limit.jmh(
            self.limit_to_xyz
                .apply(rgb.map(|v| v * REFERENCE_LUMINANCE)),
        )
    }

    fn limit_rgb(&self, jmh: [f64; 3]) -> [f64; 3] {
        self.limit_from_xyz
            .apply(self.cam_limit.xyz(jmh))
            .map(|v| v / REFERENCE_LUMINANCE)
    }

    /// AP1 RGB (1.0 = 100 cd/m²) → JMh in the input model, and back.
    fn ap1_jmh(&self, rgb: [f64; 3]) -> [f64; 3] {
        self.cam_in
            .jmh(self.ap1_to_xyz.apply(rgb.map(|v| v * REFERENCE_LUMINANCE)))
    }

    /// AP1's colourfulness at the limiting lightness: per whole degree of hue, the largest M at
    /// which every AP1 component stays ≥ 0 (a coarse march, then bisection to 0.01).
    fn reach_table(&self) -> Vec<f64> {
        let ap1_from_xyz = self.ap1_to_xyz.inverse().expect("AP1");
        let outside = |m: f64, h: f64| {
            let xyz = self.cam_in.xyz([self.limit_j_max, m, h]);
            ap1_from_xyz.apply(xyz).iter().any(|&v| v < 0.0)
        };
        (0..HUES)
            .map(|i| {
                let h = i as f64;
                let (mut lo, mut hi) = (0.0, 50.0);
                while !outside(hi, h) && hi < 1300.0 {
                    lo = hi;
                    hi += 50.0;
                }
                while hi - lo > 1e-2 {
                    let mid = 0.5 * (lo + hi);
                    if outside(mid, h) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                hi
            })
            .collect()
    }

    /// The cusp table: the hue grid placed on the corners of the limiting cube (at peak) and
    /// of the AP1 cube (at the limiting lightness); per grid hue, the most colourful colour of
    /// the limiting gamut, found by bisection along the cube edge between its corners.
    fn cusp_table(&self) -> Vec<[f64; 3]> {
        let top = self.peak / REFERENCE_LUMINANCE;
        let limit = hue_sorted_corners(
            CUBE_CORNERS
                .iter()
                .map(|c| {
                    let rgb = c.map(|v| v * top);
                    (rgb, self.limit_jmh(rgb))
                })
                .collect(),
        );
        // AP1 corners scaled to the limiting white's achromatic response.
        let target = self.limit_j_max;
        let reach = hue_sorted_corners(
            CUBE_CORNERS
                .iter()
                .map(|c| {
                    let (mut lo, mut hi) = (0.0, 8.0 * self.tone.r_hit);
                    while hi - lo > 1e-3 {
                        let mid = 0.5 * (lo + hi);
                        if self.ap1_jmh(c.map(|v| v * mid))[0] < target {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    let rgb = c.map(|v| v * hi);
                    (rgb, self.ap1_jmh(rgb))
                })
                .collect(),
        );
        let mut hues: Vec<f64> = limit[1..7]
            .iter()
            .chain(&reach[1..7])
            .map(|c| c.1[2])
            .collect();
        hues.sort_by(f64::total_cmp);
        hues.dedup();
        let grid = hue_grid(&hues);
        let mut table: Vec<[f64; 3]> = grid
            .iter()
            .map(|&h| {
                let (j, m) = self.display_cusp(h, &limit);
                [j, m * (1.0 + SMOOTH_M * SMOOTH_CUSPS), h]
            })
            .collect();
        table[0] = [table[HUES][0], table[HUES][1], grid[0]];
        table[HUES + 1] = [table[1][0], table[1][1], grid[HUES + 1]];
        table
    }

    /// The limiting gamut's cusp at hue `h`: on the cube edge between the corners around `h`.
    fn display_cusp(&self, h: f64, corners: &[([f64; 3], [f64; 3])]) -> (f64, f64) {
        let upper = (1..corners.len())
            .find(|&i| corners[i].1[2] > h)
            .unwrap_or(1);
        let (lo, hi) = (corners[upper - 1], corners[upper]);
        if lo.1[2] == h {
            return (lo.1[0], lo.1[1]);
        }
        let at = |t: f64| {
            let rgb = [0, 1, 2].map(|c| lerp(lo.0[c], hi.0[c], t));
            self.limit_jmh(rgb)
        };
        let (mut t_lo, mut t_hi) = (0.0, 1.0);
        while t_hi - t_lo > 1e-7 {
            let t = 0.5 * (t_lo + t_hi);
            let sample_h = at(t)[2];
            if sample_h < lo.1[2] || (sample_h < hi.1[2] && sample_h > h) {
                t_hi = t;
            } else {
                t_lo = t;
            }
        }
        let jmh = at(0.5 * (t_lo + t_hi));
        (jmh[0], jmh[1])
    }

    /// Per grid hue, 1 / the smallest upper-hull gamma whose approximate boundary lies outside
    /// the limiting gamut at five lightnesses between the cusp and the limiting white.
    fn top_gamma_table(&self) -> Vec<f64> {
        let jmax = self.limit_j_max;
        let top = self.peak / REFERENCE_LUMINANCE;
        let mut table = vec![0.0; HUES + 2];
        for (i, slot) in table.iter_mut().enumerate().take(HUES + 1).skip(1) {
            let [cusp_j, cusp_m, h] = self.cusps[i];
            let focus_j = self.focus_j(cusp_j);
            let threshold = lerp(cusp_j, jmax, FOCUS_GAIN_BLEND);
            let tests = [0.01, 0.1, 0.5, 0.8, 0.99].map(|p| {
                let j = lerp(cusp_j, jmax, p);
                let gain = self.slope_gain(j, threshold);
                let j_src = j_intersect(j, cusp_m, focus_j, jmax, gain);
                let slope = projection_slope(j_src, focus_j, jmax, gain);
                let j_cusp = j_intersect(cusp_j, cusp_m, focus_j, jmax, gain);
                (j_src, slope, j_cusp)
            });
            let fits = |gamma: f64| {
                tests.iter().all(|&(j_src, slope, j_cusp)| {
                    let m = self.hull_m((cusp_j, cusp_m), 1.0 / gamma, j_src, slope, j_cusp);
                    let rgb = self.limit_rgb([j_src + slope * m, m, h]);
                    rgb.iter().any(|&v| v > top)
                })
            };
            let (mut lo, mut hi) = (0.0, 0.4);
            while !fits(hi) && hi < 5.0 {
                lo = hi;
                hi += 0.4;
            }
            while hi - lo > 1e-5 {
                let mid = 0.5 * (lo + hi);
                if fits(mid) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            *slot = 1.0 / hi;
        }
        table[0] = table[HUES];
        table[HUES + 1] = table[1];
        table
    }

    fn focus_j(&self, cusp_j: f64) -> f64 {
        lerp(
            cusp_j,
            self.mid_j,
            (CUSP_MID_BLEND - cusp_j / self.limit_j_max).min(1.0),
        )
    }

    /// Focus distance gain: grows towards the limiting white above `threshold`.
    fn slope_gain(&self, j: f64, threshold: f64) -> f64 {
        let jmax = self.limit_j_max;
        let gain = jmax * self.focus_dist;
        if j > threshold {
            let adjust = ((jmax - threshold) / (jmax - j).max(0.0001)).log10();
            gain * (adjust * adjust + 1.0)
        } else {
            gain
        }
    }

    /// The approximate gamut hull's colourfulness along a compression line: the smooth
    /// minimum of the lower (black → cusp) and upper (cusp → white) power-curve edges.
    fn hull_m(
        &self,
        cusp: (f64, f64),
        gamma_top_inv: f64,
        j_src: f64,
        slope: f64,
        j_cusp: f64,
    ) -> f64 {
        let jmax = self.limit_j_max;
        let lower = line_meets_hull(
            j_src,
            slope,
            self.lower_hull_gamma_inv,
            cusp.0,
            cusp.1,
            j_cusp,
        );
        let upper = line_meets_hull(
            jmax - j_src,
            -slope,
            gamma_top_inv,
            jmax - cusp.0,
            cusp.1,
            jmax - j_cusp,
        );
        smooth_min(lower, upper, cusp.1)
    }

    /// The cusp (J, M) at hue `h`, interpolated between the neighbouring table entries, and
    /// the table index above `h`.
    fn cusp(&self, h: f64) -> ((f64, f64), usize) {
        let t = &self.cusps;
        let hi = (t[1..].partition_point(|c| c[2] < h) + 1).min(t.len() - 1);
        let (a, b) = (t[hi - 1], t[hi]);
        let f = (h - a[2]) / (b[2] - a[2]);
        ((lerp(a[0], b[0], f), lerp(a[1], b[1], f)), hi)
    }

    /// In-gamut chroma compression after the tone scale (`j` tone-mapped, `j_in` before).
    fn chroma_compress(&self, j: f64, m: f64, j_in: f64, h: f64) -> f64 {
        if m == 0.0 {
            return 0.0;
        }
        let nj = j / self.limit_j_max;
        let snj = (1.0 - nj).max(0.0);
        let norm = self.chroma_norm(h);
        let limit = nj.powf(self.model_gamma) * self.reach(h) / norm;
        let mut m = m * (j / j_in).powf(self.model_gamma) / norm;
        m = limit
            - toe(
                limit - m,
                limit - 0.001,
                snj * self.sat,
                (nj * nj + self.sat_thr).sqrt(),
            );
        m = toe(m, limit, nj * self.compr, snj);
        m * norm
    }

    /// AP1's reach in M at the limiting lightness, at hue `h`.
    fn reach(&self, h: f64) -> f64 {
        let h = wrap_hue(h);
        let lo = (h as usize).min(HUES - 1);
        lerp(
            self.reach_m[lo],
            self.reach_m[(lo + 1) % HUES],
            h - lo as f64,
        )
    }

    /// The normalising colourfulness of the chroma compression: a smooth fit over hue.
    fn chroma_norm(&self, h: f64) -> f64 {
        let (b, a) = h.to_radians().sin_cos();
        let (cos2, sin2) = (a * a - b * b, 2.0 * a * b);
        let (cos3, sin3) = (4.0 * a * a * a - 3.0 * a, 3.0 * b - 4.0 * b * b * b);
        let m = 11.34072 * a + 16.46899 * cos2 + 7.88380 * cos3 + 14.66441 * b - 6.37224 * sin2
            + 9.19364 * sin3
            + 77.12896;
        m * self.chroma_scale
    }

    /// Gamut mapping of a tone-mapped JMh onto the limiting gamut: along a line towards a
    /// focus point on the J axis, colours beyond a threshold inside the hull are compressed
    /// so that AP1's reach lands on the hull.
    fn gamut_map(&self, jmh: [f64; 3]) -> [f64; 3] {
        let [j, m, h] = jmh;
        let jmax = self.limit_j_max;
        if j <= 0.0 {
            return [0.0, 0.0, h];
        }
        if m < 0.0 || j > jmax {
            return [j, 0.0, h];
        }
        let (cusp, hi) = self.cusp(h);
        let (h_lo, g) = (self.cusps[hi - 1][2], &self.top_gamma_inv);
        // As the reference: weighted by the hue distance (the grid is ≈ 1° apart).
        let gamma_top_inv = lerp(g[hi - 1], g[hi], h - h_lo);
        let focus_j = self.focus_j(cusp.0);
        let gain = self.slope_gain(j, lerp(cusp.0, jmax, FOCUS_GAIN_BLEND));
        let j_src = j_intersect(j, m, focus_j, jmax, gain);
        let slope = projection_slope(j_src, focus_j, jmax, gain);
        let j_cusp = j_intersect(cusp.0, cusp.1, focus_j, jmax, gain);
        let gamut_m = self.hull_m(cusp, gamma_top_inv, j_src, slope, j_cusp);
        if gamut_m <= 0.0 {
            return [j, 0.0, h];
        }
        let reach_m = line_meets_hull(j_src, slope, self.model_gamma, jmax, self.reach(h), jmax);
        let m = remap_m(m, gamut_m, reach_m);
        [j_src + m * slope, m, h]
    }

    /// The three JMh stages of a pixel — the input's appearance, after the tone scale and
    /// chroma compression, after gamut mapping — as OCIO's `ACES_RGB_TO_JMH_20`,
    /// `ACES_TONESCALE_COMPRESS_20` and `ACES_GAMUT_COMPRESS_20` fixed functions expose them.
    pub fn stages(&self, aces: [f64; 3]) -> [[f64; 3]; 3] {
        let ap1 = self
            .ap0_to_ap1
            .apply(aces)
            .map(|v| v.clamp(0.0, 8.0 * self.tone.r_hit));
        let jmh = self.ap1_jmh(ap1);
        let [j, m, h] = jmh;
        let y = self.lightness.y_from_j(j) / REFERENCE_LUMINANCE;
        let jt = self.lightness.j_from_y(self.tone.apply(y));
        let toned = [jt, self.chroma_compress(jt, m, j, h), h];
        [jmh, toned, self.gamut_map(toned)]
    }

    /// ACES2065-1 → linear RGB in the limiting primaries (1.0 = 100 cd/m²), clamped to
    /// [0, peak / 100].
    pub fn apply(&self, aces: [f64; 3]) -> [f64; 3] {
        let [_, _, mapped] = self.stages(aces);
        let top = self.peak / REFERENCE_LUMINANCE;
        self.limit_rgb(mapped).map(|v| v.clamp(0.0, top))
    }
}

/// Compresses colourfulness `m` beyond a threshold inside the gamut boundary so that the
/// reach boundary lands on the gamut boundary (a Reinhard curve).
fn remap_m(m: f64, gamut_m: f64, reach_m: f64) -> f64 {
    let proportion = (gamut_m / reach_m).max(COMPRESSION_THRESHOLD);
    let threshold = proportion * gamut_m;
    if m <= threshold || proportion >= 1.0 {
        return m;
    }
    let gamut_off = gamut_m - threshold;
    let reach_off = reach_m - threshold;
    let scale = reach_off / (reach_off / gamut_off - 1.0);
    let nd = (m - threshold) / scale;
    threshold + scale * nd / (1.0 + nd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::REC709;

    #[test]
    fn mid_grey_lands_on_the_tone_scale_anchor() {
        // 0.18 ACES grey renders to c_d = 10.013 cd/m² (0.10013) on an SDR display.
        let t = Aces20::new(100.0, &REC709);
        let out = t.apply([0.18; 3]);
        for v in out {
            assert!((v - 0.10013).abs() < 2e-4, "{out:?}");
        }
    }

    #[test]
    fn lightness_round_trips() {
        let l = Lightness::new();
        for y in [0.01, 1.0, 18.0, 100.0, 1000.0] {
            assert!((l.y_from_j(l.j_from_y(y)) - y).abs() < 1e-9 * y.max(1.0));
        }
        assert!((l.j_from_y(100.0) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn cam_round_trips_colours() {
        let cam = Cam::new(rgb_to_xyz(&AP0).apply([100.0; 3]));
        for xyz in [[20.0, 30.0, 10.0], [5.0, 2.0, 40.0], [95.0, 100.0, 108.0]] {
            let back = cam.xyz(cam.jmh(xyz));
            for c in 0..3 {
                assert!((back[c] - xyz[c]).abs() < 1e-9, "{xyz:?} → {back:?}");
            }
        }
    }

    #[test]
    fn tables_are_complete_and_ordered() {
        let t = Aces20::new(100.0, &REC709);
        assert_eq!(t.cusps.len(), HUES + 2);
        assert!(t.cusps.windows(2).all(|w| w[0][2] < w[1][2]));
        assert!(t.top_gamma_inv.iter().all(|g| *g > 0.2));
        assert!(t.reach_m.iter().all(|m| (1.0..1300.0).contains(m)));
    }
}

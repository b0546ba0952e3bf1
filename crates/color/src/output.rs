//! Output transforms for review proxies, as the OCIO ACES studio config's display/view pairs.
//!
//! ACES 1.3: the Reference Rendering Transform (glow, red modifier, segmented-spline tone
//! scale) followed by the SDR video Output Device Transforms (48-nit cinema tone scale rescaled
//! to video, dim surround, Bradford D60→D65 adaptation), after the ACES 1.3 CTL reference.
//! ACES 2.0: [`crate::aces20`] at 100 cd/m² limited to Rec.709 or P3-D65. Both end in display
//! RGB (Rec.709 or P3 primaries) with BT.1886 or sRGB encoding.

use crate::aces20::Aces20;
use crate::matrix::{rgb_to_xyz, Mat3, Primaries, AP0, AP1, REC709};
use crate::spaces::P3_D65;

const HALF_MAX: f64 = 65504.0;
const TINY: f64 = 1e-10;

fn log10(x: f64) -> f64 {
    x.log10()
}

struct Spline<'a> {
    coefs_low: &'a [f64],
    coefs_high: &'a [f64],
    min: (f64, f64),
    mid: (f64, f64),
    max: (f64, f64),
    slope_low: f64,
    slope_high: f64,
    knots_low: usize,
    knots_high: usize,
    zero_floor: f64,
}

const M: [[f64; 3]; 3] = [[0.5, -1.0, 0.5], [-1.0, 1.0, 0.5], [0.5, 0.0, 0.0]];

fn segment(coefs: &[f64], knot_coord: f64) -> f64 {
    let j = (knot_coord as usize).min(coefs.len().saturating_sub(3));
    let t = knot_coord - j as f64;
    let cf = [coefs[j], coefs[j + 1], coefs[j + 2]];
    let monomials = [t * t, t, 1.0];
    (0..3)
        .map(|c| monomials[c] * (0..3).map(|r| cf[r] * M[r][c]).sum::<f64>())
        .sum()
}

impl Spline<'_> {
    fn fwd(&self, x: f64) -> f64 {
        let x = if x <= 0.0 { self.zero_floor } else { x };
        let logx = log10(x);
        let (lmin, lmid, lmax) = (log10(self.min.0), log10(self.mid.0), log10(self.max.0));
        let logy = if logx <= lmin {
            logx * self.slope_low + (log10(self.min.1) - self.slope_low * lmin)
        } else if logx < lmid {
            segment(
                self.coefs_low,
                (self.knots_low - 1) as f64 * (logx - lmin) / (lmid - lmin),
            )
        } else if logx < lmax {
            segment(
                self.coefs_high,
                (self.knots_high - 1) as f64 * (logx - lmid) / (lmax - lmid),
            )
        } else {
            logx * self.slope_high + (log10(self.max.1) - self.slope_high * lmax)
        };
        10f64.powf(logy)
    }
}

const RRT_LOW: [f64; 6] = [
    -4.0,
    -4.0,
    -3.1573765773,
    -0.4852499958,
    1.8477324706,
    1.8477324706,
];
const RRT_HIGH: [f64; 6] = [-0.7185482425, 2.0810307172, 3.6681241237, 4.0, 4.0, 4.0];

fn rrt_spline() -> Spline<'static> {
    Spline {
        coefs_low: &RRT_LOW,
        coefs_high: &RRT_HIGH,
        min: (0.18 * 2f64.powi(-15), 0.0001),
        mid: (0.18, 4.8),
        max: (0.18 * 2f64.powi(18), 10000.0),
        slope_low: 0.0,
        slope_high: 0.0,
        knots_low: 4,
        knots_high: 4,
        zero_floor: 2f64.powi(-14),
    }
}

const ODT48_LOW: [f64; 10] = [
    -1.6989700043,
    -1.6989700043,
    -1.4779,
    -1.2291,
    -0.8648,
    -0.448,
    0.00518,
    0.4511080334,
    0.9113744414,
    0.9113744414,
];
const ODT48_HIGH: [f64; 10] = [
    0.5154386965,
    0.8470437783,
    1.1358,
    1.3802,
    1.5197,
    1.5985,
    1.6467,
    1.6746091357,
    1.687873339,
    1.687873339,
];

fn odt_spline() -> Spline<'static> {
    let rrt = rrt_spline();
    Spline {
        coefs_low: &ODT48_LOW,
        coefs_high: &ODT48_HIGH,
        min: (rrt.fwd(0.18 * 2f64.powf(-6.5)), 0.02),
        mid: (rrt.fwd(0.18), 4.8),
        max: (rrt.fwd(0.18 * 2f64.powf(6.5)), 48.0),
        slope_low: 0.0,
        slope_high: 0.04,
        knots_low: 8,
        knots_high: 8,
        zero_floor: 1e-4,
    }
}

fn sat_matrix(sat: f64, rgb2y: [f64; 3]) -> Mat3 {
    let mut m = [[0.0; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (1.0 - sat) * rgb2y[j] + if i == j { sat } else { 0.0 };
        }
    }
    Mat3(m)
}

fn rgb_2_saturation(rgb: [f64; 3]) -> f64 {
    let mx = rgb[0].max(rgb[1]).max(rgb[2]);
    let mn = rgb[0].min(rgb[1]).min(rgb[2]);
    (mx.max(TINY) - mn.max(TINY)) / mx.max(1e-2)
}

fn rgb_2_yc(rgb: [f64; 3]) -> f64 {
    let (r, g, b) = (rgb[0], rgb[1], rgb[2]);
    let chroma = (b * (b - g) + g * (g - r) + r * (r - b)).max(0.0).sqrt();
    (b + g + r + 1.75 * chroma) / 3.0
}

fn sigmoid_shaper(x: f64) -> f64 {
    let t = (1.0 - (x / 2.0).abs()).max(0.0);
    let y = 1.0 + x.signum() * (1.0 - t * t);
    y / 2.0
}

fn glow_fwd(yc: f64, gain: f64, mid: f64) -> f64 {
    if yc <= 2.0 / 3.0 * mid {
        gain
    } else if yc >= 2.0 * mid {
        0.0
    } else {
        gain * (mid / yc - 0.5)
    }
}

fn rgb_2_hue(rgb: [f64; 3]) -> f64 {
    if rgb[0] == rgb[1] && rgb[1] == rgb[2] {
        return 0.0;
    }
    let hue = (180.0 / std::f64::consts::PI)
        * (3f64.sqrt() * (rgb[1] - rgb[2])).atan2(2.0 * rgb[0] - rgb[1] - rgb[2]);
    if hue < 0.0 {
        hue + 360.0
    } else {
        hue
    }
}

fn cubic_basis_shaper(x: f64, w: f64) -> f64 {
    const MB: [[f64; 4]; 4] = [
        [-1.0 / 6.0, 3.0 / 6.0, -3.0 / 6.0, 1.0 / 6.0],
        [3.0 / 6.0, -6.0 / 6.0, 3.0 / 6.0, 0.0],
        [-3.0 / 6.0, 0.0, 3.0 / 6.0, 0.0],
        [1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0, 0.0],
    ];
    let knots = [-w / 2.0, -w / 4.0, 0.0, w / 4.0, w / 2.0];
    if x <= knots[0] || x >= knots[4] {
        return 0.0;
    }
    let knot_coord = (x - knots[0]) * 4.0 / w;
    let j = (knot_coord as usize).min(3);
    let t = knot_coord - j as f64;
    let m = [t * t * t, t * t, t, 1.0];
    let col = 3 - j;
    (0..4).map(|r| m[r] * MB[r][col]).sum::<f64>() * 1.5
}

/// The ACES 1.3 Reference Rendering Transform: ACES2065-1 → OCES (AP0).
pub fn rrt(aces: [f64; 3]) -> [f64; 3] {
    let mut a = aces;
    let saturation = rgb_2_saturation(a);
    let yc = rgb_2_yc(a);
    let s = sigmoid_shaper((saturation - 0.4) / 0.2);
    let glow = 1.0 + glow_fwd(yc, 0.05 * s, 0.08);
    a = a.map(|v| v * glow);
    let hue = rgb_2_hue(a);
    let mut centered = hue;
    if centered < -180.0 {
        centered += 360.0;
    } else if centered > 180.0 {
        centered -= 360.0;
    }
    let hue_weight = cubic_basis_shaper(centered, 135.0);
    a[0] += hue_weight * saturation * (0.03 - a[0]) * (1.0 - 0.82);
    a = a.map(|v| v.clamp(0.0, HALF_MAX));
    let ap0_to_ap1 = rgb_to_xyz(&AP1)
        .inverse()
        .expect("AP1")
        .mul(&rgb_to_xyz(&AP0));
    let mut pre = ap0_to_ap1.apply(a).map(|v| v.clamp(0.0, HALF_MAX));
    let y_row = rgb_to_xyz(&AP1).0[1];
    pre = sat_matrix(0.96, y_row).apply(pre);
    let spline = rrt_spline();
    let post = pre.map(|v| spline.fwd(v));
    ap0_to_ap1.inverse().expect("AP1").apply(post)
}

/// Which SDR video display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// Rec.709 primaries, BT.1886 (gamma 2.4) encoding.
    Rec1886Rec709,
    /// Rec.709 primaries, sRGB piecewise encoding.
    Srgb,
    /// Display P3 (P3 primaries, D65), sRGB piecewise encoding.
    DisplayP3,
}

impl Display {
    /// The OCIO studio-config display name.
    pub fn name(self) -> &'static str {
        match self {
            Display::Rec1886Rec709 => "Rec.1886 Rec.709 - Display",
            Display::Srgb => "sRGB - Display",
            Display::DisplayP3 => "Display P3 - Display",
        }
    }

    fn primaries(self) -> Primaries {
        match self {
            Display::Rec1886Rec709 | Display::Srgb => REC709,
            Display::DisplayP3 => P3_D65,
        }
    }

    pub const ALL: [Display; 3] = [Display::Rec1886Rec709, Display::Srgb, Display::DisplayP3];
}

/// Which rendering (OCIO view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// ACES 1.3 RRT + SDR video ODT ("ACES 1.0 - SDR Video").
    Aces13SdrVideo,
    /// ACES 2.0, 100 cd/m² peak, limited to Rec.709 ("ACES 2.0 - SDR 100 nits (Rec.709)").
    Aces20Sdr100Rec709,
    /// ACES 2.0, 100 cd/m² peak, limited to P3-D65 ("ACES 2.0 - SDR 100 nits (P3 D65)").
    Aces20Sdr100P3D65,
}

impl View {
    /// The OCIO studio-config view name.
    pub fn name(self) -> &'static str {
        match self {
            View::Aces13SdrVideo => "ACES 1.0 - SDR Video",
            View::Aces20Sdr100Rec709 => "ACES 2.0 - SDR 100 nits (Rec.709)",
            View::Aces20Sdr100P3D65 => "ACES 2.0 - SDR 100 nits (P3 D65)",
        }
    }

    pub const ALL: [View; 3] = [
        View::Aces13SdrVideo,
        View::Aces20Sdr100Rec709,
        View::Aces20Sdr100P3D65,
    ];

    /// Whether the studio config offers this view on `display` (a P3-limited view needs a
    /// P3 display).
    pub fn available_on(self, display: Display) -> bool {
        self != View::Aces20Sdr100P3D65 || display == Display::DisplayP3
    }
}

#[derive(Debug, Clone)]
enum Rendering {
    Aces13(Box<Aces13>),
    /// The ACES 2.0 rendering into the limiting primaries, then limiting → display RGB.
    Aces20(Box<Aces20>, Mat3),
}

/// An SDR review output transform: ACES2065-1 → display code values, as the OCIO ACES studio
/// config's display/view pair does.
#[derive(Debug, Clone)]
pub struct OutputTransform {
    pub display: Display,
    pub view: View,
    rendering: Rendering,
    xyz_to_display: Mat3,
}

/// The ACES 1.3 SDR video rendering up to display-referred CIE XYZ (D65).
#[derive(Debug, Clone)]
struct Aces13 {
    odt: Spline<'static>,
    ap0_to_ap1: Mat3,
    ap1_to_xyz: Mat3,
    xyz_to_ap1: Mat3,
    odt_sat: Mat3,
    /// ACES white → D65 (Bradford), as the ODTs adapt.
    cat: Mat3,
}

impl std::fmt::Debug for Spline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spline")
    }
}

impl Clone for Spline<'static> {
    fn clone(&self) -> Self {
        Spline { ..*self }
    }
}

impl Aces13 {
    fn new() -> Self {
        let ap1_to_xyz = rgb_to_xyz(&AP1);
        Aces13 {
            odt: odt_spline(),
            ap0_to_ap1: ap1_to_xyz.inverse().expect("AP1").mul(&rgb_to_xyz(&AP0)),
            ap1_to_xyz,
            xyz_to_ap1: ap1_to_xyz.inverse().expect("AP1"),
            odt_sat: sat_matrix(0.93, ap1_to_xyz.0[1]),
            cat: crate::matrix::bradford_cat(AP0.white, REC709.white),
        }
    }

    /// ACES2065-1 → display CIE XYZ (D65, 1.0 = display white).
    fn xyz(&self, aces: [f64; 3]) -> [f64; 3] {
        let oces = rrt(aces);
        let rgb_pre = self.ap0_to_ap1.apply(oces);
        let rgb_post = rgb_pre.map(|v| self.odt.fwd(v));
        let (ymax, ymin) = (48.0, 0.02);
        let mut lin = rgb_post.map(|y| (y - ymin) / (ymax - ymin));
        // Dark → dim surround: a 0.9811 gamma on luminance, in xyY.
        let xyz = self.ap1_to_xyz.apply(lin);
        let sum = xyz[0] + xyz[1] + xyz[2];
        let (x, y) = if sum.abs() < 1e-10 {
            (0.31270, 0.32900)
        } else {
            (xyz[0] / sum, xyz[1] / sum)
        };
        let big_y = xyz[1].clamp(0.0, HALF_MAX).powf(0.9811);
        let y_safe = y.max(1e-10);
        let xyz = [x * big_y / y_safe, big_y, (1.0 - x - y) * big_y / y_safe];
        lin = self.xyz_to_ap1.apply(xyz);
        lin = self.odt_sat.apply(lin);
        self.cat.apply(self.ap1_to_xyz.apply(lin))
    }
}

impl OutputTransform {
    /// The ACES 1.3 SDR video transform for `display`.
    pub fn new(display: Display) -> Self {
        Self::with_view(display, View::Aces13SdrVideo)
    }

    /// Any supported view on `display` (a P3-limited view on a Rec.709 display is rendered
    /// with P3 limits and clipped by the display).
    pub fn with_view(display: Display, view: View) -> Self {
        let xyz_to_display = rgb_to_xyz(&display.primaries())
            .inverse()
            .expect("display primaries");
        let to_display = |m: &Mat3| xyz_to_display.mul(m);
        let rendering = match view {
            View::Aces13SdrVideo => Rendering::Aces13(Box::new(Aces13::new())),
            View::Aces20Sdr100Rec709 | View::Aces20Sdr100P3D65 => {
                let limit = if view == View::Aces20Sdr100Rec709 {
                    REC709
                } else {
                    P3_D65
                };
                Rendering::Aces20(
                    Box::new(Aces20::new(100.0, &limit)),
                    to_display(&rgb_to_xyz(&limit)),
                )
            }
        };
        OutputTransform {
            display,
            view,
            rendering,
            xyz_to_display,
        }
    }

    /// By OCIO studio-config display and view names; `None` for a pair the config does not
    /// have or this crate does not implement.
    pub fn from_names(display: &str, view: &str) -> Option<Self> {
        let display = Display::ALL.into_iter().find(|d| d.name() == display)?;
        let view = View::ALL.into_iter().find(|v| v.name() == view)?;
        view.available_on(display)
            .then(|| OutputTransform::with_view(display, view))
    }

    /// ACES2065-1 → display code values, not clamped (as the studio configs' displays).
    pub fn apply_pixel(&self, aces: [f64; 3]) -> [f64; 3] {
        let disp = match &self.rendering {
            Rendering::Aces13(t) => self.xyz_to_display.apply(t.xyz(aces)),
            Rendering::Aces20(t, to_display) => to_display.apply(t.apply(aces)),
        };
        // The studio configs differ below 0: the ACES 1.3 config (v2.2) floors BT.1886 at 0
        // and mirrors the Display P3 curve; the ACES 2.0 config (v4) mirrors BT.1886. Both
        // continue the sRGB curve's linear segment.
        let aces13 = self.view == View::Aces13SdrVideo;
        match self.display {
            Display::Rec1886Rec709 if aces13 => disp.map(|v| v.max(0.0).powf(1.0 / 2.4)),
            Display::Rec1886Rec709 => disp.map(|v| v.signum() * v.abs().powf(1.0 / 2.4)),
            Display::DisplayP3 if aces13 => disp.map(|v| v.signum() * srgb_encode(v.abs())),
            Display::Srgb | Display::DisplayP3 => disp.map(srgb_encode),
        }
    }

    /// Interleaved ACES2065-1 RGB → display code values, in place.
    pub fn apply_rgb(&self, rgb: &mut [f32]) {
        for px in rgb.chunks_exact_mut(3) {
            let out = self.apply_pixel([px[0], px[1], px[2]].map(f64::from));
            for (o, v) in px.iter_mut().zip(out) {
                *o = v as f32;
            }
        }
    }
}

fn srgb_encode(v: f64) -> f64 {
    if v <= 0.0031308 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

//! Colour spaces by their OpenColorIO ACES studio-config names: an encoding curve over a gamut.

use crate::curves::Curve;
use crate::matrix::{Mat3, Primaries, ACES_WHITE_XY, AP0, AP1, D65_XY, REC709};
use crate::pipeline::{gamut_matrix, Adaptation};

const fn p(r: [f64; 2], g: [f64; 2], b: [f64; 2], w: [f64; 2]) -> Primaries {
    Primaries {
        red: r,
        green: g,
        blue: b,
        white: w,
    }
}

pub const AWG3: Primaries = p([0.684, 0.313], [0.221, 0.848], [0.0861, -0.102], D65_XY);
pub const AWG4: Primaries = p(
    [0.7347, 0.2653],
    [0.1424, 0.8576],
    [0.0991, -0.0308],
    D65_XY,
);
pub const S_GAMUT3: Primaries = p([0.730, 0.280], [0.140, 0.855], [0.100, -0.050], D65_XY);
pub const S_GAMUT3_CINE: Primaries = p([0.766, 0.275], [0.225, 0.800], [0.089, -0.087], D65_XY);
pub const VENICE_S_GAMUT3_CINE: Primaries = p(
    [0.7827, 0.2986],
    [0.2024, 0.7935],
    [0.0943, -0.0893],
    D65_XY,
);
pub const RED_WIDE_GAMUT: Primaries = p(
    [0.780308, 0.304253],
    [0.121595, 1.493994],
    [0.095612, -0.084589],
    D65_XY,
);
pub const V_GAMUT: Primaries = p([0.730, 0.280], [0.165, 0.840], [0.100, -0.030], D65_XY);
pub const CINEMA_GAMUT_D55: Primaries = p(
    [0.740, 0.270],
    [0.170, 1.140],
    [0.080, -0.100],
    [0.3324, 0.3474],
);
pub const BMD_WIDE_GAMUT_GEN5: Primaries = p(
    [0.7177, 0.3171],
    [0.2280, 0.8616],
    [0.1006, -0.0820],
    D65_XY,
);
pub const DAVINCI_WIDE_GAMUT: Primaries = p(
    [0.8000, 0.3130],
    [0.1682, 0.9877],
    [0.0790, -0.1155],
    D65_XY,
);
pub const REC2020: Primaries = p([0.708, 0.292], [0.170, 0.797], [0.131, 0.046], D65_XY);
pub const D_GAMUT: Primaries = p([0.71, 0.31], [0.21, 0.88], [0.09, -0.08], D65_XY);
pub const P3_D65: Primaries = p([0.680, 0.320], [0.265, 0.690], [0.150, 0.060], D65_XY);

/// A named colour space: decode with `curve`, then the linear values are in `gamut`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColorSpace {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub curve: Curve,
    pub gamut: Primaries,
    /// How the vendor (and the studio config) adapts the gamut's white to the ACES white.
    pub adaptation: Adaptation,
    /// The vendor's published linear → ACES2065-1 matrix, where the studio config uses it
    /// rather than one derived from primaries.
    pub to_ap0: Option<[[f64; 3]; 3]>,
}

macro_rules! cs {
    ($name:expr, [$($alias:expr),*], $curve:expr, $gamut:expr) => {
        cs!($name, [$($alias),*], $curve, $gamut, Adaptation::Cat02, None)
    };
    ($name:expr, [$($alias:expr),*], $curve:expr, $gamut:expr, $cat:expr) => {
        cs!($name, [$($alias),*], $curve, $gamut, $cat, None)
    };
    ($name:expr, [$($alias:expr),*], $curve:expr, $gamut:expr, $cat:expr, $m:expr) => {
        ColorSpace { name: $name, aliases: &[$($alias),*], curve: $curve, gamut: $gamut, adaptation: $cat, to_ap0: $m }
    };
}

/// Blackmagic's published BMD Wide Gamut Gen5 → ACES2065-1 matrix.
const BMD_GEN5_TO_AP0: [[f64; 3]; 3] = [
    [0.647091325580708, 0.242595385134207, 0.110313289285085],
    [0.065_191_599_732_852, 1.02504756760476, -0.0902391673376125],
    [-0.0275570729194699, -0.0805887097177784, 1.10814578263725],
];
/// Sony's published Venice S-Gamut3.Cine → ACES2065-1 matrix.
const VENICE_SG3C_TO_AP0: [[f64; 3]; 3] = [
    [0.674257092126512, 0.220571735923397, 0.10517117195009],
    [-0.00931360607857167, 1.10595886142466, -0.0966452553460855],
    [-0.0382090673002312, -0.017938376600236, 1.05614744390047],
];
/// Canon's published Cinema Gamut (D55) → ACES2065-1 matrix.
const CINEMA_GAMUT_D55_TO_AP0: [[f64; 3]; 3] = [
    [0.7630644547757339, 0.1490211611370605, 0.08791438408720548],
    [0.00365745670512393, 1.106960380376215, -0.1106178370813388],
    [
        -0.009407794045718898,
        -0.2183833049899871,
        1.227791099035706,
    ],
];
const B: Adaptation = Adaptation::Bradford;
const C: Adaptation = Adaptation::Cat02;

/// Every colour space platefarm knows, with the studio config's names first.
pub static COLOR_SPACES: &[ColorSpace] = &[
    cs!(
        "ACES2065-1",
        ["ACES - ACES2065-1", "lin_ap0", "aces"],
        Curve::Linear,
        AP0
    ),
    cs!("ACEScg", ["ACES - ACEScg", "lin_ap1"], Curve::Linear, AP1),
    cs!(
        "ACEScct",
        ["ACES - ACEScct", "acescct_ap1"],
        Curve::AcesCct,
        AP1
    ),
    cs!(
        "ACEScc",
        ["ACES - ACEScc", "acescc_ap1"],
        Curve::AcesCc,
        AP1
    ),
    cs!(
        "ARRI LogC3 (EI800)",
        ["Input - ARRI - V3 LogC (EI800) - Wide Gamut", "logc3"],
        Curve::ArriLogC3Ei800,
        AWG3
    ),
    cs!(
        "Linear ARRI Wide Gamut 3",
        ["lin_arri_wide_gamut_3"],
        Curve::Linear,
        AWG3
    ),
    cs!("ARRI LogC4", ["logc4"], Curve::ArriLogC4, AWG4),
    cs!(
        "Linear ARRI Wide Gamut 4",
        ["lin_arri_wide_gamut_4"],
        Curve::Linear,
        AWG4
    ),
    cs!(
        "S-Log3 S-Gamut3",
        ["slog3_sgamut3"],
        Curve::SonySLog3,
        S_GAMUT3
    ),
    cs!(
        "S-Log3 S-Gamut3.Cine",
        ["slog3_sgamutcine"],
        Curve::SonySLog3,
        S_GAMUT3_CINE
    ),
    cs!(
        "S-Log3 Venice S-Gamut3.Cine",
        ["slog3_venice_sgamutcine"],
        Curve::SonySLog3,
        VENICE_S_GAMUT3_CINE,
        C,
        Some(VENICE_SG3C_TO_AP0)
    ),
    cs!("Linear S-Gamut3", ["lin_sgamut3"], Curve::Linear, S_GAMUT3),
    cs!(
        "Linear S-Gamut3.Cine",
        ["lin_sgamut3cine"],
        Curve::Linear,
        S_GAMUT3_CINE
    ),
    cs!(
        "Log3G10 REDWideGamutRGB",
        ["log3g10_rwg"],
        Curve::RedLog3G10,
        RED_WIDE_GAMUT,
        B
    ),
    cs!(
        "Linear REDWideGamutRGB",
        ["lin_rwg"],
        Curve::Linear,
        RED_WIDE_GAMUT,
        B
    ),
    cs!(
        "V-Log V-Gamut",
        ["vlog_vgamut"],
        Curve::PanasonicVLog,
        V_GAMUT,
        B
    ),
    cs!("Linear V-Gamut", ["lin_vgamut"], Curve::Linear, V_GAMUT, B),
    cs!(
        "CanonLog2 CinemaGamut D55",
        ["canonlog2_cgamut_d55"],
        Curve::CanonLog2,
        CINEMA_GAMUT_D55,
        C,
        Some(CINEMA_GAMUT_D55_TO_AP0)
    ),
    cs!(
        "CanonLog3 CinemaGamut D55",
        ["canonlog3_cgamut_d55"],
        Curve::CanonLog3,
        CINEMA_GAMUT_D55,
        C,
        Some(CINEMA_GAMUT_D55_TO_AP0)
    ),
    cs!(
        "Linear CinemaGamut D55",
        ["lin_cgamut_d55"],
        Curve::Linear,
        CINEMA_GAMUT_D55,
        C,
        Some(CINEMA_GAMUT_D55_TO_AP0)
    ),
    cs!(
        "BMDFilm WideGamut Gen5",
        ["bmdfilm_widegamut_gen5"],
        Curve::BmdFilmGen5,
        BMD_WIDE_GAMUT_GEN5,
        C,
        Some(BMD_GEN5_TO_AP0)
    ),
    cs!(
        "Linear BMD WideGamut Gen5",
        ["lin_bmd_widegamut_gen5"],
        Curve::Linear,
        BMD_WIDE_GAMUT_GEN5,
        C,
        Some(BMD_GEN5_TO_AP0)
    ),
    cs!(
        "DaVinci Intermediate WideGamut",
        ["davinci_intermediate_widegamut"],
        Curve::DaVinciIntermediate,
        DAVINCI_WIDE_GAMUT
    ),
    cs!(
        "Linear DaVinci WideGamut",
        ["lin_davinci_widegamut"],
        Curve::Linear,
        DAVINCI_WIDE_GAMUT
    ),
    cs!("Apple Log", ["apple_log"], Curve::AppleLog, REC2020, B),
    cs!("D-Log D-Gamut", ["dlog_dgamut"], Curve::DjiDLog, D_GAMUT),
    cs!("Linear D-Gamut", ["lin_dgamut"], Curve::Linear, D_GAMUT),
    cs!(
        "Linear Rec.709 (sRGB)",
        ["lin_rec709_srgb", "lin_rec709"],
        Curve::Linear,
        REC709,
        B
    ),
    // The config's display-referred linear spaces adapt with Bradford.
    cs!(
        "Linear Rec.2020",
        ["lin_rec2020"],
        Curve::Linear,
        REC2020,
        B
    ),
    cs!("Linear P3-D65", ["lin_p3d65"], Curve::Linear, P3_D65, B),
];

/// Unknown colour-space name, with the known ones to choose from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown colour space {name:?}{hint} (known: {known})")]
pub struct UnknownColorSpace {
    pub name: String,
    pub hint: String,
    pub known: String,
}

impl ColorSpace {
    /// Looks a space up by name or alias, ignoring case.
    pub fn from_name(name: &str) -> Result<&'static ColorSpace, crate::ColorError> {
        let wanted = name.trim();
        COLOR_SPACES
            .iter()
            .find(|cs| {
                cs.name.eq_ignore_ascii_case(wanted)
                    || cs.aliases.iter().any(|a| a.eq_ignore_ascii_case(wanted))
            })
            .ok_or_else(|| {
                let lower = wanted.to_ascii_lowercase();
                let hint = COLOR_SPACES
                    .iter()
                    .find(|cs| {
                        let n = cs.name.to_ascii_lowercase();
                        !lower.is_empty() && (n.contains(&lower) || lower.contains(&n))
                    })
                    .map(|cs| format!(" — did you mean {:?}?", cs.name))
                    .unwrap_or_default();
                crate::ColorError::UnknownSpace(UnknownColorSpace {
                    name: name.to_string(),
                    hint,
                    known: COLOR_SPACES
                        .iter()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            })
    }

    pub fn is_aces_white(&self) -> bool {
        self.gamut.white == ACES_WHITE_XY
    }

    /// Linear values of this space → ACES2065-1.
    pub fn to_ap0_matrix(&self) -> Mat3 {
        match self.to_ap0 {
            Some(m) => Mat3(m),
            None => gamut_matrix(&self.gamut, &AP0, self.adaptation),
        }
    }
}

//! Colour guesses from tags (always marked as guesses, with what they rest on) and the
//! correlated colour temperature of an as-shot white.

use crate::record::Colour;

/// Words in a tag that name an encoding, most specific first, with the platefarm colour
/// space (or description) they suggest. Matched on lower-case text without spaces, `-`, `_`.
const CURVE_WORDS: &[(&str, &str)] = &[
    ("slog3sgamut3cine", "S-Log3 S-Gamut3.Cine"),
    ("slog3sgamut3", "S-Log3 S-Gamut3"),
    ("slog3", "S-Log3 S-Gamut3.Cine"),
    ("log3g10", "Log3G10 REDWideGamutRGB"),
    ("logc4", "ARRI LogC4"),
    ("logc3", "ARRI LogC3 (EI800)"),
    ("logc", "ARRI LogC3 (EI800)"),
    ("vlog", "V-Log V-Gamut"),
    ("canonlog3", "CanonLog3 CinemaGamut D55"),
    ("clog3", "CanonLog3 CinemaGamut D55"),
    ("canonlog2", "CanonLog2 CinemaGamut D55"),
    ("clog2", "CanonLog2 CinemaGamut D55"),
    ("bmdfilm", "BMDFilm WideGamut Gen5"),
    ("blackmagicfilm", "BMDFilm WideGamut Gen5"),
    ("davinciintermediate", "DaVinci Intermediate WideGamut"),
    ("acescct", "ACEScct"),
    ("acescc", "ACEScc"),
    ("acescg", "ACEScg"),
    ("aces20651", "ACES2065-1"),
];

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.' | '(' | ')'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The first curve named in any of the `(field, text)` pairs.
pub fn guess_from_text(texts: &[(String, String)]) -> Option<Colour> {
    for (word, space) in CURVE_WORDS {
        if let Some((field, text)) = texts.iter().find(|(_, t)| squash(t).contains(word)) {
            return Some(Colour {
                guess: Some(space.to_string()),
                basis: Some(format!("{field} = {text:?} names it")),
            });
        }
    }
    None
}

/// DPX: a curve named in a text field, else the transfer characteristic code.
pub fn guess_dpx(transfer: u8, colorimetric: u8, texts: &[(String, String)]) -> Colour {
    if let Some(c) = guess_from_text(texts) {
        return c;
    }
    let name = match transfer {
        1 => "Cineon printing density",
        2 => "linear (primaries unknown)",
        3 => "log (curve unknown)",
        5 | 6 => "Rec.709 video",
        13 => "ADX",
        17 | 18 => "PQ (ST 2084)",
        19 | 20 => "HLG",
        21 => "gamma 2.6 (DCI)",
        22 => "sRGB",
        _ => {
            return Colour {
                guess: None,
                basis: Some(format!(
                "dpx.transfer = {transfer} and dpx.colorimetric = {colorimetric} name no encoding"
            )),
            }
        }
    };
    Colour {
        guess: Some(name.into()),
        basis: Some(format!("dpx.transfer = {transfer}")),
    }
}

const AP0: [f32; 8] = [0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.077, 0.32168, 0.33767];
const AP1: [f32; 8] = [0.713, 0.293, 0.165, 0.83, 0.128, 0.044, 0.32168, 0.33767];
const REC709: [f32; 8] = [0.64, 0.33, 0.3, 0.6, 0.15, 0.06, 0.3127, 0.329];

/// EXR: a curve named in a string attribute, else the primaries of `chromaticities`
/// (OpenEXR's default is Rec.709), scene-linear as EXR data is.
pub fn guess_exr(chromaticities: Option<[f32; 8]>, texts: &[(String, String)]) -> Colour {
    if let Some(c) = guess_from_text(texts) {
        return c;
    }
    let near = |a: &[f32; 8], b: &[f32; 8]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 2e-3);
    match chromaticities {
        Some(c) if near(&c, &AP0) => Colour {
            guess: Some("ACES2065-1".into()),
            basis: Some("exr.chromaticities are ACES AP0".into()),
        },
        Some(c) if near(&c, &AP1) => Colour {
            guess: Some("ACEScg".into()),
            basis: Some("exr.chromaticities are ACES AP1".into()),
        },
        Some(c) if near(&c, &REC709) => Colour {
            guess: Some("Linear Rec.709 (sRGB)".into()),
            basis: Some("exr.chromaticities are Rec.709".into()),
        },
        Some(_) => Colour {
            guess: None,
            basis: Some("exr.chromaticities name primaries platefarm does not know".into()),
        },
        None => Colour {
            guess: Some("Linear Rec.709 (sRGB)".into()),
            basis: Some("no exr.chromaticities: OpenEXR's default primaries are Rec.709".into()),
        },
    }
}

/// McCamy's approximation of the correlated colour temperature (kelvin) of CIE 1931 `x, y`.
pub fn mccamy_cct(x: f64, y: f64) -> Option<f64> {
    if !(x > 0.0 && y > 0.0 && (0.1858 - y).abs() > 1e-9) {
        return None;
    }
    let n = (x - 0.3320) / (0.1858 - y);
    let t = 449.0 * n.powi(3) + 3525.0 * n.powi(2) + 6823.3 * n + 5520.33;
    (t.is_finite() && (1000.0..=40000.0).contains(&t)).then_some(t)
}

/// CCT of the white whose camera response is `neutral`, through an XYZ → camera matrix
/// (row-major, DNG `ColorMatrix1`).
pub fn neutral_cct(xyz_to_cam: &[f64], neutral: [f64; 3]) -> Option<f64> {
    let m = xyz_to_cam;
    let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
        + m[2] * (m[3] * m[7] - m[4] * m[6]);
    if det.abs() < 1e-12 {
        return None;
    }
    let inv = [
        (m[4] * m[8] - m[5] * m[7]) / det,
        (m[2] * m[7] - m[1] * m[8]) / det,
        (m[1] * m[5] - m[2] * m[4]) / det,
        (m[5] * m[6] - m[3] * m[8]) / det,
        (m[0] * m[8] - m[2] * m[6]) / det,
        (m[2] * m[3] - m[0] * m[5]) / det,
        (m[3] * m[7] - m[4] * m[6]) / det,
        (m[1] * m[6] - m[0] * m[7]) / det,
        (m[0] * m[4] - m[1] * m[3]) / det,
    ];
    let xyz: Vec<f64> = (0..3)
        .map(|r| (0..3).map(|c| inv[3 * r + c] * neutral[c]).sum())
        .collect();
    let sum: f64 = xyz.iter().sum();
    if sum <= 0.0 {
        return None;
    }
    mccamy_cct(xyz[0] / sum, xyz[1] / sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d65_is_about_6504_kelvin() {
        let t = mccamy_cct(0.3127, 0.3290).unwrap();
        assert!((t - 6504.0).abs() < 10.0, "{t}");
    }

    #[test]
    fn text_guesses_name_the_field() {
        let c = guess_from_text(&[("dpx.project".into(), "Show LogC EI800".into())]).unwrap();
        assert_eq!(c.guess.as_deref(), Some("ARRI LogC3 (EI800)"));
        assert!(c.basis.unwrap().contains("dpx.project"));
        assert!(guess_from_text(&[("x".into(), "nothing here".into())]).is_none());
    }
}

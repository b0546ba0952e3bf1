//! The ACES 2.0 output transform against OpenColorIO itself (the venv's PyOpenColorIO 2.6 and
//! its built-in ACES 2.0 studio config), beyond the stored vectors: thousands of colours across
//! exposure and hue, the P3-limited view, and each JMh stage at SDR and HDR peaks through
//! OCIO's ACES 2.0 fixed functions.

use platefarm_color::aces20::Aces20;
use platefarm_color::spaces::P3_D65;
use platefarm_color::{Display, OutputTransform, Primaries, View, REC709};
use platefarm_testkit::Rng;

const CONFIG: &str = "studio-config-v4.0.0_aces-v2.0_ocio-v2.5";

/// Deterministic ACES2065-1 colours: neutrals and saturated mixes from 2⁻¹⁰ to 2⁸ × 0.18.
fn colours(n: usize) -> Vec<[f32; 3]> {
    let mut rng = Rng(0x0ACE_5200);
    let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (0..n)
        .map(|_| {
            let exposure = 0.18 * 2f64.powf(unit() * 18.0 - 10.0);
            let mix = [unit(), unit(), unit()];
            let sat = unit();
            let mx = mix.iter().cloned().fold(f64::MIN, f64::max).max(1e-9);
            mix.map(|m| (exposure * (1.0 - sat + sat * m / mx)) as f32)
        })
        .collect()
}

/// Runs `pixels` through an OCIO processor built by `make` (Python expression over `cfg`,
/// `ocio`, `args`); float32, no optimisation.
fn ocio(make: &str, args: &[&str], pixels: &[[f32; 3]]) -> Vec<[f32; 3]> {
    let dir = platefarm_testkit::scratch();
    let (inp, out) = (dir.path().join("in.f32"), dir.path().join("out.f32"));
    let bytes: Vec<u8> = pixels
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&inp, bytes).unwrap();
    let script = format!(
        r#"
import sys
import numpy as np
import PyOpenColorIO as ocio
inp, out, config = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
cfg = ocio.Config.CreateFromFile("ocio://" + config)
FF = ocio.FixedFunctionStyle
proc = {make}
px = np.fromfile(inp, dtype=np.float32).reshape(-1, 3).copy()
proc.getOptimizedCPUProcessor(ocio.OPTIMIZATION_NONE).applyRGB(px)
px.astype(np.float32).tofile(out)
"#
    );
    let mut all = vec![inp.to_str().unwrap(), out.to_str().unwrap(), CONFIG];
    all.extend_from_slice(args);
    platefarm_testkit::run_python(&script, &all);
    platefarm_testkit::read_f32_le(&out)
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect()
}

#[test]
fn sdr_views_match_ocio_on_3000_colours() {
    let px = colours(3000);
    for (display, view) in [
        (Display::Srgb, View::Aces20Sdr100Rec709),
        (Display::Rec1886Rec709, View::Aces20Sdr100Rec709),
        (Display::DisplayP3, View::Aces20Sdr100P3D65),
    ] {
        let want = ocio(
            "cfg.getProcessor('ACES2065-1', args[0], args[1], ocio.TRANSFORM_DIR_FORWARD)",
            &[display.name(), view.name()],
            &px,
        );
        let ot = OutputTransform::from_names(display.name(), view.name()).unwrap();
        let mut worst = 0f64;
        for (p, w) in px.iter().zip(&want) {
            let got = ot.apply_pixel(p.map(f64::from));
            for c in 0..3 {
                let w = f64::from(w[c]);
                // Below 3e-3 of code value BT.1886's power curve magnifies OCIO's float32
                // noise on clamped channels (see the vector test); compare those in linear.
                let err = if got[c].abs() < 3e-3 && w.abs() < 3e-3 {
                    (got[c].abs().powf(2.4) - w.abs().powf(2.4)).abs()
                } else {
                    (got[c] - w).abs()
                };
                assert!(
                    err <= 1e-3,
                    "{} / {}: {p:?} → {got:?}, OCIO {w:?}",
                    display.name(),
                    view.name()
                );
                worst = worst.max(err);
            }
        }
        println!("{} / {}: max {worst:.2e}", display.name(), view.name());
    }
}

fn primaries_arg(p: &Primaries) -> String {
    [p.red, p.green, p.blue, p.white]
        .iter()
        .flatten()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Each stage against OCIO's fixed functions, at 100 cd/m² (Rec.709 limits) and 1000 cd/m²
/// (P3 limits): J and M of every stage to 1e-4 of max(J, 100), hue likewise as the
/// colourfulness it displaces. The colours lie inside AP1: the full transform's AP1 clamp comes before
/// OCIO's first fixed function.
#[test]
fn jmh_stages_match_ocio_fixed_functions_at_sdr_and_hdr_peaks() {
    let to_ap0 = platefarm_color::Pipeline::from_names("ACEScg", "ACES2065-1").unwrap();
    let px: Vec<[f32; 3]> = colours(1500)
        .into_iter()
        .map(|p| to_ap0.apply_pixel(p.map(f64::from)).map(|v| v as f32))
        .collect();
    let ap0 = "0.7347,0.2653,0.0,1.0,0.0001,-0.077,0.32168,0.33767";
    let to_jmh = ocio(
        "cfg.getProcessor(ocio.FixedFunctionTransform(FF.FIXED_FUNCTION_ACES_RGB_TO_JMH_20, \
         [float(v) for v in args[0].split(',')]))",
        &[ap0],
        &px,
    );
    for (peak, limit) in [(100.0, REC709), (1000.0, P3_D65)] {
        let t = Aces20::new(peak, &limit);
        let peak_arg = peak.to_string();
        let toned = ocio(
            "cfg.getProcessor(ocio.FixedFunctionTransform(\
             FF.FIXED_FUNCTION_ACES_TONESCALE_COMPRESS_20, [float(args[0])]))",
            &[&peak_arg],
            &to_jmh,
        );
        let limits = format!("{peak},{}", primaries_arg(&limit));
        let mapped = ocio(
            "cfg.getProcessor(ocio.FixedFunctionTransform(\
             FF.FIXED_FUNCTION_ACES_GAMUT_COMPRESS_20, [float(v) for v in args[0].split(',')]))",
            &[&limits],
            &toned,
        );
        let mut worst = [0f64; 3];
        for (k, p) in px.iter().enumerate() {
            let stages = t.stages(p.map(f64::from));
            for (s, want) in [&to_jmh[k], &toned[k], &mapped[k]].into_iter().enumerate() {
                let got = stages[s];
                let (j, m) = (f64::from(want[0]), f64::from(want[1]));
                let err = ((got[0] - j).abs()).max((got[1] - m).abs()) / j.max(100.0);
                // Hue as the colourfulness displacement it causes.
                let dh = (got[2] - f64::from(want[2])).abs();
                let dh = dh.min(360.0 - dh);
                let tol = 1e-4;
                assert!(
                    err <= tol && m * dh.to_radians() <= tol * j.max(100.0),
                    "peak {peak} stage {s}: {p:?} → {got:?}, OCIO {want:?}"
                );
                worst[s] = worst[s].max(err);
            }
        }
        println!(
            "peak {peak}: worst relative error per stage {:.2e} {:.2e} {:.2e}",
            worst[0], worst[1], worst[2]
        );
    }
}

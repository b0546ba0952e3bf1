//! Every colour conversion against the OpenColorIO 2.6 studio-config vectors in
//! `../shared/vectors/color`: max abs error ≤ 1e-4 for values ≤ 1, ≤ 1e-4 relative above.

use platefarm_color::Pipeline;
use serde_json::Value;

fn load(file: &str) -> Value {
    let path = platefarm_testkit::vectors_dir().join("color").join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The worst error of `f` over a vector file's inputs — absolute for expected values within
/// ±1, relative beyond — and where it happened.
fn worst_error(v: &Value, f: impl Fn([f64; 3]) -> [f64; 3]) -> (f64, String) {
    let mut worst = 0f64;
    let mut worst_at = String::new();
    for (i, o) in v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(v["outputs"].as_array().unwrap())
    {
        let i: Vec<f64> = i
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let got = f([i[0], i[1], i[2]]);
        for (c, want) in o.as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap();
            let err = (got[c] - want).abs() / want.abs().max(1.0);
            if err > worst {
                worst = err;
                worst_at = format!("in {i:?} got {got:?} want {o}");
            }
        }
    }
    (worst, worst_at)
}

/// Max error of a conversion file.
fn check(file: &str) -> (String, f64) {
    let v = load(file);
    let (src, dst) = (v["source"].as_str().unwrap(), v["target"].as_str().unwrap());
    let p = Pipeline::from_names(src, dst).unwrap_or_else(|e| panic!("{file}: {e}"));
    let (worst, at) = worst_error(&v, |rgb| p.apply_pixel(rgb));
    (format!("{src} → {dst} [worst: {at}]"), worst)
}

#[test]
fn every_camera_and_working_space_vector_matches_ocio() {
    let dir = platefarm_testkit::vectors_dir().join("color");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.starts_with("to_ap0_") || f.starts_with("from_ap0_"))
        .collect();
    files.sort();
    assert!(files.len() >= 22, "vector files: {files:?}");
    let mut failures = Vec::new();
    for f in &files {
        let (name, worst) = check(f);
        println!("{worst:.2e}  {name}");
        if worst > 1e-4 {
            failures.push(format!("{f} ({name}): max error {worst:.3e}"));
        }
    }
    assert!(failures.is_empty(), "over 1e-4:\n{}", failures.join("\n"));
}

#[test]
fn cdl_in_acescct_matches_ocio() {
    use platefarm_color::{Cdl, CdlLook};
    for file in ["cdl_acescct_0.json", "cdl_acescct_1.json"] {
        let v = load(file);
        let arr = |k: &str| -> [f64; 3] {
            let a: Vec<f64> = v[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            [a[0], a[1], a[2]]
        };
        let cdl = Cdl {
            slope: arr("slope"),
            offset: arr("offset"),
            power: arr("power"),
            saturation: v["saturation"].as_f64().unwrap(),
        };
        let look = CdlLook::new(cdl).unwrap();
        let (worst, at) = worst_error(&v, |rgb| look.apply_pixel(rgb));
        println!("{worst:.2e}  {file}");
        assert!(worst <= 1e-4, "{file}: max error {worst:.3e} at {at}");
    }
}

#[test]
fn the_f32_path_agrees_with_the_reference_path_and_integer_decoding_with_both() {
    use platefarm_color::{ColorSpace, IntegerDecoder};
    let p = Pipeline::from_names("ARRI LogC3 (EI800)", "ACES2065-1").unwrap();
    let codes: Vec<u16> = (0..1024u16)
        .flat_map(|c| [c, 1023 - c, (c * 7) % 1024])
        .collect();
    let mut fast: Vec<f32> = codes.iter().map(|c| *c as f32 / 1023.0).collect();
    p.apply_rgb(&mut fast);
    let dec = IntegerDecoder::new(
        ColorSpace::from_name("ARRI LogC3 (EI800)").unwrap(),
        ColorSpace::from_name("ACES2065-1").unwrap(),
        10,
    );
    let mut lut = vec![0f32; codes.len()];
    dec.decode_row(&codes, &mut lut);
    for (k, px) in codes.chunks(3).enumerate() {
        let want = p.apply_pixel([
            px[0] as f64 / 1023.0,
            px[1] as f64 / 1023.0,
            px[2] as f64 / 1023.0,
        ]);
        for c in 0..3 {
            let tol = 1e-5 * want[c].abs().max(1.0);
            assert!(
                (fast[3 * k + c] as f64 - want[c]).abs() <= tol,
                "apply_rgb at code {px:?}"
            );
            assert!(
                (lut[3 * k + c] as f64 - want[c]).abs() <= tol,
                "IntegerDecoder at code {px:?}"
            );
        }
    }
    let err = Pipeline::from_names("Alexa LogC", "ACES2065-1")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown colour space \"Alexa LogC\"") && err.contains("ARRI LogC3 (EI800)"),
        "{err}"
    );
}

#[test]
fn aces13_output_transforms_match_ocio() {
    use platefarm_color::OutputTransform;
    for file in [
        "output_aces13_rec709.json",
        "output_aces13_srgb.json",
        "output_aces13_p3d65.json",
    ] {
        let v = load(file);
        let ot = OutputTransform::from_names(
            v["display"].as_str().unwrap(),
            v["view"].as_str().unwrap(),
        )
        .unwrap_or_else(|| panic!("{file}: display/view not supported"));
        // Absolute on display code values; relative for the out-of-range (< 0 or > 1) codes
        // extreme out-of-gamut inputs produce, where OCIO's float32 arithmetic dominates.
        let (worst, at) = worst_error(&v, |rgb| ot.apply_pixel(rgb));
        println!("{worst:.2e}  {file}  worst at {at}");
        assert!(worst <= 1e-3, "{file}: max error {worst:.3e} at {at}");
    }
}

/// ACES 2.0 SDR views: within 1e-3 of OCIO's display code values, except where OCIO's float32
/// arithmetic leaves noise on a channel the transform clamps to exactly 0 in the limiting
/// gamut: ±3e-8 linear, which BT.1886's mirrored 1/2.4 power lifts to ±1.3e-3 of code value.
/// There both sides must agree in linear light to 2e-7.
#[test]
fn aces20_output_transforms_match_ocio() {
    use platefarm_color::{Display, OutputTransform};
    for file in ["output_aces20_rec709.json", "output_aces20_srgb.json"] {
        let v = load(file);
        let ot = OutputTransform::from_names(
            v["display"].as_str().unwrap(),
            v["view"].as_str().unwrap(),
        )
        .unwrap_or_else(|| panic!("{file}: display/view not supported"));
        let linear = |code: f64| match ot.display {
            Display::Rec1886Rec709 => code.signum() * code.abs().powf(2.4),
            _ if code.abs() <= 0.04045 => code / 12.92,
            _ => code.signum() * ((code.abs() + 0.055) / 1.055).powf(2.4),
        };
        let (mut worst, mut noise_channels) = (0f64, 0);
        for (i, o) in v["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(v["outputs"].as_array().unwrap())
        {
            let i = [0, 1, 2].map(|c| i[c].as_f64().unwrap());
            let got = ot.apply_pixel(i);
            for c in 0..3 {
                let want = o[c].as_f64().unwrap();
                let (lg, lw) = (linear(got[c]), linear(want));
                if lg.abs() < 2e-7 && lw.abs() < 2e-7 {
                    noise_channels += 1;
                    assert!(
                        (lg - lw).abs() < 2e-7,
                        "{file}: {i:?}[{c}] linear {lg:e} vs {lw:e}"
                    );
                    continue;
                }
                let err = (got[c] - want).abs();
                assert!(err <= 1e-3, "{file}: {i:?} → {got:?}, OCIO {o}");
                worst = worst.max(err);
            }
        }
        println!("{worst:.2e}  {file}  ({noise_channels} channels at float32 noise level)");
    }
}

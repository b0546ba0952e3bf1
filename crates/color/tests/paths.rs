//! The fast paths against the f64 reference path for every colour space platefarm knows: the
//! table-interpolated float decode (`Pipeline::apply_rgb`) and the integer decoders at 10, 12
//! and 16 bits.

use platefarm_color::{ColorSpace, IntegerDecoder, Pipeline, COLOR_SPACES};

/// |got − want| ≤ tol·max(1, |want|) on every sample, with the first failure named.
fn assert_close(what: &str, got: &[f32], want: &[[f64; 3]], tol: f64) -> f64 {
    let mut worst = 0f64;
    for (k, w) in want.iter().enumerate() {
        for c in 0..3 {
            let err = (f64::from(got[3 * k + c]) - w[c]).abs() / w[c].abs().max(1.0);
            assert!(
                err <= tol,
                "{what}: pixel {k} channel {c}: got {} want {} (error {err:.2e} > {tol:.0e})",
                got[3 * k + c],
                w[c]
            );
            worst = worst.max(err);
        }
    }
    worst
}

#[test]
fn table_decode_matches_the_formulas_for_every_space_over_its_whole_code_range() {
    let aces = ColorSpace::from_name("ACES2065-1").unwrap();
    // A ramp over [-0.3, 1.8] (inside and outside the table) with a step that is not a
    // multiple of the table's, so samples fall between table entries and on the cuts' kinks.
    let n = 20_011;
    let codes: Vec<f32> = (0..n)
        .map(|i| -0.3 + 2.1 * i as f32 / (n - 1) as f32)
        .collect();
    for space in COLOR_SPACES {
        let p = Pipeline::new(space, aces);
        let mut fast: Vec<f32> = codes.iter().flat_map(|c| [*c, *c, *c]).collect();
        p.apply_rgb(&mut fast);
        let want: Vec<[f64; 3]> = codes
            .iter()
            .map(|c| p.apply_pixel([f64::from(*c); 3]))
            .collect();
        let worst = assert_close(space.name, &fast, &want, 2e-6);
        println!("{worst:.1e}  {}", space.name);
    }
}

#[test]
fn integer_decoders_match_the_reference_path_at_10_12_and_16_bits() {
    let aces = ColorSpace::from_name("ACES2065-1").unwrap();
    let cct = ColorSpace::from_name("ACEScct").unwrap();
    // Every space to linear ACES, and a few to an encoded target (ACEScct).
    let pairs = COLOR_SPACES.iter().map(|s| (s, aces)).chain(
        ["ARRI LogC3 (EI800)", "S-Log3 S-Gamut3.Cine", "ACEScc"]
            .map(|n| (ColorSpace::from_name(n).unwrap(), cct)),
    );
    for (space, dst) in pairs {
        let p = Pipeline::new(space, dst);
        for bits in [10u8, 12, 16] {
            let max = (1u32 << bits) - 1;
            let dec = IntegerDecoder::try_new(space, dst, bits).unwrap();
            // Every code for 10/12 bits, every 7th for 16; channels permuted so the matrix mixes.
            let step = if bits == 16 { 7 } else { 1 };
            let codes: Vec<u16> = (0..=max)
                .step_by(step)
                .flat_map(|c| [c as u16, (max - c) as u16, ((c * 5) % (max + 1)) as u16])
                .collect();
            let mut out = vec![0f32; codes.len()];
            dec.decode_row(&codes, &mut out);
            let want: Vec<[f64; 3]> = codes
                .chunks(3)
                .map(|c| p.apply_pixel([c[0], c[1], c[2]].map(|v| f64::from(v) / f64::from(max))))
                .collect();
            let what = format!("{} → {} {bits}-bit", space.name, dst.name);
            // An encoded target's log segment magnifies the f32 matrix's rounding of large
            // linear values (LogC3 reaches 58) tenfold; linear targets keep 1e-5.
            let tol = if dst.name == "ACEScct" { 5e-5 } else { 1e-5 };
            assert_close(&what, &out, &want, tol);
        }
    }
}

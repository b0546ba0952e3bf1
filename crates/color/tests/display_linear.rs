//! The display-referred linear spaces (not in the vector files) against live OpenColorIO.

use platefarm_color::Pipeline;

#[test]
fn linear_display_spaces_match_ocio() {
    let inputs = [
        [0.18, 0.18, 0.18],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.9, 0.3, 0.05],
        [2.5, 0.7, 0.1],
    ];
    for name in ["Linear Rec.709 (sRGB)", "Linear Rec.2020", "Linear P3-D65"] {
        let flat: Vec<String> = inputs.iter().flatten().map(|v| v.to_string()).collect();
        let out = platefarm_testkit::run_python(
            "import sys, PyOpenColorIO as ocio\n\
             cfg = ocio.Config.CreateFromBuiltinConfig('studio-config-v4.0.0_aces-v2.0_ocio-v2.5')\n\
             p = cfg.getProcessor(sys.argv[1], 'ACES2065-1').getOptimizedCPUProcessor(ocio.OPTIMIZATION_NONE)\n\
             v = [float(x) for x in sys.argv[2].split(',')]\n\
             for i in range(0, len(v), 3): print(*p.applyRGB(v[i:i+3]))",
            &[name, &flat.join(",")],
        );
        let p = Pipeline::from_names(name, "ACES2065-1").unwrap();
        for (rgb, line) in inputs.iter().zip(out.lines()) {
            let want: Vec<f64> = line
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect();
            let got = p.apply_pixel(*rgb);
            for c in 0..3 {
                assert!(
                    (got[c] - want[c]).abs() <= 1e-6 * want[c].abs().max(1.0),
                    "{name} {rgb:?}: {got:?} vs {want:?}"
                );
            }
        }
    }
}

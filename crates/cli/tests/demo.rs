//! `platefarm demo` as a user runs it: the binary, from nothing, writes plates whose chart
//! neutrals read back with OpenEXR's own library within 2% of their scene-linear values, a
//! contact sheet, and a summary.

use platefarm::sample::sample_clips;
use platefarm_imaging::synth::chart_patches;
use std::process::Command;

#[test]
fn demo_renders_plates_that_hold_the_chart() {
    let dir = platefarm_testkit::scratch();
    let work = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_platefarm"))
        .args(["demo", "--frames", "6", "--dir"])
        .arg(&work)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("completed"), "{stdout}");
    assert!(stdout.contains("frames rendered: 12 of 12"), "{stdout}");
    assert!(stdout.contains("frames/s"), "{stdout}");
    assert!(work.join("plates/contact_sheet.png").exists());

    // Each delivered shot carries its AMF and an ASC MHL history the reference tool accepts.
    for clip in sample_clips(6) {
        let shot_dir = work.join("plates").join(clip.shot);
        let amf = std::fs::read_to_string(shot_dir.join(format!("{}.amf", clip.shot))).unwrap();
        assert!(platefarm_standards::amf::Amf::parse(&amf).is_ok(), "{amf}");
        let out = Command::new(platefarm_testkit::venv_tool("ascmhl-debug"))
            .arg("verify")
            .arg(&shot_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ascmhl-debug verify {}:\n{}{}",
            shot_dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = Command::new(env!("CARGO_BIN_EXE_platefarm"))
            .args(["mhl", "verify"])
            .arg(&shot_dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&ours.stdout);
        assert!(
            ours.status.success() && text.contains("7 of 7 files verified"),
            "six plates and the AMF: {text}"
        );
    }
    let turnover: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("turnover.json")).unwrap())
            .unwrap();
    for (i, clip) in sample_clips(6).into_iter().enumerate() {
        // Where the chart lands in the plate: through the shot's FDL canvas template, if any.
        let mapping = turnover["shots"][i]["fdl"]["canvas_template"]
            .as_str()
            .map(|t| {
                let fdl = platefarm_standards::Fdl::parse(
                    &std::fs::read_to_string(work.join(format!("clips/{}.fdl", clip.name)))
                        .unwrap(),
                )
                .unwrap();
                platefarm_standards::fdl_template::apply_template(
                    &fdl,
                    None,
                    None,
                    None,
                    &fdl,
                    Some(t),
                )
                .unwrap()
                .render_mapping()
            });
        let patches: Vec<String> = chart_patches(&clip.spec)
            .into_iter()
            .filter(|p| p.neutral)
            .map(|p| {
                let (x, y, w, h) = match mapping {
                    None => (p.x as f64, p.y as f64, p.width as f64, p.height as f64),
                    Some(((ox, oy, _, _), (sx, sy), _, (tx, ty))) => (
                        (p.x as f64 - ox) * sx + tx,
                        (p.y as f64 - oy) * sy + ty,
                        p.width as f64 * sx,
                        p.height as f64 * sy,
                    ),
                };
                format!(
                    "{},{},{},{},{}",
                    x.ceil(),
                    y.ceil(),
                    w.floor(),
                    h.floor(),
                    p.aces[0]
                )
            })
            .collect();
        let plate = work.join(format!(
            "plates/{0}/{0}.{1:07}.exr",
            clip.shot, clip.first_frame
        ));
        let report = platefarm_testkit::run_python(
            "import sys, OpenEXR, numpy as np\n\
             with OpenEXR.File(sys.argv[1], separate_channels=True) as f:\n\
             \x20   px = np.stack([f.channels()[c].pixels.astype(np.float64) for c in 'RGB'], axis=-1)\n\
             for b in sys.argv[2:]:\n\
             \x20   x, y, w, h, want = [float(v) for v in b.split(',')]\n\
             \x20   x, y, w, h = int(x), int(y), int(w), int(h); i = w // 5\n\
             \x20   m = px[y+i:y+h-i, x+i:x+w-i].reshape(-1, 3).mean(axis=0)\n\
             \x20   print(want, *m)",
            &[&[plate.to_str().unwrap()], patches.iter().map(String::as_str).collect::<Vec<_>>().as_slice()].concat(),
        );
        assert_eq!(report.lines().count(), 6, "six neutral patches");
        for line in report.lines() {
            let v: Vec<f64> = line
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect();
            for c in 1..4 {
                let rel = (v[c] - v[0]).abs() / v[0];
                assert!(
                    rel <= 0.02,
                    "{}: neutral {} read back {} ({:.2}% off)",
                    clip.shot,
                    v[0],
                    v[c],
                    rel * 100.0
                );
            }
        }
    }
}

//! `platefarm fdl validate` and `platefarm amf inspect` as users run them.

use std::process::Command;

fn platefarm(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_platefarm"))
        .args(args)
        .output()
        .expect("platefarm runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn fdl_validate_reports_paths_and_exit_status() {
    let vectors = platefarm_testkit::vectors_dir();
    let good = vectors.join("fdl/asc/B_4448x3096_1x_FramingChart.fdl");
    let (ok, out) = platefarm(&["fdl", "validate", good.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains(": ok (FDL 2.0)"), "{out}");
    let dir = platefarm_testkit::scratch();
    let bad = dir.path().join("bad.fdl");
    std::fs::write(
        &bad,
        r#"{"uuid":"x","version":{"major":2,"minor":0},"contexts":[{"canvases":[{"id":"C1"}]}]}"#,
    )
    .unwrap();
    let (ok, out) = platefarm(&[
        "fdl",
        "validate",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        out.contains("$.contexts[0].canvases[0].dimensions: required property is missing"),
        "{out}"
    );
}

#[test]
fn amf_inspect_prints_the_resolved_pipeline() {
    let amf = platefarm_testkit::vectors_dir()
        .join("amf/examples/idt_LogC4_to_ACES__odt_Rec709_D65_100nit_in_Rec709_D65_BT1886.amf");
    let (ok, out) = platefarm(&["amf", "inspect", "--json", amf.to_str().unwrap()]);
    assert!(ok, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["pipeline"]["input"], "ARRI LogC4");
    let acme = platefarm_testkit::vectors_dir().join("amf/examples/example1.amf");
    let (ok, out) = platefarm(&["amf", "inspect", acme.to_str().unwrap()]);
    if !ok {
        assert!(out.contains("not supported by platefarm"), "{out}");
    }
}

#[test]
fn fdl_apply_writes_the_result_fdl() {
    let vectors = platefarm_testkit::vectors_dir().join("fdl");
    let dir = platefarm_testkit::scratch();
    let out = dir.path().join("out.fdl");
    let (ok, text) = platefarm(&[
        "fdl",
        "apply",
        vectors
            .join("asc/B_4448x3096_1x_FramingChart.fdl")
            .to_str()
            .unwrap(),
        vectors
            .join("asc/Scen_1_FitDecision-into-UHD-CANVAS-TEMPLATE.fdl")
            .to_str()
            .unwrap(),
        "--canvas",
        "1",
        "--framing",
        "1-1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("canvas 3840×2160"), "{text}");
    let (ok, text) = platefarm(&["fdl", "validate", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let new = &doc["contexts"][0]["canvases"][1];
    assert_eq!(new["id"], "N001");
    assert_eq!(new["dimensions"]["width"], 3840);
    assert!((new["_scale_factor"].as_f64().unwrap() - 0.9590409590409591).abs() < 1e-12);
}

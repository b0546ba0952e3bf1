//! Turnover validation: every malformed request gets every problem with its JSON path.

use platefarm_core::{parse_turnover, Compression, FrameRange, PixelType, ProxyFormat};
use serde_json::{json, Value};

fn good() -> Value {
    json!({
        "production": "demo",
        "priority": 70,
        "deadline": "2026-11-26T18:00:00Z",
        "shots": [{
            "name": "A001C003",
            "input_clip": "clips/A001C003/A001C003_230512_R1AB.%07d.dng",
            "output_location": "plates",
            "frame_range": {"start": 86400, "end": 86423},
            "handles": 4,
            "amf_path": "clips/A001C003.amf",
            "fdl_path": "clips/A001C003.fdl",
            "fdl": {"canvas_template": "VFX Pull"},
            "output": {"compression": "zip", "pixel": "float"}
        }]
    })
}

/// Applies `edit` to a good request and checks the exact set of (path, reason fragment)s.
fn check(edit: impl FnOnce(&mut Value), expected: &[(&str, &str)]) {
    let mut v = good();
    edit(&mut v);
    let errs = parse_turnover(v.to_string().as_bytes(), "gen")
        .expect_err("must be rejected")
        .0;
    let got: Vec<(String, String)> = errs
        .iter()
        .map(|e| (e.path.clone(), e.reason.clone()))
        .collect();
    assert_eq!(errs.len(), expected.len(), "got {got:#?}");
    for (path, fragment) in expected {
        assert!(
            got.iter().any(|(p, r)| p == path && r.contains(fragment)),
            "missing {path}: …{fragment}… in {got:#?}"
        );
    }
}

#[test]
fn a_good_request_parses_with_defaults_and_generated_id() {
    let t = parse_turnover(good().to_string().as_bytes(), "TO-gen").unwrap();
    assert_eq!(t.turnover_id, "TO-gen");
    assert_eq!(t.priority, 70);
    let s = &t.shots[0];
    assert_eq!(s.render_range(), FrameRange::new(86396, 86427).unwrap());
    assert_eq!(s.output.compression, Compression::Zip);
    assert_eq!(s.output.pixel, PixelType::Float);
    assert_eq!(s.fdl.canvas_template.as_deref(), Some("VFX Pull"));
}

#[test]
fn malformed_json_names_line_and_column() {
    let errs = parse_turnover(b"{\n  \"production\": \"x\",\n  oops\n}", "g")
        .unwrap_err()
        .0;
    assert_eq!(errs[0].path, "$");
    assert!(errs[0].reason.contains("line 3"), "{}", errs[0].reason);
}

#[test]
fn unknown_fields_are_named() {
    check(
        |v| {
            v["colour"] = json!("ACES");
            v["shots"][0]["fram_range"] = json!({});
        },
        &[
            ("$.colour", "unknown field"),
            ("$.shots[0].fram_range", "unknown field"),
        ],
    );
}

#[test]
fn end_before_start() {
    check(
        |v| v["shots"][0]["frame_range"]["end"] = json!(100),
        &[("$.shots[0].frame_range.end", "before start 86400")],
    );
}

#[test]
fn missing_required_fields() {
    check(
        |v| {
            v.as_object_mut().unwrap().remove("production");
            v["shots"][0].as_object_mut().unwrap().remove("input_clip");
            v["shots"][0]
                .as_object_mut()
                .unwrap()
                .remove("output_location");
        },
        &[
            ("$.production", "missing"),
            ("$.shots[0].input_clip", "missing"),
            ("$.shots[0].output_location", "missing"),
        ],
    );
}

#[test]
fn wrong_types() {
    check(
        |v| {
            v["priority"] = json!("high");
            v["shots"][0]["frame_range"]["start"] = json!(-3);
            v["shots"][0]["name"] = json!(7);
        },
        &[
            ("$.priority", "expected a whole number"),
            (
                "$.shots[0].frame_range.start",
                "expected a whole number ≥ 0",
            ),
            ("$.shots[0].name", "expected a string"),
        ],
    );
}

#[test]
fn out_of_range_values() {
    check(
        |v| {
            v["priority"] = json!(101);
            v["shots"][0]["handles"] = json!({"head": 20000});
            v["shots"][0]["frame_range"] = json!({"start": 0, "end": 5_000_000});
        },
        &[
            ("$.priority", "out of range 0..=100"),
            ("$.shots[0].handles.head", "out of range"),
            ("$.shots[0].frame_range", "more than the limit"),
        ],
    );
}

#[test]
fn paths_outside_the_roots() {
    check(
        |v| {
            v["shots"][0]["input_clip"] = json!("../../etc/A.%04d.dng");
            v["shots"][0]["amf_path"] = json!("ftp://host/a.amf");
            v["shots"][0]["output_location"] = json!("s3:///key");
        },
        &[
            ("$.shots[0].input_clip", "'..'"),
            ("$.shots[0].amf_path", "unsupported URI scheme"),
            ("$.shots[0].output_location", "no bucket"),
        ],
    );
}

#[test]
fn bad_sequence_patterns() {
    check(
        |v| v["shots"][0]["input_clip"] = json!("clips/A001.dng"),
        &[("$.shots[0].input_clip", "no frame-number placeholder")],
    );
    check(
        |v| {
            v["shots"][0]["input_clip"] = json!("clips/A001.[000100-000200].dng");
            v["shots"][0]["frame_range"] = json!({"start": 150, "end": 250});
            v["shots"][0]["handles"] = json!(0);
        },
        &[(
            "$.shots[0].frame_range",
            "outside the clip's own range [100-200]",
        )],
    );
}

#[test]
fn unknown_enum_values_list_the_allowed_ones() {
    check(
        |v| v["shots"][0]["output"] = json!({"compression": "dwaa", "format": "mov"}),
        &[
            (
                "$.shots[0].output.compression",
                "allowed: piz, zip, zips, none",
            ),
            ("$.shots[0].output.format", "allowed: exr"),
        ],
    );
}

#[test]
fn duplicate_and_bad_shot_names() {
    check(
        |v| {
            let s = v["shots"][0].clone();
            v["shots"].as_array_mut().unwrap().push(s);
            v["shots"][0]["name"] = json!("A001C003");
            let mut bad = v["shots"][0].clone();
            bad["name"] = json!("a/b");
            v["shots"].as_array_mut().unwrap().push(bad);
        },
        &[
            ("$.shots[1].name", "duplicate shot name"),
            ("$.shots[2].name", "not allowed"),
        ],
    );
}

#[test]
fn bad_deadline_handles_and_empty_shots() {
    check(
        |v| {
            v["deadline"] = json!("tomorrow");
            v["shots"][0]["handles"] = json!(90000);
        },
        &[
            ("$.deadline", "RFC 3339"),
            ("$.shots[0].handles", "out of range"),
        ],
    );
    check(
        |v| v["shots"] = json!([]),
        &[("$.shots", "at least one shot")],
    );
    check(
        |v| v["shots"] = json!({}),
        &[("$.shots", "expected an array")],
    );
}

#[test]
fn handles_before_frame_zero_and_selectors_without_fdl() {
    check(
        |v| {
            v["shots"][0]["frame_range"] = json!({"start": 2, "end": 10});
            v["shots"][0].as_object_mut().unwrap().remove("fdl_path");
        },
        &[
            ("$.shots[0].handles.head", "before frame 0"),
            ("$.shots[0].fdl", "no fdl_path"),
        ],
    );
}

#[test]
fn every_problem_of_every_shot_is_reported_at_once() {
    let mut v = good();
    let mut second = v["shots"][0].clone();
    second["name"] = json!("B002");
    second["frame_range"] = json!({"start": 10});
    v["shots"].as_array_mut().unwrap().push(second);
    v["shots"][0]["output"] = json!("exr");
    v["turnover_id"] = json!("bad id!");
    let errs = parse_turnover(v.to_string().as_bytes(), "g").unwrap_err().0;
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.turnover_id",
            "$.shots[0].output",
            "$.shots[1].frame_range.end"
        ]
    );
}

/// A DPX shot of `good()` with the given extra fields.
fn dpx_shot(v: &mut Value) {
    v["shots"][0]["input_clip"] = json!("clips/A001/A001.%07d.dpx");
}

#[test]
fn input_colorspace_and_proxy_parse_with_defaults() {
    let mut v = good();
    dpx_shot(&mut v);
    v["shots"][0]["input_colorspace"] = json!("ARRI LogC3 (EI800)");
    v["shots"][0]["proxy"] = json!({"format": "png", "max_width": 1024});
    let t = parse_turnover(v.to_string().as_bytes(), "g").unwrap();
    let s = &t.shots[0];
    assert_eq!(s.input_colorspace.as_deref(), Some("ARRI LogC3 (EI800)"));
    let p = s.proxy.as_ref().unwrap();
    assert_eq!(p.format, ProxyFormat::Png);
    assert_eq!(
        (p.display.as_str(), p.view.as_str()),
        ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)")
    );
    assert_eq!((p.quality, p.max_width), (92, Some(1024)));
    // A turnover without the new fields keeps both unset (and round-trips through serde, as
    // the catalog stores it).
    let t = parse_turnover(good().to_string().as_bytes(), "g").unwrap();
    assert_eq!(t.shots[0].input_colorspace, None);
    assert_eq!(t.shots[0].proxy, None);
    let back: platefarm_core::Turnover =
        serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);
}

#[test]
fn a_dpx_shot_without_input_colour_space_is_rejected_with_the_path() {
    check(
        |v| {
            dpx_shot(v);
            v["shots"][0].as_object_mut().unwrap().remove("amf_path");
        },
        &[(
            "$.shots[0].input_colorspace",
            "DPX input needs an input colour space: give input_colorspace or an AMF with an input transform",
        )],
    );
    // With an AMF the dispatcher decides, once it has read the AMF's input transform.
    let mut v = good();
    dpx_shot(&mut v);
    assert!(parse_turnover(v.to_string().as_bytes(), "g").is_ok());
}

#[test]
fn unknown_colour_spaces_list_close_and_known_names() {
    check(
        |v| {
            dpx_shot(v);
            v["shots"][0]["input_colorspace"] = json!("ARRI LogC3");
        },
        &[(
            "$.shots[0].input_colorspace",
            "unknown colour space \"ARRI LogC3\" — did you mean \"ARRI LogC3 (EI800)\"?",
        )],
    );
    check(
        |v| {
            dpx_shot(v);
            v["shots"][0]["input_colorspace"] = json!("Cineon");
        },
        &[("$.shots[0].input_colorspace", "known: ")],
    );
}

#[test]
fn input_colour_space_for_camera_raw_and_unsupported_formats() {
    check(
        |v| v["shots"][0]["input_colorspace"] = json!("ACEScg"),
        &[(
            "$.shots[0].input_colorspace",
            "applies to DPX, EXR and TIFF input only",
        )],
    );
    check(
        |v| v["shots"][0]["input_clip"] = json!("clips/A001.%07d.mov"),
        &[(
            "$.shots[0].input_clip",
            "unsupported input format in \"clips/A001.%07d.mov\" (frames must end in .dng, .dpx, .exr, .tif, .tiff)",
        )],
    );
}

#[test]
fn bad_proxies_name_the_field_and_the_valid_values() {
    check(
        |v| {
            v["shots"][0]["proxy"] = json!({
                "format": "gif", "display": "sRGB", "quality": 0, "max_width": 0, "lut": "x"
            })
        },
        &[
            (
                "$.shots[0].proxy.lut",
                "unknown field (allowed: format, display, view, quality, max_width)",
            ),
            ("$.shots[0].proxy.format", "allowed: jpeg, png"),
            (
                "$.shots[0].proxy.display",
                "unknown display \"sRGB\" (known: \"Rec.1886 Rec.709 - Display\", \"sRGB - Display\", \"Display P3 - Display\")",
            ),
            ("$.shots[0].proxy.quality", "0 is out of range 1..=100"),
            ("$.shots[0].proxy.max_width", "0 is out of range 1..=65536"),
        ],
    );
    check(
        |v| {
            v["shots"][0]["proxy"] =
                json!({"display": "sRGB - Display", "view": "ACES 2.0 - SDR 100 nits (P3 D65)", "quality": 101})
        },
        &[
            (
                "$.shots[0].proxy.view",
                "unknown view \"ACES 2.0 - SDR 100 nits (P3 D65)\" for display \"sRGB - Display\" (known: \"ACES 1.0 - SDR Video\", \"ACES 2.0 - SDR 100 nits (Rec.709)\")",
            ),
            ("$.shots[0].proxy.quality", "101 is out of range 0..=100"),
        ],
    );
    check(
        |v| v["shots"][0]["proxy"] = json!("jpeg"),
        &[("$.shots[0].proxy", "expected an object, got a string")],
    );
}

//! FDL validation: every ASC/vector document is valid; broken ones report each problem with its
//! JSON path; the reference JSON Schema (via `jsonschema`) agrees on the schema-level cases.

use platefarm_standards::{Fdl, FdlError};
use serde_json::{json, Value};

fn fdl_dir() -> std::path::PathBuf {
    platefarm_testkit::vectors_dir().join("fdl")
}

#[test]
fn every_vector_document_validates() {
    let mut n = 0;
    for sub in ["sources", "templates", "asc"] {
        for entry in std::fs::read_dir(fdl_dir().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("fdl") {
                continue;
            }
            Fdl::parse(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 200, "{n} documents");
}

fn source() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fdl_dir().join("sources/S11_000.fdl")).unwrap())
        .unwrap()
}

fn problems(v: &Value) -> Vec<(String, String)> {
    match Fdl::parse(&v.to_string()) {
        Err(FdlError::Invalid(p)) => p.into_iter().map(|p| (p.path, p.reason)).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

fn check(edit: impl FnOnce(&mut Value), expected: &[(&str, &str)]) -> Value {
    let mut v = source();
    edit(&mut v);
    let got = problems(&v);
    for (path, fragment) in expected {
        assert!(
            got.iter().any(|(p, r)| p == path && r.contains(fragment)),
            "missing {path}: …{fragment}… in {got:#?}"
        );
    }
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    v
}

const CANVAS: &str = "$.contexts[0].canvases[0]";

#[test]
fn broken_documents_name_each_problem() {
    let mut broken = Vec::new();
    broken.push(check(
        |v| v["version"] = json!({"major": 3, "minor": 0}),
        &[("$.version", "not supported")],
    ));
    broken.push(check(
        |v| v["uuid"] = json!("not-a-uuid"),
        &[("$.uuid", "not a UUID")],
    ));
    broken.push(check(
        |v| v["contexts"][0]["canvases"][0]["framing_decisions"][0]["id"] = json!("C000-FI9"),
        &[(
            &format!("{CANVAS}.framing_decisions[0].id"),
            "should be \"C000-FI1\"",
        )],
    ));
    broken.push(check(
        |v| {
            v["contexts"][0]["canvases"][0]["framing_decisions"][0]["framing_intent_id"] =
                json!("FI7")
        },
        &[
            (
                &format!("{CANVAS}.framing_decisions[0].framing_intent_id"),
                "no framing intent",
            ),
            (&format!("{CANVAS}.framing_decisions[0].id"), "should be"),
        ],
    ));
    broken.push(check(
        |v| {
            v["contexts"][0]["canvases"][0]["framing_decisions"][0]["anchor_point"] =
                json!({"x": 99999.0, "y": 0.0})
        },
        &[(
            &format!("{CANVAS}.framing_decisions[0].anchor_point"),
            "outside the canvas",
        )],
    ));
    broken.push(check(
        |v| v["contexts"][0]["canvases"][0]["dimensions"]["width"] = json!(-4),
        &[(&format!("{CANVAS}.dimensions.width"), "≥ 1")],
    ));
    broken.push(check(
        |v| v["contexts"][0]["canvases"][0]["anamorphic_squeeze"] = json!(0),
        &[(&format!("{CANVAS}.anamorphic_squeeze"), "> 0")],
    ));
    broken.push(check(
        |v| v["contexts"][0]["canvases"][0]["source_canvas_id"] = json!("C999"),
        &[(&format!("{CANVAS}.source_canvas_id"), "not a canvas")],
    ));
    broken.push(check(
        |v| v["framing_intents"][0]["aspect_ratio"] = json!({"width": 2}),
        &[("$.framing_intents[0].aspect_ratio.height", "missing")],
    ));
    broken.push(check(
        |v| v["contexts"][0]["canvases"][0]["colour"] = json!("red"),
        &[(&format!("{CANVAS}.colour"), "unknown property")],
    ));
    broken.push(check(
        |v| v["canvas_templates"] = json!([{"id": "T1", "target_dimensions": {"width": 1920, "height": 1080}, "target_anamorphic_squeeze": 1.0, "fit_source": "canvas.size", "fit_method": "stretch"}]),
        &[("$.canvas_templates[0].fit_source", "is not one of"), ("$.canvas_templates[0].fit_method", "is not one of")],
    ));
    broken.push(check(
        |v| v["default_framing_intent"] = json!("FI2"),
        &[("$.default_framing_intent", "no framing intent")],
    ));
    assert!(matches!(
        Fdl::parse("{\"uuid\": "),
        Err(FdlError::Json { .. })
    ));

    // The ASC's schema agrees on the schema-level ones (semantic ones it cannot see).
    let schema = fdl_dir().join("schema/ascfdl.schema.v2.0.1.json");
    let schema_level = [0usize, 5, 6, 8, 9, 10]; // (the uuid format is not asserted by the schema validator)
    let docs: Vec<Value> = schema_level.iter().map(|i| broken[*i].clone()).collect();
    let out = platefarm_testkit::run_python(
        "import json, sys, jsonschema\n\
         v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))\n\
         for d in json.loads(sys.argv[2]): print('valid' if v.is_valid(d) else 'invalid')",
        &[schema.to_str().unwrap(), &Value::Array(docs).to_string()],
    );
    assert!(out.lines().all(|l| l == "invalid"), "{out}");
}

#[test]
fn framing_selection_by_ids() {
    let text = std::fs::read_to_string(fdl_dir().join("sources/S11_000.fdl")).unwrap();
    let f = Fdl::parse(&text)
        .unwrap()
        .framing(None, Some("C000"), Some("C000-FI1"))
        .unwrap();
    assert_eq!(f.canvas_id, "C000");
    assert!(f.framing.width > 0.0 && f.framing.x + f.framing.width <= f.canvas_width as f64);
    let err = Fdl::parse(&text)
        .unwrap()
        .framing(None, Some("C404"), None)
        .unwrap_err();
    assert_eq!(err.to_string(), "FDL has no canvas \"C404\"");
}

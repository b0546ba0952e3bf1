//! Canvas templates applied exactly as the ASC's released reference library (asc-fdl 1.0.2):
//! every case of `../shared/vectors/fdl/expected.json` and the ASC's own scenario 1.

use platefarm_standards::fdl_template::{apply_template, TemplateResult};
use platefarm_standards::Fdl;
use serde_json::Value;

fn load(rel: &str) -> Fdl {
    let path = platefarm_testkit::vectors_dir().join("fdl").join(rel);
    Fdl::parse(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

fn check_protection_presence(got: bool, want: bool, extra: &mut Vec<String>) {
    extra.push(format!("protection present: got {got}, want {want}"));
}

fn compare(r: &TemplateResult, want: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let mut extra = Vec::new();
    let mut check = |name: &str, got: f64, want: &Value| {
        let Some(w) = want.as_f64() else { return };
        if !close(got, w) {
            bad.push(format!("{name}: got {got}, want {w}"));
        }
    };
    let c = &want["canvas"];
    check("canvas.width", r.canvas.width, &c["dimensions"]["width"]);
    check("canvas.height", r.canvas.height, &c["dimensions"]["height"]);
    check(
        "canvas.squeeze",
        r.anamorphic_squeeze,
        &c["anamorphic_squeeze"],
    );
    check(
        "effective.width",
        r.effective.width,
        &c["effective_dimensions"]["width"],
    );
    check(
        "effective.height",
        r.effective.height,
        &c["effective_dimensions"]["height"],
    );
    check(
        "effective.x",
        r.effective_anchor.x,
        &c["effective_anchor_point"]["x"],
    );
    check(
        "effective.y",
        r.effective_anchor.y,
        &c["effective_anchor_point"]["y"],
    );
    let f = &want["framing_decision"];
    check("framing.width", r.framing.width, &f["dimensions"]["width"]);
    check(
        "framing.height",
        r.framing.height,
        &f["dimensions"]["height"],
    );
    check("framing.x", r.framing_anchor.x, &f["anchor_point"]["x"]);
    check("framing.y", r.framing_anchor.y, &f["anchor_point"]["y"]);
    match (
        &r.protection,
        f.get("protection_dimensions").filter(|v| !v.is_null()),
    ) {
        (Some((d, a)), Some(_)) => {
            check(
                "protection.width",
                d.width,
                &f["protection_dimensions"]["width"],
            );
            check(
                "protection.height",
                d.height,
                &f["protection_dimensions"]["height"],
            );
            check("protection.x", a.x, &f["protection_anchor_point"]["x"]);
            check("protection.y", a.y, &f["protection_anchor_point"]["y"]);
        }
        (None, None) => {}
        (got, want) => check_protection_presence(got.is_some(), want.is_some(), &mut extra),
    }
    check("scale_factor", r.scale_factor, &want["scale_factor"]);
    check(
        "content_translation.x",
        r.content_translation.x,
        &want["content_translation"]["x"],
    );
    check(
        "content_translation.y",
        r.content_translation.y,
        &want["content_translation"]["y"],
    );
    check(
        "scaled_bounding_box.width",
        r.scaled_bounding_box.width,
        &want["scaled_bounding_box"]["width"],
    );
    check(
        "scaled_bounding_box.height",
        r.scaled_bounding_box.height,
        &want["scaled_bounding_box"]["height"],
    );
    bad.extend(extra);
    bad
}

#[test]
fn every_reference_case_matches() {
    let path = platefarm_testkit::vectors_dir().join("fdl/expected.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let src = load(c["source_path"].as_str().unwrap());
        let tpl = load(c["template_path"].as_str().unwrap());
        let r = apply_template(
            &src,
            c["context_label"].as_str(),
            c["canvas_id"].as_str(),
            c["framing_decision_id"].as_str(),
            &tpl,
            c["template_id"].as_str(),
        );
        match r {
            Ok(r) => {
                let bad = compare(&r, &c["result"]);
                if !bad.is_empty() {
                    failures.push(format!(
                        "case {i} ({}): {}",
                        c["template_path"],
                        bad.join("; ")
                    ));
                }
            }
            Err(e) => failures.push(format!("case {i}: {e}")),
        }
    }
    println!(
        "{} of {} cases match",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_asc_scenario_1_matches_the_released_library() {
    let src = load("asc/B_4448x3096_1x_FramingChart.fdl");
    let tpl = load("asc/Scen_1_FitDecision-into-UHD-CANVAS-TEMPLATE.fdl");
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(
            platefarm_testkit::vectors_dir().join("fdl/asc/expected_scen1_B.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let w = &want["released_asc_fdl_1_0_2"];
    let r = apply_template(&src, None, Some("1"), Some("1-1"), &tpl, None).unwrap();
    assert!(close(r.scale_factor, w["scale_factor"].as_f64().unwrap()));
    assert_eq!((r.canvas.width, r.canvas.height), (3840.0, 2160.0));
    assert_eq!((r.effective.width, r.effective.height), (3840.0, 2160.0));
    assert_eq!((r.framing.width, r.framing.height), (3840.0, 2160.0));
    assert_eq!((r.framing_anchor.x, r.framing_anchor.y), (0.0, 0.0));
    assert_eq!(
        (r.scaled_bounding_box.width, r.scaled_bounding_box.height),
        (3840.0, 2160.0)
    );
    assert_eq!(
        (r.content_translation.x, r.content_translation.y),
        (0.0, 0.0)
    );
}

#[test]
fn templates_that_cannot_apply_are_errors() {
    let src = load("sources/S11_000.fdl");
    let mut tpl = load("templates/T11_000.fdl");
    tpl.value["canvas_templates"][0]["fit_source"] =
        serde_json::json!("canvas.effective_dimensions");
    let err = apply_template(&src, None, None, None, &tpl, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("effective_dimensions"), "{err}");
    let err = apply_template(
        &src,
        None,
        None,
        None,
        &load("templates/T11_000.fdl"),
        Some("NOPE"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no canvas template \"NOPE\""), "{err}");
}

/// Numbers compared with a tolerance, everything else exactly.
fn same(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if !close(x.as_f64().unwrap(), y.as_f64().unwrap()) {
                out.push(format!("{path}: {x} vs {y}"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let (p, q) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if !(p.is_null() && q.is_null()) {
                    same(p, q, &format!("{path}.{k}"), out);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(p, q, &format!("{path}[{i}]"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn result_documents_match_the_library_and_validate() {
    use platefarm_standards::fdl_template::result_document;
    let path = platefarm_testkit::vectors_dir().join("fdl/expected.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut docs = Vec::new();
    for (i, c) in v["cases"].as_array().unwrap().iter().enumerate() {
        let src = load(c["source_path"].as_str().unwrap());
        let tpl = load(c["template_path"].as_str().unwrap());
        let r = apply_template(
            &src,
            c["context_label"].as_str(),
            c["canvas_id"].as_str(),
            c["framing_decision_id"].as_str(),
            &tpl,
            c["template_id"].as_str(),
        )
        .unwrap();
        let want = &c["result"]["fdl"];
        let new_id = want["contexts"][0]["canvases"][1]["id"].as_str().unwrap();
        let doc = result_document(
            &src,
            &r,
            &tpl.value["canvas_templates"][0],
            new_id,
            "00000000-0000-0000-0000-000000000000",
            "vector generator",
        );
        let mut diffs = Vec::new();
        same(&doc, want, "$", &mut diffs);
        if !diffs.is_empty() {
            failures.push(format!("case {i}: {}", diffs.join("; ")));
        }
        Fdl::parse(&doc.to_string())
            .unwrap_or_else(|e| panic!("case {i}: our result FDL is invalid: {e}"));
        docs.push(doc);
    }
    assert!(
        failures.is_empty(),
        "{} of 160 documents differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let schema = platefarm_testkit::vectors_dir().join("fdl/schema/ascfdl.schema.v2.0.1.json");
    let out = platefarm_testkit::run_python(
        "import json, sys, jsonschema\n\
         v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))\n\
         bad = [i for i, d in enumerate(json.load(open(sys.argv[2]))) if not v.is_valid(d)]\n\
         print(len(bad), bad[:5])",
        &[schema.to_str().unwrap(), &{
            let p = std::env::temp_dir()
                .join(format!("platefarm-fdl-docs-{}.json", std::process::id()));
            std::fs::write(&p, Value::Array(docs).to_string()).unwrap();
            p.to_str().unwrap().to_string()
        }],
    );
    assert!(
        out.starts_with("0 "),
        "documents the ASC schema rejects: {out}"
    );
}

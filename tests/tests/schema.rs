//! The published JSON Schema and the validator agree: the documented example passes both, and
//! malformed requests fail both (checked with the `jsonschema` reference implementation).

use platefarm_core::parse_turnover;
use serde_json::{json, Value};

fn docs(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../docs/{path}", env!("CARGO_MANIFEST_DIR")))
        .expect("docs file")
}

fn documented_example() -> Value {
    let md = docs("turnover.md");
    let start = md.find("```json").expect("example block") + "```json".len();
    let end = start + md[start..].find("```").expect("block end");
    serde_json::from_str(&md[start..end]).expect("the documented example is JSON")
}

/// Validity of each document according to the reference JSON Schema validator.
fn schema_verdicts(docs_json: &[Value]) -> Vec<bool> {
    let schema = format!(
        "{}/../docs/turnover.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = platefarm_testkit::run_python(
        "import json, sys, jsonschema\n\
         schema = json.load(open(sys.argv[1]))\n\
         jsonschema.Draft202012Validator.check_schema(schema)\n\
         v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())\n\
         for doc in json.loads(sys.argv[2]):\n    print('valid' if v.is_valid(doc) else 'invalid')",
        &[&schema, &Value::Array(docs_json.to_vec()).to_string()],
    );
    out.lines().map(|l| l == "valid").collect()
}

#[test]
fn documented_example_is_valid_for_both() {
    let example = documented_example();
    parse_turnover(example.to_string().as_bytes(), "g")
        .expect("validator accepts the documented example");
    assert_eq!(schema_verdicts(&[example]), [true]);
}

type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn malformed_requests_fail_both() {
    let base = documented_example();
    let edits: Vec<Edit> = vec![
        Box::new(|v| v["extra"] = json!(1)),
        Box::new(|v| v["shots"][0]["frame_range"] = json!({"start": -1, "end": 3})),
        Box::new(|v| v["priority"] = json!(101)),
        Box::new(|v| v["shots"] = json!([])),
        Box::new(|v| v["shots"][0]["output"]["compression"] = json!("dwaa")),
        Box::new(|v| v["shots"][0]["input_clip"] = json!("../x.%04d.dng")),
        Box::new(|v| {
            v["shots"][0]
                .as_object_mut()
                .unwrap()
                .remove("output_location");
        }),
        Box::new(|v| v["shots"][0]["handles"] = json!({"head": 1, "tial": 2})),
        Box::new(|v| v["deadline"] = json!("next tuesday")),
        Box::new(|v| v["shots"][0]["name"] = json!("bad/name")),
        Box::new(|v| v["shots"][2]["proxy"]["format"] = json!("gif")),
        Box::new(|v| v["shots"][2]["proxy"]["view"] = json!("Filmic")),
        Box::new(|v| v["shots"][2]["proxy"]["quality"] = json!(0)),
        Box::new(|v| v["shots"][2]["input_colorspace"] = json!("")),
    ];
    let mut bad = Vec::new();
    for edit in &edits {
        let mut v = base.clone();
        edit(&mut v);
        assert!(
            parse_turnover(v.to_string().as_bytes(), "g").is_err(),
            "validator accepted {v}"
        );
        bad.push(v);
    }
    let verdicts = schema_verdicts(&bad);
    for (v, ok) in bad.iter().zip(verdicts) {
        assert!(!ok, "schema accepted {v}");
    }
}

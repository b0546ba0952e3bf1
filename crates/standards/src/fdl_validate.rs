//! FDL validation: the v2.0.1 schema's rules and the semantic ones it cannot express, every
//! problem collected with its JSON path.

use crate::fdl::FdlProblem;
use serde_json::{Map, Value};
use std::collections::HashSet;

pub(crate) struct Checker {
    pub(crate) problems: Vec<FdlProblem>,
}

const ID_MAX: usize = 32;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= ID_MAX && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_uuid(s: &str) -> bool {
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Checker {
    fn err(&mut self, path: &str, reason: impl Into<String>) {
        self.problems.push(FdlProblem {
            path: path.to_string(),
            reason: reason.into(),
        });
    }

    fn object<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        allowed: &[&str],
        required: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(m) = v else {
            self.err(path, format!("expected an object, got {}", kind(v)));
            return None;
        };
        for k in m.keys() {
            if !k.starts_with('_') && !allowed.contains(&k.as_str()) {
                self.err(
                    &format!("{path}.{k}"),
                    format!(
                        "unknown property (allowed: {}; custom ones start with '_')",
                        allowed.join(", ")
                    ),
                );
            }
        }
        for r in required {
            if !m.contains_key(*r) {
                self.err(&format!("{path}.{r}"), "required property is missing");
            }
        }
        Some(m)
    }

    fn string<'v>(&mut self, m: &'v Map<String, Value>, key: &str, path: &str) -> Option<&'v str> {
        match m.get(key)? {
            Value::String(s) => Some(s),
            other => {
                self.err(
                    &format!("{path}.{key}"),
                    format!("expected a string, got {}", kind(other)),
                );
                None
            }
        }
    }

    fn id<'v>(&mut self, m: &'v Map<String, Value>, key: &str, path: &str) -> Option<&'v str> {
        let s = self.string(m, key, path)?;
        if !is_id(s) {
            self.err(
                &format!("{path}.{key}"),
                format!("{s:?} is not an FDL id (1–{ID_MAX} of A-Z a-z 0-9 _)"),
            );
            return None;
        }
        Some(s)
    }

    fn number(
        &mut self,
        m: &Map<String, Value>,
        key: &str,
        path: &str,
        min: f64,
        exclusive: bool,
    ) -> Option<f64> {
        let v = m.get(key)?;
        let Some(n) = v.as_f64() else {
            self.err(
                &format!("{path}.{key}"),
                format!("expected a number, got {}", kind(v)),
            );
            return None;
        };
        if (exclusive && n <= min) || (!exclusive && n < min) || !n.is_finite() {
            self.err(
                &format!("{path}.{key}"),
                format!("{n} must be {} {min}", if exclusive { ">" } else { "≥" }),
            );
            return None;
        }
        Some(n)
    }

    fn integer(&mut self, m: &Map<String, Value>, key: &str, path: &str, min: i64) -> Option<i64> {
        let v = m.get(key)?;
        let Some(n) = v.as_i64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        }) else {
            self.err(
                &format!("{path}.{key}"),
                format!(
                    "expected an integer, got {}",
                    if v.is_number() {
                        "a fraction".to_string()
                    } else {
                        kind(v).to_string()
                    }
                ),
            );
            return None;
        };
        if n < min {
            self.err(&format!("{path}.{key}"), format!("{n} must be ≥ {min}"));
            return None;
        }
        Some(n)
    }

    fn dims(
        &mut self,
        m: &Map<String, Value>,
        key: &str,
        path: &str,
        int: bool,
        min: i64,
    ) -> Option<(f64, f64)> {
        let v = m.get(key)?;
        let p = format!("{path}.{key}");
        let d = self.object(v, &p, &["width", "height"], &["width", "height"])?;
        let (w, h) = if int {
            (
                self.integer(d, "width", &p, min).map(|v| v as f64),
                self.integer(d, "height", &p, min).map(|v| v as f64),
            )
        } else {
            (
                self.number(d, "width", &p, 0.0, true),
                self.number(d, "height", &p, 0.0, true),
            )
        };
        Some((w?, h?))
    }

    fn point(&mut self, m: &Map<String, Value>, key: &str, path: &str) -> Option<(f64, f64)> {
        let v = m.get(key)?;
        let p = format!("{path}.{key}");
        let d = self.object(v, &p, &["x", "y"], &["x", "y"])?;
        let (x, y) = (
            self.number(d, "x", &p, 0.0, false),
            self.number(d, "y", &p, 0.0, false),
        );
        Some((x?, y?))
    }

    fn enumeration(&mut self, m: &Map<String, Value>, key: &str, path: &str, allowed: &[&str]) {
        if let Some(s) = self.string(m, key, path) {
            if !allowed.contains(&s) {
                self.err(
                    &format!("{path}.{key}"),
                    format!("{s:?} is not one of {}", allowed.join(", ")),
                );
            }
        }
    }

    /// A box (dims at anchor) must lie inside the container (cw × ch), with a small tolerance
    /// for rounding in real-world files.
    fn inside(
        &mut self,
        path: &str,
        what: &str,
        (w, h): (f64, f64),
        (x, y): (f64, f64),
        (cw, ch): (f64, f64),
        container: &str,
    ) {
        const EPS: f64 = 1e-6;
        if x + w > cw + EPS || y + h > ch + EPS {
            self.err(
                path,
                format!("{what} {w}×{h} at ({x}, {y}) extends outside the {container} ({cw}×{ch})"),
            );
        }
    }
}

const FIT_SOURCES: &[&str] = &[
    "framing_decision.dimensions",
    "framing_decision.protection_dimensions",
    "canvas.dimensions",
    "canvas.effective_dimensions",
];

pub(crate) fn validate(c: &mut Checker, v: &Value) -> Option<(u64, u64)> {
    let root = c.object(
        v,
        "$",
        &[
            "uuid",
            "version",
            "fdl_creator",
            "default_framing_intent",
            "framing_intents",
            "contexts",
            "canvas_templates",
        ],
        &["uuid", "version"],
    )?;
    if let Some(u) = c.string(root, "uuid", "$") {
        if !is_uuid(u) {
            c.err("$.uuid", format!("{u:?} is not a UUID"));
        }
    }
    let mut version = None;
    if let Some(ver) = root.get("version") {
        if let Some(m) = c.object(ver, "$.version", &["major", "minor"], &["major", "minor"]) {
            let (major, minor) = (
                c.integer(m, "major", "$.version", 0),
                c.integer(m, "minor", "$.version", 0),
            );
            if let (Some(major), Some(minor)) = (major, minor) {
                // 2.0 is the current schema; 1.x documents are read the same way.
                if major != 1 && !(major == 2 && minor == 0) {
                    c.err(
                        "$.version",
                        format!("version {major}.{minor} is not supported (1.x or 2.0)"),
                    );
                }
                version = Some((major as u64, minor as u64));
            }
        }
    }
    c.string(root, "fdl_creator", "$");
    let mut intents = HashSet::new();
    if let Some(list) = array(c, root, "framing_intents", "$") {
        for (i, fi) in list.iter().enumerate() {
            let p = format!("$.framing_intents[{i}]");
            let Some(m) = c.object(
                fi,
                &p,
                &["label", "id", "aspect_ratio", "protection"],
                &["id", "aspect_ratio"],
            ) else {
                continue;
            };
            c.string(m, "label", &p);
            if let Some(id) = c.id(m, "id", &p) {
                if !intents.insert(id.to_string()) {
                    c.err(
                        &format!("{p}.id"),
                        format!("duplicate framing intent id {id:?}"),
                    );
                }
            }
            c.dims(m, "aspect_ratio", &p, true, 1);
            c.number(m, "protection", &p, 0.0, false);
        }
    }
    if let Some(dfi) = c.id(root, "default_framing_intent", "$") {
        if !intents.contains(dfi) {
            c.err(
                "$.default_framing_intent",
                format!("no framing intent has id {dfi:?}"),
            );
        }
    }
    let mut canvas_ids = HashSet::new();
    let mut source_refs = Vec::new();
    if let Some(list) = array(c, root, "contexts", "$") {
        for (i, ctx) in list.iter().enumerate() {
            let p = format!("$.contexts[{i}]");
            let Some(m) = c.object(
                ctx,
                &p,
                &["label", "context_creator", "clip_id", "canvases"],
                &[],
            ) else {
                continue;
            };
            c.string(m, "label", &p);
            c.string(m, "context_creator", &p);
            if let Some(clip) = m.get("clip_id") {
                let cp = format!("{p}.clip_id");
                if let Some(cm) = c.object(
                    clip,
                    &cp,
                    &["clip_name", "file", "sequence"],
                    &["clip_name"],
                ) {
                    if cm.contains_key("file") && cm.contains_key("sequence") {
                        c.err(&cp, "has both file and sequence (give one)");
                    }
                }
            }
            let Some(canvases) = array(c, m, "canvases", &p) else {
                continue;
            };
            for (j, cv) in canvases.iter().enumerate() {
                check_canvas(
                    c,
                    cv,
                    &format!("{p}.canvases[{j}]"),
                    &intents,
                    &mut canvas_ids,
                    &mut source_refs,
                );
            }
        }
    }
    for (path, id) in source_refs {
        if !canvas_ids.contains(&id) {
            c.err(
                &path,
                format!("source canvas {id:?} is not a canvas of this FDL"),
            );
        }
    }
    if let Some(list) = array(c, root, "canvas_templates", "$") {
        let mut ids = HashSet::new();
        for (i, t) in list.iter().enumerate() {
            let p = format!("$.canvas_templates[{i}]");
            let allowed = [
                "label",
                "id",
                "target_dimensions",
                "target_anamorphic_squeeze",
                "fit_source",
                "fit_method",
                "alignment_method_vertical",
                "alignment_method_horizontal",
                "preserve_from_source_canvas",
                "maximum_dimensions",
                "pad_to_maximum",
                "round",
            ];
            let Some(m) = c.object(
                t,
                &p,
                &allowed,
                &[
                    "id",
                    "target_dimensions",
                    "target_anamorphic_squeeze",
                    "fit_source",
                    "fit_method",
                ],
            ) else {
                continue;
            };
            c.string(m, "label", &p);
            if let Some(id) = c.id(m, "id", &p) {
                if !ids.insert(id.to_string()) {
                    c.err(
                        &format!("{p}.id"),
                        format!("duplicate canvas template id {id:?}"),
                    );
                }
            }
            c.dims(m, "target_dimensions", &p, true, 0);
            c.number(m, "target_anamorphic_squeeze", &p, 0.0, true);
            c.enumeration(m, "fit_source", &p, FIT_SOURCES);
            c.enumeration(m, "fit_method", &p, &["width", "height", "fit_all", "fill"]);
            c.enumeration(
                m,
                "alignment_method_vertical",
                &p,
                &["top", "center", "bottom"],
            );
            c.enumeration(
                m,
                "alignment_method_horizontal",
                &p,
                &["left", "center", "right"],
            );
            c.enumeration(
                m,
                "preserve_from_source_canvas",
                &p,
                &[
                    "none",
                    "framing_decision.dimensions",
                    "framing_decision.protection_dimensions",
                    "canvas.dimensions",
                    "canvas.effective_dimensions",
                ],
            );
            c.dims(m, "maximum_dimensions", &p, true, 1);
            if let Some(v) = m.get("pad_to_maximum") {
                if !v.is_boolean() {
                    c.err(
                        &format!("{p}.pad_to_maximum"),
                        format!("expected a boolean, got {}", kind(v)),
                    );
                }
            }
            if let Some(r) = m.get("round") {
                let rp = format!("{p}.round");
                if let Some(rm) = c.object(r, &rp, &["even", "mode"], &[]) {
                    c.enumeration(rm, "even", &rp, &["whole", "even"]);
                    c.enumeration(rm, "mode", &rp, &["up", "down", "round"]);
                }
            }
        }
    }
    version
}

fn array<'v>(
    c: &mut Checker,
    m: &'v Map<String, Value>,
    key: &str,
    path: &str,
) -> Option<&'v Vec<Value>> {
    match m.get(key)? {
        Value::Array(a) => Some(a),
        other => {
            c.err(
                &format!("{path}.{key}"),
                format!("expected an array, got {}", kind(other)),
            );
            None
        }
    }
}

fn check_canvas(
    c: &mut Checker,
    cv: &Value,
    p: &str,
    intents: &HashSet<String>,
    canvas_ids: &mut HashSet<String>,
    source_refs: &mut Vec<(String, String)>,
) {
    let allowed = [
        "label",
        "id",
        "source_canvas_id",
        "dimensions",
        "effective_dimensions",
        "effective_anchor_point",
        "photosite_dimensions",
        "physical_dimensions",
        "anamorphic_squeeze",
        "framing_decisions",
    ];
    let Some(m) = c.object(cv, p, &allowed, &["id", "source_canvas_id", "dimensions"]) else {
        return;
    };
    c.string(m, "label", p);
    let id = c.id(m, "id", p).map(str::to_string);
    if let Some(id) = &id {
        if !canvas_ids.insert(id.clone()) {
            c.err(&format!("{p}.id"), format!("duplicate canvas id {id:?}"));
        }
    }
    if let Some(src) = c.id(m, "source_canvas_id", p) {
        source_refs.push((format!("{p}.source_canvas_id"), src.to_string()));
    }
    let dims = c.dims(m, "dimensions", p, true, 1);
    let eff = c.dims(m, "effective_dimensions", p, true, 1);
    let eff_anchor = c.point(m, "effective_anchor_point", p);
    if m.contains_key("effective_dimensions") && !m.contains_key("effective_anchor_point") {
        c.err(
            &format!("{p}.effective_anchor_point"),
            "required with effective_dimensions",
        );
    }
    if let (Some(d), Some(e)) = (dims, eff) {
        c.inside(
            &format!("{p}.effective_dimensions"),
            "effective area",
            e,
            eff_anchor.unwrap_or((0.0, 0.0)),
            d,
            "canvas",
        );
    }
    c.dims(m, "photosite_dimensions", p, true, 1);
    c.dims(m, "physical_dimensions", p, false, 0);
    c.number(m, "anamorphic_squeeze", p, 0.0, true);
    let Some(fds) = array(c, m, "framing_decisions", p) else {
        return;
    };
    let mut fd_ids = HashSet::new();
    for (k, fd) in fds.iter().enumerate() {
        let fp = format!("{p}.framing_decisions[{k}]");
        let allowed = [
            "label",
            "id",
            "framing_intent_id",
            "dimensions",
            "anchor_point",
            "protection_dimensions",
            "protection_anchor_point",
        ];
        let Some(fm) = c.object(
            fd,
            &fp,
            &allowed,
            &["id", "framing_intent_id", "dimensions", "anchor_point"],
        ) else {
            continue;
        };
        c.string(fm, "label", &fp);
        let intent = c.id(fm, "framing_intent_id", &fp);
        if let Some(intent) = intent {
            if !intents.contains(intent) {
                c.err(
                    &format!("{fp}.framing_intent_id"),
                    format!("no framing intent has id {intent:?}"),
                );
            }
        }
        if let Some(fid) = c.string(fm, "id", &fp) {
            let parts: Vec<&str> = fid.splitn(2, '-').collect();
            if parts.len() != 2 || !is_id(parts[0]) || !is_id(parts[1]) {
                c.err(
                    &format!("{fp}.id"),
                    format!("{fid:?} is not <canvas id>-<framing intent id>"),
                );
            } else if let (Some(cid), Some(intent)) = (&id, intent) {
                let want = format!("{cid}-{intent}");
                if fid != want {
                    c.err(
                        &format!("{fp}.id"),
                        format!("{fid:?} should be {want:?} (<canvas id>-<framing intent id>)"),
                    );
                }
            }
            if !fd_ids.insert(fid.to_string()) {
                c.err(
                    &format!("{fp}.id"),
                    format!("duplicate framing decision id {fid:?}"),
                );
            }
        }
        let fdims = c.dims(fm, "dimensions", &fp, false, 0);
        let anchor = c.point(fm, "anchor_point", &fp);
        if let (Some(cd), Some(fdims), Some(anchor)) = (dims, fdims, anchor) {
            c.inside(
                &format!("{fp}.anchor_point"),
                "framing decision",
                fdims,
                anchor,
                cd,
                "canvas",
            );
        }
        let pdims = c.dims(fm, "protection_dimensions", &fp, false, 0);
        let panchor = c.point(fm, "protection_anchor_point", &fp);
        if fm.contains_key("protection_dimensions") && !fm.contains_key("protection_anchor_point") {
            c.err(
                &format!("{fp}.protection_anchor_point"),
                "required with protection_dimensions",
            );
        }
        if let (Some(cd), Some(pd), Some(pa)) = (dims, pdims, panchor) {
            c.inside(
                &format!("{fp}.protection_anchor_point"),
                "protection",
                pd,
                pa,
                cd,
                "canvas",
            );
            if let Some(fdims) = fdims {
                if pd.0 + 1e-6 < fdims.0 || pd.1 + 1e-6 < fdims.1 {
                    c.err(
                        &format!("{fp}.protection_dimensions"),
                        format!(
                            "protection {}×{} is smaller than the framing decision {}×{}",
                            pd.0, pd.1, fdims.0, fdims.1
                        ),
                    );
                }
            }
        }
    }
}

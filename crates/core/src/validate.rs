//! Turnover validation: walks the raw JSON so that *every* problem is reported at once, each
//! with its JSON path (`$.shots[1].frame_range.end`) and the reason, the way rav1e names a
//! config field and its allowed range. Storage facts (frames present, roots) are checked by the
//! dispatcher with the same `FieldError` type.

use crate::clip::ClipPattern;
use crate::input_space::{self, DisplayViewError, InputKind};
use crate::turnover::*;
use serde_json::{Map, Value};
use std::fmt;

/// One rejected field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// All problems found in a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "turnover rejected ({} problem", self.0.len())?;
        if self.0.len() != 1 {
            write!(f, "s")?;
        }
        write!(f, ")")?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Limits that keep a single request from planning absurd work.
pub const MAX_SHOTS: usize = 10_000;
pub const MAX_FRAMES_PER_SHOT: u32 = 1_000_000;
pub const MAX_HANDLES: u32 = 10_000;
const NAME_MAX: usize = 128;

struct Walker {
    errors: Vec<FieldError>,
}

impl Walker {
    fn err(&mut self, path: &str, reason: impl Into<String>) {
        self.errors.push(FieldError {
            path: path.to_string(),
            reason: reason.into(),
        });
    }

    fn object<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            other => {
                self.err(path, format!("expected an object, got {}", kind(other)));
                None
            }
        }
    }

    fn unknown_fields(&mut self, m: &Map<String, Value>, path: &str, allowed: &[&str]) {
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                self.err(
                    &format!("{path}.{k}"),
                    format!("unknown field (allowed: {})", allowed.join(", ")),
                );
            }
        }
    }

    fn string(
        &mut self,
        m: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<String> {
        let p = format!("{path}.{key}");
        match m.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(&p, "required field is missing");
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.err(&p, "must not be empty");
                None
            }
            Some(Value::String(s)) => match plain_text(s) {
                Ok(()) => Some(s.clone()),
                Err(reason) => {
                    self.err(&p, reason);
                    None
                }
            },
            Some(other) => {
                self.err(&p, format!("expected a string, got {}", kind(other)));
                None
            }
        }
    }

    fn uint(
        &mut self,
        m: &Map<String, Value>,
        key: &str,
        path: &str,
        max: u64,
    ) -> Option<Option<u32>> {
        let p = format!("{path}.{key}");
        match m.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v <= max => Some(Some(v as u32)),
                Some(v) => {
                    self.err(&p, format!("{v} is out of range 0..={max}"));
                    None
                }
                None => {
                    self.err(&p, format!("expected a whole number ≥ 0, got {n}"));
                    None
                }
            },
            Some(other) => {
                self.err(&p, format!("expected a whole number, got {}", kind(other)));
                None
            }
        }
    }

    fn choice<T: Copy>(
        &mut self,
        m: &Map<String, Value>,
        key: &str,
        path: &str,
        options: &[(&str, T)],
        default: T,
    ) -> T {
        let Some(s) = self.string(m, key, path, false) else {
            return default;
        };
        match options.iter().find(|(name, _)| *name == s) {
            Some((_, v)) => *v,
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                self.err(
                    &format!("{path}.{key}"),
                    format!("unknown value {s:?} (allowed: {})", names.join(", ")),
                );
                default
            }
        }
    }
}

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

/// Free text (a production, a colour-space name, a filter value) may hold any printable
/// character but no control character: a NUL cannot be stored in PostgreSQL text, and the
/// others only ever arrive by mistake.
pub fn plain_text(s: &str) -> Result<(), String> {
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "contains the control character U+{:04X}",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

/// A turnover id or shot name: letters, digits, `_`, `-`, `.`, at most 128 characters, not
/// starting with `.`.
pub fn valid_name(s: &str) -> Result<(), String> {
    if s.len() > NAME_MAX {
        return Err(format!("longer than {NAME_MAX} characters"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "character {c:?} not allowed (use letters, digits, '_', '-', '.')"
        ));
    }
    if s.starts_with('.') {
        return Err("must not start with '.'".into());
    }
    Ok(())
}

/// Rejects paths that could leave the store root before the store ever sees them.
fn check_path(w: &mut Walker, path: &str, value: &str) {
    if let Some(rest) = value.strip_prefix("s3://") {
        if rest.split('/').next().unwrap_or("").is_empty() {
            w.err(path, "s3:// URI has no bucket");
        }
        return;
    }
    if value.contains('\0') || value.contains('\\') {
        w.err(path, "path contains a NUL or backslash");
    } else if value.split('/').any(|seg| seg == "..") {
        w.err(
            path,
            "path contains '..' (paths must stay under the allowed roots)",
        );
    } else if value.contains("://") {
        w.err(
            path,
            "unsupported URI scheme (use s3://bucket/key or a path)",
        );
    }
}

const TOP_FIELDS: &[&str] = &["turnover_id", "production", "priority", "deadline", "shots"];
const SHOT_FIELDS: &[&str] = &[
    "name",
    "input_clip",
    "output_location",
    "frame_range",
    "handles",
    "amf_path",
    "fdl_path",
    "fdl",
    "output",
    "input_colorspace",
    "proxy",
];

/// Parses and validates a turnover request. `generated_id` is used when the request has no
/// `turnover_id` (the caller makes it, so this stays pure and deterministic).
pub fn parse_turnover(bytes: &[u8], generated_id: &str) -> Result<Turnover, ValidationErrors> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ValidationErrors(vec![FieldError {
            path: "$".into(),
            reason: format!(
                "malformed JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        }])
    })?;
    let mut w = Walker { errors: Vec::new() };
    let turnover = walk_turnover(&mut w, &value, generated_id);
    match turnover {
        Some(t) if w.errors.is_empty() => Ok(t),
        _ => Err(ValidationErrors(w.errors)),
    }
}

fn walk_turnover(w: &mut Walker, v: &Value, generated_id: &str) -> Option<Turnover> {
    let m = w.object(v, "$")?;
    w.unknown_fields(m, "$", TOP_FIELDS);
    let turnover_id = w.string(m, "turnover_id", "$", false);
    if let Some(id) = &turnover_id {
        if let Err(reason) = valid_name(id) {
            w.err("$.turnover_id", reason);
        }
    }
    let production = w.string(m, "production", "$", true);
    let priority = w.uint(m, "priority", "$", 100).flatten().unwrap_or(50) as u8;
    let deadline =
        w.string(m, "deadline", "$", false).and_then(
            |s| match chrono::DateTime::parse_from_rfc3339(&s) {
                Ok(d) => Some(d.with_timezone(&chrono::Utc)),
                Err(e) => {
                    w.err(
                        "$.deadline",
                        format!("not an RFC 3339 date-time ({e}), e.g. 2026-11-26T18:00:00Z"),
                    );
                    None
                }
            },
        );
    let mut shots = Vec::new();
    match m.get("shots") {
        None => w.err("$.shots", "required field is missing"),
        Some(Value::Array(a)) if a.is_empty() => {
            w.err("$.shots", "a turnover needs at least one shot")
        }
        Some(Value::Array(a)) if a.len() > MAX_SHOTS => w.err(
            "$.shots",
            format!("{} shots is more than the limit of {MAX_SHOTS}", a.len()),
        ),
        Some(Value::Array(a)) => {
            for (i, s) in a.iter().enumerate() {
                if let Some(shot) = walk_shot(w, s, &format!("$.shots[{i}]")) {
                    shots.push(shot);
                }
            }
            let mut seen = std::collections::HashMap::new();
            for (i, s) in a.iter().enumerate() {
                if let Some(name) = s.get("name").and_then(Value::as_str) {
                    if let Some(first) = seen.insert(name.to_string(), i) {
                        w.err(
                            &format!("$.shots[{i}].name"),
                            format!("duplicate shot name {name:?} (also $.shots[{first}])"),
                        );
                    }
                }
            }
        }
        Some(other) => w.err("$.shots", format!("expected an array, got {}", kind(other))),
    }
    Some(Turnover {
        turnover_id: turnover_id.unwrap_or_else(|| generated_id.to_string()),
        production: production?,
        priority,
        deadline,
        shots,
    })
}

fn walk_shot(w: &mut Walker, v: &Value, path: &str) -> Option<Shot> {
    let m = w.object(v, path)?;
    w.unknown_fields(m, path, SHOT_FIELDS);
    let name = w.string(m, "name", path, true);
    if let Some(n) = &name {
        if let Err(reason) = valid_name(n) {
            w.err(&format!("{path}.name"), reason);
        }
    }
    let input_clip = w.string(m, "input_clip", path, true);
    if let Some(clip) = &input_clip {
        let p = format!("{path}.input_clip");
        check_path(w, &p, clip);
        if !clip.ends_with('/') {
            if let Err(e) = ClipPattern::parse(clip) {
                w.err(
                    &p,
                    format!("{e} in {clip:?} (or give a folder ending in '/')"),
                );
            }
        }
    }
    let output_location = w.string(m, "output_location", path, true);
    if let Some(o) = &output_location {
        check_path(w, &format!("{path}.output_location"), o);
    }
    let frame_range = walk_range(w, m.get("frame_range"), &format!("{path}.frame_range"));
    if let (Some(r), Some(clip)) = (frame_range, &input_clip) {
        if let Ok(ClipPattern {
            embedded_range: Some((a, b)),
            ..
        }) = ClipPattern::parse(clip)
        {
            if r.start() < a || r.end() > b {
                w.err(
                    &format!("{path}.frame_range"),
                    format!("{r} is outside the clip's own range [{a}-{b}]"),
                );
            }
        }
    }
    let handles = walk_handles(w, m.get("handles"), &format!("{path}.handles"));
    if let (Some(r), Some(h)) = (frame_range, handles) {
        if h.head > r.start() {
            w.err(
                &format!("{path}.handles.head"),
                format!(
                    "{} head frames would start before frame 0 (range starts at {})",
                    h.head,
                    r.start()
                ),
            );
        } else if let Err(e) = r.widened(h) {
            w.err(&format!("{path}.handles.tail"), e.to_string());
        }
    }
    let amf_path = w.string(m, "amf_path", path, false);
    if let Some(p) = &amf_path {
        check_path(w, &format!("{path}.amf_path"), p);
    }
    let fdl_path = w.string(m, "fdl_path", path, false);
    if let Some(p) = &fdl_path {
        check_path(w, &format!("{path}.fdl_path"), p);
    }
    let fdl = walk_fdl(w, m.get("fdl"), &format!("{path}.fdl"));
    if fdl != FdlSelection::default() && fdl_path.is_none() {
        w.err(
            &format!("{path}.fdl"),
            "FDL selectors given but no fdl_path",
        );
    }
    let output = walk_output(w, m.get("output"), &format!("{path}.output"));
    let input_colorspace = walk_input_colorspace(w, m, path, input_clip.as_deref(), &amf_path);
    let proxy = m
        .get("proxy")
        .filter(|v| !v.is_null())
        .and_then(|v| walk_proxy(w, v, &format!("{path}.proxy")));
    Some(Shot {
        name: name?,
        input_clip: input_clip?,
        output_location: output_location?,
        frame_range: frame_range?,
        handles: handles?,
        amf_path,
        fdl_path,
        fdl,
        output,
        input_colorspace,
        proxy,
    })
}

/// The shot's input colour space: a known name, not given for camera raw, and required for
/// DPX / EXR / TIFF patterns without an AMF (with an AMF, or for a folder, the dispatcher
/// checks once it has read the AMF and listed the frames).
fn walk_input_colorspace(
    w: &mut Walker,
    m: &Map<String, Value>,
    path: &str,
    input_clip: Option<&str>,
    amf_path: &Option<String>,
) -> Option<String> {
    let p = format!("{path}.input_colorspace");
    let name = w.string(m, "input_colorspace", path, false);
    if let Some(n) = &name {
        if let Err(reason) = input_space::colour_space(n) {
            w.err(&p, reason);
        }
    }
    // A folder's format is known once the dispatcher lists it; a bad pattern is reported already.
    let Some(clip) = input_clip.filter(|c| !c.ends_with('/') && ClipPattern::parse(c).is_ok())
    else {
        return name;
    };
    match InputKind::from_path(clip) {
        None => w.err(
            &format!("{path}.input_clip"),
            format!(
                "unsupported input format in {clip:?} (frames must end in .{})",
                input_space::INPUT_EXTENSIONS.join(", .")
            ),
        ),
        Some(InputKind::CameraRaw) if name.is_some() => w.err(
            &p,
            "camera raw (DNG) is developed through the file's own matrices; \
             input_colorspace applies to DPX, EXR and TIFF input only",
        ),
        Some(kind @ InputKind::Encoded(_)) if name.is_none() && amf_path.is_none() => {
            if let Err(e) = input_space::resolve_input_space(kind, None, None) {
                w.err(&p, e.to_string());
            }
        }
        Some(_) => {}
    }
    name
}

fn walk_proxy(w: &mut Walker, v: &Value, path: &str) -> Option<ProxyOptions> {
    let m = w.object(v, path)?;
    w.unknown_fields(
        m,
        path,
        &["format", "display", "view", "quality", "max_width"],
    );
    let default = ProxyOptions::default();
    let format = w.choice(
        m,
        "format",
        path,
        &[("jpeg", ProxyFormat::Jpeg), ("png", ProxyFormat::Png)],
        ProxyFormat::Jpeg,
    );
    let display = w.string(m, "display", path, false);
    let view = w.string(m, "view", path, false);
    let (display, view) = (
        display.unwrap_or(default.display),
        view.unwrap_or(default.view),
    );
    match input_space::check_display_view(&display, &view) {
        Ok(()) => {}
        Err(DisplayViewError::Display(reason)) => w.err(&format!("{path}.display"), reason),
        Err(DisplayViewError::View(reason)) => w.err(&format!("{path}.view"), reason),
    }
    let quality = w.uint(m, "quality", path, 100);
    if quality == Some(Some(0)) {
        w.err(&format!("{path}.quality"), "0 is out of range 1..=100");
    }
    let max_width = w.uint(m, "max_width", path, 65536);
    if max_width == Some(Some(0)) {
        w.err(&format!("{path}.max_width"), "0 is out of range 1..=65536");
    }
    Some(ProxyOptions {
        format,
        display,
        view,
        quality: quality?.map_or(default.quality, |q| q as u8),
        max_width: max_width?,
    })
}

fn walk_range(w: &mut Walker, v: Option<&Value>, path: &str) -> Option<FrameRange> {
    let Some(v) = v else {
        w.err(path, "required field is missing");
        return None;
    };
    let m = w.object(v, path)?;
    w.unknown_fields(m, path, &["start", "end"]);
    let start = w.uint(m, "start", path, u32::MAX as u64);
    let end = w.uint(m, "end", path, u32::MAX as u64);
    let (start, end) = (start?, end?);
    let (Some(start), Some(end)) = (start, end) else {
        if start.is_none() {
            w.err(&format!("{path}.start"), "required field is missing");
        }
        if end.is_none() {
            w.err(&format!("{path}.end"), "required field is missing");
        }
        return None;
    };
    if end < start {
        w.err(
            &format!("{path}.end"),
            format!("{end} is before start {start}"),
        );
        return None;
    }
    if end - start >= MAX_FRAMES_PER_SHOT {
        w.err(
            path,
            format!(
                "{} frames is more than the limit of {MAX_FRAMES_PER_SHOT}",
                end as u64 - start as u64 + 1
            ),
        );
        return None;
    }
    FrameRange::new(start, end).ok()
}

fn walk_handles(w: &mut Walker, v: Option<&Value>, path: &str) -> Option<Handles> {
    match v {
        None | Some(Value::Null) => Some(Handles::default()),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(h) if h <= MAX_HANDLES as u64 => Some(Handles {
                head: h as u32,
                tail: h as u32,
            }),
            _ => {
                w.err(path, format!("{n} is out of range 0..={MAX_HANDLES}"));
                None
            }
        },
        Some(v @ Value::Object(_)) => {
            let m = w.object(v, path)?;
            w.unknown_fields(m, path, &["head", "tail"]);
            let head = w.uint(m, "head", path, MAX_HANDLES as u64);
            let tail = w.uint(m, "tail", path, MAX_HANDLES as u64);
            Some(Handles {
                head: head?.unwrap_or(0),
                tail: tail?.unwrap_or(0),
            })
        }
        Some(other) => {
            w.err(
                path,
                format!("expected a number or {{head, tail}}, got {}", kind(other)),
            );
            None
        }
    }
}

fn walk_fdl(w: &mut Walker, v: Option<&Value>, path: &str) -> FdlSelection {
    let Some(v) = v else {
        return FdlSelection::default();
    };
    let Some(m) = w.object(v, path) else {
        return FdlSelection::default();
    };
    w.unknown_fields(
        m,
        path,
        &["context", "canvas", "framing_decision", "canvas_template"],
    );
    FdlSelection {
        context: w.string(m, "context", path, false),
        canvas: w.string(m, "canvas", path, false),
        framing_decision: w.string(m, "framing_decision", path, false),
        canvas_template: w.string(m, "canvas_template", path, false),
    }
}

fn walk_output(w: &mut Walker, v: Option<&Value>, path: &str) -> OutputOptions {
    let Some(v) = v else {
        return OutputOptions::default();
    };
    let Some(m) = w.object(v, path) else {
        return OutputOptions::default();
    };
    w.unknown_fields(m, path, &["format", "compression", "pixel"]);
    OutputOptions {
        format: w.choice(
            m,
            "format",
            path,
            &[("exr", OutputFormat::Exr)],
            OutputFormat::Exr,
        ),
        compression: w.choice(
            m,
            "compression",
            path,
            &[
                ("piz", Compression::Piz),
                ("zip", Compression::Zip),
                ("zips", Compression::Zips),
                ("none", Compression::None),
            ],
            Compression::Piz,
        ),
        pixel: w.choice(
            m,
            "pixel",
            path,
            &[("half", PixelType::Half), ("float", PixelType::Float)],
            PixelType::Half,
        ),
    }
}

//! Applying an FDL canvas template to a source canvas and framing decision, with the geometry
//! and rounding of the ASC's released reference library (asc-fdl 1.0.2): populate the layers
//! from the template's fit source (and preserve path), fill hierarchy gaps, normalise the
//! anamorphic squeeze, scale, round every dimension and anchor, size the output canvas (maximum
//! dimensions, padding), align, offset and crop.

use crate::fdl::{Fdl, FdlError};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dims {
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Dims {
    fn is_zero(self) -> bool {
        self.width == 0.0 && self.height == 0.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Canvas = 0,
    Effective = 1,
    Protection = 2,
    Framing = 3,
}

impl Path {
    fn parse(s: &str) -> Option<Path> {
        Some(match s {
            "canvas.dimensions" => Path::Canvas,
            "canvas.effective_dimensions" => Path::Effective,
            "framing_decision.protection_dimensions" => Path::Protection,
            "framing_decision.dimensions" => Path::Framing,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Geometry {
    canvas: Dims,
    effective: Dims,
    protection: Dims,
    framing: Dims,
    effective_anchor: Point,
    protection_anchor: Point,
    framing_anchor: Point,
}

impl Geometry {
    fn get(&self, p: Path) -> (Dims, Point) {
        match p {
            Path::Canvas => (self.canvas, Point::default()),
            Path::Effective => (self.effective, self.effective_anchor),
            Path::Protection => (self.protection, self.protection_anchor),
            Path::Framing => (self.framing, self.framing_anchor),
        }
    }
}

/// The result of applying a canvas template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateResult {
    pub canvas: Dims,
    pub anamorphic_squeeze: f64,
    pub effective: Dims,
    pub effective_anchor: Point,
    pub framing: Dims,
    pub framing_anchor: Point,
    pub protection: Option<(Dims, Point)>,
    pub scale_factor: f64,
    pub content_translation: Point,
    pub scaled_bounding_box: Dims,
    pub source_canvas_id: String,
    pub framing_intent_id: String,
    /// The source point that maps to the output origin before translation (the fit or
    /// preserve anchor), in source canvas pixels.
    pub source_offset: Point,
    /// Output pixels per source pixel, per axis (anamorphic squeeze folded in).
    pub scale_xy: (f64, f64),
    /// The source canvas size the geometry refers to.
    pub source_canvas: Dims,
}

/// Source rectangle `(x, y, w, h)`, per-axis scale, output canvas `(w, h)`, translation.
pub type RenderMapping = ((f64, f64, f64, f64), (f64, f64), (u32, u32), (f64, f64));

impl TemplateResult {
    /// The render mapping: source rectangle `(x, y, w, h)`, per-axis scale, output canvas size
    /// and translation — a source pixel `p` lands at `(p − offset) · scale + translation`.
    pub fn render_mapping(&self) -> RenderMapping {
        let (ox, oy) = (self.source_offset.x.max(0.0), self.source_offset.y.max(0.0));
        (
            (
                ox,
                oy,
                (self.source_canvas.width - ox).max(0.0),
                (self.source_canvas.height - oy).max(0.0),
            ),
            self.scale_xy,
            (
                self.canvas.width.round() as u32,
                self.canvas.height.round() as u32,
            ),
            (self.content_translation.x, self.content_translation.y),
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum Even {
    Whole,
    Even,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Up,
    Down,
    Round,
}

/// Python-style round half to even.
fn bankers(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 {
        2.0 * (v / 2.0).round()
    } else {
        r
    }
}

fn round(value: f64, even: Even, mode: Mode) -> f64 {
    let sign = if value < 0.0 { -1.0 } else { 1.0 };
    let value = value.abs();
    let mut v = match mode {
        Mode::Up => value.ceil(),
        Mode::Down => value.floor(),
        Mode::Round => bankers(value),
    };
    if let Even::Even = even {
        if v % 2.0 != 0.0 {
            v = match mode {
                Mode::Up => v + 1.0,
                Mode::Down => v - 1.0,
                Mode::Round => {
                    let (up, down) = (v + 1.0, v - 1.0);
                    if (up - value).abs() <= (down - value).abs() {
                        up
                    } else {
                        down
                    }
                }
            };
        }
    }
    sign * v
}

fn dims(v: &Value) -> Dims {
    Dims {
        width: v["width"].as_f64().unwrap_or(0.0),
        height: v["height"].as_f64().unwrap_or(0.0),
    }
}

fn point(v: &Value) -> Point {
    Point {
        x: v["x"].as_f64().unwrap_or(0.0),
        y: v["y"].as_f64().unwrap_or(0.0),
    }
}

fn err(what: &'static str, id: impl Into<String>) -> FdlError {
    FdlError::NotFound {
        what,
        id: id.into(),
    }
}

fn clamp0(p: Point) -> Point {
    Point {
        x: p.x.max(0.0),
        y: p.y.max(0.0),
    }
}

/// One axis of the alignment step: sizes after scaling and the template's alignment.
struct Axis {
    fit_size: f64,
    fit_anchor: f64,
    output: f64,
    canvas: f64,
    target: f64,
    is_center: bool,
    factor: f64,
}

fn alignment_shift(a: Axis, pad: bool) -> f64 {
    let overflow = a.canvas - a.output;
    if overflow == 0.0 && !pad {
        return 0.0;
    }
    let target_offset = if pad || a.is_center {
        (a.output - a.target) * 0.5
    } else {
        0.0
    };
    let mut shift = target_offset + (a.target - a.fit_size) * a.factor - a.fit_anchor;
    if !pad && overflow > 0.0 {
        shift = shift.min(0.0).max(-overflow);
    }
    shift
}

fn crop_dim(d: Dims, theo: Point, clamped: Point, canvas: Dims) -> Dims {
    if d.is_zero() {
        return d;
    }
    let w = (d.width - (-theo.x).max(0.0)).min(canvas.width - clamped.x);
    let h = (d.height - (-theo.y).max(0.0)).min(canvas.height - clamped.y);
    Dims {
        width: w.max(0.0),
        height: h.max(0.0),
    }
}

fn clamp_dims(d: Dims, to: Dims) -> Dims {
    Dims {
        width: d.width.min(to.width),
        height: d.height.min(to.height),
    }
}

/// Applies canvas template `template_id` (or the first one of `template_fdl`) to the selected
/// canvas and framing decision of `source`.
pub fn apply_template(
    source: &Fdl,
    context: Option<&str>,
    canvas_id: Option<&str>,
    framing_id: Option<&str>,
    template_fdl: &Fdl,
    template_id: Option<&str>,
) -> Result<TemplateResult, FdlError> {
    let templates = template_fdl.value["canvas_templates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let t = match template_id {
        Some(id) => templates
            .iter()
            .find(|t| t["id"].as_str() == Some(id))
            .ok_or_else(|| err("canvas template", id))?,
        None => templates
            .first()
            .ok_or_else(|| err("canvas template", ""))?,
    };
    let sel = source.framing(context, canvas_id, framing_id)?;
    // The raw canvas and framing decision values.
    let contexts = source.value["contexts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let cv = contexts
        .iter()
        .flat_map(|c| c["canvases"].as_array().cloned().unwrap_or_default())
        .find(|c| c["id"].as_str() == Some(&sel.canvas_id))
        .ok_or_else(|| err("canvas", sel.canvas_id.clone()))?;
    let fd = cv["framing_decisions"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["id"].as_str() == Some(&sel.framing_decision_id))
                .cloned()
        })
        .ok_or_else(|| err("framing decision", sel.framing_decision_id.clone()))?;

    let input_squeeze = cv["anamorphic_squeeze"]
        .as_f64()
        .filter(|s| *s != 0.0)
        .unwrap_or(1.0);
    let target_squeeze = t["target_anamorphic_squeeze"]
        .as_f64()
        .filter(|s| *s != 0.0)
        .unwrap_or(input_squeeze);
    let fit_method = t["fit_method"].as_str().unwrap_or("width");
    let fit_source = t["fit_source"]
        .as_str()
        .and_then(Path::parse)
        .ok_or_else(|| err("fit_source", t["fit_source"].to_string()))?;
    let preserve = t["preserve_from_source_canvas"]
        .as_str()
        .and_then(Path::parse);
    let max = t.get("maximum_dimensions").map(dims);
    let pad = t["pad_to_maximum"].as_bool().unwrap_or(false);
    let even = match t["round"]["even"].as_str() {
        Some("even") => Even::Even,
        _ => Even::Whole,
    };
    let mode = match t["round"]["mode"].as_str() {
        Some("down") => Mode::Down,
        Some("round") => Mode::Round,
        _ => Mode::Up,
    };
    let target = dims(&t["target_dimensions"]);
    let has_effective = cv.get("effective_dimensions").is_some();
    let has_protection = fd.get("protection_dimensions").is_some();
    for (p, field) in [
        (Some(fit_source), "fit_source"),
        (preserve, "preserve_from_source_canvas"),
    ] {
        match p {
            Some(Path::Effective) if !has_effective => {
                return Err(FdlError::Invalid(vec![crate::fdl::FdlProblem {
                    path: format!("canvas_templates[{}].{field}", t["id"].as_str().unwrap_or("")),
                    reason: "references canvas.effective_dimensions but the source canvas has none".into(),
                }]))
            }
            Some(Path::Protection) if !has_protection => {
                return Err(FdlError::Invalid(vec![crate::fdl::FdlProblem {
                    path: format!("canvas_templates[{}].{field}", t["id"].as_str().unwrap_or("")),
                    reason: "references framing_decision.protection_dimensions but the source framing decision has none".into(),
                }]))
            }
            _ => {}
        }
    }

    // Populate the layers from a path down to the framing decision.
    let mut g = Geometry::default();
    let populate = |g: &mut Geometry, from: Path| {
        for p in [
            Path::Canvas,
            Path::Effective,
            Path::Protection,
            Path::Framing,
        ] {
            if (p as u8) < (from as u8) {
                continue;
            }
            match p {
                Path::Canvas => g.canvas = dims(&cv["dimensions"]),
                Path::Effective if has_effective => {
                    g.effective = dims(&cv["effective_dimensions"]);
                    g.effective_anchor = point(&cv["effective_anchor_point"]);
                }
                Path::Protection if has_protection => {
                    g.protection = dims(&fd["protection_dimensions"]);
                    g.protection_anchor = point(&fd["protection_anchor_point"]);
                }
                Path::Framing => {
                    g.framing = dims(&fd["dimensions"]);
                    g.framing_anchor = point(&fd["anchor_point"]);
                }
                _ => {}
            }
        }
    };
    if let Some(p) = preserve {
        populate(&mut g, p);
    }
    populate(&mut g, fit_source);
    let (fit_dims, fit_anchor) = g.get(fit_source);
    let mut anchor_offset = fit_anchor;
    if let Some(p) = preserve {
        let (pd, pa) = g.get(p);
        if !pd.is_zero() {
            anchor_offset = pa;
        }
    }
    // Fill hierarchy gaps from the outermost populated layer; protection is never filled.
    let (reference, reference_anchor) = if !g.canvas.is_zero() {
        (g.canvas, Point::default())
    } else if !g.effective.is_zero() {
        (g.effective, g.effective_anchor)
    } else if !g.protection.is_zero() {
        (g.protection, g.protection_anchor)
    } else {
        (g.framing, g.framing_anchor)
    };
    if g.canvas.is_zero() {
        g.canvas = reference;
    }
    if g.effective.is_zero() {
        g.effective = reference;
        g.effective_anchor = reference_anchor;
    }
    let sub = |p: Point| {
        clamp0(Point {
            x: p.x - anchor_offset.x,
            y: p.y - anchor_offset.y,
        })
    };
    g.effective_anchor = sub(g.effective_anchor);
    g.protection_anchor = sub(g.protection_anchor);
    g.framing_anchor = sub(g.framing_anchor);

    // Scale factor on squeeze-normalised sizes.
    let fit_norm = Dims {
        width: fit_dims.width * input_squeeze,
        height: fit_dims.height,
    };
    let target_norm = Dims {
        width: target.width * target_squeeze,
        height: target.height,
    };
    let (w_ratio, h_ratio) = (
        target_norm.width / fit_norm.width,
        target_norm.height / fit_norm.height,
    );
    let scale = match fit_method {
        "fit_all" => w_ratio.min(h_ratio),
        "fill" => w_ratio.max(h_ratio),
        "height" => h_ratio,
        _ => w_ratio,
    };
    let sd = |d: Dims| Dims {
        width: d.width * input_squeeze * scale / target_squeeze,
        height: d.height * scale,
    };
    let sp = |p: Point| Point {
        x: p.x * input_squeeze * scale / target_squeeze,
        y: p.y * scale,
    };
    let rd = |d: Dims| Dims {
        width: round(d.width, even, mode),
        height: round(d.height, even, mode),
    };
    let rp = |p: Point| Point {
        x: round(p.x, even, mode),
        y: round(p.y, even, mode),
    };
    g = Geometry {
        canvas: rd(sd(g.canvas)),
        effective: rd(sd(g.effective)),
        protection: rd(sd(g.protection)),
        framing: rd(sd(g.framing)),
        effective_anchor: rp(sp(g.effective_anchor)),
        protection_anchor: rp(sp(g.protection_anchor)),
        framing_anchor: rp(sp(g.framing_anchor)),
    };
    let (scaled_fit, scaled_fit_anchor) = g.get(fit_source);
    let scaled_bounding_box = g.canvas;

    let out_axis = |size: f64, max: Option<f64>| match max {
        Some(m) if pad || size > m => m,
        _ => size,
    };
    let out = Dims {
        width: out_axis(g.canvas.width, max.map(|m| m.width)),
        height: out_axis(g.canvas.height, max.map(|m| m.height)),
    };
    // A 0 target size on the axis that does not drive the scale means "whatever it scales to".
    let width_drives = match fit_method {
        "width" => true,
        "height" => false,
        _ => (scale - w_ratio).abs() <= (scale - h_ratio).abs(),
    };
    let mut target_resolved = target;
    let (w_crop, h_crop) = (
        max.is_some_and(|m| scaled_bounding_box.width > m.width),
        max.is_some_and(|m| scaled_bounding_box.height > m.height),
    );
    if width_drives {
        if !h_crop && target.height == 0.0 {
            target_resolved.height = scaled_bounding_box.height;
        }
    } else if !w_crop && target.width == 0.0 {
        target_resolved.width = scaled_bounding_box.width;
    }
    let h_align = t["alignment_method_horizontal"]
        .as_str()
        .unwrap_or("center");
    let v_align = t["alignment_method_vertical"].as_str().unwrap_or("center");
    let factor = |a: &str| match a {
        "left" | "top" => 0.0,
        "right" | "bottom" => 1.0,
        _ => 0.5,
    };
    let shift = Point {
        x: alignment_shift(
            Axis {
                fit_size: scaled_fit.width,
                fit_anchor: scaled_fit_anchor.x,
                output: out.width,
                canvas: g.canvas.width,
                target: target_resolved.width,
                is_center: h_align == "center",
                factor: factor(h_align),
            },
            pad,
        ),
        y: alignment_shift(
            Axis {
                fit_size: scaled_fit.height,
                fit_anchor: scaled_fit_anchor.y,
                output: out.height,
                canvas: g.canvas.height,
                target: target_resolved.height,
                is_center: v_align == "center",
                factor: factor(v_align),
            },
            pad,
        ),
    };
    g.canvas = out;
    let add = |p: Point| Point {
        x: p.x + shift.x,
        y: p.y + shift.y,
    };
    let (theo_e, theo_p, theo_f) = (
        add(g.effective_anchor),
        add(g.protection_anchor),
        add(g.framing_anchor),
    );
    g.effective_anchor = clamp0(theo_e);
    g.protection_anchor = clamp0(theo_p);
    g.framing_anchor = clamp0(theo_f);
    let mut eff = clamp_dims(
        crop_dim(g.effective, theo_e, g.effective_anchor, g.canvas),
        g.canvas,
    );
    let mut prot = crop_dim(g.protection, theo_p, g.protection_anchor, g.canvas);
    if !prot.is_zero() {
        prot = clamp_dims(prot, eff);
    }
    let parent = if prot.is_zero() { eff } else { prot };
    let fram = clamp_dims(
        crop_dim(g.framing, theo_f, g.framing_anchor, g.canvas),
        parent,
    );
    if eff.is_zero() {
        eff = g.canvas;
    }
    Ok(TemplateResult {
        canvas: g.canvas,
        anamorphic_squeeze: target_squeeze,
        effective: eff,
        effective_anchor: g.effective_anchor,
        framing: fram,
        framing_anchor: g.framing_anchor,
        protection: (!prot.is_zero()).then_some((prot, g.protection_anchor)),
        scale_factor: scale,
        content_translation: shift,
        scaled_bounding_box,
        source_canvas_id: sel.canvas_id,
        framing_intent_id: fd["framing_intent_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        source_offset: anchor_offset,
        scale_xy: (input_squeeze * scale / target_squeeze, scale),
        source_canvas: dims(&cv["dimensions"]),
    })
}

fn num(v: f64) -> Value {
    serde_json::json!(v)
}

fn int(v: f64) -> Value {
    serde_json::json!(v.round() as i64)
}

/// The FDL a template application produces, laid out as the reference library writes it: the
/// source's framing intents, one context (named after the template) holding a copy of the
/// source canvas and the new canvas — with `_scale_factor`, `_content_translation` and
/// `_scaled_bounding_box` — and the template itself.
/// `creator` names the tool that applied the template (the document's and the context's creator).
pub fn result_document(
    source: &Fdl,
    r: &TemplateResult,
    template: &Value,
    new_canvas_id: &str,
    uuid: &str,
    creator: &str,
) -> Value {
    let contexts = source.value["contexts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let (src_ctx, src_canvas) = contexts
        .iter()
        .find_map(|c| {
            c["canvases"]
                .as_array()
                .and_then(|cs| {
                    cs.iter()
                        .find(|cv| cv["id"].as_str() == Some(&r.source_canvas_id))
                })
                .map(|cv| (c.clone(), cv.clone()))
        })
        .unwrap_or_default();
    let t_label = template["label"]
        .as_str()
        .filter(|l| !l.is_empty())
        .unwrap_or("Template");
    let label = match src_ctx["label"].as_str() {
        Some(ctx) => format!(
            "{t_label}: {ctx} {}",
            src_canvas["label"].as_str().unwrap_or("")
        ),
        None => t_label.to_string(),
    };
    let mut fd = serde_json::json!({
        "label": "",
        "id": format!("{new_canvas_id}-{}", r.framing_intent_id),
        "framing_intent_id": r.framing_intent_id,
        "dimensions": {"width": num(r.framing.width), "height": num(r.framing.height)},
        "anchor_point": {"x": num(r.framing_anchor.x), "y": num(r.framing_anchor.y)},
    });
    if let Some((d, a)) = r.protection {
        fd["protection_dimensions"] =
            serde_json::json!({"width": num(d.width), "height": num(d.height)});
        fd["protection_anchor_point"] = serde_json::json!({"x": num(a.x), "y": num(a.y)});
    }
    let canvas = serde_json::json!({
        "label": label,
        "id": new_canvas_id,
        "source_canvas_id": r.source_canvas_id,
        "dimensions": {"width": int(r.canvas.width), "height": int(r.canvas.height)},
        "effective_dimensions": {"width": int(r.effective.width), "height": int(r.effective.height)},
        "effective_anchor_point": {"x": num(r.effective_anchor.x), "y": num(r.effective_anchor.y)},
        "anamorphic_squeeze": num(r.anamorphic_squeeze),
        "framing_decisions": [fd],
        "_scale_factor": num(r.scale_factor),
        "_content_translation": {"x": num(r.content_translation.x), "y": num(r.content_translation.y)},
        "_scaled_bounding_box": {"width": num(r.scaled_bounding_box.width), "height": num(r.scaled_bounding_box.height)},
    });
    // The library writes pad_to_maximum only when it is true.
    let mut template = template.clone();
    if template["pad_to_maximum"] == Value::Bool(false) {
        if let Some(m) = template.as_object_mut() {
            m.remove("pad_to_maximum");
        }
    }
    let mut doc = serde_json::json!({
        "uuid": uuid,
        "version": {"major": 2, "minor": 0},
        "framing_intents": source.value.get("framing_intents").cloned().unwrap_or(serde_json::json!([])),
        "contexts": [{
            "label": t_label,
            "canvases": [src_canvas, canvas],
        }],
        "canvas_templates": [template],
        "fdl_creator": creator,
    });
    doc["contexts"][0]["context_creator"] = Value::from(creator);
    if let Some(v) = source.value.get("default_framing_intent") {
        doc["default_framing_intent"] = v.clone();
    }
    doc
}

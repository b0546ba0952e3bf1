//! ASC Framing Decision List: validation against the v2.0.1 schema rules plus the semantic
//! rules an implementer must check (ids that reference each other, boxes inside their canvas),
//! reporting every problem with its JSON path, and typed access to canvases and framing
//! decisions. Pure: parses from `&str`.

use crate::fdl_validate::{validate, Checker};
use serde_json::Value;
use std::fmt;

/// One problem, with its JSON path (`$.contexts[0].canvases[1].framing_decisions[0].id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdlProblem {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for FdlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FdlError {
    #[error("FDL is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("FDL is invalid ({} problem(s)): {}", .0.len(), .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FdlProblem>),
    #[error("FDL has no {what} {id:?}")]
    NotFound { what: &'static str, id: String },
}

/// A validated FDL document.
#[derive(Debug, Clone, PartialEq)]
pub struct Fdl {
    pub value: Value,
    pub version: (u64, u64),
}

/// A box inside a canvas: dimensions and the anchor of its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The parts of a canvas and framing decision that drive a render.
#[derive(Debug, Clone, PartialEq)]
pub struct Framing {
    pub context_label: Option<String>,
    pub canvas_id: String,
    pub canvas_width: u32,
    pub canvas_height: u32,
    pub anamorphic_squeeze: f64,
    pub effective: Option<Rect>,
    pub framing_decision_id: String,
    pub framing: Rect,
    pub protection: Option<Rect>,
}

impl Fdl {
    /// Parses and validates, reporting every problem with its JSON path.
    pub fn parse(text: &str) -> Result<Fdl, FdlError> {
        let value: Value = serde_json::from_str(text).map_err(|e| FdlError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let mut c = Checker {
            problems: Vec::new(),
        };
        let version = validate(&mut c, &value);
        if c.problems.is_empty() {
            Ok(Fdl {
                value,
                version: version.unwrap_or((2, 0)),
            })
        } else {
            Err(FdlError::Invalid(c.problems))
        }
    }

    /// The framing a render uses: context (by label), canvas and framing decision (by id);
    /// each selector defaults to the first one.
    pub fn framing(
        &self,
        context: Option<&str>,
        canvas: Option<&str>,
        framing_decision: Option<&str>,
    ) -> Result<Framing, FdlError> {
        let contexts = self.value["contexts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ctx = match context {
            Some(label) => contexts
                .iter()
                .find(|c| c["label"].as_str() == Some(label))
                .ok_or(FdlError::NotFound {
                    what: "context labelled",
                    id: label.into(),
                })?,
            None => contexts.first().ok_or(FdlError::NotFound {
                what: "context",
                id: String::new(),
            })?,
        };
        let canvases = ctx["canvases"].as_array().cloned().unwrap_or_default();
        let cv = match canvas {
            Some(id) => canvases
                .iter()
                .find(|c| c["id"].as_str() == Some(id))
                .ok_or(FdlError::NotFound {
                    what: "canvas",
                    id: id.into(),
                })?,
            None => canvases.first().ok_or(FdlError::NotFound {
                what: "canvas",
                id: String::new(),
            })?,
        };
        let fds = cv["framing_decisions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let fd = match framing_decision {
            Some(id) => {
                fds.iter()
                    .find(|f| f["id"].as_str() == Some(id))
                    .ok_or(FdlError::NotFound {
                        what: "framing decision",
                        id: id.into(),
                    })?
            }
            None => fds.first().ok_or(FdlError::NotFound {
                what: "framing decision",
                id: String::new(),
            })?,
        };
        let rect = |dims: &Value, anchor: &Value| -> Option<Rect> {
            Some(Rect {
                x: anchor["x"].as_f64()?,
                y: anchor["y"].as_f64()?,
                width: dims["width"].as_f64()?,
                height: dims["height"].as_f64()?,
            })
        };
        Ok(Framing {
            context_label: ctx["label"].as_str().map(str::to_string),
            canvas_id: cv["id"].as_str().unwrap_or_default().to_string(),
            canvas_width: cv["dimensions"]["width"].as_u64().unwrap_or(0) as u32,
            canvas_height: cv["dimensions"]["height"].as_u64().unwrap_or(0) as u32,
            anamorphic_squeeze: cv["anamorphic_squeeze"].as_f64().unwrap_or(1.0),
            effective: rect(&cv["effective_dimensions"], &cv["effective_anchor_point"]),
            framing_decision_id: fd["id"].as_str().unwrap_or_default().to_string(),
            framing: rect(&fd["dimensions"], &fd["anchor_point"]).ok_or(FdlError::NotFound {
                what: "framing decision geometry",
                id: String::new(),
            })?,
            protection: rect(&fd["protection_dimensions"], &fd["protection_anchor_point"]),
        })
    }
}

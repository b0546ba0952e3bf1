//! Checks a validated turnover against storage: the input frames exist, the AMF and FDL files
//! exist, URIs name a store we have. Errors use the same JSON paths as validation.

use platefarm_core::{ClipPattern, FieldError, Shot};
use platefarm_store::{ObjectStore, StoreError};
use std::collections::BTreeSet;

/// Where a shot's frames are, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedShot {
    pub pattern: ClipPattern,
}

fn local_key<'a>(path: &str, value: &'a str, errors: &mut Vec<FieldError>) -> Option<&'a str> {
    if value.starts_with("s3://") {
        errors.push(FieldError {
            path: path.to_string(),
            reason: "s3:// URIs need an S3 object store, and this farm runs on a local store"
                .into(),
        });
        return None;
    }
    let key = value.trim_start_matches("./");
    if key.starts_with('/') {
        errors.push(FieldError {
            path: path.to_string(),
            reason: format!(
                "absolute path {value:?} is outside the farm's root (give a path relative to it)"
            ),
        });
        return None;
    }
    Some(key)
}

fn store_error(path: &str, e: StoreError) -> FieldError {
    FieldError {
        path: path.to_string(),
        reason: format!("cannot check on storage: {e}"),
    }
}

/// AMF and FDL files larger than this are refused.
const SIDECAR_LIMIT: u64 = 16 << 20;

/// Parses an AMF or FDL and checks the shot's selectors against it.
fn check_sidecar(field: &str, bytes: &[u8], shot: &Shot, path: &str, errors: &mut Vec<FieldError>) {
    let p = format!("{path}.{field}");
    let Ok(text) = std::str::from_utf8(bytes) else {
        errors.push(FieldError {
            path: p,
            reason: "file is not UTF-8 text".into(),
        });
        return;
    };
    if field == "amf_path" {
        match platefarm_standards::amf::Amf::parse(text).and_then(|a| a.resolve()) {
            Ok(_) => {}
            Err(e) => errors.push(FieldError {
                path: p,
                reason: e.to_string(),
            }),
        }
        return;
    }
    let fdl = match platefarm_standards::Fdl::parse(text) {
        Ok(f) => f,
        Err(e) => {
            errors.push(FieldError {
                path: p,
                reason: e.to_string(),
            });
            return;
        }
    };
    let sel = &shot.fdl;
    if let Err(e) = fdl.framing(
        sel.context.as_deref(),
        sel.canvas.as_deref(),
        sel.framing_decision.as_deref(),
    ) {
        let which = match &e {
            platefarm_standards::FdlError::NotFound { what, .. } if what.starts_with("context") => {
                "context"
            }
            platefarm_standards::FdlError::NotFound { what, .. } if *what == "canvas" => "canvas",
            _ => "framing_decision",
        };
        errors.push(FieldError {
            path: format!("{path}.fdl.{which}"),
            reason: e.to_string(),
        });
    }
    if let Some(t) = &sel.canvas_template {
        let found = fdl.value["canvas_templates"]
            .as_array()
            .is_some_and(|ts| ts.iter().any(|x| x["id"].as_str() == Some(t)));
        if !found {
            errors.push(FieldError {
                path: format!("{path}.fdl.canvas_template"),
                reason: format!("the FDL has no canvas template {t:?}"),
            });
        }
    }
}

/// Compresses sorted frame numbers to `1-4, 7, 9-10`.
pub fn frame_runs(frames: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let start = frames[i];
        let mut end = start;
        while i + 1 < frames.len() && frames[i + 1] == end + 1 {
            i += 1;
            end = frames[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(", ")
}

/// Resolves one shot; pushes every problem to `errors`.
pub async fn resolve_shot(
    store: &dyn ObjectStore,
    shot: &Shot,
    path: &str,
    errors: &mut Vec<FieldError>,
) -> Option<ResolvedShot> {
    let clip_path = format!("{path}.input_clip");
    let mut ok = true;
    let mut amf_input = None;
    for (field, value) in [("amf_path", &shot.amf_path), ("fdl_path", &shot.fdl_path)] {
        let Some(value) = value else { continue };
        let p = format!("{path}.{field}");
        let Some(key) = local_key(&p, value, errors) else {
            ok = false;
            continue;
        };
        match store.get(key, SIDECAR_LIMIT).await {
            Ok(bytes) => {
                let before = errors.len();
                check_sidecar(field, &bytes, shot, path, errors);
                ok &= errors.len() == before;
                if field == "amf_path" && errors.len() == before {
                    amf_input = amf_input_transform(&bytes);
                }
            }
            Err(StoreError::NotFound { .. }) => {
                errors.push(FieldError {
                    path: p,
                    reason: format!("no file at {value:?} in {}", store.describe()),
                });
                ok = false;
            }
            Err(e) => {
                errors.push(store_error(&p, e));
                ok = false;
            }
        }
    }
    if let Some(out) = local_key(
        &format!("{path}.output_location"),
        &shot.output_location,
        errors,
    ) {
        if let Err(e) = platefarm_store::check_key(&format!("{}/x", out.trim_end_matches('/'))) {
            errors.push(FieldError {
                path: format!("{path}.output_location"),
                reason: e.to_string(),
            });
            ok = false;
        }
    } else {
        ok = false;
    }
    let key = local_key(&clip_path, &shot.input_clip, errors)?;
    let (pattern, listing_prefix) = if key.ends_with('/') {
        // A folder: it must hold exactly one image sequence.
        let listing = match store.list(key).await {
            Ok(l) => l,
            Err(e) => {
                errors.push(store_error(&clip_path, e));
                return None;
            }
        };
        let mut patterns = BTreeSet::new();
        for obj in &listing {
            let rest = &obj.key[key.len()..];
            if rest.contains('/') || rest.starts_with('.') {
                continue;
            }
            if let Some((p, _)) = ClipPattern::from_example(&obj.key) {
                patterns.insert(p.to_string());
            }
        }
        match patterns.len() {
            0 => {
                errors.push(FieldError {
                    path: clip_path,
                    reason: format!("folder {key:?} holds no numbered frames"),
                });
                return None;
            }
            1 => {
                let p = patterns.into_iter().next().expect("one pattern");
                (
                    ClipPattern::parse(&p).expect("generated patterns parse"),
                    key.to_string(),
                )
            }
            n => {
                errors.push(FieldError {
                    path: clip_path,
                    reason: format!(
                        "folder {key:?} holds {n} sequences ({}); name one with a pattern",
                        patterns.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                });
                return None;
            }
        }
    } else {
        let pattern = ClipPattern::parse(key).ok()?; // validation already reported a bad pattern
        let prefix = pattern.prefix.clone();
        (pattern, prefix)
    };
    let listing = match store.list(&listing_prefix).await {
        Ok(l) => l,
        Err(e) => {
            errors.push(store_error(&clip_path, e));
            return None;
        }
    };
    let present: BTreeSet<u32> = listing
        .iter()
        .filter_map(|o| pattern.match_frame(&o.key))
        .collect();
    let wanted = shot.render_range();
    let missing: Vec<u32> = wanted.frames().filter(|f| !present.contains(f)).collect();
    if !missing.is_empty() {
        let have = match (present.first(), present.last()) {
            (Some(a), Some(b)) => format!(
                "; the store has {} frames of {pattern} ({a}-{b})",
                present.len()
            ),
            _ => format!("; the store has no frames matching {pattern}"),
        };
        errors.push(FieldError {
            path: clip_path,
            reason: format!(
                "{} of {} frames (with handles) missing: {}{have}",
                missing.len(),
                wanted.n_frames(),
                frame_runs(&missing)
            ),
        });
        return None;
    }
    if ok {
        ok = check_input_space(shot, &pattern, amf_input.as_ref(), path, errors);
    }
    ok.then_some(ResolvedShot { pattern })
}

/// The AMF's input transform, resolved to a colour-space name (the AMF was checked already).
pub fn amf_input_transform(bytes: &[u8]) -> Option<platefarm_core::AmfInput> {
    let amf = platefarm_standards::amf::Amf::parse(std::str::from_utf8(bytes).ok()?).ok()?;
    let (id, applied) = amf.input_transform?;
    match platefarm_standards::amf::lookup(&id)? {
        ("input", space) => Some(platefarm_core::AmfInput { id, space, applied }),
        _ => None,
    }
}

/// Non-raw frames need an input colour space, and the shot's and the AMF's must agree.
fn check_input_space(
    shot: &Shot,
    pattern: &ClipPattern,
    amf: Option<&platefarm_core::AmfInput>,
    path: &str,
    errors: &mut Vec<FieldError>,
) -> bool {
    let Some(kind) = platefarm_core::InputKind::from_path(&pattern.suffix) else {
        errors.push(FieldError {
            path: format!("{path}.input_clip"),
            reason: format!(
                "unsupported input format in {pattern} (frames must end in .{})",
                platefarm_core::input_space::INPUT_EXTENSIONS.join(", .")
            ),
        });
        return false;
    };
    let explicit = match kind {
        platefarm_core::InputKind::CameraRaw => None,
        platefarm_core::InputKind::Encoded(_) => shot.input_colorspace.as_deref(),
    };
    match platefarm_core::resolve_input_space(kind, explicit, amf) {
        Ok(_) => true,
        Err(e) => {
            let field = match e {
                platefarm_core::InputSpaceError::UnknownAmf { .. } => "amf_path",
                _ => "input_colorspace",
            };
            errors.push(FieldError {
                path: format!("{path}.{field}"),
                reason: e.to_string(),
            });
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::frame_runs;

    #[test]
    fn runs() {
        assert_eq!(frame_runs(&[1, 2, 3, 4, 7, 9, 10]), "1-4, 7, 9-10");
        assert_eq!(frame_runs(&[]), "");
    }
}

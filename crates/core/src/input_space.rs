//! Which colour space a shot's frames are in, and which review display/view a proxy uses: the
//! rules shared by validation, the dispatcher (which reads the AMF) and the worker, so all
//! three agree. Names are OCIO ACES studio-config names (`platefarm_color`).

use platefarm_color::{ColorSpace, Display, View};

/// How a frame file's extension says it must be colour-managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// DNG / CinemaDNG: developed through the file's own matrices.
    CameraRaw,
    /// DPX, OpenEXR or TIFF: needs an input colour space. Holds the format's display name.
    Encoded(&'static str),
}

/// Extensions a farm worker decodes.
pub const INPUT_EXTENSIONS: &[&str] = &["dng", "dpx", "exr", "tif", "tiff"];

impl InputKind {
    /// From a frame path or pattern (`…/A001.%07d.dpx`); `None` for an unsupported extension.
    pub fn from_path(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "dng" => Some(InputKind::CameraRaw),
            "dpx" => Some(InputKind::Encoded("DPX")),
            "exr" => Some(InputKind::Encoded("EXR")),
            "tif" | "tiff" => Some(InputKind::Encoded("TIFF")),
            _ => None,
        }
    }
}

/// Why a shot's input colour space could not be settled; each names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputSpaceError {
    #[error("{format} input needs an input colour space: give input_colorspace or an AMF with an input transform")]
    Missing { format: &'static str },
    #[error("input_colorspace {explicit:?} disagrees with the AMF's input transform {amf_id:?} ({amf_space:?})")]
    Disagree {
        explicit: String,
        amf_id: String,
        amf_space: String,
    },
    /// The shot's own `input_colorspace` is not a known name.
    #[error("{0}")]
    Unknown(String),
    /// The AMF's input transform resolves to a space platefarm cannot decode.
    #[error("the AMF's input transform {amf_id:?} resolves to {amf_space:?}, which platefarm cannot decode: {reason}")]
    UnknownAmf {
        amf_id: String,
        amf_space: String,
        reason: String,
    },
}

/// The AMF's input transform as the dispatcher and worker read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmfInput {
    /// The transform id, for messages.
    pub id: String,
    /// The colour space the registry resolves it to (OCIO studio-config name).
    pub space: String,
    /// Already applied to the frames: they are ACES2065-1.
    pub applied: bool,
}

/// A colour-space name → the space, or the reason (with close and known names).
pub fn colour_space(name: &str) -> Result<&'static ColorSpace, String> {
    ColorSpace::from_name(name).map_err(|e| e.to_string())
}

/// The colour space non-raw frames are decoded from: the shot's `input_colorspace`, else the
/// AMF's input transform (ACES2065-1 when the AMF marks it applied). Both given: they must
/// name the same space. Camera raw needs none (`Ok(None)`).
pub fn resolve_input_space(
    kind: InputKind,
    explicit: Option<&str>,
    amf: Option<&AmfInput>,
) -> Result<Option<&'static ColorSpace>, InputSpaceError> {
    let InputKind::Encoded(format) = kind else {
        return Ok(None);
    };
    let explicit = explicit
        .map(|n| colour_space(n).map_err(InputSpaceError::Unknown))
        .transpose()?;
    let from_amf = amf
        .map(|a| {
            let name = if a.applied { "ACES2065-1" } else { &a.space };
            colour_space(name).map_err(|reason| InputSpaceError::UnknownAmf {
                amf_id: a.id.clone(),
                amf_space: a.space.clone(),
                reason,
            })
        })
        .transpose()?;
    match (explicit, from_amf, amf) {
        (Some(e), Some(a), Some(amf)) if e.name != a.name => Err(InputSpaceError::Disagree {
            explicit: e.name.to_string(),
            amf_id: amf.id.clone(),
            amf_space: a.name.to_string(),
        }),
        (Some(e), _, _) => Ok(Some(e)),
        (None, Some(a), _) => Ok(Some(a)),
        (None, None, _) => Err(InputSpaceError::Missing { format }),
    }
}

/// Default review display and view of a proxy.
pub const DEFAULT_DISPLAY: &str = "sRGB - Display";
pub const DEFAULT_VIEW: &str = "ACES 2.0 - SDR 100 nits (Rec.709)";

/// Every display / view pair a proxy can use, as `"display" / "view"`.
pub fn display_view_pairs() -> Vec<String> {
    Display::ALL
        .iter()
        .flat_map(|d| {
            View::ALL
                .iter()
                .filter(|v| v.available_on(*d))
                .map(move |v| format!("{:?} / {:?}", d.name(), v.name()))
        })
        .collect()
}

/// An unknown display, or a view the display does not have; each message lists the valid names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisplayViewError {
    Display(String),
    View(String),
}

/// Checks a display name, then the view on it.
pub fn check_display_view(display: &str, view: &str) -> Result<(), DisplayViewError> {
    let Some(d) = Display::ALL.into_iter().find(|d| d.name() == display) else {
        let names: Vec<String> = Display::ALL
            .iter()
            .map(|d| format!("{:?}", d.name()))
            .collect();
        return Err(DisplayViewError::Display(format!(
            "unknown display {display:?} (known: {})",
            names.join(", ")
        )));
    };
    match View::ALL.into_iter().find(|v| v.name() == view) {
        Some(v) if v.available_on(d) => Ok(()),
        _ => {
            let names: Vec<String> = View::ALL
                .iter()
                .filter(|v| v.available_on(d))
                .map(|v| format!("{:?}", v.name()))
                .collect();
            Err(DisplayViewError::View(format!(
                "unknown view {view:?} for display {display:?} (known: {})",
                names.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amf(space: &str, applied: bool) -> AmfInput {
        AmfInput {
            id: "urn:x:IDT".into(),
            space: space.into(),
            applied,
        }
    }

    #[test]
    fn explicit_amf_and_agreement() {
        let dpx = InputKind::Encoded("DPX");
        let logc = "ARRI LogC3 (EI800)";
        assert_eq!(
            resolve_input_space(dpx, Some(logc), None)
                .unwrap()
                .unwrap()
                .name,
            logc
        );
        assert_eq!(
            resolve_input_space(dpx, None, Some(&amf(logc, false)))
                .unwrap()
                .unwrap()
                .name,
            logc
        );
        // Agreement is by space, not by spelling.
        assert!(
            resolve_input_space(dpx, Some("arri logc3 (ei800)"), Some(&amf(logc, false))).is_ok()
        );
        let e = resolve_input_space(dpx, Some("ACEScg"), Some(&amf(logc, false))).unwrap_err();
        assert!(
            e.to_string().contains("\"ACEScg\"") && e.to_string().contains(logc),
            "{e}"
        );
        // An applied input transform means the frames already are ACES2065-1.
        assert_eq!(
            resolve_input_space(dpx, None, Some(&amf(logc, true)))
                .unwrap()
                .unwrap()
                .name,
            "ACES2065-1"
        );
        assert_eq!(
            resolve_input_space(dpx, None, None).unwrap_err().to_string(),
            "DPX input needs an input colour space: give input_colorspace or an AMF with an input transform"
        );
        assert_eq!(
            resolve_input_space(InputKind::CameraRaw, None, None).unwrap(),
            None
        );
        assert!(matches!(
            resolve_input_space(dpx, None, Some(&amf("Canon Log 9", false))),
            Err(InputSpaceError::UnknownAmf { .. })
        ));
    }

    #[test]
    fn kinds_and_display_views() {
        assert_eq!(
            InputKind::from_path("a/b.%07d.DPX"),
            Some(InputKind::Encoded("DPX"))
        );
        assert_eq!(
            InputKind::from_path("a.[1-2].dng"),
            Some(InputKind::CameraRaw)
        );
        assert_eq!(InputKind::from_path("a.%04d.mov"), None);
        assert!(check_display_view(DEFAULT_DISPLAY, DEFAULT_VIEW).is_ok());
        assert!(matches!(
            check_display_view("sRGB - Display", "ACES 2.0 - SDR 100 nits (P3 D65)"),
            Err(DisplayViewError::View(_))
        ));
        assert!(matches!(
            check_display_view("sRGB", DEFAULT_VIEW),
            Err(DisplayViewError::Display(_))
        ));
        assert_eq!(display_view_pairs().len(), 7);
    }
}

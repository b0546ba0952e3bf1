//! The typed turnover, produced only by `validate::parse_turnover` so every instance is valid.

use serde::{Deserialize, Serialize};

/// An inclusive frame range that cannot be inverted: `start <= end` is checked by `new` and by
/// deserialisation, so a wire message with `start > end` is a decode error, never a wrap-around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawFrameRange")]
pub struct FrameRange {
    start: u32,
    end: u32,
}

/// The unchecked wire shape of a `FrameRange`.
#[derive(Deserialize)]
struct RawFrameRange {
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameRangeError {
    #[error("frame range end {end} is before start {start}")]
    Inverted { start: u32, end: u32 },
    #[error("frame range {start}-{end} widened by handles {head}/{tail} leaves 0..={max}", max = u32::MAX)]
    HandlesOverflow {
        start: u32,
        end: u32,
        head: u32,
        tail: u32,
    },
}

impl TryFrom<RawFrameRange> for FrameRange {
    type Error = FrameRangeError;
    fn try_from(r: RawFrameRange) -> Result<Self, Self::Error> {
        FrameRange::new(r.start, r.end)
    }
}

impl FrameRange {
    pub fn new(start: u32, end: u32) -> Result<Self, FrameRangeError> {
        if end < start {
            return Err(FrameRangeError::Inverted { start, end });
        }
        Ok(FrameRange { start, end })
    }
    pub fn start(&self) -> u32 {
        self.start
    }
    pub fn end(&self) -> u32 {
        self.end
    }
    /// At least 1; `u64` because `0..=u32::MAX` holds 2^32 frames.
    pub fn n_frames(&self) -> u64 {
        self.end as u64 - self.start as u64 + 1
    }
    pub fn frames(&self) -> impl Iterator<Item = u32> {
        self.start..=self.end
    }
    pub fn contains(&self, frame: u32) -> bool {
        (self.start..=self.end).contains(&frame)
    }
    /// The range widened by handles, or an error if that leaves `u32`.
    pub fn widened(&self, handles: Handles) -> Result<FrameRange, FrameRangeError> {
        let overflow = || FrameRangeError::HandlesOverflow {
            start: self.start,
            end: self.end,
            head: handles.head,
            tail: handles.tail,
        };
        Ok(FrameRange {
            start: self.start.checked_sub(handles.head).ok_or_else(overflow)?,
            end: self.end.checked_add(handles.tail).ok_or_else(overflow)?,
        })
    }
}

impl std::fmt::Display for FrameRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handles {
    pub head: u32,
    pub tail: u32,
}

/// FDL selectors: which context / canvas / framing decision to read and which template to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdlSelection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canvas: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framing_decision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canvas_template: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Exr,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Piz,
    Zip,
    Zips,
    None,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelType {
    #[default]
    Half,
    Float,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputOptions {
    pub format: OutputFormat,
    pub compression: Compression,
    pub pixel: PixelType,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyFormat {
    #[default]
    Jpeg,
    Png,
}

impl ProxyFormat {
    /// File extension of the proxy frames.
    pub fn extension(self) -> &'static str {
        match self {
            ProxyFormat::Jpeg => "jpg",
            ProxyFormat::Png => "png",
        }
    }
}

/// A per-shot 8-bit review proxy: the AMF's looks and an output transform on the plate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyOptions {
    #[serde(default)]
    pub format: ProxyFormat,
    /// OCIO studio-config display name.
    pub display: String,
    /// OCIO studio-config view name.
    pub view: String,
    /// JPEG quality 1–100.
    pub quality: u8,
    /// Box-downscaled by a whole factor to at most this width; `None`: full resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<u32>,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            format: ProxyFormat::Jpeg,
            display: crate::input_space::DEFAULT_DISPLAY.into(),
            view: crate::input_space::DEFAULT_VIEW.into(),
            quality: 92,
            max_width: None,
        }
    }
}

/// One shot of a turnover: a clip to turn into plates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shot {
    pub name: String,
    /// Sequence pattern (`…%07d.dng`, `…####.dng`, `…[start-end].dng`) or a folder ending in `/`.
    pub input_clip: String,
    /// Store key prefix (or `s3://` URI) under which `<shot>/<shot>.<frame:07>.exr` are written.
    pub output_location: String,
    pub frame_range: FrameRange,
    pub handles: Handles,
    pub amf_path: Option<String>,
    pub fdl_path: Option<String>,
    pub fdl: FdlSelection,
    pub output: OutputOptions,
    /// Colour space of DPX / EXR / TIFF frames (OCIO studio-config name); else the AMF's
    /// input transform decides. Unused for camera raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_colorspace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyOptions>,
}

impl Shot {
    /// The frames to render: the cut range widened by the handles. Validation refuses handles
    /// that would leave `u32`, so a validated shot never takes the fallback.
    pub fn render_range(&self) -> FrameRange {
        self.frame_range
            .widened(self.handles)
            .unwrap_or(self.frame_range)
    }
}

/// A validated turnover request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turnover {
    pub turnover_id: String,
    pub production: String,
    /// 0 (lowest) ..= 100 (highest).
    pub priority: u8,
    /// RFC 3339 deadline, normalised to UTC.
    pub deadline: Option<chrono::DateTime<chrono::Utc>>,
    pub shots: Vec<Shot>,
}

/// Output key of one plate frame: `<output_location>/<shot>/<shot>.<frame:07>.exr`.
pub fn plate_key(output_location: &str, shot: &str, frame: u32) -> String {
    let base = output_location.trim_end_matches('/');
    if base.is_empty() {
        format!("{shot}/{shot}.{frame:07}.exr")
    } else {
        format!("{base}/{shot}/{shot}.{frame:07}.exr")
    }
}

/// Key of one proxy frame: `<output_location>/<shot>/proxy/<shot>.<frame:07>.<ext>`.
pub fn proxy_key(output_location: &str, shot: &str, frame: u32, format: ProxyFormat) -> String {
    let base = output_location.trim_end_matches('/');
    let ext = format.extension();
    if base.is_empty() {
        format!("{shot}/proxy/{shot}.{frame:07}.{ext}")
    } else {
        format!("{base}/{shot}/proxy/{shot}.{frame:07}.{ext}")
    }
}

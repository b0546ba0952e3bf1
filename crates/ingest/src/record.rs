//! The normalised clip record (see docs/ingest.md for every field with its unit). Absent
//! values are `null`, never guessed, except `colour.guess`, which says it is a guess.

use crate::timecode::{Rate, Timecode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The file formats ingest reads headers of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Dng,
    Dpx,
    Exr,
    Tiff,
}

impl Format {
    /// From a file extension (case-insensitive): `dng`, `dpx`, `exr`, `tif`, `tiff`.
    pub fn from_extension(ext: &str) -> Option<Format> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "dng" => Format::Dng,
            "dpx" => Format::Dpx,
            "exr" => Format::Exr,
            "tif" | "tiff" => Format::Tiff,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Format::Dng => "dng",
            Format::Dpx => "dpx",
            Format::Exr => "exr",
            Format::Tiff => "tiff",
        }
    }
}

/// One clip: an image sequence or a single file, with what its headers say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipRecord {
    /// The clip name: the sequence name without frame number and extension
    /// (`A001C003_230101_R1AB`), or a single file's stem.
    pub name: String,
    /// Where the clip was found, as the caller named it (a folder, a store URL prefix).
    pub location: String,
    /// Key of the clip inside the location: the sequence pattern
    /// (`day1/A001C003_230101_R1AB.%06d.dng`) or the single file's key. Unique per location.
    pub key: String,
    pub format: Format,
    /// Reel (tape) name from the headers.
    pub reel: Option<String>,
    pub camera: Camera,
    pub lens: Lens,
    pub exposure: Exposure,
    pub white_balance: WhiteBalance,
    pub timecode: ClipTimecode,
    pub image: Image,
    pub frames: Frames,
    pub colour: Colour,
    /// Format-specific fields as the file stores them (`dng.ReelName`, `dpx.input_device`,
    /// `exr.owner`, …) from the clip's first good frame.
    pub vendor: BTreeMap<String, serde_json::Value>,
    /// Problems that did not stop the clip (timecode breaks, mixed sizes), in frame order.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    pub make: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lens {
    pub model: Option<String>,
    /// Millimetres.
    pub focal_length_mm: Option<f64>,
    /// f-number (N in f/N).
    pub aperture: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exposure {
    /// ISO 12232 exposure index.
    pub iso: Option<u32>,
    /// Seconds.
    pub exposure_time_s: Option<f64>,
    /// Degrees (DPX film header).
    pub shutter_angle_deg: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WhiteBalance {
    /// Camera-native RGB of a neutral, green = 1 (DNG `AsShotNeutral`).
    pub as_shot_neutral: Option<[f64; 3]>,
    /// Kelvin: correlated colour temperature of the as-shot white (McCamy's formula on the
    /// white's chromaticity, from `AsShotWhiteXY` or `AsShotNeutral` through `ColorMatrix1`).
    pub colour_temperature_k: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClipTimecode {
    /// Label of the first frame (`frames.first`).
    pub start: Option<Timecode>,
    /// Label of the last frame (`frames.last`), inclusive.
    pub end: Option<Timecode>,
    /// Exact frame rate, `num/den` frames per second.
    pub rate: Option<Rate>,
    pub drop_frame: bool,
    /// `frames.last - frames.first + 1` frames as a timecode duration.
    pub duration: Option<Timecode>,
    /// Seconds of `frames.last - frames.first + 1` frames at `rate`.
    pub duration_s: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Pixels of the picture a viewer sees: DNG `DefaultCropSize`, the EXR display window,
    /// the DPX / TIFF image.
    pub width: u32,
    pub height: u32,
    /// Bits per sample as stored (EXR: 16 half, 32 float or uint).
    pub bit_depth: u8,
    /// Samples per pixel (1 for a Bayer mosaic).
    pub channels: u8,
    /// DNG: sensor `ImageWidth` × `ImageLength` (pixels).
    pub sensor: Option<[u32; 2]>,
    /// DNG `ActiveArea` (top, left, bottom, right) in sensor pixels.
    pub active_area: Option<[u32; 4]>,
    /// Bayer layout named from the top-left pixel of the sensor (`RGGB`).
    pub cfa: Option<String>,
    /// EXR: the data window (x min, y min, x max, y max), inclusive.
    pub data_window: Option<[i32; 4]>,
    /// File compression as the header names it.
    pub compression: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frames {
    /// First and last frame numbers of the sequence (0 for a single file).
    pub first: u32,
    pub last: u32,
    /// Files present (good and bad).
    pub count: u32,
    /// Frame numbers between first and last with no file.
    pub missing: Vec<u32>,
    /// Files that could not be read, each with its reason.
    pub bad: Vec<BadFrame>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadFrame {
    pub frame: u32,
    pub key: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Colour {
    /// A platefarm colour-space name (`ARRI LogC3 (EI800)`, `ACES2065-1`) or a description
    /// (`camera raw`, `Cineon printing density`) guessed from the tags: a guess, not a fact.
    pub guess: Option<String>,
    /// What the guess rests on (`dpx.transfer = 3 (logarithmic), dpx.project mentions "LogC"`).
    pub basis: Option<String>,
}

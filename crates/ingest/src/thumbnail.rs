//! A clip's thumbnail: its middle readable frame decoded to ACES2065-1 (camera raw through
//! the DNG matrices; DPX / EXR / TIFF from the clip's colour guess), box-downscaled and shown
//! through the ACES 2.0 SDR 100-nit (Rec.709) view on an sRGB display, as JPEG.

use crate::record::ClipRecord;
use crate::{ByteSource, IngestError};
use platefarm_color::{ColorSpace, Display, OutputTransform, View};
use platefarm_imaging::{
    decode_to_aces, encode_jpeg, preview_rgb8_with, InputTransform, PlateSpec,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbnailOptions {
    /// At most this wide (a whole-factor box downscale, so often narrower).
    pub max_width: u32,
    /// JPEG quality 1–100.
    pub quality: u8,
}

impl Default for ThumbnailOptions {
    fn default() -> Self {
        ThumbnailOptions {
            max_width: 320,
            quality: 85,
        }
    }
}

/// The frame a thumbnail shows: the readable frame nearest the middle of the clip.
pub fn middle_frame(clip: &ClipRecord) -> Option<u32> {
    let f = &clip.frames;
    let mid = f.first + (f.last - f.first) / 2;
    let usable =
        |n: u32| f.missing.binary_search(&n).is_err() && !f.bad.iter().any(|b| b.frame == n);
    (0..=(f.last - f.first)).find_map(|d| {
        [mid.checked_sub(d), mid.checked_add(d)]
            .into_iter()
            .flatten()
            .find(|n| (f.first..=f.last).contains(n) && usable(*n))
    })
}

/// The input colour space for non-raw frames: the colour guess if platefarm knows it,
/// else ACES2065-1 (EXR) or linear Rec.709.
fn input_space(clip: &ClipRecord) -> &'static ColorSpace {
    clip.colour
        .guess
        .as_deref()
        .and_then(|g| ColorSpace::from_name(g).ok())
        .or_else(|| {
            ColorSpace::from_name("ACES2065-1")
                .ok()
                .filter(|_| clip.format == crate::Format::Exr)
        })
        .unwrap_or_else(|| {
            ColorSpace::from_name("Linear Rec.709 (sRGB)").expect("a built-in space")
        })
}

/// `(frame, width, height, JPEG bytes)` of the clip's thumbnail. Decodes one whole frame
/// (rayon loops on the caller's pool).
pub fn thumbnail_jpeg(
    clip: &ClipRecord,
    source: &dyn ByteSource,
    opts: &ThumbnailOptions,
) -> Result<(u32, u32, u32, Vec<u8>), IngestError> {
    let frame = middle_frame(clip).ok_or_else(|| IngestError::Clip {
        clip: clip.key.clone(),
        what: "no readable frame for a thumbnail".into(),
    })?;
    let key = clip.frame_key(frame);
    let bytes = source.read(&key).map_err(|what| IngestError::Read {
        key: key.clone(),
        what,
    })?;
    let spec = PlateSpec {
        input: Some(InputTransform::new(input_space(clip))),
        ..PlateSpec::default()
    };
    let (_, img, _) = decode_to_aces(&bytes, &spec).map_err(|e| IngestError::Decode {
        key: key.clone(),
        what: e.to_string(),
    })?;
    let view = OutputTransform::with_view(Display::Srgb, View::Aces20Sdr100Rec709);
    let (w, h, rgb) = preview_rgb8_with(&img, opts.max_width, &view);
    let jpeg = encode_jpeg(w, h, &rgb, opts.quality).map_err(|e| IngestError::Decode {
        key,
        what: e.to_string(),
    })?;
    Ok((frame, w, h, jpeg))
}

/// Where a clip's thumbnail is stored, relative to its location: beside the footage, under
/// `.platefarm/thumbnails/` (a dot folder, so a later ingest of the location skips it), named
/// by the clip's key with `/` and `%` made `_` so clips of different folders never collide.
pub fn thumbnail_key(clip: &ClipRecord) -> String {
    let name: String = clip
        .key
        .chars()
        .map(|c| {
            if matches!(c, '/' | '%' | '\\') {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!(".platefarm/thumbnails/{name}.jpg")
}

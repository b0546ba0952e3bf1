//! OpenEXR output for plates: RGB half (or float), PIZ / ZIP / ZIPS / none, ACES AP0
//! chromaticities and the header attributes a VFX pull carries (timecode, frame rate, reel,
//! camera, lens, the FDL as `ascFramingDecisionList`, the AMF's UUID). Also a reader for
//! RGB(A) EXRs. Encoding (in `exr_write`) runs its blocks on the caller's pool and is
//! byte-deterministic.

use crate::exr_write::{encode_exr_layout, ExrLayout};
use crate::{DecodeLimits, ImagingError, RgbImage};
use exr::prelude::*;
use std::io::Cursor;
use std::result::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExrCompression {
    #[default]
    Piz,
    Zip,
    Zips,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExrPixel {
    #[default]
    Half,
    Float,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExrOptions {
    pub compression: ExrCompression,
    pub pixel: ExrPixel,
}

/// Header attributes of one plate frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameHeader {
    pub frame: u32,
    /// SMPTE `HH:MM:SS:FF` (`;` before frames for drop-frame).
    pub timecode: Option<String>,
    pub frame_rate: Option<(u32, u32)>,
    pub reel_name: Option<String>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub camera_serial: Option<String>,
    pub lens: Option<String>,
    pub iso: Option<u32>,
    /// The shot's FDL JSON, as the `ascFramingDecisionList` attribute.
    pub fdl_json: Option<String>,
    pub amf_uuid: Option<String>,
    /// More string attributes, e.g. `("clipName", "A001C003")`.
    pub extra: Vec<(String, String)>,
}

/// Encodes an ACES2065-1 RGB image as an OpenEXR file in memory (data window = display
/// window at the origin). See [`encode_exr_layout`] for windows and alpha.
pub fn encode_exr(
    img: &RgbImage,
    opts: &ExrOptions,
    header: &FrameHeader,
) -> Result<Vec<u8>, ImagingError> {
    encode_exr_layout(
        &img.data,
        3,
        &ExrLayout::plain(img.width, img.height),
        opts,
        header,
    )
}

/// The header of an EXR within `limits` (checked before any pixel storage is allocated).
fn checked_meta(bytes: &[u8], limits: &DecodeLimits) -> Result<exr::meta::MetaData, ImagingError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ImagingError::Limits {
            what: format!(
                "EXR is {} bytes, over the limit of {}",
                bytes.len(),
                limits.max_bytes
            ),
        });
    }
    // Check the header's size before the reader allocates pixel storage.
    let meta = exr::meta::MetaData::read_from_buffered(Cursor::new(bytes), false).map_err(|e| {
        ImagingError::Format {
            what: format!("OpenEXR header: {e}"),
        }
    })?;
    let size = meta
        .headers
        .first()
        .map(|h| h.layer_size)
        .ok_or_else(|| ImagingError::Format {
            what: "OpenEXR file has no layers".into(),
        })?;
    if size.0 as u64 > limits.max_width as u64
        || size.1 as u64 > limits.max_height as u64
        || (size.0 * size.1) as u64 > limits.max_pixels
    {
        return Err(ImagingError::Limits {
            what: format!("EXR layer {}×{} exceeds the decode limits", size.0, size.1),
        });
    }
    Ok(meta)
}

/// Reads the first RGB(A) layer of an EXR as float RGB (alpha dropped).
pub fn decode_exr(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, ImagingError> {
    checked_meta(bytes, limits)?;
    let image = read()
        .no_deep_data()
        .largest_resolution_level()
        .rgba_channels(
            |resolution, _| RgbImage {
                width: resolution.0 as u32,
                height: resolution.1 as u32,
                data: vec![0.0; resolution.0 * resolution.1 * 3],
            },
            |img: &mut RgbImage, pos, (r, g, b, _a): (f32, f32, f32, f32)| {
                let i = (pos.1 * img.width as usize + pos.0) * 3;
                img.data[i] = r;
                img.data[i + 1] = g;
                img.data[i + 2] = b;
            },
        )
        .first_valid_layer()
        .all_attributes()
        .non_parallel()
        .from_buffered(Cursor::new(bytes))
        .map_err(|e| ImagingError::Format {
            what: format!("OpenEXR: {e}"),
        })?;
    Ok(image.layer_data.channel_data.pixels)
}

/// An EXR layer as stored: interleaved RGB or RGBA (alpha premultiplied, the EXR convention)
/// covering `layout.data`, with the display window beside it (overscan, negative origins).
#[derive(Debug, Clone, PartialEq)]
pub struct ExrPixels {
    pub data: Vec<f32>,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: usize,
    pub layout: ExrLayout,
}

/// Reads the first RGB(A) layer of an EXR (level 0 of a tiled or mip-mapped file) with its
/// data and display windows, and its alpha if it has one.
pub fn decode_exr_layout(bytes: &[u8], limits: &DecodeLimits) -> Result<ExrPixels, ImagingError> {
    let meta = checked_meta(bytes, limits)?;
    let has_alpha = meta
        .headers
        .first()
        .is_some_and(|h| h.channels.list.iter().any(|c| c.name.to_string() == "A"));
    let channels = if has_alpha { 4 } else { 3 };
    struct Buf {
        width: usize,
        channels: usize,
        data: Vec<f32>,
    }
    let image = read()
        .no_deep_data()
        .largest_resolution_level()
        .rgba_channels(
            move |resolution, _| Buf {
                width: resolution.0,
                channels,
                data: vec![0.0; resolution.0 * resolution.1 * channels],
            },
            |buf: &mut Buf, pos, (r, g, b, a): (f32, f32, f32, f32)| {
                let i = (pos.1 * buf.width + pos.0) * buf.channels;
                buf.data[i] = r;
                buf.data[i + 1] = g;
                buf.data[i + 2] = b;
                if buf.channels == 4 {
                    buf.data[i + 3] = a;
                }
            },
        )
        .first_valid_layer()
        .all_attributes()
        .non_parallel()
        .from_buffered(Cursor::new(bytes))
        .map_err(|e| ImagingError::Format {
            what: format!("OpenEXR: {e}"),
        })?;
    let size = image.layer_data.size;
    let origin = image.layer_data.attributes.layer_position;
    let display = image.attributes.display_window;
    let window = |x: i32, y: i32, w: usize, h: usize| -> Result<crate::Window, ImagingError> {
        match (u32::try_from(w), u32::try_from(h)) {
            (Ok(width), Ok(height)) => Ok(crate::Window {
                x,
                y,
                width,
                height,
            }),
            _ => Err(ImagingError::Limits {
                what: format!("EXR window {w}×{h} is too large"),
            }),
        }
    };
    Ok(ExrPixels {
        data: image.layer_data.channel_data.pixels.data,
        channels,
        layout: ExrLayout {
            data: window(origin.0, origin.1, size.0, size.1)?,
            display: window(
                display.position.0,
                display.position.1,
                display.size.0,
                display.size.1,
            )?,
        },
    })
}

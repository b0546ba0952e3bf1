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

fn part_names(meta: &exr::meta::MetaData) -> Vec<String> {
    meta.headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            h.own_attributes
                .layer_name
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("#{i}"))
        })
        .collect()
}

/// A multi-part file is never read silently as its first part: the error names the parts.
fn multi_part(meta: &exr::meta::MetaData) -> ImagingError {
    ImagingError::Unsupported {
        what: format!(
            "OpenEXR with {} parts ({}): choose one (platefarm convert --part NAME) or extract it (oiiotool IN --subimage NAME -o OUT)",
            meta.headers.len(),
            part_names(meta).join(", ")
        ),
    }
}

/// Reads the first RGB(A) layer of an EXR as float RGB (alpha dropped).
pub fn decode_exr(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, ImagingError> {
    let meta = checked_meta(bytes, limits)?;
    if meta.headers.len() > 1 {
        return Err(multi_part(&meta));
    }
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
/// `part` picks a part of a multi-part file by name or index (`None`: the file must have one).
pub fn decode_exr_layout(
    bytes: &[u8],
    limits: &DecodeLimits,
    part: Option<&str>,
) -> Result<ExrPixels, ImagingError> {
    let meta = checked_meta(bytes, limits)?;
    let names = part_names(&meta);
    let index = match part {
        None if meta.headers.len() > 1 => return Err(multi_part(&meta)),
        None => 0,
        Some(p) => names
            .iter()
            .position(|n| n == p)
            .or_else(|| p.parse::<usize>().ok().filter(|i| *i < names.len()))
            .ok_or_else(|| ImagingError::Unsupported {
                what: format!("OpenEXR has no part {p:?} (parts: {})", names.join(", ")),
            })?,
    };
    let header = &meta.headers[index];
    let size = header.layer_size;
    if (size.0 * size.1) as u64 > limits.max_pixels {
        return Err(ImagingError::Limits {
            what: format!("EXR part {}×{} exceeds the decode limits", size.0, size.1),
        });
    }
    let has = |c: &str| {
        header
            .channels
            .list
            .iter()
            .any(|ch| ch.name.to_string() == c)
    };
    if !(has("R") && has("G") && has("B")) {
        return Err(ImagingError::Unsupported {
            what: format!("OpenEXR part {:?} has no R, G and B channels", names[index]),
        });
    }
    let has_alpha = has("A");
    let channels = if has_alpha { 4 } else { 3 };
    // Every part is read with all its channels (so parts without RGB do not stop the read);
    // the chosen one is interleaved below.
    let image = read()
        .no_deep_data()
        .largest_resolution_level()
        .all_channels()
        .all_layers()
        .all_attributes()
        .non_parallel()
        .from_buffered(Cursor::new(bytes))
        .map_err(|e| ImagingError::Format {
            what: format!("OpenEXR: {e}"),
        })?;
    let display = image.attributes.display_window;
    let layer = image
        .layer_data
        .into_iter()
        .nth(index)
        .ok_or_else(|| ImagingError::Format {
            what: format!("OpenEXR: part {:?} could not be read", names[index]),
        })?;
    let n = layer.size.0 * layer.size.1;
    let mut data = vec![0f32; n * channels];
    for (c, name) in ["R", "G", "B", "A"].iter().take(channels).enumerate() {
        let ch = layer
            .channel_data
            .list
            .iter()
            .find(|ch| ch.name.to_string() == *name)
            .ok_or_else(|| ImagingError::Format {
                what: format!("OpenEXR: channel {name} missing"),
            })?;
        if ch.sampling != exr::math::Vec2(1, 1) || ch.sample_data.len() != n {
            return Err(ImagingError::Unsupported {
                what: format!("OpenEXR channel {name} is subsampled"),
            });
        }
        for (i, v) in ch.sample_data.values_as_f32().enumerate() {
            data[i * channels + c] = v;
        }
    }
    let size = layer.size;
    let origin = layer.attributes.layer_position;
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
        data,
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

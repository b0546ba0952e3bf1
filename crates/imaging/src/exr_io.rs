//! OpenEXR output for plates: RGB half (or float), PIZ / ZIP / ZIPS / none, ACES AP0
//! chromaticities and the header attributes a VFX pull carries (timecode, frame rate, reel,
//! camera, lens, the FDL as `ascFramingDecisionList`, the AMF's UUID). Also a reader for
//! RGB(A) EXRs. Encoding is single-threaded per frame and byte-deterministic.

use crate::{DecodeLimits, ImagingError, RgbImage};
use exr::meta::attribute::{Chromaticities, TimeCode};
use exr::prelude::*;
use std::result::Result;
use std::collections::HashMap;
use std::io::Cursor;

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

fn parse_timecode(tc: &str) -> Option<TimeCode> {
    let drop_frame = tc.contains(';');
    let parts: Vec<u8> = tc.split([':', ';']).map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [hours, minutes, seconds, frame] = parts[..] else { return None };
    if hours > 23 || minutes > 59 || seconds > 59 || frame > 29 {
        return None;
    }
    Some(TimeCode { hours, minutes, seconds, frame, drop_frame, color_frame: false, field_phase: false, binary_group_flags: [false; 3], binary_groups: [0; 8] })
}

fn text(name: &str, value: &str) -> Result<(Text, AttributeValue), ImagingError> {
    let v = Text::new_or_none(value).ok_or_else(|| ImagingError::Encode { what: format!("EXR attribute {name}: value has characters outside Latin-1") })?;
    Ok((Text::from(name), AttributeValue::Text(v)))
}

/// Encodes an ACES2065-1 image as an OpenEXR file in memory.
pub fn encode_exr(img: &RgbImage, opts: &ExrOptions, header: &FrameHeader) -> Result<Vec<u8>, ImagingError> {
    let (w, h) = (img.width as usize, img.height as usize);
    if img.data.len() != w * h * 3 || w == 0 || h == 0 {
        return Err(ImagingError::Encode { what: format!("image buffer holds {} values for {w}×{h} RGB", img.data.len()) });
    }
    let compression = match opts.compression {
        ExrCompression::Piz => Compression::PIZ,
        ExrCompression::Zip => Compression::ZIP16,
        ExrCompression::Zips => Compression::ZIP1,
        ExrCompression::None => Compression::Uncompressed,
    };
    let encoding = Encoding { compression, blocks: Blocks::ScanLines, line_order: LineOrder::Increasing };
    let mut layer_attrs = LayerAttributes { software_name: Some(Text::from("platefarm")), ..LayerAttributes::default() };
    if let Some((n, d)) = header.frame_rate {
        layer_attrs.frames_per_second = Some((n as i32, d));
    }
    if let Some(iso) = header.iso {
        layer_attrs.iso_speed = Some(iso as f32);
    }
    let mut other: HashMap<Text, AttributeValue> = HashMap::new();
    let mut put = |name: &str, value: &Option<String>| -> Result<(), ImagingError> {
        if let Some(v) = value {
            let (k, v) = text(name, v)?;
            other.insert(k, v);
        }
        Ok(())
    };
    put("reelName", &header.reel_name)?;
    put("cameraMake", &header.camera_make)?;
    put("cameraModel", &header.camera_model)?;
    put("cameraSerialNumber", &header.camera_serial)?;
    put("lensModel", &header.lens)?;
    put("ascFramingDecisionList", &header.fdl_json)?;
    put("amfUUID", &header.amf_uuid)?;
    for (k, v) in &header.extra {
        put(k, &Some(v.clone()))?;
    }
    other.insert(Text::from("imageCounter"), AttributeValue::I32(header.frame.min(i32::MAX as u32) as i32));
    let time_code = match &header.timecode {
        None => None,
        Some(tc) => Some(parse_timecode(tc).ok_or_else(|| ImagingError::Encode { what: format!("timecode {tc:?} is not HH:MM:SS:FF") })?),
    };
    let mut image_attrs = ImageAttributes::new(IntegerBounds::from_dimensions((w, h)));
    image_attrs.chromaticities = Some(Chromaticities {
        red: Vec2(0.7347, 0.2653),
        green: Vec2(0.0, 1.0),
        blue: Vec2(0.0001, -0.077),
        white: Vec2(0.32168, 0.33767),
    });
    image_attrs.time_code = time_code;
    image_attrs.other = other;
    let data = &img.data;
    let mut out = Cursor::new(Vec::with_capacity(w * h * 3));
    let result = match opts.pixel {
        ExrPixel::Half => {
            let channels = SpecificChannels::rgb(|Vec2(x, y): Vec2<usize>| {
                let p = &data[(y * w + x) * 3..][..3];
                (f16::from_f32(p[0]), f16::from_f32(p[1]), f16::from_f32(p[2]))
            });
            let layer = Layer::new((w, h), layer_attrs, encoding, channels);
            Image::new(image_attrs, layer).write().non_parallel().to_buffered(&mut out)
        }
        ExrPixel::Float => {
            let channels = SpecificChannels::rgb(|Vec2(x, y): Vec2<usize>| {
                let p = &data[(y * w + x) * 3..][..3];
                (p[0], p[1], p[2])
            });
            let layer = Layer::new((w, h), layer_attrs, encoding, channels);
            Image::new(image_attrs, layer).write().non_parallel().to_buffered(&mut out)
        }
    };
    result.map_err(|e| ImagingError::Encode { what: format!("OpenEXR: {e}") })?;
    Ok(out.into_inner())
}

/// Reads the first RGB(A) layer of an EXR as float RGB (alpha dropped).
pub fn decode_exr(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, ImagingError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ImagingError::Limits { what: format!("EXR is {} bytes, over the limit of {}", bytes.len(), limits.max_bytes) });
    }
    // Check the header's size before the reader allocates pixel storage.
    let meta = exr::meta::MetaData::read_from_buffered(Cursor::new(bytes), false).map_err(|e| ImagingError::Format { what: format!("OpenEXR header: {e}") })?;
    let size = meta.headers.first().map(|h| h.layer_size).ok_or_else(|| ImagingError::Format { what: "OpenEXR file has no layers".into() })?;
    if size.0 as u64 > limits.max_width as u64 || size.1 as u64 > limits.max_height as u64 || (size.0 * size.1) as u64 > limits.max_pixels {
        return Err(ImagingError::Limits { what: format!("EXR layer {}×{} exceeds the decode limits", size.0, size.1) });
    }
    let image = read()
        .no_deep_data()
        .largest_resolution_level()
        .rgba_channels(
            |resolution, _| RgbImage { width: resolution.0 as u32, height: resolution.1 as u32, data: vec![0.0; resolution.0 * resolution.1 * 3] },
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
        .map_err(|e| ImagingError::Format { what: format!("OpenEXR: {e}") })?;
    Ok(image.layer_data.channel_data.pixels)
}

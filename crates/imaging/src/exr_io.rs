//! OpenEXR output for plates: RGB half (or float), PIZ / ZIP / ZIPS / none, ACES AP0
//! chromaticities and the header attributes a VFX pull carries (timecode, frame rate, reel,
//! camera, lens, the FDL as `ascFramingDecisionList`, the AMF's UUID). Also a reader for
//! RGB(A) EXRs. Encoding is single-threaded per frame and byte-deterministic.

use crate::{DecodeLimits, ImagingError, RgbImage};
use exr::meta::attribute::{Chromaticities, TimeCode};
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

fn parse_timecode(tc: &str) -> Option<TimeCode> {
    let drop_frame = tc.contains(';');
    let parts: Vec<u8> = tc
        .split([':', ';'])
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds, frame] = parts[..] else {
        return None;
    };
    if hours > 23 || minutes > 59 || seconds > 59 || frame > 29 {
        return None;
    }
    Some(TimeCode {
        hours,
        minutes,
        seconds,
        frame,
        drop_frame,
        color_frame: false,
        field_phase: false,
        binary_group_flags: [false; 3],
        binary_groups: [0; 8],
    })
}

/// EXR strings are Latin-1: refuse anything else with the attribute's name.
fn text(name: &str, value: &str) -> Result<(), ImagingError> {
    Text::new_or_none(value)
        .map(|_| ())
        .ok_or_else(|| ImagingError::Encode {
            what: format!("EXR attribute {name}: value has characters outside Latin-1"),
        })
}

/// Encodes an ACES2065-1 image as an OpenEXR file in memory.
pub fn encode_exr(
    img: &RgbImage,
    opts: &ExrOptions,
    header: &FrameHeader,
) -> Result<Vec<u8>, ImagingError> {
    let (w, h) = (img.width as usize, img.height as usize);
    if img.data.len() != w * h * 3 || w == 0 || h == 0 {
        return Err(ImagingError::Encode {
            what: format!(
                "image buffer holds {} values for {w}×{h} RGB",
                img.data.len()
            ),
        });
    }
    let compression = match opts.compression {
        ExrCompression::Piz => Compression::PIZ,
        ExrCompression::Zip => Compression::ZIP16,
        ExrCompression::Zips => Compression::ZIP1,
        ExrCompression::None => Compression::Uncompressed,
    };
    let encoding = Encoding {
        compression,
        blocks: Blocks::ScanLines,
        line_order: LineOrder::Increasing,
    };
    let mut layer_attrs = LayerAttributes {
        software_name: Some(Text::from("platefarm")),
        ..LayerAttributes::default()
    };
    if let Some((n, d)) = header.frame_rate {
        layer_attrs.frames_per_second = Some((n as i32, d));
    }
    if let Some(iso) = header.iso {
        layer_attrs.iso_speed = Some(iso as f32);
    }
    // Custom attributes are inserted after encoding, sorted by name: the exr crate keeps them
    // in a HashMap whose order changes from run to run, and plates must be byte-deterministic.
    let mut other: Vec<(String, &'static str, Vec<u8>)> = Vec::new();
    let mut put = |name: &str, value: &Option<String>| -> Result<(), ImagingError> {
        if let Some(v) = value {
            text(name, v)?;
            let latin1: Vec<u8> = v.chars().map(|c| c as u32 as u8).collect();
            other.push((name.to_string(), "string", latin1));
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
    other.push((
        "imageCounter".into(),
        "int",
        (header.frame.min(i32::MAX as u32) as i32)
            .to_le_bytes()
            .to_vec(),
    ));
    other.sort_by(|a, b| a.0.cmp(&b.0));
    let time_code = match &header.timecode {
        None => None,
        Some(tc) => Some(parse_timecode(tc).ok_or_else(|| ImagingError::Encode {
            what: format!("timecode {tc:?} is not HH:MM:SS:FF"),
        })?),
    };
    let mut image_attrs = ImageAttributes::new(IntegerBounds::from_dimensions((w, h)));
    image_attrs.chromaticities = Some(Chromaticities {
        red: Vec2(0.7347, 0.2653),
        green: Vec2(0.0, 1.0),
        blue: Vec2(0.0001, -0.077),
        white: Vec2(0.32168, 0.33767),
    });
    image_attrs.time_code = time_code;
    let data = &img.data;
    let mut out = Cursor::new(Vec::with_capacity(w * h * 3));
    let result = match opts.pixel {
        ExrPixel::Half => {
            let channels = SpecificChannels::rgb(|Vec2(x, y): Vec2<usize>| {
                let p = &data[(y * w + x) * 3..][..3];
                (
                    f16::from_f32(p[0]),
                    f16::from_f32(p[1]),
                    f16::from_f32(p[2]),
                )
            });
            let layer = Layer::new((w, h), layer_attrs, encoding, channels);
            Image::new(image_attrs, layer)
                .write()
                .non_parallel()
                .to_buffered(&mut out)
        }
        ExrPixel::Float => {
            let channels = SpecificChannels::rgb(|Vec2(x, y): Vec2<usize>| {
                let p = &data[(y * w + x) * 3..][..3];
                (p[0], p[1], p[2])
            });
            let layer = Layer::new((w, h), layer_attrs, encoding, channels);
            Image::new(image_attrs, layer)
                .write()
                .non_parallel()
                .to_buffered(&mut out)
        }
    };
    result.map_err(|e| ImagingError::Encode {
        what: format!("OpenEXR: {e}"),
    })?;
    insert_attributes(out.into_inner(), &other)
}

/// Inserts attributes at the end of a single-part scanline EXR header and shifts the chunk
/// offset table by the bytes added.
fn insert_attributes(
    file: Vec<u8>,
    attrs: &[(String, &str, Vec<u8>)],
) -> Result<Vec<u8>, ImagingError> {
    let bad = || ImagingError::Encode {
        what: "unexpected OpenEXR header layout".into(),
    };
    let mut pos = 8; // magic + version
    loop {
        let name_end = pos
            + file
                .get(pos..)
                .ok_or_else(bad)?
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(bad)?;
        if name_end == pos {
            break; // the empty name ends the header
        }
        let type_end = name_end
            + 1
            + file
                .get(name_end + 1..)
                .ok_or_else(bad)?
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(bad)?;
        let size = i32::from_le_bytes(
            file.get(type_end + 1..type_end + 5)
                .ok_or_else(bad)?
                .try_into()
                .expect("4 bytes"),
        );
        pos = type_end + 5 + usize::try_from(size).map_err(|_| bad())?;
    }
    let mut added = Vec::new();
    for (name, typ, value) in attrs {
        added.extend_from_slice(name.as_bytes());
        added.push(0);
        added.extend_from_slice(typ.as_bytes());
        added.push(0);
        added.extend_from_slice(&(value.len() as i32).to_le_bytes());
        added.extend_from_slice(value);
    }
    let table_start = pos + 1;
    let first = u64::from_le_bytes(
        file.get(table_start..table_start + 8)
            .ok_or_else(bad)?
            .try_into()
            .expect("8 bytes"),
    );
    let n_chunks = (first as usize).checked_sub(table_start).ok_or_else(bad)? / 8;
    let delta = added.len() as u64;
    let mut out = Vec::with_capacity(file.len() + added.len());
    out.extend_from_slice(&file[..pos]);
    out.extend_from_slice(&added);
    out.push(0);
    for i in 0..n_chunks {
        let at = table_start + 8 * i;
        let offset = u64::from_le_bytes(file[at..at + 8].try_into().expect("8 bytes"));
        out.extend_from_slice(&(offset + delta).to_le_bytes());
    }
    out.extend_from_slice(&file[table_start + 8 * n_chunks..]);
    Ok(out)
}

/// Reads the first RGB(A) layer of an EXR as float RGB (alpha dropped).
pub fn decode_exr(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, ImagingError> {
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

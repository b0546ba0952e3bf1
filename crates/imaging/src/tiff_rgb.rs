//! TIFF RGB images (8/16-bit integer and 32-bit float, RGB or RGBA, contiguous or planar, any
//! compression the `tiff` crate reads: none, LZW, Deflate, PackBits) as normalised float RGB:
//! integers map 0..=max to 0..=1, floats pass through. `decode_tiff_rgba` keeps the alpha.

use crate::{DecodeLimits, ImagingError, RgbImage};
use std::io::Cursor;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::ColorType;

/// A TIFF's RGB and, if it has one, its alpha.
#[derive(Debug, Clone, PartialEq)]
pub struct TiffRgba {
    pub rgb: RgbImage,
    pub alpha: Option<Vec<f32>>,
    /// The file's colour is premultiplied by its alpha (`ExtraSamples` = associated alpha).
    pub premultiplied: bool,
}

pub fn decode_tiff(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, ImagingError> {
    decode_tiff_rgba(bytes, limits).map(|t| t.rgb)
}

pub fn decode_tiff_rgba(bytes: &[u8], limits: &DecodeLimits) -> Result<TiffRgba, ImagingError> {
    let fmt = |e: tiff::TiffError| ImagingError::Format {
        what: format!("TIFF: {e}"),
    };
    let mut tl = Limits::default();
    tl.decoding_buffer_size = limits.max_bytes.min(usize::MAX as u64) as usize;
    tl.intermediate_buffer_size = limits.max_bytes.min(usize::MAX as u64) as usize;
    let mut dec = Decoder::new(Cursor::new(bytes))
        .map_err(fmt)?
        .with_limits(tl);
    let (w, h) = dec.dimensions().map_err(fmt)?;
    if w == 0
        || h == 0
        || w > limits.max_width
        || h > limits.max_height
        || w as u64 * h as u64 > limits.max_pixels
    {
        return Err(ImagingError::Limits {
            what: format!("TIFF {w}×{h} exceeds the decode limits"),
        });
    }
    let channels = match dec.colortype().map_err(fmt)? {
        ColorType::RGB(_) => 3,
        ColorType::RGBA(_) => 4,
        other => {
            return Err(ImagingError::Unsupported {
                what: format!("TIFF colour type {other:?} (RGB or RGBA, 8/16-bit or float)"),
            })
        }
    };
    let n = w as usize * h as usize;
    let tag_u32 = |dec: &mut Decoder<Cursor<&[u8]>>, tag: Tag| {
        dec.find_tag(tag)
            .ok()
            .flatten()
            .and_then(|v| v.into_u32().ok())
    };
    let planar = tag_u32(&mut dec, Tag::PlanarConfiguration) == Some(2);
    let premultiplied = tag_u32(&mut dec, Tag::ExtraSamples) == Some(1);
    // Every plane of a planar file (plane after plane); `read_image` would read only the first.
    let mut result = DecodingResult::U8(Vec::new());
    dec.read_image_to_buffer(&mut result).map_err(fmt)?;
    let samples: Vec<f32> = match result {
        DecodingResult::U8(v) => v.into_iter().map(|x| x as f32 / 255.0).collect(),
        DecodingResult::U16(v) => v.into_iter().map(|x| x as f32 / 65535.0).collect(),
        DecodingResult::F32(v) => v,
        _ => {
            return Err(ImagingError::Unsupported {
                what: "TIFF sample format (8/16-bit integer or 32-bit float)".into(),
            })
        }
    };
    if samples.len() < n * channels {
        return Err(ImagingError::Format {
            what: format!(
                "TIFF holds {} samples for {w}×{h}×{channels}",
                samples.len()
            ),
        });
    }
    let sample = |i: usize, c: usize| {
        if planar {
            samples[c * n + i]
        } else {
            samples[i * channels + c]
        }
    };
    let data = if channels == 3 && !planar {
        samples[..n * 3].to_vec()
    } else {
        (0..n)
            .flat_map(|i| [sample(i, 0), sample(i, 1), sample(i, 2)])
            .collect()
    };
    let alpha = (channels == 4).then(|| (0..n).map(|i| sample(i, 3)).collect());
    Ok(TiffRgba {
        rgb: RgbImage {
            width: w,
            height: h,
            data,
        },
        alpha,
        premultiplied,
    })
}

/// Writes float RGB as a 32-bit float TIFF (for tests and interchange).
pub fn encode_tiff_f32(img: &RgbImage) -> Result<Vec<u8>, ImagingError> {
    let mut out = Cursor::new(Vec::new());
    let mut enc = tiff::encoder::TiffEncoder::new(&mut out).map_err(|e| ImagingError::Encode {
        what: format!("TIFF: {e}"),
    })?;
    enc.write_image::<tiff::encoder::colortype::RGB32Float>(img.width, img.height, &img.data)
        .map_err(|e| ImagingError::Encode {
            what: format!("TIFF: {e}"),
        })?;
    Ok(out.into_inner())
}

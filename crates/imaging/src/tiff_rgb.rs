//! TIFF RGB images (8/16-bit integer and 32-bit float, RGB or RGBA) through the `tiff` crate,
//! as normalised float RGB: integers map 0..=max to 0..=1, floats pass through.

use crate::{DecodeLimits, ImagingError, RgbImage};
use std::io::Cursor;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::ColorType;

pub fn decode_tiff(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, ImagingError> {
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
    let samples: Vec<f32> = match dec.read_image().map_err(fmt)? {
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
    let data = if channels == 3 {
        samples[..n * 3].to_vec()
    } else {
        samples
            .chunks_exact(4)
            .take(n)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect()
    };
    Ok(RgbImage {
        width: w,
        height: h,
        data,
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

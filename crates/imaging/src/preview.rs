//! Quick looks for people: ACES2065-1 through an output transform (platefarm-color; the
//! contact sheet uses ACES 1.3 sRGB), box-downscaled; PNG and JPEG encoding; contact sheets.

use crate::{ImagingError, RgbImage};
use platefarm_color::{Display, OutputTransform};
use rayon::prelude::*;

/// An 8-bit sRGB preview no wider than `max_width` — box-downscaled ACES2065-1 through the ACES
/// 1.3 "SDR Video" output transform for sRGB displays: `(width, height, pixels)`.
pub fn preview_rgb8(img: &RgbImage, max_width: u32) -> (u32, u32, Vec<u8>) {
    preview_rgb8_with(img, max_width, &OutputTransform::new(Display::Srgb))
}

/// As [`preview_rgb8`] through any display/view output transform.
pub fn preview_rgb8_with(
    img: &RgbImage,
    max_width: u32,
    ot: &OutputTransform,
) -> (u32, u32, Vec<u8>) {
    let factor = img.width.div_ceil(max_width.max(1)).max(1) as usize;
    let (w, h) = (
        (img.width as usize / factor).max(1),
        (img.height as usize / factor).max(1),
    );
    let src_w = img.width as usize;
    let mut out = vec![0u8; w * h * 3];
    out.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        for x in 0..w {
            let mut acc = [0f64; 3];
            let mut n = 0f64;
            for sy in y * factor..((y + 1) * factor).min(img.height as usize) {
                for sx in x * factor..((x + 1) * factor).min(src_w) {
                    let p = &img.data[(sy * src_w + sx) * 3..][..3];
                    for c in 0..3 {
                        acc[c] += p[c] as f64;
                    }
                    n += 1.0;
                }
            }
            let code = ot.apply_pixel(acc.map(|v| v / n.max(1.0)));
            for c in 0..3 {
                row[x * 3 + c] = (code[c].clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
    });
    (w as u32, h as u32, out)
}

/// An 8-bit RGB PNG tagged as sRGB.
pub fn encode_png(width: u32, height: u32, rgb8: &[u8]) -> Result<Vec<u8>, ImagingError> {
    encode_png_tagged(width, height, rgb8, true)
}

fn check_rgb8(what: &str, width: u32, height: u32, rgb8: &[u8]) -> Result<(), ImagingError> {
    if rgb8.len() != width as usize * height as usize * 3 || width == 0 || height == 0 {
        return Err(ImagingError::Encode {
            what: format!(
                "{what} buffer holds {} bytes for {width}×{height} RGB",
                rgb8.len()
            ),
        });
    }
    Ok(())
}

/// An 8-bit RGB PNG; `srgb` adds the sRGB chunk (leave it off for other displays' code values).
pub fn encode_png_tagged(
    width: u32,
    height: u32,
    rgb8: &[u8],
    srgb: bool,
) -> Result<Vec<u8>, ImagingError> {
    check_rgb8("PNG", width, height, rgb8)?;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        if srgb {
            enc.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
        }
        let mut writer = enc.write_header().map_err(|e| ImagingError::Encode {
            what: format!("PNG: {e}"),
        })?;
        writer
            .write_image_data(rgb8)
            .map_err(|e| ImagingError::Encode {
                what: format!("PNG: {e}"),
            })?;
    }
    Ok(out)
}

/// An 8-bit RGB baseline JPEG at `quality` (1–100; 4:2:0 chroma below 90, 4:4:4 from 90).
pub fn encode_jpeg(
    width: u32,
    height: u32,
    rgb8: &[u8],
    quality: u8,
) -> Result<Vec<u8>, ImagingError> {
    check_rgb8("JPEG", width, height, rgb8)?;
    let (w, h) = match (u16::try_from(width), u16::try_from(height)) {
        (Ok(w), Ok(h)) => (w, h),
        _ => {
            return Err(ImagingError::Encode {
                what: format!("JPEG is limited to 65535×65535, image is {width}×{height}"),
            })
        }
    };
    let quality = quality.clamp(1, 100);
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    if quality >= 90 {
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    }
    enc.encode(rgb8, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| ImagingError::Encode {
            what: format!("JPEG: {e}"),
        })?;
    Ok(out)
}

/// Lays tiles out in a grid of `columns` with an 8-pixel dark-grey gutter.
pub fn contact_sheet(tiles: &[(u32, u32, Vec<u8>)], columns: usize) -> (u32, u32, Vec<u8>) {
    const GUTTER: usize = 8;
    let columns = columns.max(1).min(tiles.len().max(1));
    let cell_w = tiles.iter().map(|t| t.0 as usize).max().unwrap_or(1);
    let cell_h = tiles.iter().map(|t| t.1 as usize).max().unwrap_or(1);
    let rows = tiles.len().div_ceil(columns).max(1);
    let (w, h) = (
        columns * cell_w + (columns + 1) * GUTTER,
        rows * cell_h + (rows + 1) * GUTTER,
    );
    let mut out = vec![32u8; w * h * 3];
    for (i, (tw, th, px)) in tiles.iter().enumerate() {
        let (ox, oy) = (
            GUTTER + (i % columns) * (cell_w + GUTTER),
            GUTTER + (i / columns) * (cell_h + GUTTER),
        );
        for y in 0..*th as usize {
            let src = &px[y * *tw as usize * 3..][..*tw as usize * 3];
            out[((oy + y) * w + ox) * 3..][..src.len()].copy_from_slice(src);
        }
    }
    (w as u32, h as u32, out)
}

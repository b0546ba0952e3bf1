//! Quick looks for people: an ACES2065-1 image through a simple view (AP0 → Rec.709 primaries,
//! a filmic shoulder, sRGB encoding), box-downscaled; PNG encoding; contact sheets. Not a
//! reference output transform — those live in platefarm-color.

use crate::{ImagingError, RgbImage};
use platefarm_color::{bradford_cat, rgb_to_xyz, ACES_WHITE_XY, AP0, D65_XY, REC709};
use rayon::prelude::*;

fn srgb_encode(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// A gentle tone curve: linear toe, soft shoulder reaching 1.0 asymptotically; 0.18 → ~0.18.
fn tone(v: f32) -> f32 {
    let v = v.max(0.0) * 1.2;
    v / (1.0 + v * 0.85)
}

/// An 8-bit RGB preview no wider than `max_width`: `(width, height, pixels)`.
pub fn preview_rgb8(img: &RgbImage, max_width: u32) -> (u32, u32, Vec<u8>) {
    let m = rgb_to_xyz(&REC709)
        .inverse()
        .expect("Rec.709 is invertible")
        .mul(&bradford_cat(ACES_WHITE_XY, D65_XY))
        .mul(&rgb_to_xyz(&AP0))
        .to_f32();
    let factor = img.width.div_ceil(max_width.max(1)).max(1) as usize;
    let (w, h) = (
        (img.width as usize / factor).max(1),
        (img.height as usize / factor).max(1),
    );
    let src_w = img.width as usize;
    let mut out = vec![0u8; w * h * 3];
    out.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        for x in 0..w {
            let mut acc = [0f32; 3];
            let mut n = 0f32;
            for sy in y * factor..((y + 1) * factor).min(img.height as usize) {
                for sx in x * factor..((x + 1) * factor).min(src_w) {
                    let p = &img.data[(sy * src_w + sx) * 3..][..3];
                    for c in 0..3 {
                        acc[c] += p[c];
                    }
                    n += 1.0;
                }
            }
            let aces = acc.map(|v| v / n.max(1.0));
            for c in 0..3 {
                let lin = m[c][0] * aces[0] + m[c][1] * aces[1] + m[c][2] * aces[2];
                row[x * 3 + c] = (srgb_encode(tone(lin)).clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
    });
    (w as u32, h as u32, out)
}

pub fn encode_png(width: u32, height: u32, rgb8: &[u8]) -> Result<Vec<u8>, ImagingError> {
    if rgb8.len() != width as usize * height as usize * 3 {
        return Err(ImagingError::Encode {
            what: format!(
                "PNG buffer holds {} bytes for {width}×{height} RGB",
                rgb8.len()
            ),
        });
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
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

//! DNG / CinemaDNG decoding: find the raw IFD, read its strips or tiles (uncompressed 8–16-bit
//! or lossless JPEG), apply the linearisation table, and collect what developing needs —
//! CFA pattern, black and white levels, crop, white balance, colour matrices — and the camera
//! metadata (make, model, reel, timecode, frame rate, lens, ISO).

use crate::ljpeg;
use crate::tiff_ifd::{Ifd, Tiff};
use crate::{DecodeLimits, ImagingError};
use rayon::prelude::*;

/// The 2×2 colour filter layout, named from the top-left pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfaPattern {
    Rggb,
    Bggr,
    Grbg,
    Gbrg,
}

impl CfaPattern {
    /// Colour (0 R, 1 G, 2 B) at (x, y).
    #[inline]
    pub fn color_at(self, x: usize, y: usize) -> usize {
        let layout: [usize; 4] = match self {
            CfaPattern::Rggb => [0, 1, 1, 2],
            CfaPattern::Bggr => [2, 1, 1, 0],
            CfaPattern::Grbg => [1, 0, 2, 1],
            CfaPattern::Gbrg => [1, 2, 0, 1],
        };
        layout[(y & 1) * 2 + (x & 1)]
    }

    fn from_codes(codes: &[u64]) -> Option<Self> {
        Some(match codes {
            [0, 1, 1, 2] => CfaPattern::Rggb,
            [2, 1, 1, 0] => CfaPattern::Bggr,
            [1, 0, 2, 1] => CfaPattern::Grbg,
            [1, 2, 0, 1] => CfaPattern::Gbrg,
            _ => return None,
        })
    }

    /// Shifted pattern when the image origin moves by (dx, dy).
    pub fn shifted(self, dx: usize, dy: usize) -> Self {
        let c = |x, y| self.color_at(x + dx, y + dy) as u64;
        CfaPattern::from_codes(&[c(0, 0), c(1, 0), c(0, 1), c(1, 1)])
            .expect("a shifted Bayer pattern is a Bayer pattern")
    }
}

/// Camera and clip metadata, normalised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CameraMetadata {
    pub make: Option<String>,
    pub model: Option<String>,
    pub unique_camera_model: Option<String>,
    pub serial: Option<String>,
    pub lens: Option<String>,
    pub iso: Option<u32>,
    pub reel_name: Option<String>,
    /// SMPTE timecode `HH:MM:SS:FF`.
    pub timecode: Option<String>,
    pub frame_rate: Option<(u32, u32)>,
    pub as_shot_neutral: Option<[f64; 3]>,
}

/// Colour calibration from the DNG tags.
#[derive(Debug, Clone, PartialEq)]
pub struct ColorCalibration {
    /// XYZ → camera matrices (row-major 3×3) with their illuminant (EXIF LightSource code).
    pub color_matrices: Vec<([f64; 9], u16)>,
    /// Camera → XYZ(D50) forward matrices, paired with the same illuminants, if present.
    pub forward_matrices: Vec<[f64; 9]>,
    pub analog_balance: [f64; 3],
    pub as_shot_neutral: [f64; 3],
}

/// Raw CFA samples of the active area, linearised, with their levels.
#[derive(Debug, Clone, PartialEq)]
pub struct RawFrame {
    /// Active-area size (the samples in `data`).
    pub width: usize,
    pub height: usize,
    pub cfa: CfaPattern,
    /// Linearised samples, not black-subtracted.
    pub data: Vec<u16>,
    /// Black level per 2×2 CFA position (row-major).
    pub black_level: [f32; 4],
    pub white_level: f32,
    /// Default crop `(x, y, width, height)` relative to the active area.
    pub default_crop: (usize, usize, usize, usize),
    pub calibration: ColorCalibration,
    pub metadata: CameraMetadata,
}

fn fmt(what: impl Into<String>) -> ImagingError {
    ImagingError::Format { what: what.into() }
}

fn unsupported(what: impl Into<String>) -> ImagingError {
    ImagingError::Unsupported { what: what.into() }
}

/// DNG TimeCodes (tag 51043): 8 bytes of SMPTE 12M BCD, frames first.
fn smpte_timecode(bytes: &[u64]) -> Option<String> {
    if bytes.len() < 4 {
        return None;
    }
    let bcd = |b: u64, mask: u64| ((b & mask) >> 4) * 10 + (b & 0x0F);
    Some(format!(
        "{:02}:{:02}:{:02}:{:02}",
        bcd(bytes[3], 0x30),
        bcd(bytes[2], 0x70),
        bcd(bytes[1], 0x70),
        bcd(bytes[0], 0x30)
    ))
}

fn matrix9(ifd: &Ifd, tag: u16) -> Option<[f64; 9]> {
    let v = ifd.f64s(tag)?;
    (v.len() == 9).then(|| v.try_into().expect("9 values"))
}

fn metadata(ifds: &[Ifd]) -> CameraMetadata {
    let first = |tag: u16| ifds.iter().find_map(|i| i.text(tag));
    let frame_rate = ifds
        .iter()
        .find_map(|i| i.get(51044))
        .and_then(|v| match v {
            crate::tiff_ifd::Value::Reals(r) if !r.is_empty() && r[0] > 0.0 => {
                let fps = r[0];
                // Keep exact NTSC rates rational.
                Some(
                    if (fps * 1001.0 / 1000.0 - fps.round()).abs() < 1e-3 && fps.fract() != 0.0 {
                        ((fps.round() * 1000.0) as u32, 1001)
                    } else {
                        ((fps * 1000.0).round() as u32 / 1000, 1)
                    },
                )
            }
            _ => None,
        });
    CameraMetadata {
        make: first(271),
        model: first(272),
        unique_camera_model: first(50708),
        serial: first(50735).or_else(|| first(42033)),
        lens: first(42036).or_else(|| first(50827)),
        iso: ifds.iter().find_map(|i| i.u64(34855)).map(|v| v as u32),
        reel_name: first(51081),
        timecode: ifds
            .iter()
            .find_map(|i| i.u64s(51043))
            .and_then(|b| smpte_timecode(&b)),
        frame_rate,
        as_shot_neutral: ifds
            .iter()
            .find_map(|i| i.f64s(50728))
            .filter(|v| v.len() == 3)
            .map(|v| [v[0], v[1], v[2]]),
    }
}

/// One decoded tile or strip: its index, samples, width and height.
type DecodedTile = (usize, Vec<u16>, usize, usize);

/// Reads the camera metadata without decoding pixels.
pub fn read_dng_metadata(bytes: &[u8]) -> Result<CameraMetadata, ImagingError> {
    let (tiff, first) = Tiff::parse(bytes)?;
    Ok(metadata(&tiff.all_ifds(first)?))
}

/// Decodes the raw CFA image of a DNG.
pub fn decode_dng(bytes: &[u8], limits: &DecodeLimits) -> Result<RawFrame, ImagingError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ImagingError::Limits {
            what: format!(
                "file is {} bytes, over the limit of {}",
                bytes.len(),
                limits.max_bytes
            ),
        });
    }
    let (tiff, first) = Tiff::parse(bytes)?;
    let ifds = tiff.all_ifds(first)?;
    let main = &ifds[0];
    if main.get(50706).is_none() {
        return Err(fmt("not a DNG (no DNGVersion tag)"));
    }
    let raw = ifds
        .iter()
        .find(|i| i.u64(254).unwrap_or(0) & 1 == 0 && i.u64(262) == Some(32803))
        .ok_or_else(|| {
            unsupported(
                "no CFA raw image in this DNG (linear raw and previews only are not supported)",
            )
        })?;
    let width = raw.need(256, "ImageWidth")? as usize;
    let height = raw.need(257, "ImageLength")? as usize;
    if width == 0
        || height == 0
        || width as u64 > limits.max_width as u64
        || height as u64 > limits.max_height as u64
        || (width * height) as u64 > limits.max_pixels
    {
        return Err(ImagingError::Limits {
            what: format!(
                "raw image {width}×{height} exceeds the limits (max {}×{}, {} pixels)",
                limits.max_width, limits.max_height, limits.max_pixels
            ),
        });
    }
    let bits = raw.u64(258).unwrap_or(1) as u32;
    let spp = raw.u64(277).unwrap_or(1);
    if spp != 1 {
        return Err(unsupported(format!(
            "{spp} samples per pixel in a CFA image"
        )));
    }
    let compression = raw.u64(259).unwrap_or(1);
    let cfa_dim = raw.u64s(33421).unwrap_or_else(|| vec![2, 2]);
    if cfa_dim != [2, 2] {
        return Err(unsupported(format!(
            "CFA repeat pattern {cfa_dim:?} (only 2×2 Bayer)"
        )));
    }
    let cfa_codes = raw
        .u64s(33422)
        .ok_or_else(|| fmt("CFA image without a CFAPattern tag"))?;
    let cfa = CfaPattern::from_codes(&cfa_codes)
        .ok_or_else(|| unsupported(format!("CFA pattern {cfa_codes:?}")))?;

    let mut data = vec![0u16; width * height];
    let max_samples = limits.max_pixels.max(1);
    let tiled = raw.get(322).is_some();
    let (tile_w, tile_h, offsets, counts) = if tiled {
        (
            raw.need(322, "TileWidth")? as usize,
            raw.need(323, "TileLength")? as usize,
            raw.u64s(324).unwrap_or_default(),
            raw.u64s(325).unwrap_or_default(),
        )
    } else {
        let rows = raw.u64(278).unwrap_or(height as u64).min(height as u64) as usize;
        (
            width,
            rows.max(1),
            raw.u64s(273).unwrap_or_default(),
            raw.u64s(279).unwrap_or_default(),
        )
    };
    if tile_w == 0 || tile_h == 0 {
        return Err(fmt("tile or strip size is zero"));
    }
    let across = width.div_ceil(tile_w);
    let down = height.div_ceil(tile_h);
    if offsets.len() < across * down || counts.len() < across * down {
        return Err(fmt(format!(
            "{} tiles/strips expected, the file lists {} offsets and {} sizes",
            across * down,
            offsets.len(),
            counts.len()
        )));
    }
    // Decode tiles in parallel, then copy into place (deterministic regardless of order).
    let tiles: Vec<Result<DecodedTile, ImagingError>> = (0..across * down)
        .into_par_iter()
        .map(|t| {
            let src = tiff.slice(offsets[t], counts[t], "raw tile/strip")?;
            let (tw, th) = (
                tile_w,
                if tiled {
                    tile_h
                } else {
                    tile_h.min(height - (t / across) * tile_h)
                },
            );
            let samples = match compression {
                1 => unpack_uncompressed(src, tw, th, bits, tiff.big_endian)?,
                7 => {
                    let img = ljpeg::decode(src, max_samples)?;
                    if img.width * img.height < tw * th {
                        return Err(fmt(format!(
                            "lossless JPEG tile is {}×{} samples, the tile needs {tw}×{th}",
                            img.width, img.height
                        )));
                    }
                    // CinemaDNG: a JPEG row of W×C samples may hold several raw rows.
                    img.data
                }
                c => {
                    return Err(unsupported(format!(
                        "DNG compression {c} (supported: 1 uncompressed, 7 lossless JPEG)"
                    )))
                }
            };
            Ok((t, samples, tw, th))
        })
        .collect();
    for tile in tiles {
        let (t, samples, tw, th) = tile?;
        let (tx, ty) = ((t % across) * tile_w, (t / across) * tile_h);
        for r in 0..th {
            let y = ty + r;
            if y >= height {
                break;
            }
            let n = tw.min(width - tx);
            let src = samples
                .get(r * tw..r * tw + n)
                .ok_or_else(|| fmt("tile data shorter than the tile"))?;
            data[y * width + tx..][..n].copy_from_slice(src);
        }
    }
    if let Some(table) = raw.u64s(50712).filter(|t| !t.is_empty()) {
        let last = table.len() - 1;
        data.par_iter_mut()
            .for_each(|v| *v = table[(*v as usize).min(last)].min(65535) as u16);
    }

    // Active area (top, left, bottom, right) then crop the samples to it.
    let (mut w, mut h) = (width, height);
    let mut pattern = cfa;
    if let Some(a) = raw.u64s(50829).filter(|a| a.len() == 4) {
        let (top, left, bottom, right) =
            (a[0] as usize, a[1] as usize, a[2] as usize, a[3] as usize);
        if top >= bottom || left >= right || bottom > height || right > width {
            return Err(fmt(format!(
                "ActiveArea {a:?} is outside the {width}×{height} image"
            )));
        }
        let mut cropped = Vec::with_capacity((bottom - top) * (right - left));
        for y in top..bottom {
            cropped.extend_from_slice(&data[y * width + left..y * width + right]);
        }
        data = cropped;
        w = right - left;
        h = bottom - top;
        pattern = cfa.shifted(left, top);
    }
    let repeat = raw.u64s(50713).unwrap_or_else(|| vec![1, 1]);
    let levels = raw.f64s(50714).unwrap_or_else(|| vec![0.0]);
    let mut black_level = [0f32; 4];
    for (i, b) in black_level.iter_mut().enumerate() {
        let (r, c) = (i / 2, i % 2);
        let (rr, rc) = (
            repeat.first().copied().unwrap_or(1).max(1) as usize,
            repeat.get(1).copied().unwrap_or(1).max(1) as usize,
        );
        let idx = (r % rr) * rc + (c % rc);
        *b = levels.get(idx).or(levels.first()).copied().unwrap_or(0.0) as f32;
    }
    let white_level = raw
        .f64s(50717)
        .and_then(|v| v.first().copied())
        .unwrap_or(((1u64 << bits.min(16)) - 1) as f64) as f32;
    if white_level <= black_level.iter().cloned().fold(0.0, f32::max) {
        return Err(fmt(format!(
            "WhiteLevel {white_level} is not above BlackLevel {black_level:?}"
        )));
    }
    let crop_origin = raw.f64s(50719).unwrap_or_else(|| vec![0.0, 0.0]);
    let crop_size = raw.f64s(50720).unwrap_or_else(|| vec![w as f64, h as f64]);
    let default_crop = (
        crop_origin.first().copied().unwrap_or(0.0) as usize,
        crop_origin.get(1).copied().unwrap_or(0.0) as usize,
        crop_size.first().copied().unwrap_or(w as f64) as usize,
        crop_size.get(1).copied().unwrap_or(h as f64) as usize,
    );
    if default_crop.0 + default_crop.2 > w
        || default_crop.1 + default_crop.3 > h
        || default_crop.2 == 0
        || default_crop.3 == 0
    {
        return Err(fmt(format!(
            "DefaultCrop {default_crop:?} is outside the {w}×{h} active area"
        )));
    }
    let find = |tag| ifds.iter().find_map(|i| matrix9(i, tag));
    let illum = |tag| ifds.iter().find_map(|i| i.u64(tag)).unwrap_or(21) as u16;
    let mut color_matrices = Vec::new();
    if let Some(m) = find(50721) {
        color_matrices.push((m, illum(50778)));
    }
    if let Some(m) = find(50722) {
        color_matrices.push((m, illum(50779)));
    }
    if color_matrices.is_empty() {
        return Err(fmt(
            "DNG has no ColorMatrix1: camera colour cannot be converted",
        ));
    }
    let forward_matrices = [find(50964), find(50965)].into_iter().flatten().collect();
    let meta = metadata(&ifds);
    let analog_balance = ifds
        .iter()
        .find_map(|i| i.f64s(50727))
        .filter(|v| v.len() == 3)
        .map(|v| [v[0], v[1], v[2]])
        .unwrap_or([1.0; 3]);
    let as_shot_neutral = meta.as_shot_neutral.unwrap_or([1.0; 3]);
    if as_shot_neutral.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return Err(fmt(format!(
            "AsShotNeutral {as_shot_neutral:?} has a non-positive value"
        )));
    }
    Ok(RawFrame {
        width: w,
        height: h,
        cfa: pattern,
        data,
        black_level,
        white_level,
        default_crop,
        calibration: ColorCalibration {
            color_matrices,
            forward_matrices,
            analog_balance,
            as_shot_neutral,
        },
        metadata: meta,
    })
}

/// Unpacks big- or little-endian bit-packed samples (DNG packs MSB first for 10/12/14-bit).
fn unpack_uncompressed(
    src: &[u8],
    w: usize,
    h: usize,
    bits: u32,
    big_endian: bool,
) -> Result<Vec<u16>, ImagingError> {
    let n = w * h;
    if !(8..=16).contains(&bits) {
        return Err(unsupported(format!(
            "{bits}-bit uncompressed raw data (supported: 8–16)"
        )));
    }
    let need = match bits {
        8 => n,
        16 => n * 2,
        _ => (w * bits as usize).div_ceil(8) * h,
    };
    if src.len() < need {
        return Err(fmt(format!(
            "raw strip holds {} bytes, {w}×{h} {bits}-bit samples need {need} (truncated file?)",
            src.len()
        )));
    }
    Ok(match bits {
        8 => src[..n].iter().map(|b| *b as u16).collect(),
        16 => src[..2 * n]
            .chunks_exact(2)
            .map(|c| {
                if big_endian {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect(),
        _ => {
            let row_bytes = (w * bits as usize).div_ceil(8);
            let mut out = Vec::with_capacity(n);
            for r in 0..h {
                let row = &src[r * row_bytes..(r + 1) * row_bytes];
                let (mut acc, mut nbits, mut i) = (0u32, 0u32, 0usize);
                for _ in 0..w {
                    while nbits < bits {
                        acc = (acc << 8) | row[i] as u32;
                        i += 1;
                        nbits += 8;
                    }
                    out.push(((acc >> (nbits - bits)) & ((1 << bits) - 1)) as u16);
                    nbits -= bits;
                }
            }
            out
        }
    })
}

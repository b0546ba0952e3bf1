//! Header readers: one file's bytes (or the first part of them) → [`FrameInfo`], the
//! normalised fields of one frame plus the vendor fields as stored. No pixel is decoded; a
//! file whose headers point past its end (truncated) is an error naming what is missing.

use crate::colour;
use crate::record::{Camera, Colour, Exposure, Format, Image, Lens, WhiteBalance};
use crate::timecode::{from_bcd, Rate, Timecode};
use platefarm_imaging::tiff_ifd::{Ifd, Tiff, Value};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

/// What one frame's headers say, normalised.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrameInfo {
    pub reel: Option<String>,
    pub camera: Camera,
    pub lens: Lens,
    pub exposure: Exposure,
    pub white_balance: WhiteBalance,
    pub timecode: Option<Timecode>,
    pub rate: Option<Rate>,
    pub image: Image,
    pub colour: Colour,
    /// Format-specific fields, keyed `<format>.<field>` (e.g. `dng.ReelName`).
    pub vendor: BTreeMap<String, Json>,
}

/// Why a probe failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// The headers continue past the bytes given: read the whole file and probe again.
    NeedMore,
    /// The file is corrupt, truncated or not what its extension says.
    Bad(String),
}

/// Reads one frame's headers. `bytes` is the file or its first part; `file_size` is the
/// size of the whole file (to tell a truncated file from a short read).
pub fn probe(format: Format, bytes: &[u8], file_size: u64) -> Result<FrameInfo, ProbeError> {
    let partial = (bytes.len() as u64) < file_size;
    let result = match format {
        Format::Dng | Format::Tiff => probe_tiff(format, bytes, file_size),
        Format::Dpx => probe_dpx(bytes, file_size),
        Format::Exr => probe_exr(bytes, file_size),
    };
    result.map_err(|reason| {
        if partial {
            ProbeError::NeedMore
        } else {
            ProbeError::Bad(reason)
        }
    })
}

fn text(ifds: &[Ifd], tag: u16) -> Option<String> {
    ifds.iter().find_map(|i| i.text(tag))
}

fn reals(ifds: &[Ifd], tag: u16) -> Option<Vec<f64>> {
    ifds.iter().find_map(|i| i.f64s(tag))
}

fn first_real(ifds: &[Ifd], tag: u16) -> Option<f64> {
    reals(ifds, tag)
        .and_then(|v| v.first().copied())
        .filter(|v| v.is_finite() && *v > 0.0)
}

fn json_of(v: &Value) -> Json {
    let list = |v: Vec<Json>| {
        if v.len() == 1 {
            v.into_iter().next().expect("one")
        } else {
            Json::Array(v)
        }
    };
    match v {
        Value::Ints(x) => list(x.iter().map(|v| json!(v)).collect()),
        Value::Signed(x) => list(x.iter().map(|v| json!(v)).collect()),
        Value::Reals(x) => list(x.iter().map(|v| json!(v)).collect()),
        Value::Ascii(s) => json!(s),
        Value::Bytes(b) => list(b.iter().map(|v| json!(v)).collect()),
    }
}

/// Tags kept as vendor fields, by name (as ExifTool names them).
const TIFF_VENDOR_TAGS: &[(u16, &str)] = &[
    (254, "SubfileType"),
    (256, "ImageWidth"),
    (257, "ImageHeight"),
    (258, "BitsPerSample"),
    (259, "Compression"),
    (262, "PhotometricInterpretation"),
    (270, "ImageDescription"),
    (271, "Make"),
    (272, "Model"),
    (277, "SamplesPerPixel"),
    (305, "Software"),
    (306, "ModifyDate"),
    (315, "Artist"),
    (33422, "CFAPattern2"),
    (33434, "ExposureTime"),
    (33437, "FNumber"),
    (34855, "ISO"),
    (37386, "FocalLength"),
    (42033, "SerialNumber"),
    (42036, "LensModel"),
    (50706, "DNGVersion"),
    (50708, "UniqueCameraModel"),
    (50714, "BlackLevel"),
    (50717, "WhiteLevel"),
    (50719, "DefaultCropOrigin"),
    (50720, "DefaultCropSize"),
    (50728, "AsShotNeutral"),
    (50729, "AsShotWhiteXY"),
    (50735, "CameraSerialNumber"),
    (50778, "CalibrationIlluminant1"),
    (50829, "ActiveArea"),
    (50936, "ProfileName"),
    (51043, "TimeCodes"),
    (51044, "FrameRate"),
    (51081, "ReelName"),
];

fn cfa_name(codes: &[u64]) -> Option<String> {
    if codes.len() != 4 {
        return None;
    }
    codes
        .iter()
        .map(|c| match c {
            0 => Some('R'),
            1 => Some('G'),
            2 => Some('B'),
            3 => Some('C'),
            4 => Some('M'),
            5 => Some('Y'),
            _ => None,
        })
        .collect()
}

fn compression_name(c: u64) -> String {
    match c {
        1 => "none".into(),
        5 => "LZW".into(),
        7 => "lossless JPEG".into(),
        8 | 32946 => "deflate".into(),
        32773 => "PackBits".into(),
        34892 => "lossy JPEG".into(),
        c => format!("TIFF compression {c}"),
    }
}

fn probe_tiff(format: Format, bytes: &[u8], file_size: u64) -> Result<FrameInfo, String> {
    let (tiff, first) = Tiff::parse(bytes).map_err(|e| e.to_string())?;
    let ifds = tiff.all_ifds(first).map_err(|e| e.to_string())?;
    let is_dng = ifds[0].get(50706).is_some();
    if format == Format::Dng && !is_dng {
        return Err("not a DNG (TIFF without a DNGVersion tag)".into());
    }
    // The main image: the full-resolution raw (CFA or linear raw) of a DNG, else IFD 0.
    let main = ifds
        .iter()
        .find(|i| {
            i.u64(254).unwrap_or(0) & 1 == 0 && matches!(i.u64(262), Some(32803) | Some(34892))
        })
        .unwrap_or(&ifds[0]);
    let width = main
        .u64(256)
        .ok_or("the main IFD has no ImageWidth (256)")? as u32;
    let height = main
        .u64(257)
        .ok_or("the main IFD has no ImageLength (257)")? as u32;
    if width == 0 || height == 0 {
        return Err(format!("image is {width}×{height}"));
    }
    // Truncation: every strip or tile of the main image must lie inside the file.
    let (offsets, counts) = if main.get(324).is_some() {
        (main.u64s(324), main.u64s(325))
    } else {
        (main.u64s(273), main.u64s(279))
    };
    let (offsets, counts) = (
        offsets.ok_or("the main IFD has no strip or tile offsets")?,
        counts.ok_or("the main IFD has no strip or tile byte counts")?,
    );
    if offsets.len() != counts.len() {
        return Err(format!(
            "{} strip/tile offsets but {} byte counts",
            offsets.len(),
            counts.len()
        ));
    }
    if let Some((o, c)) = offsets
        .iter()
        .zip(&counts)
        .find(|(o, c)| o.saturating_add(**c) > file_size)
    {
        return Err(format!(
            "truncated file: image data at bytes {o}..{} but the file has {file_size}",
            o.saturating_add(*c)
        ));
    }
    let bits = main.u64s(258).unwrap_or_else(|| vec![1]);
    let channels = main.u64(277).unwrap_or(1);
    let mut vendor = BTreeMap::new();
    let prefix = if is_dng { "dng" } else { "tiff" };
    for (tag, name) in TIFF_VENDOR_TAGS {
        let v = if [256u16, 257, 258, 259, 262, 277, 254, 33422, 50829].contains(tag) {
            main.get(*tag)
        } else {
            ifds.iter().find_map(|i| i.get(*tag))
        };
        if let Some(v) = v {
            vendor.insert(format!("{prefix}.{name}"), json_of(v));
        }
    }
    let timecode = ifds
        .iter()
        .find_map(|i| i.u64s(51043))
        .filter(|b| b.len() >= 4)
        .and_then(|b| from_bcd(b[0] as u8, b[1] as u8, b[2] as u8, b[3] as u8));
    let rate = first_real(&ifds, 51044).and_then(Rate::from_f64);
    let as_shot_neutral = reals(&ifds, 50728)
        .filter(|v| v.len() == 3)
        .map(|v| [v[0], v[1], v[2]]);
    let white_xy = reals(&ifds, 50729).filter(|v| v.len() == 2);
    let colour_temperature_k = match (&white_xy, as_shot_neutral) {
        (Some(xy), _) => colour::mccamy_cct(xy[0], xy[1]),
        (None, Some(n)) => reals(&ifds, 50721)
            .filter(|m| m.len() == 9)
            .and_then(|m| colour::neutral_cct(&m, n)),
        _ => None,
    };
    let (image_w, image_h) = match reals(&ifds, 50720).filter(|v| v.len() == 2) {
        Some(s) if is_dng => (s[0].round() as u32, s[1].round() as u32),
        _ => (width, height),
    };
    let active_area = main
        .u64s(50829)
        .filter(|a| a.len() == 4)
        .map(|a| [a[0] as u32, a[1] as u32, a[2] as u32, a[3] as u32]);
    let mut info = FrameInfo {
        reel: text(&ifds, 51081),
        camera: Camera {
            make: text(&ifds, 271),
            model: text(&ifds, 272).or_else(|| text(&ifds, 50708)),
            serial: text(&ifds, 50735).or_else(|| text(&ifds, 42033)),
        },
        lens: Lens {
            model: text(&ifds, 42036),
            focal_length_mm: first_real(&ifds, 37386),
            aperture: first_real(&ifds, 33437),
        },
        exposure: Exposure {
            iso: ifds.iter().find_map(|i| i.u64(34855)).map(|v| v as u32),
            exposure_time_s: first_real(&ifds, 33434),
            shutter_angle_deg: None,
        },
        white_balance: WhiteBalance {
            as_shot_neutral,
            colour_temperature_k,
        },
        timecode,
        rate,
        image: Image {
            width: image_w,
            height: image_h,
            bit_depth: bits.first().copied().unwrap_or(1) as u8,
            channels: channels as u8,
            sensor: is_dng.then_some([width, height]),
            active_area,
            cfa: main.u64s(33422).and_then(|c| cfa_name(&c)),
            data_window: None,
            compression: main.u64(259).map(compression_name),
        },
        colour: Colour::default(),
        vendor,
    };
    let texts: Vec<(String, String)> = [
        (270u16, "ImageDescription"),
        (50936, "ProfileName"),
        (305, "Software"),
    ]
    .iter()
    .filter_map(|(t, n)| text(&ifds, *t).map(|v| (format!("{prefix}.{n}"), v)))
    .collect();
    info.colour = if is_dng && main.u64(262) == Some(32803) {
        Colour {
            guess: Some("camera raw".into()),
            basis: Some(
                "dng.PhotometricInterpretation = 32803 (CFA): scene-linear sensor data, \
                 developed through the DNG colour matrices"
                    .into(),
            ),
        }
    } else {
        colour::guess_from_text(&texts).unwrap_or_default()
    };
    Ok(info)
}

/// SMPTE 268M offsets of the fields read.
mod dpx {
    pub const IMAGE_OFFSET: usize = 4;
    pub const FILE_SIZE: usize = 16;
    pub const FILE_NAME: usize = 36;
    pub const CREATE_DATE: usize = 136;
    pub const CREATOR: usize = 160;
    pub const PROJECT: usize = 260;
    pub const COPYRIGHT: usize = 460;
    pub const ELEMENTS: usize = 770;
    pub const WIDTH: usize = 772;
    pub const HEIGHT: usize = 776;
    pub const ELEMENT: usize = 780;
    pub const INPUT_DEVICE: usize = 1556;
    pub const INPUT_SERIAL: usize = 1588;
    pub const FILM_FRAME_RATE: usize = 1724;
    pub const SHUTTER_ANGLE: usize = 1728;
    pub const FRAME_ID: usize = 1732;
    pub const SLATE: usize = 1764;
    pub const TIMECODE: usize = 1920;
    pub const TV_FRAME_RATE: usize = 1940;
}

fn probe_dpx(b: &[u8], file_size: u64) -> Result<FrameInfo, String> {
    let magic = b.get(0..4).ok_or("file too short for a DPX magic number")?;
    let be = match magic {
        b"SDPX" => true,
        b"XPDS" => false,
        m => return Err(format!("not a DPX file (magic {m:02x?})")),
    };
    if b.len() < 2048 {
        return Err(format!(
            "truncated DPX header: {} bytes, the header is 2048",
            b.len()
        ));
    }
    let u32_at = |at: usize| {
        let s: [u8; 4] = b[at..at + 4].try_into().expect("in the header");
        if be {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        }
    };
    let u16_at = |at: usize| {
        let s: [u8; 2] = b[at..at + 2].try_into().expect("in the header");
        if be {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        }
    };
    let f32_at = |at: usize| {
        let v = f32::from_bits(u32_at(at));
        (v.is_finite() && v > 0.0 && u32_at(at) != u32::MAX).then_some(v as f64)
    };
    let text_at = |at: usize, n: usize| {
        let raw = &b[at..at + n];
        let end = raw.iter().position(|&c| c == 0).unwrap_or(n);
        let s = String::from_utf8_lossy(&raw[..end]).trim().to_string();
        (!s.is_empty() && !raw[..end].iter().all(|c| *c == 0xFF)).then_some(s)
    };
    let width = u32_at(dpx::WIDTH);
    let height = u32_at(dpx::HEIGHT);
    let elements = u16_at(dpx::ELEMENTS);
    if width == 0 || height == 0 || width > 65536 || height > 65536 {
        return Err(format!("DPX image is {width}×{height}"));
    }
    if elements == 0 || elements > 8 {
        return Err(format!("DPX claims {elements} image elements (1–8)"));
    }
    let el = dpx::ELEMENT;
    let descriptor = b[el + 20];
    let transfer = b[el + 21];
    let colorimetric = b[el + 22];
    let bit_depth = b[el + 23];
    let packing = u16_at(el + 24);
    let channels: u64 = match descriptor {
        1..=4 | 6 => 1,
        50 => 3,
        51 | 52 => 4,
        d => return Err(format!("DPX image descriptor {d} is not supported")),
    };
    let data_offset = match u32_at(el + 28) {
        0 | u32::MAX => u32_at(dpx::IMAGE_OFFSET),
        o => o,
    } as u64;
    let samples = width as u64 * channels;
    let line = match (bit_depth, packing) {
        (8, _) => samples,
        (16, _) => samples * 2,
        (10, 0) => (samples * 10).div_ceil(32) * 4,
        (10, _) => samples.div_ceil(3) * 4,
        (12, 0) => (samples * 12).div_ceil(32) * 4,
        (12, _) => samples * 2,
        (d, _) => {
            return Err(format!(
                "DPX bit depth {d} is not supported (8, 10, 12, 16)"
            ))
        }
    };
    let needed = data_offset + line * height as u64;
    if needed > file_size {
        return Err(format!(
            "truncated file: {width}×{height} {bit_depth}-bit image data needs bytes \
             {data_offset}..{needed}, the file has {file_size}"
        ));
    }
    let tc_word = u32_at(dpx::TIMECODE);
    let timecode = (tc_word != u32::MAX && tc_word != 0)
        .then(|| {
            let [h, m, s, f] = tc_word.to_be_bytes();
            from_bcd(f, s, m, h)
        })
        .flatten();
    let film_rate = f32_at(dpx::FILM_FRAME_RATE);
    let tv_rate = f32_at(dpx::TV_FRAME_RATE);
    let mut vendor = BTreeMap::new();
    let mut put = |k: &str, v: Option<Json>| {
        if let Some(v) = v {
            vendor.insert(format!("dpx.{k}"), v);
        }
    };
    let texts = [
        ("file_name", text_at(dpx::FILE_NAME, 100)),
        ("create_date", text_at(dpx::CREATE_DATE, 24)),
        ("creator", text_at(dpx::CREATOR, 100)),
        ("project", text_at(dpx::PROJECT, 200)),
        ("copyright", text_at(dpx::COPYRIGHT, 200)),
        ("input_device", text_at(dpx::INPUT_DEVICE, 32)),
        ("input_device_serial", text_at(dpx::INPUT_SERIAL, 32)),
        ("frame_id", text_at(dpx::FRAME_ID, 32)),
        ("slate", text_at(dpx::SLATE, 100)),
        ("description", text_at(el + 40, 32)),
    ];
    for (k, v) in &texts {
        put(k, v.clone().map(Json::String));
    }
    put("file_size", Some(json!(u32_at(dpx::FILE_SIZE))));
    put("descriptor", Some(json!(descriptor)));
    put("transfer", Some(json!(transfer)));
    put("colorimetric", Some(json!(colorimetric)));
    put("packing", Some(json!(packing)));
    put(
        "timecode_bcd",
        (tc_word != u32::MAX).then(|| json!(tc_word)),
    );
    put("film_frame_rate", film_rate.map(|v| json!(v)));
    put("tv_frame_rate", tv_rate.map(|v| json!(v)));
    put(
        "shutter_angle",
        f32_at(dpx::SHUTTER_ANGLE).map(|v| json!(v)),
    );
    put("byte_order", Some(json!(if be { "big" } else { "little" })));
    let get = |k: &str| {
        texts
            .iter()
            .find(|(n, _)| *n == k)
            .and_then(|(_, v)| v.clone())
    };
    let hints: Vec<(String, String)> = texts
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (format!("dpx.{k}"), v)))
        .collect();
    let colour = colour::guess_dpx(transfer, colorimetric, &hints);
    Ok(FrameInfo {
        reel: None,
        camera: Camera {
            make: None,
            model: get("input_device"),
            serial: get("input_device_serial"),
        },
        lens: Lens::default(),
        exposure: Exposure {
            shutter_angle_deg: f32_at(dpx::SHUTTER_ANGLE),
            ..Exposure::default()
        },
        white_balance: WhiteBalance::default(),
        timecode,
        rate: tv_rate.or(film_rate).and_then(Rate::from_f64),
        image: Image {
            width,
            height,
            bit_depth,
            channels: channels as u8,
            compression: Some(if u16_at(el + 26) == 0 {
                "none".into()
            } else {
                format!("DPX encoding {}", u16_at(el + 26))
            }),
            ..Image::default()
        },
        colour,
        vendor,
    })
}

/// A `Read` over a slice that tells how far the reader got.
struct Counting<'a> {
    data: &'a [u8],
    pos: usize,
}

impl std::io::Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn exr_value(v: &exr::meta::attribute::AttributeValue) -> Option<Json> {
    use exr::meta::attribute::AttributeValue as A;
    Some(match v {
        A::Text(t) => json!(t.to_string()),
        A::F32(x) => json!(x),
        A::F64(x) => json!(x),
        A::I32(x) => json!(x),
        A::Rational((n, d)) => json!(format!("{n}/{d}")),
        A::IntVec2(v) => json!([v.0, v.1]),
        A::FloatVec2(v) => json!([v.0, v.1]),
        A::TextVector(v) => json!(v.iter().map(|t| t.to_string()).collect::<Vec<_>>()),
        A::TimeCode(t) => json!(format!(
            "{:02}:{:02}:{:02}{}{:02}",
            t.hours,
            t.minutes,
            t.seconds,
            if t.drop_frame { ';' } else { ':' },
            t.frame
        )),
        _ => return None,
    })
}

fn probe_exr(bytes: &[u8], file_size: u64) -> Result<FrameInfo, String> {
    let mut read = Counting {
        data: bytes,
        pos: 0,
    };
    let meta = exr::meta::MetaData::read_from_buffered(&mut read, false)
        .map_err(|e| format!("OpenEXR header: {e}"))?;
    let header = meta.headers.first().ok_or("OpenEXR file has no parts")?;
    // Truncation: the offset table follows the header; every chunk must start in the file.
    let table_at = read.pos;
    let n = header.chunk_count;
    let table = n
        .checked_mul(8)
        .and_then(|len| bytes.get(table_at..table_at.checked_add(len)?))
        .ok_or("truncated file: the OpenEXR offset table is cut short")?;
    let mut last_chunk_end = 0u64;
    for (i, c) in table.chunks_exact(8).enumerate() {
        let at = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        if at >= file_size || at < table_at as u64 {
            return Err(format!(
                "truncated or corrupt file: chunk {i} at byte {at}, the file has {file_size}"
            ));
        }
        // A chunk: its coordinates (y for scan lines; x, y, level x, level y for tiles; a
        // part number first in multi-part files), its size (4 bytes), its data.
        let part = if meta.requirements.is_multilayer() {
            4
        } else {
            0
        };
        let size_at = at + part + if header.blocks.has_tiles() { 16 } else { 4 };
        if size_at + 4 > file_size {
            return Err(format!(
                "truncated file: chunk {i} at byte {at} is cut short, the file has {file_size}"
            ));
        }
        if let Some(s) = bytes.get(size_at as usize..size_at as usize + 4) {
            let size = u32::from_le_bytes(s.try_into().expect("4 bytes")) as u64;
            last_chunk_end = last_chunk_end.max(size_at + 4 + size);
        }
    }
    if last_chunk_end > file_size {
        return Err(format!(
            "truncated file: pixel data runs to byte {last_chunk_end}, the file has {file_size}"
        ));
    }
    let sa = &header.shared_attributes;
    let la = &header.own_attributes;
    let display = sa.display_window;
    let dw = header.data_window();
    let mut vendor = BTreeMap::new();
    let mut other: Vec<(String, Json)> = Vec::new();
    for (k, v) in sa.other.iter().chain(la.other.iter()) {
        if let Some(j) = exr_value(v) {
            other.push((k.to_string(), j));
        }
    }
    let mut put = |k: &str, v: Option<Json>| {
        if let Some(v) = v {
            vendor.insert(format!("exr.{k}"), v);
        }
    };
    let text = |t: &Option<exr::meta::attribute::Text>| t.as_ref().map(|t| t.to_string());
    put("owner", text(&la.owner).map(Json::String));
    put("comments", text(&la.comments).map(Json::String));
    put("capDate", text(&la.capture_date).map(Json::String));
    put("software", text(&la.software_name).map(Json::String));
    put("expTime", la.exposure.map(|v| json!(v)));
    put("aperture", la.aperture.map(|v| json!(v)));
    put("isoSpeed", la.iso_speed.map(|v| json!(v)));
    put(
        "framesPerSecond",
        la.frames_per_second.map(|(n, d)| json!(format!("{n}/{d}"))),
    );
    put(
        "timeCode",
        sa.time_code
            .as_ref()
            .and_then(|t| exr_value(&exr::meta::attribute::AttributeValue::TimeCode(*t))),
    );
    put(
        "chromaticities",
        sa.chromaticities.map(|c| {
            json!([
                c.red.0, c.red.1, c.green.0, c.green.1, c.blue.0, c.blue.1, c.white.0, c.white.1
            ])
        }),
    );
    put(
        "displayWindow",
        Some(json!([
            display.position.0,
            display.position.1,
            display.position.0 + display.size.0 as i32 - 1,
            display.position.1 + display.size.1 as i32 - 1
        ])),
    );
    put(
        "compression",
        Some(json!(format!("{:?}", header.compression))),
    );
    put(
        "channels",
        Some(json!(header
            .channels
            .list
            .iter()
            .map(|c| c.name.to_string())
            .collect::<Vec<_>>())),
    );
    for (k, v) in &other {
        put(k, Some(v.clone()));
    }
    let s = |k: &str| {
        other.iter().find_map(|(n, v)| {
            (n.eq_ignore_ascii_case(k))
                .then(|| v.as_str().map(str::to_string))
                .flatten()
        })
    };
    let f = |k: &str| {
        other
            .iter()
            .find_map(|(n, v)| (n.eq_ignore_ascii_case(k)).then(|| v.as_f64()).flatten())
    };
    let bit_depth = header
        .channels
        .list
        .iter()
        .map(|c| match c.sample_type {
            exr::meta::attribute::SampleType::F16 => 16,
            _ => 32,
        })
        .max()
        .unwrap_or(16);
    let timecode = sa
        .time_code
        .as_ref()
        .and_then(|t| Timecode::new(t.hours, t.minutes, t.seconds, t.frame, t.drop_frame).ok());
    let rate = la
        .frames_per_second
        .and_then(|(n, d)| u32::try_from(n).ok().and_then(|n| Rate::new(n, d)));
    let hints: Vec<(String, String)> = other
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (format!("exr.{k}"), s.to_string())))
        .chain(text(&la.comments).map(|c| ("exr.comments".into(), c)))
        .collect();
    let colour = colour::guess_exr(
        sa.chromaticities.map(|c| {
            [
                c.red.0, c.red.1, c.green.0, c.green.1, c.blue.0, c.blue.1, c.white.0, c.white.1,
            ]
        }),
        &hints,
    );
    Ok(FrameInfo {
        reel: s("reelName").or_else(|| s("reel")),
        camera: Camera {
            make: s("cameraMake"),
            model: s("cameraModel"),
            serial: s("cameraSerialNumber"),
        },
        lens: Lens {
            model: s("lensModel"),
            focal_length_mm: f("focalLength").or_else(|| f("focal")),
            aperture: la.aperture.map(|v| v as f64),
        },
        exposure: Exposure {
            iso: la.iso_speed.map(|v| v.round() as u32),
            exposure_time_s: la.exposure.map(|v| v as f64),
            shutter_angle_deg: f("shutterAngle"),
        },
        white_balance: WhiteBalance::default(),
        timecode,
        rate,
        image: Image {
            width: display.size.0 as u32,
            height: display.size.1 as u32,
            bit_depth,
            channels: header.channels.list.len() as u8,
            data_window: Some([
                dw.position.0,
                dw.position.1,
                dw.position.0 + dw.size.0 as i32 - 1,
                dw.position.1 + dw.size.1 as i32 - 1,
            ]),
            compression: Some(format!("{:?}", header.compression)),
            ..Image::default()
        },
        colour,
        vendor,
    })
}

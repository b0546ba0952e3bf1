//! Synthetic footage with known metadata, for tests, demos and the benchmark: a folder mixing
//! a CinemaDNG sequence with a gap, a 29.97 drop-frame DPX sequence with a truncated frame,
//! an OpenEXR sequence with a corrupt frame, a single TIFF and a sidecar — and the clip
//! records an ingest must produce from it (vendor fields aside).

use crate::record::*;
use crate::timecode::{to_bcd, Rate, Timecode};
use platefarm_imaging::dpx::{encode_dpx_10bit, DpxMetadata};
use platefarm_imaging::{encode_exr, ExrOptions, FrameHeader, RgbImage};
use std::collections::BTreeMap;

/// Objects by key, and the records ingest must make of them (sorted by key; `vendor` empty,
/// bad-frame `reason`s empty: tests check those separately).
#[derive(Debug, Clone, PartialEq)]
pub struct Footage {
    pub objects: BTreeMap<String, Vec<u8>>,
    pub expected: Vec<ClipRecord>,
}

struct Tag {
    tag: u16,
    typ: u16,
    count: u32,
    data: Vec<u8>,
}

fn short(tag: u16, v: &[u16]) -> Tag {
    Tag {
        tag,
        typ: 3,
        count: v.len() as u32,
        data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}
fn long(tag: u16, v: &[u32]) -> Tag {
    Tag {
        tag,
        typ: 4,
        count: v.len() as u32,
        data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}
fn byte(tag: u16, v: &[u8]) -> Tag {
    Tag {
        tag,
        typ: 1,
        count: v.len() as u32,
        data: v.to_vec(),
    }
}
fn ascii(tag: u16, s: &str) -> Tag {
    let mut data = s.as_bytes().to_vec();
    data.push(0);
    Tag {
        tag,
        typ: 2,
        count: data.len() as u32,
        data,
    }
}
/// RATIONAL (or SRATIONAL) values given as (numerator, denominator).
fn rational(tag: u16, signed: bool, v: &[(i32, i32)]) -> Tag {
    Tag {
        tag,
        typ: if signed { 10 } else { 5 },
        count: v.len() as u32,
        data: v
            .iter()
            .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
            .collect(),
    }
}

/// A little-endian TIFF with one IFD and the image in one strip (tags 273/279 added here).
fn write_tiff(mut tags: Vec<Tag>, image: &[u8]) -> Vec<u8> {
    tags.push(long(273, &[0]));
    tags.push(long(279, &[image.len() as u32]));
    tags.sort_by_key(|t| t.tag);
    let ifd_len = 2 + 12 * tags.len() + 4;
    let mut ext = 8 + ifd_len;
    let mut at = Vec::new();
    for t in &tags {
        if t.data.len() > 4 {
            at.push(Some(ext));
            ext += t.data.len() + (t.data.len() & 1);
        } else {
            at.push(None);
        }
    }
    let strip = ext as u32;
    tags.iter_mut()
        .find(|t| t.tag == 273)
        .expect("offsets")
        .data = strip.to_le_bytes().to_vec();
    let mut out = Vec::with_capacity(ext + image.len());
    out.extend_from_slice(b"II");
    out.extend_from_slice(&42u16.to_le_bytes());
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(tags.len() as u16).to_le_bytes());
    for (t, a) in tags.iter().zip(&at) {
        out.extend_from_slice(&t.tag.to_le_bytes());
        out.extend_from_slice(&t.typ.to_le_bytes());
        out.extend_from_slice(&t.count.to_le_bytes());
        match a {
            Some(o) => out.extend_from_slice(&(*o as u32).to_le_bytes()),
            None => {
                let mut v = t.data.clone();
                v.resize(4, 0);
                out.extend_from_slice(&v);
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    for t in &tags {
        if t.data.len() > 4 {
            out.extend_from_slice(&t.data);
            if t.data.len() & 1 == 1 {
                out.push(0);
            }
        }
    }
    out.extend_from_slice(image);
    out
}

/// What a synthetic CinemaDNG sequence carries.
#[derive(Debug, Clone, PartialEq)]
pub struct DngClip {
    /// Sensor size; the active area is 4 pixels in on each side, the default crop 2 more.
    pub sensor: (u32, u32),
    pub make: String,
    pub model: String,
    pub serial: String,
    pub reel: String,
    pub lens: String,
    /// Millimetres, as (numerator, denominator).
    pub focal_length: (i32, i32),
    pub f_number: (i32, i32),
    /// Seconds, as (numerator, denominator).
    pub exposure_time: (i32, i32),
    pub iso: u16,
    pub rate: Rate,
    pub start: Timecode,
}

impl Default for DngClip {
    fn default() -> Self {
        DngClip {
            sensor: (64, 40),
            make: "platefarm".into(),
            model: "Synthetic S35".into(),
            serial: "PF-0042".into(),
            reel: "A001".into(),
            lens: "platefarm Prime 35mm T2".into(),
            focal_length: (35, 1),
            f_number: (28, 10),
            exposure_time: (1, 48),
            iso: 800,
            rate: Rate::new(24000, 1001).expect("rate"),
            start: Timecode::parse("13:45:10:05").expect("tc"),
        }
    }
}

impl DngClip {
    pub fn active_area(&self) -> [u32; 4] {
        [4, 4, self.sensor.1 - 4, self.sensor.0 - 4]
    }
    pub fn crop_size(&self) -> (u32, u32) {
        (self.sensor.0 - 12, self.sensor.1 - 12)
    }

    /// Frame `index` (0 = the start timecode) as a CinemaDNG file: 16-bit RGGB, a gradient.
    pub fn frame(&self, index: u32) -> Vec<u8> {
        let cal = platefarm_imaging::synth::calibration();
        let (w, h) = self.sensor;
        let tc = self
            .start
            .add_frames(index as u64, self.rate)
            .expect("valid start timecode");
        let bcd = to_bcd(&tc);
        let cm: Vec<(i32, i32)> = cal.color_matrices[0]
            .0
            .iter()
            .map(|v| ((v * 10000.0).round() as i32, 10000))
            .collect();
        let neutral: Vec<(i32, i32)> = cal
            .as_shot_neutral
            .iter()
            .map(|v| ((v * 1_000_000.0).round() as i32, 1_000_000))
            .collect();
        let fps = self.rate.as_f64();
        let tags = vec![
            long(254, &[0]),
            long(256, &[w]),
            long(257, &[h]),
            short(258, &[16]),
            short(259, &[1]),
            short(262, &[32803]),
            ascii(271, &self.make),
            ascii(272, &self.model),
            short(277, &[1]),
            long(278, &[h]),
            short(284, &[1]),
            ascii(305, "platefarm ingest synth"),
            short(33421, &[2, 2]),
            byte(33422, &[0, 1, 1, 2]),
            rational(33434, false, &[self.exposure_time]),
            rational(33437, false, &[self.f_number]),
            short(34855, &[self.iso]),
            rational(37386, false, &[self.focal_length]),
            ascii(42036, &self.lens),
            byte(50706, &[1, 4, 0, 0]),
            byte(50707, &[1, 3, 0, 0]),
            ascii(50708, &format!("{} {}", self.make, self.model)),
            long(50714, &[4096]),
            long(50717, &[60000]),
            long(50719, &[2, 2]),
            long(50720, &[self.crop_size().0, self.crop_size().1]),
            rational(50721, true, &cm),
            rational(50728, false, &neutral),
            ascii(50735, &self.serial),
            short(50778, &[21]),
            long(50829, &self.active_area()),
            byte(51043, &[bcd[0], bcd[1], bcd[2], bcd[3], 0, 0, 0, 0]),
            rational(51044, true, &[((fps * 10000.0).round() as i32, 10000)]),
            ascii(51081, &self.reel),
        ];
        let image: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                {
                    let (x, y) = (i % w, i / w);
                    (4096 + (x * 700 + y * 300 + index * 97) % 50000).min(60000) as u16
                }
                .to_le_bytes()
            })
            .collect();
        write_tiff(tags, &image)
    }
}

fn rec(name: &str, key: &str, format: Format) -> ClipRecord {
    ClipRecord {
        name: name.into(),
        location: "synthetic".into(),
        key: key.into(),
        format,
        reel: None,
        camera: Camera::default(),
        lens: Lens::default(),
        exposure: Exposure::default(),
        white_balance: WhiteBalance::default(),
        timecode: ClipTimecode::default(),
        image: Image::default(),
        frames: Frames::default(),
        colour: Colour::default(),
        vendor: BTreeMap::new(),
        warnings: vec![],
    }
}

fn clip_tc(start: Timecode, rate: Rate, span: u64) -> ClipTimecode {
    ClipTimecode {
        start: Some(start),
        end: Some(start.add_frames(span - 1, rate).expect("end")),
        rate: Some(rate),
        drop_frame: start.drop_frame,
        duration: Some(Timecode::from_frames(span, rate, start.drop_frame).expect("duration")),
        duration_s: Some(rate.seconds(span)),
    }
}

/// The mixed folder (location name `synthetic`).
pub fn mixed_folder() -> Footage {
    let mut objects = BTreeMap::new();
    let mut expected = Vec::new();

    // 1. CinemaDNG, 23.976 NDF, frames 100–111 with 105 missing.
    let dng = DngClip::default();
    let dng_key = "day1/A001C003_230101_R1AB.%06d.dng";
    for n in (100..=111).filter(|n| *n != 105) {
        objects.insert(crate::frame_key(dng_key, n), dng.frame(n - 100));
    }
    let cal = platefarm_imaging::synth::calibration();
    let mut r = rec("A001C003_230101_R1AB", dng_key, Format::Dng);
    r.reel = Some(dng.reel.clone());
    r.camera = Camera {
        make: Some(dng.make.clone()),
        model: Some(dng.model.clone()),
        serial: Some(dng.serial.clone()),
    };
    r.lens = Lens {
        model: Some(dng.lens.clone()),
        focal_length_mm: Some(35.0),
        aperture: Some(2.8),
    };
    r.exposure = Exposure {
        iso: Some(800),
        exposure_time_s: Some(1.0 / 48.0),
        shutter_angle_deg: None,
    };
    r.white_balance = WhiteBalance {
        as_shot_neutral: Some(cal.as_shot_neutral),
        colour_temperature_k: crate::colour::neutral_cct(
            &cal.color_matrices[0].0,
            cal.as_shot_neutral,
        ),
    };
    r.timecode = clip_tc(dng.start, dng.rate, 12);
    r.image = Image {
        width: dng.crop_size().0,
        height: dng.crop_size().1,
        bit_depth: 16,
        channels: 1,
        sensor: Some([dng.sensor.0, dng.sensor.1]),
        active_area: Some(dng.active_area()),
        cfa: Some("RGGB".into()),
        data_window: None,
        compression: Some("none".into()),
    };
    r.frames = Frames {
        first: 100,
        last: 111,
        count: 11,
        missing: vec![105],
        bad: vec![],
    };
    r.colour = Colour {
        guess: Some("camera raw".into()),
        basis: Some(
            "dng.PhotometricInterpretation = 32803 (CFA): scene-linear sensor data, \
             developed through the DNG colour matrices"
                .into(),
        ),
    };
    expected.push(r);

    // 2. DPX, 29.97 drop-frame across a minute boundary, frame 86404 truncated.
    let dpx_key = "day1/B002C001_230102_DF.%07d.dpx";
    let rate = Rate::new(30000, 1001).expect("rate");
    let start = Timecode::parse("10:00:59;27").expect("tc");
    let (w, h) = (40u32, 24u32);
    for i in 0..8u32 {
        let tc = start.add_frames(i as u64, rate).expect("tc");
        let rgb: Vec<u16> = (0..w * h * 3)
            .map(|k| ((k * 7 + i * 31) % 1024) as u16)
            .collect();
        let meta = DpxMetadata {
            creator: "platefarm ingest synth".into(),
            project: "drop-frame test".into(),
            slate: "LogC3 EI800 scan".into(),
            frame_rate: Some(29.97),
            transfer: 3,
            colorimetric: 1,
            ..DpxMetadata::default()
        };
        let mut b = encode_dpx_10bit(w, h, &rgb, &meta);
        let bcd = to_bcd(&tc);
        b[1920..1924].copy_from_slice(&[bcd[3], bcd[2], bcd[1], bcd[0]]);
        let put = |b: &mut Vec<u8>, at: usize, n: usize, s: &str| {
            b[at..at + n].fill(0);
            b[at..at + s.len()].copy_from_slice(s.as_bytes());
        };
        put(&mut b, 1556, 32, "platefarm Scanner 4K");
        put(&mut b, 1588, 32, "SCN-0007");
        if i == 4 {
            b.truncate(b.len() / 2);
        }
        objects.insert(crate::frame_key(dpx_key, 86400 + i), b);
    }
    let mut r = rec("B002C001_230102_DF", dpx_key, Format::Dpx);
    r.camera.model = Some("platefarm Scanner 4K".into());
    r.camera.serial = Some("SCN-0007".into());
    r.timecode = clip_tc(start, rate, 8);
    r.image = Image {
        width: w,
        height: h,
        bit_depth: 10,
        channels: 3,
        compression: Some("none".into()),
        ..Image::default()
    };
    r.frames = Frames {
        first: 86400,
        last: 86407,
        count: 8,
        missing: vec![],
        bad: vec![BadFrame {
            frame: 86404,
            key: crate::frame_key(dpx_key, 86404),
            reason: String::new(),
        }],
    };
    r.colour = Colour {
        guess: Some("ARRI LogC3 (EI800)".into()),
        basis: Some("dpx.slate = \"LogC3 EI800 scan\" names it".into()),
    };
    expected.push(r);

    // 3. OpenEXR, 25 fps, frames 1001–1006, 1004 corrupt.
    let exr_key = "day2/C003_plate.%04d.exr";
    let rate = Rate::fps(25);
    let start = Timecode::parse("01:00:00:00").expect("tc");
    let (w, h) = (32u32, 18u32);
    for i in 0..6u32 {
        let n = 1001 + i;
        let bytes = if n == 1004 {
            b"this is not an OpenEXR file, it only has the name of one".to_vec()
        } else {
            let img = RgbImage {
                width: w,
                height: h,
                data: (0..w * h * 3).map(|k| (k % 97) as f32 / 97.0).collect(),
            };
            let header = FrameHeader {
                frame: n,
                timecode: Some(start.add_frames(i as u64, rate).expect("tc").to_string()),
                frame_rate: Some((25, 1)),
                reel_name: Some("C003".into()),
                camera_make: Some("platefarm".into()),
                camera_model: Some("Synthetic LF".into()),
                camera_serial: Some("PF-0103".into()),
                lens: Some("platefarm Zoom 24-70".into()),
                iso: Some(1280),
                ..FrameHeader::default()
            };
            encode_exr(&img, &ExrOptions::default(), &header).expect("encode")
        };
        objects.insert(crate::frame_key(exr_key, n), bytes);
    }
    let mut r = rec("C003_plate", exr_key, Format::Exr);
    r.reel = Some("C003".into());
    r.camera = Camera {
        make: Some("platefarm".into()),
        model: Some("Synthetic LF".into()),
        serial: Some("PF-0103".into()),
    };
    r.lens.model = Some("platefarm Zoom 24-70".into());
    r.exposure.iso = Some(1280);
    r.timecode = clip_tc(start, rate, 6);
    r.image = Image {
        width: w,
        height: h,
        bit_depth: 16,
        channels: 3,
        data_window: Some([0, 0, w as i32 - 1, h as i32 - 1]),
        compression: Some("PIZ".into()),
        ..Image::default()
    };
    r.frames = Frames {
        first: 1001,
        last: 1006,
        count: 6,
        missing: vec![],
        bad: vec![BadFrame {
            frame: 1004,
            key: crate::frame_key(exr_key, 1004),
            reason: String::new(),
        }],
    };
    r.colour = Colour {
        guess: Some("ACES2065-1".into()),
        basis: Some("exr.chromaticities are ACES AP0".into()),
    };
    expected.push(r);

    // 4. A single 8-bit RGB TIFF whose description names its encoding.
    let (w, h) = (24u32, 16u32);
    let tiff = write_tiff(
        vec![
            long(256, &[w]),
            long(257, &[h]),
            short(258, &[8, 8, 8]),
            short(259, &[1]),
            short(262, &[2]),
            ascii(270, "reference still, S-Log3 S-Gamut3.Cine"),
            ascii(271, "platefarm"),
            ascii(272, "Still Camera"),
            short(277, &[3]),
            long(278, &[h]),
            short(284, &[1]),
        ],
        &(0..w * h * 3).map(|k| (k % 251) as u8).collect::<Vec<_>>(),
    );
    objects.insert("stills/D004_ref.tif".into(), tiff);
    let mut r = rec("D004_ref", "stills/D004_ref.tif", Format::Tiff);
    r.camera.make = Some("platefarm".into());
    r.camera.model = Some("Still Camera".into());
    r.image = Image {
        width: w,
        height: h,
        bit_depth: 8,
        channels: 3,
        compression: Some("none".into()),
        ..Image::default()
    };
    r.frames = Frames {
        first: 0,
        last: 0,
        count: 1,
        missing: vec![],
        bad: vec![],
    };
    r.colour = Colour {
        guess: Some("S-Log3 S-Gamut3.Cine".into()),
        basis: Some(
            "tiff.ImageDescription = \"reference still, S-Log3 S-Gamut3.Cine\" names it".into(),
        ),
    };
    expected.push(r);

    objects.insert(
        "day1/camera_notes.txt".into(),
        b"shot on a sunny day".to_vec(),
    );
    expected.sort_by(|a, b| a.key.cmp(&b.key));
    Footage { objects, expected }
}

/// `n` small CinemaDNG frames of one clip (16×16 sensor, 0.7 KiB of tags and 512 B of
/// samples each), keys `bench/B001C001.%07d.dng` from frame 0: the ingest benchmark's input.
pub fn small_frames(n: u32) -> BTreeMap<String, Vec<u8>> {
    let clip = DngClip {
        sensor: (16, 16),
        reel: "B001".into(),
        start: Timecode::parse("00:00:00:00").expect("tc"),
        rate: Rate::fps(24),
        ..DngClip::default()
    };
    (0..n)
        .map(|i| {
            (
                crate::frame_key("bench/B001C001.%07d.dng", i),
                clip.frame(i),
            )
        })
        .collect()
}

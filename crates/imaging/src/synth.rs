//! A synthetic camera: CinemaDNG frames of a colour chart with known scene-linear ACES2065-1
//! values and a moving disc, written the way a camera would (Bayer RGGB, black and white
//! levels, a default crop inside a slightly larger sensor, colour matrix and as-shot neutral,
//! make/model, reel name, SMPTE timecode, frame rate). Raw values are the exact inverse of our
//! develop pipeline, so developed patches reproduce the chart's values.

use crate::develop::camera_to_aces;
use crate::dng::ColorCalibration;
use crate::ljpeg;
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SampleCompression {
    #[default]
    Uncompressed,
    /// Lossless JPEG, 256×256 tiles, two components per JPEG row as CinemaDNG writes them.
    LosslessJpeg,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// Developed (default-crop) size; the sensor is 16 pixels larger on each axis.
    pub width: u32,
    pub height: u32,
    pub n_frames: u32,
    /// 12 or 16.
    pub bit_depth: u8,
    pub compression: SampleCompression,
    pub make: String,
    pub model: String,
    pub serial: String,
    pub lens: String,
    pub iso: u32,
    pub reel_name: String,
    /// `HH:MM:SS:FF` of frame 0.
    pub start_timecode: String,
    pub frame_rate: u32,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            width: 2048,
            height: 1080,
            n_frames: 24,
            bit_depth: 16,
            compression: SampleCompression::Uncompressed,
            make: "platefarm".into(),
            model: "Synthetic S35".into(),
            serial: "PF-0001".into(),
            lens: "platefarm Prime 35mm T2".into(),
            iso: 800,
            reel_name: "A001".into(),
            start_timecode: "01:00:00:00".into(),
            frame_rate: 24,
        }
    }
}

const BORDER: u32 = 8;

impl SampleSpec {
    /// Size of the developed image (the DNG's default crop).
    pub fn output_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    fn sensor(&self) -> (usize, usize) {
        (
            (self.width + 2 * BORDER) as usize,
            (self.height + 2 * BORDER) as usize,
        )
    }
    fn levels(&self) -> (u32, u32) {
        if self.bit_depth == 12 {
            (256, 4000)
        } else {
            (4096, 60000)
        }
    }
    fn timecode(&self, frame_idx: u32) -> [u8; 8] {
        let parts: Vec<u32> = self
            .start_timecode
            .split(':')
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        let fps = self.frame_rate.max(1);
        let start =
            ((parts.first().copied().unwrap_or(0) * 60 + parts.get(1).copied().unwrap_or(0)) * 60
                + parts.get(2).copied().unwrap_or(0))
                * fps
                + parts.get(3).copied().unwrap_or(0);
        let f = start + frame_idx;
        let bcd = |v: u32| (((v / 10) << 4) | (v % 10)) as u8;
        [
            bcd(f % fps),
            bcd(f / fps % 60),
            bcd(f / (60 * fps) % 60),
            bcd(f / (3600 * fps) % 24),
            0,
            0,
            0,
            0,
        ]
    }
}

/// One chart patch, in developed-image pixel coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartPatch {
    pub name: &'static str,
    pub aces: [f32; 3],
    pub neutral: bool,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// ColorChecker-like patch colours in ACES2065-1 (scene linear); the last row is neutral.
const PATCHES: [(&str, [f32; 3]); 24] = [
    ("dark skin", [0.118, 0.087, 0.059]),
    ("light skin", [0.400, 0.316, 0.235]),
    ("blue sky", [0.185, 0.204, 0.313]),
    ("foliage", [0.109, 0.135, 0.066]),
    ("blue flower", [0.266, 0.236, 0.410]),
    ("bluish green", [0.322, 0.464, 0.430]),
    ("orange", [0.387, 0.227, 0.058]),
    ("purplish blue", [0.139, 0.114, 0.358]),
    ("moderate red", [0.302, 0.138, 0.125]),
    ("purple", [0.089, 0.063, 0.139]),
    ("yellow green", [0.350, 0.441, 0.116]),
    ("orange yellow", [0.482, 0.368, 0.072]),
    ("blue", [0.086, 0.058, 0.266]),
    ("green", [0.150, 0.232, 0.091]),
    ("red", [0.212, 0.085, 0.048]),
    ("yellow", [0.594, 0.571, 0.092]),
    ("magenta", [0.312, 0.149, 0.292]),
    ("cyan", [0.125, 0.198, 0.364]),
    ("white 9.5", [0.90, 0.90, 0.90]),
    ("neutral 8", [0.59, 0.59, 0.59]),
    ("neutral 6.5", [0.36, 0.36, 0.36]),
    ("neutral 5", [0.19, 0.19, 0.19]),
    ("neutral 3.5", [0.09, 0.09, 0.09]),
    ("black 2", [0.031, 0.031, 0.031]),
];

const BACKGROUND: [f32; 3] = [0.10, 0.10, 0.10];
const DISC: [f32; 3] = [0.45, 0.22, 0.08];

/// The chart's patches for a spec, in developed-image coordinates.
pub fn chart_patches(spec: &SampleSpec) -> Vec<ChartPatch> {
    let (w, h) = (spec.width, spec.height);
    let cell = (w / 6).min(h * 2 / 3 / 4).max(8);
    let patch = cell * 7 / 8;
    let (x0, y0) = ((w - 6 * cell) / 2, (h - 4 * cell) / 2 - cell / 4);
    PATCHES
        .iter()
        .enumerate()
        .map(|(i, (name, aces))| ChartPatch {
            name,
            aces: *aces,
            neutral: i >= 18,
            x: x0 + (i as u32 % 6) * cell + (cell - patch) / 2,
            y: y0 + (i as u32 / 6) * cell + (cell - patch) / 2,
            width: patch,
            height: patch,
        })
        .collect()
}

/// The disc's centre and radius in frame `frame_idx` (it travels left to right).
fn disc(spec: &SampleSpec, frame_idx: u32) -> (f32, f32, f32) {
    let r = (spec.height as f32 * 0.05).max(4.0);
    let travel = spec.width as f32 - 4.0 * r;
    let x = 2.0 * r + (frame_idx as f32 * 37.0) % travel.max(1.0);
    (x, spec.height as f32 - 1.6 * r, r)
}

/// The synthetic camera's calibration: a plausible XYZ → camera matrix for D65 and the
/// camera's response to a D65 white as the as-shot neutral.
pub fn calibration() -> ColorCalibration {
    let cm = [
        0.6722, -0.0635, -0.0963, -0.4287, 1.2460, 0.2028, -0.0908, 0.2162, 0.5668,
    ];
    let d65 = [0.3127 / 0.3290, 1.0, (1.0 - 0.3127 - 0.3290) / 0.3290];
    let mut neutral = [0.0f64; 3];
    for (r, n) in neutral.iter_mut().enumerate() {
        *n = cm[3 * r] * d65[0] + cm[3 * r + 1] * d65[1] + cm[3 * r + 2] * d65[2];
    }
    let g = neutral[1];
    // Rounded to what the RATIONAL tag stores, so writer and reader agree exactly.
    let neutral = neutral.map(|v| (v / g * 1_000_000.0).round() / 1_000_000.0);
    ColorCalibration {
        color_matrices: vec![(cm, 21)],
        forward_matrices: vec![],
        analog_balance: [1.0; 3],
        as_shot_neutral: neutral,
    }
}

/// Raw sensor samples (row-major, sensor size) of one frame.
fn mosaic(spec: &SampleSpec, frame_idx: u32) -> Vec<u16> {
    let cal = calibration();
    let m = camera_to_aces(&cal)
        .expect("the synthetic calibration is valid")
        .inverse()
        .expect("invertible");
    let to_cam = |aces: [f32; 3]| m.apply(aces.map(|v| v as f64));
    let patches = chart_patches(spec);
    let patch_cam: Vec<[f64; 3]> = patches.iter().map(|p| to_cam(p.aces)).collect();
    let (bg, disc_cam) = (to_cam(BACKGROUND), to_cam(DISC));
    let (dx, dy, dr) = disc(spec, frame_idx);
    let (sw, sh) = spec.sensor();
    let (black, white) = spec.levels();
    let range = (white - black) as f64;
    let mut out = vec![0u16; sw * sh];
    out.par_chunks_mut(sw).enumerate().for_each(|(sy, row)| {
        let y = sy as i64 - BORDER as i64;
        for (sx, v) in row.iter_mut().enumerate() {
            let x = sx as i64 - BORDER as i64;
            let mut cam = &bg;
            if let Some(i) = patches.iter().position(|p| {
                x >= p.x as i64
                    && x < (p.x + p.width) as i64
                    && y >= p.y as i64
                    && y < (p.y + p.height) as i64
            }) {
                cam = &patch_cam[i];
            }
            let (fx, fy) = (x as f32 + 0.5 - dx, y as f32 + 0.5 - dy);
            if fx * fx + fy * fy < dr * dr {
                cam = &disc_cam;
            }
            let c = [0, 1, 1, 2][(sy & 1) * 2 + (sx & 1)]; // RGGB
            *v = (black as f64 + (cam[c] * range).clamp(0.0, range)).round() as u16;
        }
    });
    out
}

struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    data: Vec<u8>,
}

fn e_short(tag: u16, v: &[u16]) -> Entry {
    Entry {
        tag,
        typ: 3,
        count: v.len() as u32,
        data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}
fn e_long(tag: u16, v: &[u32]) -> Entry {
    Entry {
        tag,
        typ: 4,
        count: v.len() as u32,
        data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}
fn e_byte(tag: u16, v: &[u8]) -> Entry {
    Entry {
        tag,
        typ: 1,
        count: v.len() as u32,
        data: v.to_vec(),
    }
}
fn e_ascii(tag: u16, s: &str) -> Entry {
    let mut data = s.as_bytes().to_vec();
    data.push(0);
    Entry {
        tag,
        typ: 2,
        count: data.len() as u32,
        data,
    }
}
fn e_srational(tag: u16, v: &[f64]) -> Entry {
    let data = v.iter().flat_map(|x| {
        let n = (x * 10000.0).round() as i32;
        n.to_le_bytes().into_iter().chain(10000i32.to_le_bytes())
    });
    Entry {
        tag,
        typ: 10,
        count: v.len() as u32,
        data: data.collect(),
    }
}
fn e_rational(tag: u16, v: &[f64]) -> Entry {
    let data = v.iter().flat_map(|x| {
        let n = (x * 1_000_000.0).round() as u32;
        n.to_le_bytes()
            .into_iter()
            .chain(1_000_000u32.to_le_bytes())
    });
    Entry {
        tag,
        typ: 5,
        count: v.len() as u32,
        data: data.collect(),
    }
}

/// One frame of the clip as a CinemaDNG file.
pub fn sample_frame_dng(spec: &SampleSpec, frame_idx: u32) -> Vec<u8> {
    let (sw, sh) = spec.sensor();
    let raw = mosaic(spec, frame_idx);
    let (black, white) = spec.levels();
    let cal = calibration();
    let (bits, compression, blobs, layout): (u16, u16, Vec<Vec<u8>>, Vec<Entry>) =
        match spec.compression {
            SampleCompression::Uncompressed => {
                // 16-bit little-endian samples; 12-bit packed big-endian as DNG stores them.
                let bytes: Vec<u8> = if spec.bit_depth == 12 {
                    raw.chunks(2)
                        .flat_map(|p| {
                            let (a, b) = (p[0], *p.get(1).unwrap_or(&0));
                            [
                                (a >> 4) as u8,
                                (((a & 0xF) << 4) | (b >> 8)) as u8,
                                (b & 0xFF) as u8,
                            ]
                        })
                        .collect()
                } else {
                    raw.iter().flat_map(|v| v.to_le_bytes()).collect()
                };
                (
                    spec.bit_depth as u16,
                    1,
                    vec![bytes],
                    vec![e_long(278, &[sh as u32])],
                )
            }
            SampleCompression::LosslessJpeg => {
                let t = 256usize;
                let (across, down) = (sw.div_ceil(t), sh.div_ceil(t));
                let tiles: Vec<Vec<u8>> = (0..across * down)
                    .into_par_iter()
                    .map(|i| {
                        let (tx, ty) = ((i % across) * t, (i / across) * t);
                        let mut tile = vec![0u16; t * t];
                        for r in 0..t {
                            for c in 0..t {
                                // Pad partial tiles by repeating the edge, as cameras do.
                                let (y, x) = ((ty + r).min(sh - 1), (tx + c).min(sw - 1));
                                tile[r * t + c] = raw[y * sw + x];
                            }
                        }
                        ljpeg::encode(&tile, t / 2, t, 2, spec.bit_depth)
                    })
                    .collect();
                (
                    spec.bit_depth as u16,
                    7,
                    tiles,
                    vec![e_long(322, &[t as u32]), e_long(323, &[t as u32])],
                )
            }
        };
    let mut entries = vec![
        e_long(254, &[0]),
        e_long(256, &[sw as u32]),
        e_long(257, &[sh as u32]),
        e_short(258, &[bits]),
        e_short(259, &[compression]),
        e_short(262, &[32803]),
        e_ascii(271, &spec.make),
        e_ascii(272, &spec.model),
        e_short(277, &[1]),
        e_short(284, &[1]),
        e_ascii(305, "platefarm sample"),
        e_short(33421, &[2, 2]),
        e_byte(33422, &[0, 1, 1, 2]),
        e_short(34855, &[spec.iso.min(65535) as u16]),
        e_ascii(42036, &spec.lens),
        e_byte(50706, &[1, 4, 0, 0]),
        e_byte(50707, &[1, 3, 0, 0]),
        e_ascii(50708, &format!("{} {}", spec.make, spec.model)),
        e_long(50714, &[black]),
        e_long(50717, &[white]),
        e_long(50719, &[BORDER, BORDER]),
        e_long(50720, &[spec.width, spec.height]),
        e_srational(50721, &cal.color_matrices[0].0),
        e_rational(50728, &cal.as_shot_neutral),
        e_ascii(50735, &spec.serial),
        e_short(50778, &[21]),
        e_byte(51043, &spec.timecode(frame_idx)),
        e_srational(51044, &[spec.frame_rate as f64]),
        e_ascii(51081, &spec.reel_name),
    ];
    entries.extend(layout);
    // Placeholders for the data offsets/counts, filled once the layout is known.
    let n_blobs = blobs.len();
    let (off_tag, cnt_tag) = if compression == 7 {
        (324, 325)
    } else {
        (273, 279)
    };
    entries.push(e_long(off_tag, &vec![0; n_blobs]));
    entries.push(e_long(
        cnt_tag,
        &blobs.iter().map(|b| b.len() as u32).collect::<Vec<_>>(),
    ));
    entries.sort_by_key(|e| e.tag);

    let ifd_len = 2 + 12 * entries.len() + 4;
    let mut external = 8 + ifd_len;
    let mut ext_offsets = Vec::new();
    for e in &entries {
        if e.data.len() > 4 {
            ext_offsets.push(Some(external));
            external += e.data.len() + (e.data.len() & 1);
        } else {
            ext_offsets.push(None);
        }
    }
    let mut data_offsets = Vec::new();
    let mut at = external;
    for b in &blobs {
        data_offsets.push(at as u32);
        at += b.len() + (b.len() & 1);
    }
    let off_entry = entries
        .iter_mut()
        .find(|e| e.tag == off_tag)
        .expect("offsets entry");
    off_entry.data = data_offsets.iter().flat_map(|x| x.to_le_bytes()).collect();

    let mut out = Vec::with_capacity(at);
    out.extend_from_slice(b"II");
    out.extend_from_slice(&42u16.to_le_bytes());
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (e, ext) in entries.iter().zip(&ext_offsets) {
        out.extend_from_slice(&e.tag.to_le_bytes());
        out.extend_from_slice(&e.typ.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
        match ext {
            Some(o) => out.extend_from_slice(&(*o as u32).to_le_bytes()),
            None => {
                let mut v = e.data.clone();
                v.resize(4, 0);
                out.extend_from_slice(&v);
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    for e in &entries {
        if e.data.len() > 4 {
            out.extend_from_slice(&e.data);
            if e.data.len() & 1 == 1 {
                out.push(0);
            }
        }
    }
    for b in &blobs {
        out.extend_from_slice(b);
        if b.len() & 1 == 1 {
            out.push(0);
        }
    }
    out
}

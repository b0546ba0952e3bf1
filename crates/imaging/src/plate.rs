//! One plate from any input the crate decodes: camera raw (DNG/CinemaDNG) through the DNG
//! matrices, DPX / OpenEXR / TIFF through an input colour space, to ACES2065-1 (no look — the
//! look travels in the delivery AMF), FDL framing, OpenEXR; optionally a review proxy with the
//! look (ASC CDL in ACEScct) and an output transform. Shared by the worker and `convert`.
//!
//! Everything costly to set up (decode tables, output-transform tables) lives in a
//! [`PlateSpec`] built once per chunk; [`render_plate`] is a pure function of the bytes and
//! the spec, runs its parallel loops on the caller's rayon pool and gives the same bytes for
//! any thread count.

use crate::rows::{collect, BufferRows, RgbAlphaRows, RowCursor, Rows};
use crate::{
    decode_dng, decode_exr, decode_exr_layout, decode_tiff, develop_to_aces, dpx, encode_exr,
    encode_exr_rows, encode_jpeg, encode_png_tagged, preview_rgb8_with, tiff_ifd, DecodeLimits,
    DevelopOptions, ExrLayout, ExrOptions, FrameHeader, Framing, ImagingError, Resampled, RgbImage,
};
use platefarm_color::{CdlLook, ColorSpace, Display, IntegerDecoder, OutputTransform, Pipeline};
use rayon::prelude::*;

/// The DNGVersion tag: present in every DNG's first IFD, absent from a plain TIFF.
const DNG_VERSION_TAG: u16 = 50706;

/// An input file format the crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// DNG / CinemaDNG camera raw.
    Dng,
    Dpx,
    Exr,
    Tiff,
}

impl InputFormat {
    /// The format a file extension names (case-insensitive), if any.
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext.to_ascii_lowercase().as_str() {
            "dng" => Some(InputFormat::Dng),
            "dpx" => Some(InputFormat::Dpx),
            "exr" => Some(InputFormat::Exr),
            "tif" | "tiff" => Some(InputFormat::Tiff),
            _ => None,
        }
    }

    /// The format of a path's extension (`…/A001.0086400.dpx` → DPX).
    pub fn from_path(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path);
        name.rsplit_once('.')
            .and_then(|(_, ext)| Self::from_extension(ext))
    }

    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Dng => "DNG",
            InputFormat::Dpx => "DPX",
            InputFormat::Exr => "OpenEXR",
            InputFormat::Tiff => "TIFF",
        }
    }

    /// Camera raw is developed through its own matrices and needs no input colour space.
    pub fn is_camera_raw(self) -> bool {
        self == InputFormat::Dng
    }

    /// The format of `bytes`, from their magic number; TIFF and DNG share one, and the
    /// DNGVersion tag tells them apart. `hint` (the file extension) only names the format in
    /// messages, or decides when a TIFF-magic file's first IFD cannot be read.
    pub fn sniff(bytes: &[u8], hint: Option<InputFormat>) -> Result<Self, ImagingError> {
        match bytes.get(..4) {
            Some(b"SDPX" | b"XPDS") => Ok(InputFormat::Dpx),
            Some([0x76, 0x2f, 0x31, 0x01]) => Ok(InputFormat::Exr),
            Some(b"II*\0" | b"MM\0*") => {
                // The DNGVersion tag decides; a first IFD too broken to read leaves it to the
                // file name, and the decoder then reports what is broken.
                let first_ifd = tiff_ifd::Tiff::parse(bytes)
                    .and_then(|(tiff, first)| tiff.read_ifd(first).map(|(ifd, _)| ifd));
                match (first_ifd, hint) {
                    (Ok(ifd), _) if ifd.get(DNG_VERSION_TAG).is_some() => Ok(InputFormat::Dng),
                    (Ok(_), _) => Ok(InputFormat::Tiff),
                    (Err(_), Some(h @ (InputFormat::Dng | InputFormat::Tiff))) => Ok(h),
                    (Err(e), _) => Err(e),
                }
            }
            Some(magic) => Err(ImagingError::Unsupported {
                what: format!(
                    "input format with magic {magic:02x?} (DNG, DPX, OpenEXR or TIFF{})",
                    hint.map(|h| format!("; the file name says {}", h.name()))
                        .unwrap_or_default()
                ),
            }),
            None => Err(ImagingError::Format {
                what: format!("input is {} bytes, too short for any image", bytes.len()),
            }),
        }
    }
}

/// A non-raw input's colour space and its conversion to ACES2065-1, built once per chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTransform {
    pub space: &'static ColorSpace,
    /// `None` when the input already is ACES2065-1.
    to_aces: Option<Pipeline>,
}

impl InputTransform {
    pub fn new(space: &'static ColorSpace) -> Self {
        let aces = aces2065();
        InputTransform {
            space,
            to_aces: (space.name != aces.name).then(|| Pipeline::new(space, aces)),
        }
    }

    /// Converts interleaved RGB to ACES2065-1 in place, in parallel runs (per-pixel maths, so
    /// the result does not depend on how the runs are split).
    pub fn apply(&self, rgb: &mut [f32]) {
        if let Some(p) = &self.to_aces {
            rgb.par_chunks_mut(3 * 4096)
                .for_each(|run| p.apply_rgb(run));
        }
    }
}

fn aces2065() -> &'static ColorSpace {
    ColorSpace::from_name("ACES2065-1").expect("ACES2065-1 is a built-in colour space")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyFormat {
    Jpeg,
    Png,
}

impl ProxyFormat {
    /// The file extension of the proxy (`jpg`, `png`).
    pub fn extension(self) -> &'static str {
        match self {
            ProxyFormat::Jpeg => "jpg",
            ProxyFormat::Png => "png",
        }
    }
}

/// An 8-bit review proxy of the framed plate: look, then output transform, then encode.
#[derive(Debug, Clone)]
pub struct ProxySpec {
    pub format: ProxyFormat,
    pub output: OutputTransform,
    /// The AMF's looks, in order, applied to the proxy only.
    pub looks: Vec<CdlLook>,
    /// JPEG quality 1–100 (ignored for PNG).
    pub quality: u8,
    /// Box-downscaled by a whole factor to at most this width; `None` keeps full resolution.
    pub max_width: Option<u32>,
}

/// Everything every frame of a shot shares, prepared once per chunk.
#[derive(Debug, Clone, Default)]
pub struct PlateSpec {
    pub limits: DecodeLimits,
    /// The format the file name says; the bytes' magic number decides.
    pub format_hint: Option<InputFormat>,
    pub develop: DevelopOptions,
    /// Colour space of DPX / EXR / TIFF input; unused for camera raw. `None` refuses non-raw
    /// input (its colours would be guessed).
    pub input: Option<InputTransform>,
    /// Reframing from the shot's FDL canvas template; `None` keeps the decoded image.
    pub framing: Option<Framing>,
    pub exr: ExrOptions,
    /// Carried into every plate's header.
    pub fdl_json: Option<String>,
    pub amf_uuid: Option<String>,
    pub proxy: Option<ProxySpec>,
    /// The part of a multi-part OpenEXR input (name or index) `decode_to_aces_layout` reads;
    /// `None` refuses a multi-part file, naming its parts.
    pub exr_part: Option<String>,
}

/// An encoded review proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyImage {
    pub format: ProxyFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// One rendered frame: the plate and, if asked for, its proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateOutput {
    pub format: InputFormat,
    pub exr: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub proxy: Option<ProxyImage>,
}

/// A decoded frame in ACES2065-1 and what its file says about itself.
struct Decoded {
    img: RgbImage,
    header: FrameHeader,
}

/// Frame rates as rationals, so 23.976 stays 24000/1001 in the EXR header.
fn frame_rate(fps: f32) -> Option<(u32, u32)> {
    if !(fps.is_finite() && fps > 0.0 && fps < 1000.0) {
        return None;
    }
    let ntsc = (fps * 1.001).round();
    if (ntsc / 1.001 - fps).abs() < 0.005 && (fps - fps.round()).abs() > 0.005 {
        return Some((ntsc as u32 * 1000, 1001));
    }
    if (fps - fps.round()).abs() < 0.001 {
        return Some((fps.round() as u32, 1));
    }
    Some(((fps * 1000.0).round() as u32, 1000))
}

/// DPX codes straight to ACES2065-1 rows: a per-code table of the input space's decode curve
/// and its 3×3 matrix (`IntegerDecoder`) — no float copy in the input space, no second pass,
/// and, read through [`Rows`], no full-frame buffer at all: rows are unpacked from the file's
/// bytes when a later stage asks for them. With alpha (RGBA files, when asked for) the rows
/// are RGBA, the colour premultiplied by the alpha (codes scaled to 0–1).
pub struct DpxRows<'a> {
    bytes: &'a [u8],
    layout: dpx::DpxLayout,
    dec: IntegerDecoder,
    alpha: bool,
}

impl<'a> DpxRows<'a> {
    pub fn new(
        bytes: &'a [u8],
        limits: &DecodeLimits,
        space: &'static ColorSpace,
        keep_alpha: bool,
    ) -> Result<Self, ImagingError> {
        let layout = dpx::parse_dpx(bytes, limits)?;
        if layout.channels < 3 {
            return Err(ImagingError::Unsupported {
                what: format!("DPX with {} channel(s): RGB needed", layout.channels),
            });
        }
        let dec = IntegerDecoder::try_new(space, aces2065(), layout.bit_depth).map_err(|e| {
            ImagingError::Unsupported {
                what: format!("DPX: {e}"),
            }
        })?;
        let alpha = keep_alpha && layout.channels >= 4;
        Ok(DpxRows {
            bytes,
            layout,
            dec,
            alpha,
        })
    }

    /// What the file's headers say about the frame (timecode, rate, identity).
    pub fn header(&self) -> FrameHeader {
        let m = &self.layout.metadata;
        FrameHeader {
            timecode: m.timecode.clone(),
            frame_rate: m.frame_rate.and_then(frame_rate),
            extra: dpx_identity(m),
            ..FrameHeader::default()
        }
    }

    /// Line `y` to ACES2065-1 RGB (`width × 3`), and its alpha into `alpha` (premultiplying
    /// the RGB) when given. `codes` and `rgb_codes` are scratch.
    fn decode_row(
        &self,
        y: usize,
        codes: &mut Vec<u16>,
        rgb_codes: &mut Vec<u16>,
        rgb: &mut [f32],
        alpha: Option<&mut [f32]>,
    ) {
        let ch = self.layout.channels;
        codes.resize(self.layout.width as usize * ch, 0);
        self.layout.unpack_row(self.bytes, y, codes);
        if ch == 3 {
            self.dec.decode_row(codes, rgb);
        } else {
            // Alpha and any further channels are not colour.
            rgb_codes.clear();
            rgb_codes.extend(codes.chunks_exact(ch).flat_map(|p| [p[0], p[1], p[2]]));
            self.dec.decode_row(rgb_codes, rgb);
        }
        if let Some(alpha) = alpha {
            let max = ((1u32 << self.layout.bit_depth.min(16)) - 1) as f32;
            for ((a, p), c) in alpha
                .iter_mut()
                .zip(codes.chunks_exact(ch))
                .zip(rgb.chunks_exact_mut(3))
            {
                *a = p[3] as f32 / max;
                c.iter_mut().for_each(|v| *v *= *a);
            }
        }
    }

    /// The whole frame: ACES2065-1 RGB and, if kept, its alpha plane (rows in parallel).
    fn decode_all(&self) -> (RgbImage, Option<Vec<f32>>) {
        let (w, h) = (self.layout.width as usize, self.layout.height as usize);
        let mut data = vec![0f32; w * h * 3];
        let mut alpha = self.alpha.then(|| vec![0f32; w * h]);
        let scratch = || (Vec::new(), Vec::new());
        match &mut alpha {
            Some(alpha) => data
                .par_chunks_mut(w * 3)
                .zip(alpha.par_chunks_mut(w))
                .enumerate()
                .for_each_init(scratch, |(codes, rgb_codes), (y, (rgb, a))| {
                    self.decode_row(y, codes, rgb_codes, rgb, Some(a))
                }),
            None => data
                .par_chunks_mut(w * 3)
                .enumerate()
                .for_each_init(scratch, |(codes, rgb_codes), (y, rgb)| {
                    self.decode_row(y, codes, rgb_codes, rgb, None)
                }),
        }
        let img = RgbImage {
            width: self.layout.width,
            height: self.layout.height,
            data,
        };
        (img, alpha)
    }
}

impl Rows for DpxRows<'_> {
    fn width(&self) -> usize {
        self.layout.width as usize
    }
    fn height(&self) -> usize {
        self.layout.height as usize
    }
    fn channels(&self) -> usize {
        if self.alpha {
            4
        } else {
            3
        }
    }
    fn cursor(&self) -> Box<dyn RowCursor + '_> {
        Box::new(DpxCursor {
            src: self,
            codes: Vec::new(),
            rgb_codes: Vec::new(),
            rgb: Vec::new(),
            alpha: Vec::new(),
            out: Vec::new(),
        })
    }
}

struct DpxCursor<'a, 'b> {
    src: &'a DpxRows<'b>,
    codes: Vec<u16>,
    rgb_codes: Vec<u16>,
    rgb: Vec<f32>,
    alpha: Vec<f32>,
    out: Vec<f32>,
}

impl RowCursor for DpxCursor<'_, '_> {
    fn rows(&mut self, y0: usize, n: usize) -> &[f32] {
        let w = self.src.layout.width as usize;
        let channels = self.src.channels();
        self.out.resize(n * w * channels, 0.0);
        for (i, orow) in self.out.chunks_exact_mut(w * channels).enumerate() {
            let (codes, rgb_codes) = (&mut self.codes, &mut self.rgb_codes);
            if !self.src.alpha {
                self.src.decode_row(y0 + i, codes, rgb_codes, orow, None);
                continue;
            }
            self.rgb.resize(w * 3, 0.0);
            self.alpha.resize(w, 0.0);
            self.src.decode_row(
                y0 + i,
                codes,
                rgb_codes,
                &mut self.rgb,
                Some(&mut self.alpha),
            );
            for ((o, p), a) in orow
                .chunks_exact_mut(4)
                .zip(self.rgb.chunks_exact(3))
                .zip(&self.alpha)
            {
                o.copy_from_slice(&[p[0], p[1], p[2], *a]);
            }
        }
        &self.out
    }
}

/// The whole DPX frame in ACES2065-1 (see [`DpxRows`]).
fn decode_dpx_rgb(
    bytes: &[u8],
    limits: &DecodeLimits,
    space: &'static ColorSpace,
) -> Result<Decoded, ImagingError> {
    decode_dpx_rgba(bytes, limits, space, false).map(|(d, _)| d)
}

/// As `decode_dpx_rgb`, with the alpha channel (codes scaled to 0–1) when `keep_alpha` and the
/// file has one; the RGB is then premultiplied by it.
fn decode_dpx_rgba(
    bytes: &[u8],
    limits: &DecodeLimits,
    space: &'static ColorSpace,
    keep_alpha: bool,
) -> Result<(Decoded, Option<Vec<f32>>), ImagingError> {
    let rows = DpxRows::new(bytes, limits, space, keep_alpha)?;
    let (img, alpha) = rows.decode_all();
    let header = rows.header();
    Ok((Decoded { img, header }, alpha))
}

/// A DPX's identity fields as plate header attributes, under the names OpenImageIO gives them
/// when it reads a DPX (so a plate says what oiiotool's conversion would): frame id, slate,
/// input device and its serial. Empty fields are left out.
pub fn dpx_identity(m: &dpx::DpxMetadata) -> Vec<(String, String)> {
    [
        ("dpx:FrameId", &m.film_frame_id),
        ("dpx:SlateInfo", &m.slate),
        ("dpx:InputDevice", &m.input_device),
        ("dpx:InputDeviceSerialNumber", &m.input_device_serial),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect()
}

/// RGB times alpha, per pixel (EXR stores colour premultiplied).
pub fn premultiply(rgb: &mut [f32], alpha: &[f32]) {
    rgb.par_chunks_mut(3)
        .zip(alpha.par_iter())
        .for_each(|(p, a)| p.iter_mut().for_each(|v| *v *= a));
}

/// RGB divided by alpha where alpha is not 0 (a colour transform that is not linear must see
/// straight colour); `premultiply` undoes it.
pub fn unpremultiply(rgb: &mut [f32], alpha: &[f32]) {
    rgb.par_chunks_mut(3)
        .zip(alpha.par_iter())
        .for_each(|(p, a)| {
            if *a != 0.0 {
                p.iter_mut().for_each(|v| *v /= a);
            }
        });
}

/// A decoded frame with its windows (overscan kept) and its alpha.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutImage {
    /// ACES2065-1, premultiplied by `alpha` if there is one; covers `layout.data`.
    pub img: RgbImage,
    pub alpha: Option<Vec<f32>>,
    pub layout: ExrLayout,
}

/// As [`decode_to_aces`], keeping what a plate-to-plate conversion must not lose: an EXR's
/// data and display windows, and the alpha of an EXR or DPX (premultiplied, the EXR
/// convention; colour is transformed unpremultiplied). Other inputs come back with the image
/// as both windows and no alpha.
pub fn decode_to_aces_layout(
    input: &[u8],
    spec: &PlateSpec,
) -> Result<(InputFormat, LayoutImage, FrameHeader), ImagingError> {
    let format = InputFormat::sniff(input, spec.format_hint)?;
    let needs_space = || input_space(spec, format);
    match format {
        InputFormat::Exr => {
            let t = needs_space()?;
            let p = decode_exr_layout(input, &spec.limits, spec.exr_part.as_deref())?;
            let (mut rgb, alpha) = if p.channels == 4 {
                let mut rgb = Vec::with_capacity(p.data.len() / 4 * 3);
                let mut alpha = Vec::with_capacity(p.data.len() / 4);
                for px in p.data.chunks_exact(4) {
                    rgb.extend_from_slice(&px[..3]);
                    alpha.push(px[3]);
                }
                (rgb, Some(alpha))
            } else {
                (p.data, None)
            };
            if let Some(a) = &alpha {
                unpremultiply(&mut rgb, a);
            }
            t.apply(&mut rgb);
            if let Some(a) = &alpha {
                premultiply(&mut rgb, a);
            }
            let img = RgbImage {
                width: p.layout.data.width,
                height: p.layout.data.height,
                data: rgb,
            };
            let layout = p.layout;
            Ok((
                format,
                LayoutImage { img, alpha, layout },
                exr_header(input),
            ))
        }
        InputFormat::Tiff => {
            let t = needs_space()?;
            let tiff = crate::tiff_rgb::decode_tiff_rgba(input, &spec.limits)?;
            let mut img = tiff.rgb;
            if let Some(a) = &tiff.alpha {
                if tiff.premultiplied {
                    unpremultiply(&mut img.data, a);
                }
            }
            t.apply(&mut img.data);
            if let Some(a) = &tiff.alpha {
                premultiply(&mut img.data, a);
            }
            let layout = ExrLayout::plain(img.width, img.height);
            let alpha = tiff.alpha;
            Ok((
                format,
                LayoutImage { img, alpha, layout },
                FrameHeader::default(),
            ))
        }
        InputFormat::Dpx => {
            let t = needs_space()?;
            let (Decoded { img, header }, alpha) =
                decode_dpx_rgba(input, &spec.limits, t.space, true)?;
            let layout = ExrLayout::plain(img.width, img.height);
            Ok((format, LayoutImage { img, alpha, layout }, header))
        }
        _ => {
            let (format, img, header) = decode_to_aces(input, spec)?;
            let layout = ExrLayout::plain(img.width, img.height);
            Ok((
                format,
                LayoutImage {
                    img,
                    alpha: None,
                    layout,
                },
                header,
            ))
        }
    }
}

/// Timecode and frame rate from an EXR input's header, when it has them.
fn exr_header(bytes: &[u8]) -> FrameHeader {
    let Ok(meta) = exr::meta::MetaData::read_from_buffered(std::io::Cursor::new(bytes), false)
    else {
        return FrameHeader::default();
    };
    let Some(h) = meta.headers.first() else {
        return FrameHeader::default();
    };
    FrameHeader {
        timecode: h.shared_attributes.time_code.map(|tc| {
            let sep = if tc.drop_frame { ';' } else { ':' };
            format!(
                "{:02}:{:02}:{:02}{sep}{:02}",
                tc.hours, tc.minutes, tc.seconds, tc.frame
            )
        }),
        frame_rate: h
            .own_attributes
            .frames_per_second
            .and_then(|(n, d)| (n > 0 && d > 0).then_some((n as u32, d))),
        ..FrameHeader::default()
    }
}

/// The input transform of a non-raw input; refused when the spec has none (its colours would be
/// guessed).
fn input_space(spec: &PlateSpec, format: InputFormat) -> Result<&InputTransform, ImagingError> {
    spec.input
        .as_ref()
        .ok_or_else(|| ImagingError::Unsupported {
            what: format!(
                "{} input needs an input colour space (camera raw is the only input without one)",
                format.name()
            ),
        })
}

fn decode(bytes: &[u8], format: InputFormat, spec: &PlateSpec) -> Result<Decoded, ImagingError> {
    let input = || input_space(spec, format);
    let (mut decoded, transform) = match format {
        InputFormat::Dng => {
            let raw = decode_dng(bytes, &spec.limits)?;
            let img = develop_to_aces(&raw, &spec.develop)?;
            let m = raw.metadata;
            let header = FrameHeader {
                timecode: m.timecode,
                frame_rate: m.frame_rate,
                reel_name: m.reel_name,
                camera_make: m.make,
                camera_model: m.model,
                camera_serial: m.serial,
                lens: m.lens,
                iso: m.iso,
                ..FrameHeader::default()
            };
            return Ok(Decoded { img, header });
        }
        InputFormat::Dpx => {
            let t = input()?;
            return decode_dpx_rgb(bytes, &spec.limits, t.space);
        }
        InputFormat::Exr => {
            let t = input()?;
            let img = decode_exr(bytes, &spec.limits)?;
            (
                Decoded {
                    img,
                    header: exr_header(bytes),
                },
                t,
            )
        }
        InputFormat::Tiff => {
            let t = input()?;
            let img = decode_tiff(bytes, &spec.limits)?;
            (
                Decoded {
                    img,
                    header: FrameHeader::default(),
                },
                t,
            )
        }
    };
    transform.apply(&mut decoded.img.data);
    Ok(decoded)
}

/// Renders a proxy of the framed ACES2065-1 image: the look on a copy, then the output
/// transform and 8-bit encode.
pub fn render_proxy(img: &RgbImage, proxy: &ProxySpec) -> Result<ProxyImage, ImagingError> {
    let graded;
    let src = if proxy.looks.is_empty() {
        img
    } else {
        {
            let mut data = img.data.clone();
            data.par_chunks_mut(3 * 4096).for_each(|run| {
                for look in &proxy.looks {
                    look.apply_rgb(run);
                }
            });
            graded = RgbImage {
                width: img.width,
                height: img.height,
                data,
            };
            &graded
        }
    };
    let max_width = proxy.max_width.unwrap_or(src.width);
    let (width, height, rgb8) = preview_rgb8_with(src, max_width, &proxy.output);
    let bytes = match proxy.format {
        ProxyFormat::Png => {
            encode_png_tagged(width, height, &rgb8, proxy.output.display == Display::Srgb)?
        }
        ProxyFormat::Jpeg => encode_jpeg(width, height, &rgb8, proxy.quality)?,
    };
    Ok(ProxyImage {
        format: proxy.format,
        width,
        height,
        bytes,
    })
}

/// Input bytes of one frame → ACES2065-1 (unframed), with what the file's header says
/// (timecode, frame rate, camera): the decode half of [`render_plate`], for tools that encode
/// something else.
pub fn decode_to_aces(
    input: &[u8],
    spec: &PlateSpec,
) -> Result<(InputFormat, RgbImage, FrameHeader), ImagingError> {
    let format = InputFormat::sniff(input, spec.format_hint)?;
    let Decoded { img, header } = decode(input, format, spec)?;
    Ok((format, img, header))
}

/// A frame ready to be read as ACES2065-1 rows, with its windows: DPX streams from the file's
/// bytes; the other formats are decoded whole first (their codecs are not row-addressable).
pub struct OpenedFrame<'a> {
    /// RGB, or RGBA premultiplied when alpha was asked for and the file has it.
    pub rows: Box<dyn Rows + 'a>,
    pub layout: ExrLayout,
}

/// Opens one frame of input as ACES2065-1 rows (see [`decode_to_aces_layout`] for what is
/// kept); nothing of a DPX is decoded until its rows are read.
pub fn open_aces<'a>(
    input: &'a [u8],
    spec: &PlateSpec,
    keep_alpha: bool,
) -> Result<(InputFormat, OpenedFrame<'a>, FrameHeader), ImagingError> {
    let format = InputFormat::sniff(input, spec.format_hint)?;
    if format == InputFormat::Dpx {
        let t = input_space(spec, format)?;
        let rows = DpxRows::new(input, &spec.limits, t.space, keep_alpha)?;
        let header = rows.header();
        let layout = ExrLayout::plain(rows.layout.width, rows.layout.height);
        let rows: Box<dyn Rows + 'a> = Box::new(rows);
        return Ok((format, OpenedFrame { rows, layout }, header));
    }
    let (format, LayoutImage { img, alpha, layout }, header) = if keep_alpha {
        decode_to_aces_layout(input, spec)?
    } else {
        let (format, img, header) = decode_to_aces(input, spec)?;
        let layout = ExrLayout::plain(img.width, img.height);
        let image = LayoutImage {
            img,
            alpha: None,
            layout,
        };
        (format, image, header)
    };
    let rows: Box<dyn Rows + 'a> = match alpha {
        Some(a) => Box::new(RgbAlphaRows::new(img.data, a, img.width, img.height)),
        None => Box::new(BufferRows::new(img.data, img.width, img.height, 3)),
    };
    Ok((format, OpenedFrame { rows, layout }, header))
}

/// Input bytes of one frame → ACES2065-1 plate (OpenEXR) and optional review proxy. Without a
/// proxy the frame streams through framing into the encoder in bands (a DPX is never held as
/// floats whole); a proxy needs the framed picture, so it is gathered first.
pub fn render_plate(
    input: &[u8],
    frame: u32,
    spec: &PlateSpec,
) -> Result<PlateOutput, ImagingError> {
    let (format, opened, header) = open_aces(input, spec, false)?;
    let mut rows = opened.rows;
    if let Some(f) = &spec.framing {
        rows = Box::new(Resampled::new(rows, f)?);
    }
    let (width, height) = (rows.width() as u32, rows.height() as u32);
    let header = FrameHeader {
        frame,
        fdl_json: spec.fdl_json.clone(),
        amf_uuid: spec.amf_uuid.clone(),
        ..header
    };
    let Some(proxy_spec) = &spec.proxy else {
        let layout = ExrLayout::plain(width, height);
        let exr = encode_exr_rows(rows.as_ref(), &layout, &spec.exr, &header)?.into_bytes();
        return Ok(PlateOutput {
            format,
            exr,
            width,
            height,
            proxy: None,
        });
    };
    let img = RgbImage {
        width,
        height,
        data: collect(rows.as_ref()),
    };
    drop(rows);
    // The proxy renders beside the plate's encode.
    let (exr, proxy) = rayon::join(
        || encode_exr(&img, &spec.exr, &header),
        || render_proxy(&img, proxy_spec),
    );
    Ok(PlateOutput {
        format,
        exr: exr?,
        width,
        height,
        proxy: Some(proxy?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates_stay_rational() {
        assert_eq!(frame_rate(23.976), Some((24000, 1001)));
        assert_eq!(frame_rate(29.97), Some((30000, 1001)));
        assert_eq!(frame_rate(24.0), Some((24, 1)));
        assert_eq!(frame_rate(25.0), Some((25, 1)));
        assert_eq!(frame_rate(12.5), Some((12500, 1000)));
        assert_eq!(frame_rate(f32::NAN), None);
        assert_eq!(frame_rate(0.0), None);
    }

    #[test]
    fn sniffing_names_the_format_or_the_magic() {
        assert_eq!(
            InputFormat::sniff(b"SDPX....", None).unwrap(),
            InputFormat::Dpx
        );
        assert_eq!(
            InputFormat::sniff(
                &[0x76, 0x2f, 0x31, 0x01, 2, 0, 0, 0],
                Some(InputFormat::Dpx)
            )
            .unwrap(),
            InputFormat::Exr
        );
        let e = InputFormat::sniff(b"GIF89a..", Some(InputFormat::Dpx)).unwrap_err();
        assert!(e.to_string().contains("the file name says DPX"), "{e}");
        assert!(InputFormat::sniff(b"SD", None).is_err());
        assert_eq!(
            InputFormat::from_path("a/b.0001.TIF"),
            Some(InputFormat::Tiff)
        );
        assert_eq!(InputFormat::from_path("a.b/c"), None);
    }
}

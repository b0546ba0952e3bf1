//! `platefarm convert IN OUT`: one image or a sequence, any supported format to OpenEXR or DPX,
//! through the colour pipeline (OCIO studio-config names), an optional CDL look (JSON or the
//! AMF's), FDL canvas-template reframing and resizing — what a user would script with oiiotool.

mod input;
use input::InputBytes;

use anyhow::{bail, Context};
use platefarm_color::{Cdl, CdlLook, ColorSpace, Display, OutputTransform, Pipeline, View};
use platefarm_core::ClipPattern;
use platefarm_imaging as im;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Clone)]
pub struct ConvertArgs {
    /// Input image or sequence pattern (`name.%04d.dpx`, `name.####.exr`, `name.[0001-0100].dng`).
    pub input: PathBuf,
    /// Output image or pattern (frame numbers follow the input's): `.exr`, `.dpx`, or an 8-bit
    /// review proxy `.png` / `.jpg` through the `--display` / `--view` output transform.
    pub output: PathBuf,
    /// Colour space of the input (OCIO studio-config name); DNG input is always camera raw.
    #[arg(long, default_value = "ACES2065-1")]
    pub from: String,
    /// Colour space of the output.
    #[arg(long, default_value = "ACES2065-1")]
    pub to: String,
    /// ASC CDL look as JSON `{"slope": [..], "offset": [..], "power": [..], "saturation": s}`,
    /// applied in ACEScct.
    #[arg(long, conflicts_with = "amf")]
    pub look: Option<PathBuf>,
    /// Take the look (the first CDL) from an AMF.
    #[arg(long)]
    pub amf: Option<PathBuf>,
    /// FDL whose canvas template reframes the image.
    #[arg(long, requires = "canvas_template")]
    pub fdl: Option<PathBuf>,
    #[arg(long, requires = "fdl")]
    pub canvas_template: Option<String>,
    /// Resize to WxH (Lanczos3) after framing.
    #[arg(long)]
    pub resize: Option<String>,
    /// EXR compression: piz, zip, zips, none.
    #[arg(long, default_value = "piz")]
    pub compression: String,
    /// Write 32-bit float EXR instead of half.
    #[arg(long)]
    pub float: bool,
    /// Display of a PNG/JPEG proxy (OCIO studio-config name): "sRGB - Display",
    /// "Rec.1886 Rec.709 - Display" or "Display P3 - Display".
    #[arg(long, default_value = "sRGB - Display")]
    pub display: String,
    /// View of a PNG/JPEG proxy: "ACES 2.0 - SDR 100 nits (Rec.709)", "ACES 2.0 - SDR 100 nits
    /// (P3 D65)" (Display P3 only) or "ACES 1.0 - SDR Video".
    #[arg(long, default_value = "ACES 2.0 - SDR 100 nits (Rec.709)")]
    pub view: String,
    /// JPEG quality (1–100).
    #[arg(long, default_value_t = 92)]
    pub quality: u8,
    /// The part of a multi-part OpenEXR input to read, by name or index (a multi-part input
    /// without it is refused, naming its parts).
    #[arg(long)]
    pub part: Option<String>,
}

impl ConvertArgs {
    /// The arguments of a plain plate conversion (the benchmark's): `input` in `from` →
    /// ACES2065-1, resized to `resize` (`WxH`), EXR half with `compression`.
    pub fn for_plate(
        input: &Path,
        output: &Path,
        from: &str,
        resize: &str,
        compression: &str,
    ) -> Self {
        ConvertArgs {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            from: from.into(),
            to: "ACES2065-1".into(),
            look: None,
            amf: None,
            fdl: None,
            canvas_template: None,
            resize: Some(resize.into()),
            compression: compression.into(),
            float: false,
            display: "sRGB - Display".into(),
            view: "ACES 2.0 - SDR 100 nits (Rec.709)".into(),
            quality: 92,
            part: None,
        }
    }
}

/// The proxy output transform named by `--display` / `--view`, or an error listing the names.
fn output_transform(args: &ConvertArgs) -> anyhow::Result<OutputTransform> {
    OutputTransform::from_names(&args.display, &args.view).ok_or_else(|| {
        let pairs: Vec<String> = Display::ALL
            .iter()
            .flat_map(|d| {
                View::ALL
                    .iter()
                    .filter(|v| v.available_on(*d))
                    .map(move |v| format!("{:?} / {:?}", d.name(), v.name()))
            })
            .collect();
        anyhow::anyhow!(
            "unknown display/view {:?} / {:?}; known: {}",
            args.display,
            args.view,
            pairs.join(", ")
        )
    })
}

fn ext(p: &Path) -> String {
    p.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn load_look(args: &ConvertArgs) -> anyhow::Result<Option<CdlLook>> {
    let cdl = if let Some(path) = &args.look {
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("{} is not JSON", path.display()))?;
        let three = |k: &str, default: f64| -> anyhow::Result<[f64; 3]> {
            match v.get(k) {
                None => Ok([default; 3]),
                Some(a) => {
                    let n: Vec<f64> = a
                        .as_array()
                        .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
                        .unwrap_or_default();
                    anyhow::ensure!(
                        n.len() == 3,
                        "{}: {k} must be three numbers",
                        path.display()
                    );
                    Ok([n[0], n[1], n[2]])
                }
            }
        };
        Some(Cdl {
            slope: three("slope", 1.0)?,
            offset: three("offset", 0.0)?,
            power: three("power", 1.0)?,
            saturation: v.get("saturation").and_then(|s| s.as_f64()).unwrap_or(1.0),
        })
    } else if let Some(path) = &args.amf {
        let amf = platefarm_standards::amf::Amf::parse(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| path.display().to_string())?;
        amf.looks.iter().find_map(|l| match l {
            platefarm_standards::amf::Look::Cdl { cdl, .. } => Some(Cdl {
                slope: cdl.slope,
                offset: cdl.offset,
                power: cdl.power,
                saturation: cdl.saturation,
            }),
            _ => None,
        })
    } else {
        None
    };
    cdl.map(|c| CdlLook::new(c).map_err(anyhow::Error::from))
        .transpose()
}

/// Frames to convert: `(input path, output path)`.
fn frames(args: &ConvertArgs) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    let input = args.input.to_string_lossy().to_string();
    let Ok(pattern) = ClipPattern::parse(&input) else {
        return Ok(vec![(args.input.clone(), args.output.clone())]);
    };
    let out_pattern = ClipPattern::parse(&args.output.to_string_lossy())
        .context("a sequence input needs an output pattern too (e.g. out.%04d.exr)")?;
    let dir = Path::new(&pattern.prefix)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut found: Vec<u32> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            let s = if dir == Path::new(".") {
                e.file_name().to_string_lossy().to_string()
            } else {
                p.to_string_lossy().to_string()
            };
            pattern.match_frame(&s)
        })
        .filter(|f| {
            pattern
                .embedded_range
                .is_none_or(|(a, b)| (a..=b).contains(f))
        })
        .collect();
    found.sort_unstable();
    anyhow::ensure!(!found.is_empty(), "no frames match {input}");
    Ok(found
        .into_iter()
        .map(|f| {
            (
                PathBuf::from(pattern.frame_path(f)),
                PathBuf::from(out_pattern.frame_path(f)),
            )
        })
        .collect())
}

/// The display window's pixels of an image covering `layout.data` (outside the data window:
/// 0), for outputs that have no windows.
fn display_region<'a>(
    img: &'a im::RgbImage,
    layout: &im::ExrLayout,
) -> std::borrow::Cow<'a, im::RgbImage> {
    let (d, v) = (layout.data, layout.display);
    if d == v {
        return std::borrow::Cow::Borrowed(img);
    }
    let (w, h) = (v.width as usize, v.height as usize);
    let mut data = vec![0f32; w * h * 3];
    data.par_chunks_mut(w * 3)
        .enumerate()
        .for_each(|(row, out)| {
            let sy = v.y as i64 + row as i64 - d.y as i64;
            if sy < 0 || sy >= d.height as i64 {
                return;
            }
            for col in 0..w {
                let sx = v.x as i64 + col as i64 - d.x as i64;
                if sx >= 0 && sx < d.width as i64 {
                    let i = (sy as usize * d.width as usize + sx as usize) * 3;
                    out[col * 3..col * 3 + 3].copy_from_slice(&img.data[i..i + 3]);
                }
            }
        });
    std::borrow::Cow::Owned(im::RgbImage {
        width: v.width,
        height: v.height,
        data,
    })
}

pub fn run(args: &ConvertArgs) -> anyhow::Result<usize> {
    let to = ColorSpace::from_name(&args.to)?;
    let aces = ColorSpace::from_name("ACES2065-1")?;
    let from = ColorSpace::from_name(&args.from)?;
    let look = load_look(args)?;
    let compression = match args.compression.as_str() {
        "piz" => im::ExrCompression::Piz,
        "zip" => im::ExrCompression::Zip,
        "zips" => im::ExrCompression::Zips,
        "none" => im::ExrCompression::None,
        other => bail!("unknown compression {other:?} (piz, zip, zips, none)"),
    };
    let resize = args
        .resize
        .as_deref()
        .map(|r| -> anyhow::Result<(u32, u32)> {
            let (w, h) = r
                .split_once('x')
                .with_context(|| format!("--resize {r:?} is not WxH"))?;
            let (w, h): (u32, u32) = (w.parse()?, h.parse()?);
            anyhow::ensure!(
                w > 0 && h > 0 && w <= 65536 && h <= 65536,
                "--resize {r} is out of range"
            );
            Ok((w, h))
        })
        .transpose()?;
    let template = match (&args.fdl, &args.canvas_template) {
        (Some(path), Some(id)) => {
            let fdl = platefarm_standards::Fdl::parse(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
            )
            .with_context(|| path.display().to_string())?;
            Some(
                platefarm_standards::fdl_template::apply_template(
                    &fdl,
                    None,
                    None,
                    None,
                    &fdl,
                    Some(id),
                )?
                .render_mapping(),
            )
        }
        _ => None,
    };
    let out_ext = ext(&args.output);
    anyhow::ensure!(
        matches!(out_ext.as_str(), "exr" | "dpx" | "png" | "jpg" | "jpeg"),
        "output {} must be .exr, .dpx, or .png / .jpg (a review proxy)",
        args.output.display()
    );
    let proxy = matches!(out_ext.as_str(), "png" | "jpg" | "jpeg")
        .then(|| output_transform(args))
        .transpose()?;
    let jobs = frames(args)?;
    // Built once: a pipeline samples its decode curve into a table.
    let from_aces = Pipeline::new(aces, to);
    let plate_spec = im::PlateSpec {
        input: Some(im::InputTransform::new(from)),
        exr_part: args.part.clone(),
        ..im::PlateSpec::default()
    };
    jobs.par_iter()
        .try_for_each(|(input, output)| -> anyhow::Result<()> {
            let bytes =
                InputBytes::open(input).with_context(|| format!("reading {}", input.display()))?;
            let ctx = || input.display().to_string();
            // Decode to ACES2065-1 the way the worker does (one implementation: DNG through
            // its matrices, DPX codes through a per-code table, EXR/TIFF through the input
            // space), keeping the file's own timecode and frame rate for the plate's header.
            // A DPX streams: its rows are decoded when the encoder asks for them, band by
            // band through the look, the framing and the resize, so no stage holds the frame.
            let (_, opened, header) = im::open_aces(&bytes, &plate_spec, true).with_context(ctx)?;
            let im::OpenedFrame {
                mut rows,
                mut layout,
            } = opened;
            if let Some(look) = &look {
                // A CDL is not linear: it sees straight colour.
                rows = Box::new(im::MapRows::new(rows, |band, channels| {
                    im::rows::map_straight_rgb(band, channels, |rgb| look.apply_rgb(rgb))
                }));
            }
            if let Some((source, scale, canvas, translation)) = template {
                anyhow::ensure!(
                    layout.data == layout.display,
                    "{}: FDL reframing of an image with overscan (data window {:?} around display window {:?}) is not supported; crop it to the display window first",
                    input.display(),
                    layout.data,
                    layout.display
                );
                let f = im::Framing {
                    source,
                    scale,
                    canvas,
                    translation,
                    filter: im::Filter::Lanczos3,
                };
                rows = Box::new(im::Resampled::new(rows, &f).with_context(ctx)?);
                layout = im::ExrLayout::plain(canvas.0, canvas.1);
            }
            if let Some((w, h)) = resize {
                // The display window becomes WxH; the data window (overscan and all) is scaled
                // with it, on the same pixel grid.
                let (sx, sy) = (
                    w as f64 / layout.display.width as f64,
                    h as f64 / layout.display.height as f64,
                );
                let d = layout.data;
                let x0 = (d.x as f64 * sx).floor();
                let y0 = (d.y as f64 * sy).floor();
                let x1 = ((d.x as f64 + d.width as f64) * sx).ceil();
                let y1 = ((d.y as f64 + d.height as f64) * sy).ceil();
                let (dw, dh) = ((x1 - x0).max(1.0) as u32, (y1 - y0).max(1.0) as u32);
                let f = im::Framing {
                    source: (0.0, 0.0, d.width as f64, d.height as f64),
                    scale: (sx, sy),
                    canvas: (dw, dh),
                    translation: (d.x as f64 * sx - x0, d.y as f64 * sy - y0),
                    filter: im::Filter::Lanczos3,
                };
                rows = Box::new(im::Resampled::new(rows, &f)?);
                layout = im::ExrLayout {
                    data: im::Window {
                        x: x0 as i32,
                        y: y0 as i32,
                        width: dw,
                        height: dh,
                    },
                    display: im::Window {
                        x: (layout.display.x as f64 * sx).round() as i32,
                        y: (layout.display.y as f64 * sy).round() as i32,
                        width: w,
                        height: h,
                    },
                };
            }
            if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let write_err = || format!("writing {}", output.display());
            if out_ext == "exr" {
                if to != aces {
                    rows = Box::new(im::MapRows::new(rows, |band, channels| {
                        im::rows::map_straight_rgb(band, channels, |rgb| from_aces.apply_rgb(rgb))
                    }));
                }
                let pixel = if args.float {
                    im::ExrPixel::Float
                } else {
                    im::ExrPixel::Half
                };
                let opts = im::ExrOptions { compression, pixel };
                let exr = im::encode_exr_rows(rows.as_ref(), &layout, &opts, &header)?;
                let mut file = std::io::BufWriter::new(
                    std::fs::File::create(output).with_context(write_err)?,
                );
                exr.write_to(&mut file)
                    .and_then(|()| std::io::Write::flush(&mut file))
                    .with_context(write_err)?;
                return Ok(());
            }
            // Alpha does not reach a proxy or a DPX (they show the premultiplied picture).
            let (rgb, _) = im::rows::collect_rgb_alpha(rows.as_ref());
            let img = im::RgbImage {
                width: layout.data.width,
                height: layout.data.height,
                data: rgb,
            };
            // Formats without windows or alpha get the display window's picture.
            let out = if let Some(ot) = &proxy {
                // Review proxy: ACES2065-1 through the chosen output transform.
                let img = display_region(&img, &layout);
                let (w, h, rgb8) = im::preview_rgb8_with(&img, img.width, ot);
                if out_ext == "png" {
                    im::encode_png_tagged(w, h, &rgb8, ot.display == Display::Srgb)?
                } else {
                    im::encode_jpeg(w, h, &rgb8, args.quality)?
                }
            } else {
                let extra = |name: &str| {
                    header
                        .extra
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let mut img = if layout.data == layout.display {
                    img
                } else {
                    display_region(&img, &layout).into_owned()
                };
                if to != aces {
                    from_aces.apply_rgb(&mut img.data);
                }
                let codes: Vec<u16> = img
                    .data
                    .iter()
                    .map(|v| (v.clamp(0.0, 1.0) * 1023.0).round() as u16)
                    .collect();
                im::dpx::encode_dpx_10bit(
                    img.width,
                    img.height,
                    &codes,
                    &im::dpx::DpxMetadata {
                        creator: "platefarm convert".into(),
                        timecode: header.timecode.clone(),
                        frame_rate: header.frame_rate.map(|(n, d)| n as f32 / d as f32),
                        // A DPX input's identity fields go back where they came from.
                        film_frame_id: extra("dpx:FrameId"),
                        slate: extra("dpx:SlateInfo"),
                        input_device: extra("dpx:InputDevice"),
                        input_device_serial: extra("dpx:InputDeviceSerialNumber"),
                        ..Default::default()
                    },
                )
            };
            std::fs::write(output, out).with_context(write_err)
        })?;
    Ok(jobs.len())
}

//! `platefarm convert` for each format pair, checked against OpenColorIO and our own pieces.

use platefarm_imaging as im;
use std::path::Path;
use std::process::Command;

fn convert(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_platefarm"))
        .arg("convert")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn read_exr(p: &Path) -> im::RgbImage {
    im::decode_exr(&std::fs::read(p).unwrap(), &im::DecodeLimits::default()).unwrap()
}

fn logc_dpx(path: &Path) -> Vec<u16> {
    let codes: Vec<u16> = (0..48 * 24 * 3).map(|i| ((i * 37) % 1024) as u16).collect();
    std::fs::write(
        path,
        im::dpx::encode_dpx_10bit(48, 24, &codes, &Default::default()),
    )
    .unwrap();
    codes
}

#[test]
fn dpx_logc3_to_aces_exr_matches_opencolorio() {
    let dir = platefarm_testkit::scratch();
    let (dpx, exr) = (dir.path().join("in.dpx"), dir.path().join("out.exr"));
    let codes = logc_dpx(&dpx);
    let (ok, out) = convert(&[
        dpx.to_str().unwrap(),
        exr.to_str().unwrap(),
        "--from",
        "ARRI LogC3 (EI800)",
        "--float",
    ]);
    assert!(ok, "{out}");
    let ours = read_exr(&exr);
    let list: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
    let theirs = platefarm_testkit::run_python(
        "import sys, PyOpenColorIO as ocio\n\
         cfg = ocio.Config.CreateFromBuiltinConfig('studio-config-v4.0.0_aces-v2.0_ocio-v2.5')\n\
         p = cfg.getProcessor('ARRI LogC3 (EI800)', 'ACES2065-1').getOptimizedCPUProcessor(ocio.OPTIMIZATION_NONE)\n\
         c = [int(x) / 1023.0 for x in sys.argv[1].split(',')]\n\
         for i in range(0, len(c), 3): print(*p.applyRGB(c[i:i+3]))",
        &[&list.join(",")],
    );
    let want: Vec<f64> = theirs
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(want.len(), ours.data.len());
    for (i, (a, b)) in ours.data.iter().zip(&want).enumerate() {
        assert!(
            (*a as f64 - b).abs() <= 1e-4 * b.abs().max(1.0),
            "value {i}: ours {a}, OCIO {b}"
        );
    }
}

#[test]
fn format_pairs_sequences_looks_and_framing() {
    let dir = platefarm_testkit::scratch();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    // EXR → DPX LogC3 → EXR round trip through the log encoding.
    let dpx = dir.path().join("in.dpx");
    let codes = logc_dpx(&dpx);
    assert!(
        convert(&[
            &d("in.dpx"),
            &d("aces.exr"),
            "--from",
            "ARRI LogC3 (EI800)",
            "--float"
        ])
        .0
    );
    let (ok, out) = convert(&[&d("aces.exr"), &d("back.dpx"), "--to", "ARRI LogC3 (EI800)"]);
    assert!(ok, "{out}");
    let back = im::dpx::decode_dpx(
        &std::fs::read(d("back.dpx")).unwrap(),
        &im::DecodeLimits::default(),
    )
    .unwrap();
    let worst = back
        .data
        .iter()
        .zip(&codes)
        .map(|(a, b)| (*a as i32 - *b as i32).abs())
        .max()
        .unwrap();
    assert!(worst <= 1, "DPX round trip off by {worst} codes");

    // DNG (camera raw) → ACES EXR, reframed by the sample FDL's template, then resized.
    let sample = dir.path().join("sample");
    platefarm::sample::write_sample(&sample, 1).unwrap();
    let clip = &platefarm::sample::sample_clips(1)[0];
    let dng = sample.join(clip.frame_key(clip.first_frame));
    let fdl = sample.join(format!("clips/{}.fdl", clip.name));
    let (ok, out) = convert(&[
        dng.to_str().unwrap(),
        &d("framed.exr"),
        "--fdl",
        fdl.to_str().unwrap(),
        "--canvas-template",
        "VFX1920",
    ]);
    assert!(ok, "{out}");
    let framed = read_exr(&dir.path().join("framed.exr"));
    assert_eq!((framed.width, framed.height), (1920, 960));
    assert!(
        convert(&[
            dng.to_str().unwrap(),
            &d("small.exr"),
            "--resize",
            "512x270"
        ])
        .0
    );
    assert_eq!(read_exr(&dir.path().join("small.exr")).width, 512);

    // TIFF float → EXR; a CDL look changes the result exactly as CdlLook does.
    let img = im::RgbImage {
        width: 8,
        height: 4,
        data: (0..96).map(|i| 0.02 + i as f32 / 120.0).collect(),
    };
    std::fs::write(d("in.tif"), im::encode_tiff_f32(&img).unwrap()).unwrap();
    std::fs::write(d("look.json"), r#"{"slope": [1.1, 1.0, 0.9], "offset": [0.01, 0.0, -0.01], "power": [1.0, 1.05, 1.0], "saturation": 0.9}"#).unwrap();
    let (ok, out) = convert(&[
        &d("in.tif"),
        &d("look.exr"),
        "--look",
        &d("look.json"),
        "--float",
    ]);
    assert!(ok, "{out}");
    let got = read_exr(&dir.path().join("look.exr"));
    let look = platefarm_color::CdlLook::new(platefarm_color::Cdl {
        slope: [1.1, 1.0, 0.9],
        offset: [0.01, 0.0, -0.01],
        power: [1.0, 1.05, 1.0],
        saturation: 0.9,
    })
    .unwrap();
    let mut want = img.data.clone();
    look.apply_rgb(&mut want);
    for (a, b) in got.data.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0));
    }

    // A sequence pattern converts every frame.
    for f in 1..=3 {
        std::fs::copy(d("in.dpx"), d(&format!("seq.{f:04}.dpx"))).unwrap();
    }
    let (ok, out) = convert(&[
        &d("seq.%04d.dpx"),
        &d("out/seq.%04d.exr"),
        "--from",
        "ARRI LogC3 (EI800)",
    ]);
    assert!(ok && out.contains("converted 3 frame(s)"), "{out}");
    assert!(dir.path().join("out/seq.0003.exr").exists());

    // Bad requests name what is wrong.
    let (ok, out) = convert(&[&d("in.dpx"), &d("x.exr"), "--from", "Alexa LogC"]);
    assert!(
        !ok && out.contains("unknown colour space \"Alexa LogC\""),
        "{out}"
    );
    let (ok, out) = convert(&[&d("in.dpx"), &d("x.gif")]);
    assert!(
        !ok && out.contains("must be .exr, .dpx, or .png / .jpg"),
        "{out}"
    );
    let (ok, out) = convert(&[dng.to_str().unwrap(), &d("proxy.png")]);
    assert!(ok, "{out}");
    let png = std::fs::read(d("proxy.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert_eq!(
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        2048,
        "full-resolution proxy"
    );
    std::fs::write(
        d("broken.dpx"),
        &std::fs::read(d("in.dpx")).unwrap()[..3000],
    )
    .unwrap();
    let (ok, out) = convert(&[&d("broken.dpx"), &d("x.exr")]);
    assert!(!ok && out.contains("truncated"), "{out}");
}

/// PNG and JPEG review proxies through each display/view, read back with OpenImageIO and
/// compared with OpenColorIO's own display/view processing of the same ACES2065-1 pixels.
#[test]
fn proxies_match_opencolorio_display_views() {
    let dir = platefarm_testkit::scratch();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    // 64×32 ACES2065-1 colours: an exposure ramp across, hue/saturation down.
    let (w, h) = (64u32, 32u32);
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let e = 0.18 * 2f32.powf(x as f32 / 6.0 - 6.0);
            let t = y as f32 / h as f32 * std::f32::consts::TAU;
            let s = (y % 4) as f32 / 3.0;
            data.extend([0.0, 2.1, 4.2].map(|o| e * (1.0 + s * (t + o).cos()).max(0.0)));
        }
    }
    let img = im::RgbImage {
        width: w,
        height: h,
        data,
    };
    let exr = im::encode_exr(
        &img,
        &im::ExrOptions {
            pixel: im::ExrPixel::Float,
            ..Default::default()
        },
        &im::FrameHeader::default(),
    )
    .unwrap();
    std::fs::write(d("in.exr"), exr).unwrap();
    for (display, view, ext) in [
        ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)", "png"),
        (
            "Rec.1886 Rec.709 - Display",
            "ACES 2.0 - SDR 100 nits (Rec.709)",
            "png",
        ),
        (
            "Display P3 - Display",
            "ACES 2.0 - SDR 100 nits (P3 D65)",
            "png",
        ),
        ("sRGB - Display", "ACES 1.0 - SDR Video", "png"),
        ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)", "jpg"),
    ] {
        let out = d(&format!("proxy.{ext}"));
        let (ok, msg) = convert(&[&d("in.exr"), &out, "--display", display, "--view", view]);
        assert!(ok, "{msg}");
        // The ACES 1.3 views live in the ACES 1.3 studio config.
        let config = if view.starts_with("ACES 1.0") {
            "studio-config-v2.2.0_aces-v1.3_ocio-v2.4"
        } else {
            "studio-config-v4.0.0_aces-v2.0_ocio-v2.5"
        };
        // Max and mean |difference| in 8-bit codes between our file and OCIO → 8 bit.
        let diff = platefarm_testkit::run_python(
            "import sys, numpy as np, OpenImageIO as oiio, PyOpenColorIO as ocio\n\
             src, out, display, view, config = sys.argv[1:6]\n\
             cfg = ocio.Config.CreateFromBuiltinConfig(config)\n\
             aces = oiio.ImageBuf(src).get_pixels(oiio.FLOAT)[:, :, :3].copy()\n\
             p = cfg.getProcessor('ACES2065-1', display, view, ocio.TRANSFORM_DIR_FORWARD)\n\
             p.getOptimizedCPUProcessor(ocio.OPTIMIZATION_NONE).applyRGB(aces)\n\
             want = np.round(np.clip(aces, 0, 1) * 255)\n\
             got = oiio.ImageBuf(out).get_pixels(oiio.UINT8)[:, :, :3].astype(float)\n\
             d = np.abs(got - want)\n\
             print(d.max(), d.mean())",
            &[&d("in.exr"), &out, display, view, config],
        );
        let v: Vec<f64> = diff
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        let (max, mean) = (v[0], v[1]);
        if ext == "png" {
            assert!(max <= 1.0, "{display} / {view}: max {max} codes off OCIO");
        } else {
            // JPEG: lossy, but close on average and nowhere far off.
            assert!(
                max <= 24.0 && mean <= 2.5,
                "{display} / {view} JPEG: max {max}, mean {mean}"
            );
        }
    }
    let (ok, msg) = convert(&[&d("in.exr"), &d("x.png"), "--view", "Filmic"]);
    assert!(
        !ok && msg.contains("unknown display/view")
            && msg.contains("ACES 2.0 - SDR 100 nits (P3 D65)"),
        "{msg}"
    );
}

fn oiiotool(args: &[&str]) -> String {
    let out = Command::new(platefarm_testkit::venv_tool("oiiotool"))
        .args(args)
        .output()
        .expect("oiiotool from the reference venv (scripts/test.sh makes it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "oiiotool {args:?}: {text}");
    text
}

/// `(data origin, data size, display origin, display size, channel list)` as oiiotool reads
/// the file.
fn windows(p: &Path) -> (String, String, String, String, String) {
    let info = oiiotool(&["--info", "-v", p.to_str().unwrap()]);
    let line = |key: &str| {
        info.lines()
            .find(|l| l.trim_start().starts_with(key))
            .map(|l| l.trim().to_string())
            .unwrap_or_default()
    };
    let size = info
        .lines()
        .find(|l| l.contains(" channel,"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.split(',').next().unwrap().trim().to_string())
        .unwrap_or_default();
    (
        line("pixel data origin:"),
        size,
        line("full/display origin:"),
        line("full/display size:"),
        line("channel list:"),
    )
}

fn max_error(a: &Path, b: &Path) -> f64 {
    let out = Command::new(platefarm_testkit::venv_tool("oiiotool"))
        .args([a.to_str().unwrap(), b.to_str().unwrap(), "--diff"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if text.contains("PASS") && !text.contains("Max error") {
        return 0.0;
    }
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Max error  = "))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no max error in: {text}"))
}

/// Files other tools wrote keep what they are: an OpenEXR with overscan (data window
/// (-250,-250) 1500×1500 inside a 1000×1000 display window) and premultiplied alpha, made by
/// oiiotool, converts to itself exactly and resizes as oiiotool resizes it (the display window
/// to 500×500, the overscan scaled with it); a 10-bit RGBA DPX keeps its alpha (read as
/// oiiotool reads it) with the colour premultiplied; outputs without windows get the display
/// window's picture.
#[test]
fn overscan_and_alpha_survive_conversion() {
    let dir = platefarm_testkit::scratch();
    let p = |n: &str| dir.path().join(n);
    let s = |n: &str| p(n).to_str().unwrap().to_string();
    oiiotool(&[
        "--pattern",
        "fill:topleft=0.1,0.2,0.3,1:topright=0.9,0.5,0.1,0.5:bottomleft=0.2,0.8,0.4,0.25:bottomright=1,1,1,0",
        "1500x1500",
        "4",
        "--premult",
        "--origin",
        "-250-250",
        "--fullsize",
        "1000x1000+0+0",
        "-d",
        "half",
        "-o",
        &s("overscan.exr"),
    ]);
    let want = windows(&p("overscan.exr"));
    assert_eq!(want.0, "pixel data origin: x=-250, y=-250", "{want:?}");

    // Straight through: same windows, channels and pixels.
    let (ok, log) = convert(&[&s("overscan.exr"), &s("same.exr")]);
    assert!(ok, "{log}");
    assert_eq!(windows(&p("same.exr")), want);
    assert_eq!(max_error(&p("same.exr"), &p("overscan.exr")), 0.0);

    // Resized: the windows oiiotool gives; pixels agree away from the data window's edge
    // (outside it oiiotool filters in black, we repeat the edge).
    let (ok, log) = convert(&[&s("overscan.exr"), &s("half.exr"), "--resize", "500x500"]);
    assert!(ok, "{log}");
    oiiotool(&[
        &s("overscan.exr"),
        "--resize:filter=lanczos3",
        "500x500",
        "-o",
        &s("half_ref.exr"),
    ]);
    let got = windows(&p("half.exr"));
    assert_eq!(got, windows(&p("half_ref.exr")));
    assert_eq!(got.0, "pixel data origin: x=-125, y=-125", "{got:?}");
    assert_eq!(got.3, "full/display size: 500 x 500", "{got:?}");
    for (from, to) in [
        ("half.exr", "half_in.exr"),
        ("half_ref.exr", "half_ref_in.exr"),
    ] {
        oiiotool(&[&s(from), "--cut", "740x740-120-120", "-o", &s(to)]);
    }
    let err = max_error(&p("half_in.exr"), &p("half_ref_in.exr"));
    assert!(
        err <= 1e-3,
        "resized overscan differs from oiiotool by {err}"
    );

    // A review proxy shows the display window.
    let (ok, log) = convert(&[&s("overscan.exr"), &s("look.png")]);
    assert!(ok, "{log}");
    assert_eq!(windows(&p("look.png")).1, "1000 x 1000");

    // RGBA DPX: alpha as oiiotool reads it; colour premultiplied by it.
    oiiotool(&[
        "--pattern",
        "fill:top=0.2,0.4,0.6,0.5:bottom=0.8,0.3,0.1,1",
        "642x360",
        "4",
        "-d",
        "uint10",
        "-o",
        &s("rgba.dpx"),
    ]);
    oiiotool(&[
        &s("rgba.dpx"),
        "--ch",
        "R,G,B",
        "-d",
        "uint10",
        "-o",
        &s("rgb.dpx"),
    ]);
    for (from, to) in [("rgba.dpx", "rgba.exr"), ("rgb.dpx", "rgb.exr")] {
        let (ok, log) = convert(&[
            &s(from),
            &s(to),
            "--from",
            "Linear Rec.709 (sRGB)",
            "--float",
        ]);
        assert!(ok, "{log}");
    }
    assert_eq!(windows(&p("rgba.exr")).4, "channel list: R, G, B, A");
    oiiotool(&[&s("rgba.exr"), "--ch", "A", "-o", &s("a_ours.exr")]);
    oiiotool(&[
        &s("rgba.dpx"),
        "--ch",
        "A",
        "-d",
        "float",
        "-o",
        &s("a_ref.exr"),
    ]);
    let err = max_error(&p("a_ours.exr"), &p("a_ref.exr"));
    // We scale codes by 1/1023; OIIO widens 10 bits to 16 by bit replication first (≤ 1.5e-5).
    assert!(
        err <= 2e-5,
        "alpha differs from oiiotool's reading by {err}"
    );
    oiiotool(&[
        &s("rgba.exr"),
        "--unpremult",
        "--ch",
        "R,G,B",
        "-o",
        &s("straight.exr"),
    ]);
    let err = max_error(&p("straight.exr"), &p("rgb.exr"));
    assert!(
        err <= 1e-5,
        "unpremultiplied colour differs from the RGB conversion by {err}"
    );
}

/// OpenEXR layouts other tools write: tiled and tiled mip-mapped files (oiiotool `--tile`,
/// `-otex`) convert from level 0 exactly; a multi-part file is refused naming its parts unless
/// `--part` picks one (by name or index), which then converts exactly.
#[test]
fn tiled_mipmapped_and_multipart_exr_inputs() {
    let dir = platefarm_testkit::scratch();
    let p = |n: &str| dir.path().join(n);
    let s = |n: &str| p(n).to_str().unwrap().to_string();
    oiiotool(&[
        "--pattern",
        "fill:top=0.1,0.2,0.3:bottom=0.7,0.6,0.5",
        "300x200",
        "3",
        "-d",
        "half",
        "-o",
        &s("a.exr"),
    ]);
    oiiotool(&[
        "--pattern",
        "checker",
        "300x200",
        "3",
        "-d",
        "half",
        "-o",
        &s("b.exr"),
    ]);
    oiiotool(&[&s("a.exr"), "--tile", "64", "64", "-o", &s("tiled.exr")]);
    oiiotool(&[&s("a.exr"), "-otex", &s("tex.exr")]);
    assert!(oiiotool(&["--info", "-v", &s("tex.exr")]).contains("MIP-map levels"));
    for f in ["tiled", "tex"] {
        let (ok, log) = convert(&[&s(&format!("{f}.exr")), &s(&format!("{f}_out.exr"))]);
        assert!(ok, "{f}: {log}");
        assert_eq!(
            max_error(&p(&format!("{f}_out.exr")), &p("a.exr")),
            0.0,
            "{f}"
        );
    }
    oiiotool(&[
        &s("a.exr"),
        "--attrib",
        "oiio:subimagename",
        "beauty",
        &s("b.exr"),
        "--attrib",
        "oiio:subimagename",
        "checker",
        "--siappend",
        "-o",
        &s("multi.exr"),
    ]);
    let (ok, log) = convert(&[&s("multi.exr"), &s("multi_out.exr")]);
    assert!(!ok, "a multi-part input without --part is refused");
    assert!(
        log.contains("2 parts")
            && log.contains("beauty")
            && log.contains("checker")
            && log.contains("--part"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
    let (ok, log) = convert(&[&s("multi.exr"), &s("checker.exr"), "--part", "checker"]);
    assert!(ok, "{log}");
    assert_eq!(max_error(&p("checker.exr"), &p("b.exr")), 0.0);
    let (ok, log) = convert(&[&s("multi.exr"), &s("first.exr"), "--part", "0"]);
    assert!(ok, "{log}");
    assert_eq!(max_error(&p("first.exr"), &p("a.exr")), 0.0);
    let (ok, log) = convert(&[&s("multi.exr"), &s("x.exr"), "--part", "depth"]);
    assert!(!ok && log.contains("no part \"depth\""), "{log}");
}

/// TIFF variants oiiotool writes — LZW, Deflate and no compression; 8/16-bit and float;
/// contiguous and planar; RGB and RGBA — convert to what oiiotool itself reads from them
/// (RGBA premultiplied, as OIIO reads unassociated alpha).
#[test]
fn tiff_variants_read_as_oiiotool_reads_them() {
    let dir = platefarm_testkit::scratch();
    let p = |n: &str| dir.path().join(n);
    let s = |n: &str| p(n).to_str().unwrap().to_string();
    for (compression, depth, planar, channels) in [
        ("lzw", "uint16", "contig", "3"),
        ("lzw", "uint8", "contig", "3"),
        ("zip", "uint16", "contig", "3"),
        ("zip", "float", "contig", "3"),
        ("none", "uint16", "separate", "3"),
        ("zip", "uint16", "separate", "4"),
        ("lzw", "uint8", "contig", "4"),
        ("zip", "float", "contig", "4"),
    ] {
        let name = format!("t_{compression}_{depth}_{planar}_{channels}");
        let tif = format!("{name}.tif");
        oiiotool(&[
            "--pattern",
            "fill:topleft=0.1,0.2,0.3,0.5:topright=0.9,0.5,0.1,1:bottomleft=0.2,0.8,0.4,0.25:bottomright=1,1,1,0.75",
            "300x200",
            channels,
            "-d",
            depth,
            "--compression",
            compression,
            "--planarconfig",
            planar,
            "-o",
            &s(&tif),
        ]);
        let (ok, log) = convert(&[&s(&tif), &s(&format!("{name}.exr")), "--float"]);
        assert!(ok, "{name}: {log}");
        oiiotool(&[
            &s(&tif),
            "-d",
            "float",
            "-o",
            &s(&format!("{name}_ref.exr")),
        ]);
        let ours = p(&format!("{name}.exr"));
        assert_eq!(
            windows(&ours).4,
            if channels == "4" {
                "channel list: R, G, B, A"
            } else {
                "channel list: R, G, B"
            },
            "{name}"
        );
        let err = max_error(&ours, &p(&format!("{name}_ref.exr")));
        assert!(
            err <= 1e-6,
            "{name} differs from oiiotool's reading by {err}"
        );
    }
}

/// A DPX's identity fields (frame id, slate, input device and serial, as oiiotool writes them)
/// reach the EXR plate's header under OpenImageIO's names, and a DPX output carries them back.
#[test]
fn dpx_identity_fields_pass_through() {
    let dir = platefarm_testkit::scratch();
    let s = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let fields = [
        ("dpx:FrameId", "A001 0086400"),
        ("dpx:SlateInfo", "SC12 TK3"),
        ("dpx:InputDevice", "ARRISCAN"),
        ("dpx:InputDeviceSerialNumber", "XT-2231"),
    ];
    let mut args = vec![
        "--pattern".to_string(),
        "fill:top=0.2,0.4,0.6:bottom=0.8,0.3,0.1".into(),
        "64x32".into(),
        "3".into(),
        "-d".into(),
        "uint10".into(),
    ];
    for (k, v) in fields {
        args.extend(["--attrib".into(), k.into(), v.into()]);
    }
    args.extend(["-o".into(), s("id.dpx")]);
    oiiotool(&args.iter().map(String::as_str).collect::<Vec<_>>());
    for out in ["id.exr", "id_out.dpx"] {
        let (ok, log) = convert(&[&s("id.dpx"), &s(out)]);
        assert!(ok, "{log}");
        let info = oiiotool(&["--info", "-v", &s(out)]);
        for (k, v) in fields {
            assert!(
                info.contains(&format!("{k}: \"{v}\"")),
                "{out} lacks {k} = {v:?}:\n{info}"
            );
        }
    }
}

//! The worker's `ImagingRenderer` on every input the imaging crate decodes: DPX LogC3 (the
//! AMF's input transform), EXR ACEScg and TIFF (the shot's `input_colorspace`) match
//! OpenColorIO and `platefarm convert` of the same frame; the proxy applies the AMF's look as
//! `convert --amf` does; broken input and missing colour spaces fail with their reasons.

use platefarm::convert::ConvertArgs;
use platefarm_core::{
    ChunkMessage, FrameRange, OutputOptions, PixelType, ProxyFormat, ProxyOptions,
};
use platefarm_imaging as im;
use platefarm_worker::{FrameJob, ImagingRenderer, RenderedFrame, Renderer};
use std::path::Path;

const LOGC3_IDT: &str = "urn:ampas:aces:transformId:v2.0:CSC.Arri.LogC3_to_ACES.a2.v1";

/// An AMF 2.0 with an optional input transform and an optional CDL look in ACEScct.
fn amf(input_transform: Option<&str>, cdl: bool) -> String {
    let input = input_transform
        .map(|id| {
            format!(
                "<aces:inputTransform applied=\"false\"><aces:transformId>{id}</aces:transformId></aces:inputTransform>"
            )
        })
        .unwrap_or_default();
    let look = if cdl {
        r#"<aces:lookTransform applied="false">
            <aces:cdlWorkingSpace><aces:toCdlWorkingSpace><aces:transformId>urn:ampas:aces:transformId:v1.5:ACEScsc.Academy.ACES_to_ACEScct.a1.0.3</aces:transformId></aces:toCdlWorkingSpace></aces:cdlWorkingSpace>
            <cdl:SOPNode><cdl:Slope>1.2 1.0 0.85</cdl:Slope><cdl:Offset>0.02 0.0 -0.02</cdl:Offset><cdl:Power>1.0 1.1 1.0</cdl:Power></cdl:SOPNode>
            <cdl:SatNode><cdl:Saturation>0.8</cdl:Saturation></cdl:SatNode>
        </aces:lookTransform>"#
    } else {
        ""
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<aces:acesMetadataFile xmlns:aces="urn:ampas:aces:amf:v2.0" xmlns:cdl="urn:ASC:CDL:v1.01" version="2.0">
    <aces:amfInfo>
        <aces:description>render_inputs test</aces:description>
        <aces:dateTime>
            <aces:creationDateTime>2026-11-25T09:00:00Z</aces:creationDateTime>
            <aces:modificationDateTime>2026-11-25T09:00:00Z</aces:modificationDateTime>
        </aces:dateTime>
        <aces:uuid>urn:uuid:0badcafe-5a3e-4f00-8000-00000000d9c0</aces:uuid>
    </aces:amfInfo>
    <aces:pipeline>
        <aces:pipelineInfo>
            <aces:dateTime>
                <aces:creationDateTime>2026-11-25T09:00:00Z</aces:creationDateTime>
                <aces:modificationDateTime>2026-11-25T09:00:00Z</aces:modificationDateTime>
            </aces:dateTime>
            <aces:uuid>urn:uuid:0badcafe-5a3e-4f00-8000-00000000d9c1</aces:uuid>
            <aces:systemVersion><aces:majorVersion>2</aces:majorVersion><aces:minorVersion>0</aces:minorVersion><aces:patchVersion>0</aces:patchVersion></aces:systemVersion>
        </aces:pipelineInfo>
        {input}
        {look}
    </aces:pipeline>
</aces:acesMetadataFile>
"#
    )
}

fn message(
    pattern: &str,
    input_colorspace: Option<&str>,
    proxy: Option<ProxyOptions>,
) -> ChunkMessage {
    ChunkMessage {
        version: 1,
        turnover_id: "T".into(),
        chunk_id: "T:a:1-1".into(),
        generation: 1,
        shot: "a".into(),
        input_pattern: pattern.into(),
        frames: FrameRange::new(1, 1).unwrap(),
        output_location: "plates".into(),
        amf_path: Some("a.amf".into()),
        fdl_path: None,
        fdl: Default::default(),
        output: OutputOptions {
            pixel: PixelType::Float,
            ..Default::default()
        },
        input_colorspace: input_colorspace.map(str::to_string),
        proxy,
    }
}

fn render(
    msg: &ChunkMessage,
    amf_text: Option<&str>,
    input: &[u8],
) -> Result<RenderedFrame, String> {
    let r = ImagingRenderer::default();
    let context = r
        .prepare(msg, None, amf_text.map(str::as_bytes))
        .map_err(|e| e.0)?;
    r.render(input, &FrameJob { frame: 1, context })
        .map_err(|e| e.0)
}

fn decode(exr: &[u8]) -> im::RgbImage {
    im::decode_exr(exr, &im::DecodeLimits::default()).unwrap()
}

fn convert_args(input: &Path, output: &Path, from: &str) -> ConvertArgs {
    ConvertArgs {
        input: input.into(),
        output: output.into(),
        from: from.into(),
        to: "ACES2065-1".into(),
        look: None,
        amf: None,
        fdl: None,
        canvas_template: None,
        resize: None,
        compression: "piz".into(),
        float: true,
        display: "sRGB - Display".into(),
        view: "ACES 2.0 - SDR 100 nits (Rec.709)".into(),
        quality: 92,
        part: None,
    }
}

/// OpenColorIO (ACES 2.0 studio config) of interleaved RGB values from `space` to ACES2065-1.
fn ocio(space: &str, values: &[f32]) -> Vec<f64> {
    let list: Vec<String> = values.iter().map(|v| format!("{v:.9}")).collect();
    platefarm_testkit::run_python(
        "import sys, PyOpenColorIO as ocio\n\
         cfg = ocio.Config.CreateFromBuiltinConfig('studio-config-v4.0.0_aces-v2.0_ocio-v2.5')\n\
         p = cfg.getProcessor(sys.argv[1], 'ACES2065-1').getOptimizedCPUProcessor(ocio.OPTIMIZATION_NONE)\n\
         c = [float(x) for x in sys.argv[2].split(',')]\n\
         for i in range(0, len(c), 3): print(*p.applyRGB(c[i:i+3]))",
        &[space, &list.join(",")],
    )
    .split_whitespace()
    .map(|v| v.parse().unwrap())
    .collect()
}

struct Case {
    name: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
    /// The input's normalised values, as OCIO reads the file.
    values: Vec<f32>,
    space: &'static str,
    /// Given as `input_colorspace` (else the AMF's input transform names it).
    explicit: bool,
}

fn cases() -> Vec<Case> {
    let (w, h) = (48u32, 24u32);
    let codes: Vec<u16> = (0..w * h * 3).map(|i| ((i * 37) % 1024) as u16).collect();
    let dpx = im::dpx::encode_dpx_10bit(w, h, &codes, &Default::default());
    let scene = im::RgbImage {
        width: w,
        height: h,
        data: (0..w * h * 3)
            .map(|i| 0.18 * 2f32.powf((i % 97) as f32 / 12.0 - 4.0) * (1.0 + (i % 3) as f32 * 0.2))
            .collect(),
    };
    let exr = im::encode_exr(
        &scene,
        &im::ExrOptions {
            pixel: im::ExrPixel::Float,
            ..Default::default()
        },
        &im::FrameHeader::default(),
    )
    .unwrap();
    let tif = im::encode_tiff_f32(&scene).unwrap();
    vec![
        Case {
            name: "DPX LogC3",
            file: "in.0001.dpx",
            bytes: dpx,
            values: codes.iter().map(|c| *c as f32 / 1023.0).collect(),
            space: "ARRI LogC3 (EI800)",
            explicit: false,
        },
        Case {
            name: "EXR ACEScg",
            file: "in.0001.exr",
            bytes: exr,
            values: scene.data.clone(),
            space: "ACEScg",
            explicit: true,
        },
        Case {
            name: "TIFF Linear Rec.709",
            file: "in.0001.tif",
            bytes: tif,
            values: scene.data.clone(),
            space: "Linear Rec.709 (sRGB)",
            explicit: true,
        },
    ]
}

#[test]
fn dpx_exr_and_tiff_plates_match_opencolorio_and_convert() {
    let dir = platefarm_testkit::scratch();
    for case in cases() {
        let path = dir.path().join(case.file);
        std::fs::write(&path, &case.bytes).unwrap();
        let pattern = format!("clips/{}", case.file.replace("0001", "%04d"));
        let (amf_text, explicit) = if case.explicit {
            (amf(None, false), Some(case.space))
        } else {
            (amf(Some(LOGC3_IDT), false), None)
        };
        let msg = message(&pattern, explicit, None);
        let frame = render(&msg, Some(&amf_text), &case.bytes).unwrap();
        assert!(frame.proxy.is_none());
        let ours = decode(&frame.plate);
        let want = ocio(case.space, &case.values);
        assert_eq!(want.len(), ours.data.len(), "{}", case.name);
        for (i, (a, b)) in ours.data.iter().zip(&want).enumerate() {
            assert!(
                (*a as f64 - b).abs() <= 1e-4 * b.abs().max(1.0),
                "{} value {i}: ours {a}, OCIO {b}",
                case.name
            );
        }
        // `platefarm convert` of the same frame gives the same pixels.
        let out = dir.path().join(format!("{}.exr", case.file));
        platefarm::convert::run(&convert_args(&path, &out, case.space)).unwrap();
        let theirs = decode(&std::fs::read(&out).unwrap());
        assert!(
            ours.data == theirs.data,
            "{}: plate differs from convert",
            case.name
        );
    }
}

/// Mean |difference| of two 8-bit RGB PNGs of one size, in codes.
fn png_mean_diff(a: &[u8], b: &[u8]) -> f64 {
    let pixels = |bytes: &[u8]| {
        let mut r = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()))
            .read_info()
            .unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        buf
    };
    let (a, b) = (pixels(a), pixels(b));
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .sum::<f64>()
        / a.len() as f64
}

#[test]
fn the_proxy_applies_the_amf_look_as_convert_does() {
    let dir = platefarm_testkit::scratch();
    let case = cases().remove(0);
    let input = dir.path().join(case.file);
    std::fs::write(&input, &case.bytes).unwrap();
    let graded_amf = amf(Some(LOGC3_IDT), true);
    std::fs::write(dir.path().join("a.amf"), &graded_amf).unwrap();
    for format in [ProxyFormat::Png, ProxyFormat::Jpeg] {
        let proxy = ProxyOptions {
            format,
            ..Default::default()
        };
        let msg = message("clips/in.%04d.dpx", None, Some(proxy));
        let graded = render(&msg, Some(&graded_amf), &case.bytes).unwrap();
        let plain = render(&msg, Some(&amf(Some(LOGC3_IDT), false)), &case.bytes).unwrap();
        assert!(
            graded.plate == plain.plate,
            "the look must stay out of the plate"
        );
        let (graded, plain) = (graded.proxy.unwrap(), plain.proxy.unwrap());
        assert_eq!(graded.format, format);
        // convert's proxy of the same frame with the same AMF: the same bytes.
        let out = dir.path().join(format!("proxy.{}", format.extension()));
        let mut args = convert_args(&input, &out, case.space);
        args.amf = Some(dir.path().join("a.amf"));
        platefarm::convert::run(&args).unwrap();
        assert!(
            graded.bytes == std::fs::read(&out).unwrap(),
            "{format:?} proxy differs from convert's"
        );
        if format == ProxyFormat::Png {
            let mean = png_mean_diff(&graded.bytes, &plain.bytes);
            assert!(
                mean > 3.0,
                "the look moves the proxy by only {mean} codes on average"
            );
        }
    }
}

#[test]
fn missing_or_disagreeing_colour_spaces_and_broken_frames_fail_with_reasons() {
    let case = cases().remove(0);
    let dpx = "clips/in.%04d.dpx";
    let err = render(
        &message(dpx, None, None),
        Some(&amf(None, true)),
        &case.bytes,
    )
    .unwrap_err();
    assert_eq!(
        err,
        "DPX input needs an input colour space: give input_colorspace or an AMF with an input transform"
    );
    let err = render(
        &message(dpx, Some("ACEScg"), None),
        Some(&amf(Some(LOGC3_IDT), false)),
        &case.bytes,
    )
    .unwrap_err();
    assert!(
        err.contains("\"ACEScg\"") && err.contains(LOGC3_IDT) && err.contains("ARRI LogC3 (EI800)"),
        "{err}"
    );
    // The same space spelled by its alias agrees.
    render(
        &message(dpx, Some("logc3"), None),
        Some(&amf(Some(LOGC3_IDT), false)),
        &case.bytes,
    )
    .unwrap();
    let err = render(
        &message(dpx, Some("ARRI LogC3 (EI800)"), None),
        None,
        &case.bytes[..3000],
    )
    .unwrap_err();
    assert!(err.contains("DPX truncated"), "{err}");
    let bad_view = ProxyOptions {
        view: "Filmic".into(),
        ..Default::default()
    };
    let err = render(
        &message(dpx, Some("ARRI LogC3 (EI800)"), Some(bad_view)),
        None,
        &case.bytes,
    )
    .unwrap_err();
    assert!(err.contains("\"Filmic\""), "{err}");
}

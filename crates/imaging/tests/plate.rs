//! `render_plate`: camera raw gives the DNG renderer's bytes, DPX / EXR / TIFF go through their
//! input colour space, the look reaches the proxy only, bytes do not depend on thread count,
//! and broken input fails with the decoder's reason.

use platefarm_color::{Cdl, CdlLook, ColorSpace, Display, OutputTransform, View};
use platefarm_imaging as im;
use std::io::Cursor;

fn space(name: &str) -> &'static ColorSpace {
    ColorSpace::from_name(name).unwrap()
}

/// A 10-bit DPX ramp with a timecode and frame rate in its header.
fn dpx(width: u32, height: u32) -> Vec<u8> {
    let codes: Vec<u16> = (0..width * height * 3)
        .map(|i| ((i * 37 + 95) % 1024) as u16)
        .collect();
    let meta = im::dpx::DpxMetadata {
        timecode: Some("01:02:03:04".into()),
        frame_rate: Some(23.976),
        ..Default::default()
    };
    im::dpx::encode_dpx_10bit(width, height, &codes, &meta)
}

fn look() -> CdlLook {
    CdlLook::new(Cdl {
        slope: [1.2, 1.0, 0.8],
        offset: [0.02, 0.0, -0.02],
        power: [1.0, 1.1, 1.0],
        saturation: 0.8,
    })
    .unwrap()
}

fn proxy(format: im::ProxyFormat, looks: Vec<CdlLook>) -> im::ProxySpec {
    im::ProxySpec {
        format,
        output: OutputTransform::with_view(Display::Srgb, View::Aces20Sdr100Rec709),
        looks,
        quality: 90,
        max_width: None,
    }
}

fn logc_spec() -> im::PlateSpec {
    im::PlateSpec {
        format_hint: Some(im::InputFormat::Dpx),
        input: Some(im::InputTransform::new(space("ARRI LogC3 (EI800)"))),
        ..Default::default()
    }
}

fn decode(exr: &[u8]) -> im::RgbImage {
    im::decode_exr(exr, &im::DecodeLimits::default()).unwrap()
}

#[test]
fn camera_raw_plates_are_the_dng_renderers_bytes() {
    let sample = im::synth::SampleSpec {
        width: 256,
        height: 128,
        ..Default::default()
    };
    let dng = im::synth::sample_frame_dng(&sample, 2);
    let framing = im::Framing {
        source: (8.0, 4.0, 240.0, 120.0),
        scale: (0.5, 0.5),
        canvas: (120, 60),
        translation: (0.0, 0.0),
        filter: im::Filter::Lanczos3,
    };
    let spec = im::PlateSpec {
        // Camera raw ignores an input colour space and the file name.
        format_hint: Some(im::InputFormat::Tiff),
        input: Some(im::InputTransform::new(space("ACEScg"))),
        framing: Some(framing),
        fdl_json: Some("{\"uuid\":\"x\"}".into()),
        amf_uuid: Some("urn:uuid:1".into()),
        ..Default::default()
    };
    let ours = im::render_plate(&dng, 86402, &spec).unwrap();
    let theirs = im::render_dng_to_exr(
        &dng,
        &im::RenderSpec {
            frame: 86402,
            fdl_json: spec.fdl_json.clone(),
            amf_uuid: spec.amf_uuid.clone(),
            framing: Some(framing),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ours.format, im::InputFormat::Dng);
    assert!(ours.exr == theirs.exr, "DNG plates changed");
    assert_eq!((ours.width, ours.height), (120, 60));
}

#[test]
fn dpx_carries_timecode_and_frame_rate_into_the_plate() {
    let out = im::render_plate(&dpx(32, 16), 7, &logc_spec()).unwrap();
    let meta = exr::meta::MetaData::read_from_buffered(Cursor::new(&out.exr), false).unwrap();
    let h = &meta.headers[0];
    let tc = h.shared_attributes.time_code.unwrap();
    assert_eq!((tc.hours, tc.minutes, tc.seconds, tc.frame), (1, 2, 3, 4));
    assert_eq!(h.own_attributes.frames_per_second, Some((24000, 1001)));
    // EXR input keeps its own timecode too.
    let again = im::render_plate(
        &out.exr,
        7,
        &im::PlateSpec {
            input: Some(im::InputTransform::new(space("ACES2065-1"))),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(again.format, im::InputFormat::Exr);
    let meta = exr::meta::MetaData::read_from_buffered(Cursor::new(&again.exr), false).unwrap();
    assert_eq!(meta.headers[0].shared_attributes.time_code, Some(tc));
    assert_eq!(decode(&again.exr).data, decode(&out.exr).data);
}

#[test]
fn the_look_reaches_the_proxy_and_not_the_plate() {
    let input = dpx(48, 24);
    let plain = im::render_plate(
        &input,
        1,
        &im::PlateSpec {
            proxy: Some(proxy(im::ProxyFormat::Png, Vec::new())),
            ..logc_spec()
        },
    )
    .unwrap();
    let graded = im::render_plate(
        &input,
        1,
        &im::PlateSpec {
            proxy: Some(proxy(im::ProxyFormat::Png, vec![look()])),
            ..logc_spec()
        },
    )
    .unwrap();
    assert!(plain.exr == graded.exr, "the look must not reach the plate");
    let (p, g) = (plain.proxy.unwrap(), graded.proxy.unwrap());
    assert_ne!(p.bytes, g.bytes, "the look changes the proxy");
    // The proxy is exactly: plate pixels → look → output transform → 8-bit PNG.
    let mut aces = im::RgbImage {
        width: 48,
        height: 24,
        data: vec![0.0; 48 * 24 * 3],
    };
    let decoded = im::dpx::decode_dpx(&input, &im::DecodeLimits::default()).unwrap();
    for (o, c) in aces.data.iter_mut().zip(&decoded.data) {
        *o = *c as f32 / 1023.0;
    }
    im::InputTransform::new(space("ARRI LogC3 (EI800)")).apply(&mut aces.data);
    look().apply_rgb(&mut aces.data);
    let ot = OutputTransform::with_view(Display::Srgb, View::Aces20Sdr100Rec709);
    let (w, h, rgb8) = im::preview_rgb8_with(&aces, 48, &ot);
    assert_eq!(g.bytes, im::encode_png_tagged(w, h, &rgb8, true).unwrap());
    // A JPEG proxy no wider than asked.
    let small = im::render_plate(
        &input,
        1,
        &im::PlateSpec {
            proxy: Some(im::ProxySpec {
                max_width: Some(20),
                ..proxy(im::ProxyFormat::Jpeg, vec![look()])
            }),
            ..logc_spec()
        },
    )
    .unwrap()
    .proxy
    .unwrap();
    assert_eq!((small.width, small.height), (16, 8));
    assert_eq!(&small.bytes[..2], &[0xFF, 0xD8]);
}

#[test]
fn bytes_do_not_depend_on_thread_count() {
    let input = dpx(200, 100);
    let spec = im::PlateSpec {
        framing: Some(im::Framing {
            source: (10.0, 5.0, 180.0, 90.0),
            scale: (0.75, 0.75),
            canvas: (136, 68),
            translation: (0.0, 0.0),
            filter: im::Filter::Lanczos3,
        }),
        proxy: Some(proxy(im::ProxyFormat::Jpeg, vec![look()])),
        ..logc_spec()
    };
    let render = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| im::render_plate(&input, 3, &spec).unwrap())
    };
    let (one, four) = (render(1), render(4));
    assert!(
        one == four,
        "plates or proxies differ between 1 and 4 threads"
    );
    assert_eq!((one.width, one.height), (136, 68));
}

#[test]
fn tiff_is_told_from_dng_by_its_tags() {
    let img = im::RgbImage {
        width: 8,
        height: 4,
        data: (0..96).map(|i| i as f32 / 96.0).collect(),
    };
    let tif = im::encode_tiff_f32(&img).unwrap();
    // Named .dng, but a plain TIFF: decoded as TIFF through its colour space.
    let out = im::render_plate(
        &tif,
        1,
        &im::PlateSpec {
            format_hint: Some(im::InputFormat::Dng),
            input: Some(im::InputTransform::new(space("ACES2065-1"))),
            exr: im::ExrOptions {
                pixel: im::ExrPixel::Float,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.format, im::InputFormat::Tiff);
    assert_eq!(decode(&out.exr).data, img.data);
}

#[test]
fn broken_or_unmanaged_input_fails_with_the_reason() {
    let good = dpx(32, 16);
    let err = im::render_plate(&good[..3000], 1, &logc_spec()).unwrap_err();
    assert!(err.to_string().contains("DPX truncated"), "{err}");
    let err = im::render_plate(&good, 1, &im::PlateSpec::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("DPX input needs an input colour space"),
        "{err}"
    );
    let err = im::render_plate(b"GIF89a\0\0\0\0", 1, &logc_spec()).unwrap_err();
    assert!(err.to_string().contains("the file name says DPX"), "{err}");
    let err = im::render_plate(b"", 1, &logc_spec()).unwrap_err();
    assert!(err.to_string().contains("0 bytes"), "{err}");
}

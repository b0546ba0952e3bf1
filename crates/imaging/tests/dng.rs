//! The synthetic camera, DNG decoding and the EXR writer against reference tools: LibRaw
//! (rawpy) reads our DNGs to the same raw values, OpenEXR and oiiotool read our plates with the
//! chart's values and our header attributes; corrupt files are errors; output is deterministic.

#![allow(clippy::needless_range_loop)] // channel loops read clearer with an index
use platefarm_imaging::synth::{chart_patches, sample_frame_dng, SampleCompression, SampleSpec};
use platefarm_imaging::*;

fn spec(bits: u8, compression: SampleCompression) -> SampleSpec {
    SampleSpec {
        bit_depth: bits,
        compression,
        n_frames: 3,
        start_timecode: "01:00:00:00".into(),
        reel_name: "A001".into(),
        ..SampleSpec::default()
    }
}

const CASES: [(u8, SampleCompression); 4] = [
    (16, SampleCompression::Uncompressed),
    (12, SampleCompression::Uncompressed),
    (12, SampleCompression::LosslessJpeg),
    (16, SampleCompression::LosslessJpeg),
];

#[test]
fn libraw_reads_our_dngs_to_the_same_raw_values() {
    let dir = platefarm_testkit::scratch();
    for (bits, compression) in CASES {
        let spec = spec(bits, compression);
        let bytes = sample_frame_dng(&spec, 1);
        let path = dir.path().join(format!("f{bits}_{compression:?}.dng"));
        std::fs::write(&path, &bytes).unwrap();
        let raw_path = dir.path().join("raw.u16");
        let out = platefarm_testkit::run_python(
            "import sys, rawpy, numpy as np\n\
             r = rawpy.imread(sys.argv[1])\n\
             img = r.raw_image.astype('<u2')\n\
             img.tofile(sys.argv[2])\n\
             print(img.shape[1], img.shape[0], r.white_level, ' '.join(str(b) for b in r.black_level_per_channel), r.raw_pattern.flatten().tolist(), r.color_desc.decode())",
            &[path.to_str().unwrap(), raw_path.to_str().unwrap()],
        );
        let ours = decode_dng(&bytes, &DecodeLimits::default()).unwrap();
        let theirs: Vec<u16> = std::fs::read(&raw_path)
            .unwrap()
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let fields: Vec<&str> = out.split_whitespace().collect();
        assert_eq!(
            fields[0].parse::<usize>().unwrap(),
            ours.width,
            "{bits}-bit {compression:?} width"
        );
        assert_eq!(fields[1].parse::<usize>().unwrap(), ours.height, "height");
        assert_eq!(
            fields[2].parse::<f32>().unwrap(),
            ours.white_level,
            "white level"
        );
        assert_eq!(
            fields[3].parse::<f32>().unwrap(),
            ours.black_level[0],
            "black level"
        );
        assert!(
            out.contains("[0, 1, 3, 2]") && out.contains("RGBG"),
            "RGGB pattern per LibRaw: {out}"
        );
        assert_eq!(theirs.len(), ours.data.len());
        let diffs = theirs
            .iter()
            .zip(&ours.data)
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            diffs, 0,
            "{bits}-bit {compression:?}: {diffs} raw values differ from LibRaw"
        );
    }
}

fn patch_mean(img: &RgbImage, p: &synth::ChartPatch) -> [f64; 3] {
    let mut acc = [0f64; 3];
    let inset = p.width / 5;
    let mut n = 0.0;
    for y in p.y + inset..p.y + p.height - inset {
        for x in p.x + inset..p.x + p.width - inset {
            let px = &img.data[((y * img.width + x) * 3) as usize..][..3];
            for c in 0..3 {
                acc[c] += px[c] as f64;
            }
            n += 1.0;
        }
    }
    acc.map(|v| v / n)
}

#[test]
fn developed_patches_hold_the_chart_values() {
    for (bits, compression) in CASES {
        let spec = spec(bits, compression);
        let raw = decode_dng(&sample_frame_dng(&spec, 0), &DecodeLimits::default()).unwrap();
        let img = develop_to_aces(&raw, &DevelopOptions::default()).unwrap();
        assert_eq!((img.width, img.height), spec.output_size());
        for p in chart_patches(&spec) {
            let got = patch_mean(&img, &p);
            for c in 0..3 {
                let want = p.aces[c] as f64;
                // Neutrals are exact up to quantisation; saturated colours may clip at the sensor.
                let tol = if p.neutral {
                    0.01 * want + 2e-4
                } else {
                    0.05 * want + 2e-3
                };
                assert!(
                    (got[c] - want).abs() <= tol,
                    "{bits}-bit {compression:?} {}: channel {c} {} vs {want}",
                    p.name,
                    got[c]
                );
            }
        }
    }
}

#[test]
fn camera_metadata_is_read_from_the_tags() {
    let spec = spec(12, SampleCompression::LosslessJpeg);
    let m = read_dng_metadata(&sample_frame_dng(&spec, 30)).unwrap();
    assert_eq!(m.make.as_deref(), Some("platefarm"));
    assert_eq!(m.model.as_deref(), Some("Synthetic S35"));
    assert_eq!(m.reel_name.as_deref(), Some("A001"));
    assert_eq!(
        m.timecode.as_deref(),
        Some("01:00:01:06"),
        "frame 30 at 24 fps"
    );
    assert_eq!(m.frame_rate, Some((24, 1)));
    assert_eq!(m.iso, Some(800));
    assert_eq!(m.lens.as_deref(), Some("platefarm Prime 35mm T2"));
}

fn render(bytes: &[u8], threads: usize) -> RenderedFrame {
    let spec = RenderSpec {
        frame: 86400,
        fdl_json: Some("{\"uuid\":\"x\"}".into()),
        amf_uuid: Some("urn:uuid:1234".into()),
        ..RenderSpec::default()
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| render_dng_to_exr(bytes, &spec).unwrap())
}

#[test]
fn plates_are_byte_identical_across_thread_counts_and_runs() {
    let bytes = sample_frame_dng(&spec(12, SampleCompression::LosslessJpeg), 2);
    let (a, b, c) = (render(&bytes, 1), render(&bytes, 2), render(&bytes, 2));
    assert!(a.exr == b.exr && b.exr == c.exr);
}

#[test]
fn openexr_and_oiiotool_read_our_plates() {
    let dir = platefarm_testkit::scratch();
    let spec = spec(16, SampleCompression::Uncompressed);
    let frame = render(&sample_frame_dng(&spec, 0), 2);
    let path = dir.path().join("plate.exr");
    std::fs::write(&path, &frame.exr).unwrap();
    let neutrals: Vec<_> = chart_patches(&spec)
        .into_iter()
        .filter(|p| p.neutral)
        .collect();
    let boxes: Vec<String> = neutrals
        .iter()
        .map(|p| format!("{},{},{},{},{}", p.x, p.y, p.width, p.height, p.aces[0]))
        .collect();
    let out = platefarm_testkit::run_python(
        "import sys, OpenEXR, numpy as np\n\
         with OpenEXR.File(sys.argv[1], separate_channels=True) as f:\n\
         \x20   h = f.header(); ch = f.channels()\n\
         \x20   print(sorted(ch.keys()), ch['R'].pixels.dtype, h['compression'], h['dataWindow'][1].tolist())\n\
         \x20   print(h['reelName'], '|', h['cameraModel'], '|', h['ascFramingDecisionList'], '|', h['amfUUID'], '|', h['imageCounter'])\n\
         \x20   print(h['timeCode'].hours, h['timeCode'].minutes, h['timeCode'].seconds, h['timeCode'].frame)\n\
         \x20   px = np.stack([ch[c].pixels.astype(np.float64) for c in 'RGB'], axis=-1)\n\
         for b in sys.argv[2:]:\n\
         \x20   x, y, w, hh, want = [float(v) for v in b.split(',')]\n\
         \x20   x, y, w, hh = int(x), int(y), int(w), int(hh); i = w // 5\n\
         \x20   m = px[y+i:y+hh-i, x+i:x+w-i].reshape(-1, 3).mean(axis=0)\n\
         \x20   print(want, ' '.join(f'{v:.6f}' for v in m))",
        &[&[path.to_str().unwrap()], boxes.iter().map(String::as_str).collect::<Vec<_>>().as_slice()].concat(),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "['B', 'G', 'R'] float16 Compression.PIZ_COMPRESSION [2047, 1079]"
    );
    assert_eq!(
        lines[1],
        "A001 | Synthetic S35 | {\"uuid\":\"x\"} | urn:uuid:1234 | 86400"
    );
    assert_eq!(lines[2], "1 0 0 0");
    for line in &lines[3..] {
        let v: Vec<f64> = line
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        for c in 1..4 {
            assert!(
                (v[c] - v[0]).abs() <= 0.02 * v[0],
                "neutral {}: read back {}",
                v[0],
                v[c]
            );
        }
    }
    let info = std::process::Command::new(platefarm_testkit::venv_tool("oiiotool"))
        .args(["--info", "-v"])
        .arg(&path)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("2048 x 1080, 3 channel, half openexr"),
        "{info}"
    );
    assert!(info.contains("reelName: \"A001\""), "{info}");
    assert!(info.contains("smpte:TimeCode: 01:00:00:00"), "{info}");
}

#[test]
fn truncated_and_corrupted_dngs_are_errors_not_panics() {
    for (bits, compression) in CASES {
        let bytes = sample_frame_dng(&spec(bits, compression), 0);
        for cut in [0, 7, 8, 100, 400, bytes.len() / 2, bytes.len() - 3] {
            let r = decode_dng(&bytes[..cut], &DecodeLimits::default());
            assert!(
                r.is_err(),
                "{bits}-bit {compression:?} cut at {cut} decoded"
            );
        }
        // Flip bytes through the whole file: every outcome is Ok or Err, never a panic.
        for i in (0..bytes.len()).step_by(bytes.len() / 97) {
            let mut bad = bytes.clone();
            bad[i] ^= 0xA5;
            let _ = decode_dng(&bad, &DecodeLimits::default())
                .and_then(|r| develop_to_aces(&r, &DevelopOptions::default()));
        }
    }
    let mut absurd = sample_frame_dng(&spec(16, SampleCompression::Uncompressed), 0);
    // ImageWidth is the second IFD entry: make it 4 billion pixels wide.
    let at = 8 + 2 + 12 + 8;
    absurd[at..at + 4].copy_from_slice(&4_000_000_000u32.to_le_bytes());
    let err = decode_dng(&absurd, &DecodeLimits::default()).unwrap_err();
    assert!(matches!(err, ImagingError::Limits { .. }), "{err}");
    assert!(
        decode_dng(b"not a raw file at all", &DecodeLimits::default())
            .unwrap_err()
            .to_string()
            .contains("not a TIFF/DNG")
    );
}

//! Ingest of the synthetic mixed folder matches, field by field, what the generator wrote.

use platefarm_ingest::synth::mixed_folder;
use platefarm_ingest::*;

fn ingest_folder() -> (IngestReport, Vec<ClipRecord>, MemorySource) {
    let footage = mixed_folder();
    let source = MemorySource::new(footage.objects.clone());
    let opts = IngestOptions {
        location: "synthetic".into(),
        ..IngestOptions::default()
    };
    let report = ingest(&source.entries(), &source, &opts).expect("ingest");
    (report, footage.expected, source)
}

#[test]
fn records_match_what_the_generator_wrote() {
    let (report, expected, _) = ingest_folder();
    assert_eq!(report.ignored, ["day1/camera_notes.txt"]);
    assert_eq!(
        report
            .clips
            .iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>(),
        expected.iter().map(|c| c.key.as_str()).collect::<Vec<_>>()
    );
    for (got, want) in report.clips.iter().zip(&expected) {
        let mut g = got.clone();
        g.vendor.clear();
        for b in &mut g.frames.bad {
            assert!(!b.reason.is_empty(), "{}: a reason", b.key);
            b.reason.clear();
        }
        // Field by field, so a failure names the field.
        assert_eq!(g.name, want.name);
        assert_eq!(g.reel, want.reel, "{} reel", want.key);
        assert_eq!(g.camera, want.camera, "{} camera", want.key);
        assert_eq!(g.lens, want.lens, "{} lens", want.key);
        assert_eq!(g.exposure, want.exposure, "{} exposure", want.key);
        assert_eq!(
            g.white_balance, want.white_balance,
            "{} white balance",
            want.key
        );
        assert_eq!(g.timecode, want.timecode, "{} timecode", want.key);
        assert_eq!(g.image, want.image, "{} image", want.key);
        assert_eq!(g.frames, want.frames, "{} frames", want.key);
        assert_eq!(g.colour, want.colour, "{} colour", want.key);
        assert_eq!(g.warnings, want.warnings, "{} warnings", want.key);
        assert_eq!(&g, want);
        assert!(!got.vendor.is_empty(), "{}: vendor fields kept", want.key);
    }
}

#[test]
fn bad_frames_say_why() {
    let (report, _, _) = ingest_folder();
    let bad: Vec<(&str, &BadFrame)> = report.bad_frames().collect();
    assert_eq!(bad.len(), 2, "{bad:?}");
    let dpx = bad.iter().find(|(_, b)| b.frame == 86404).unwrap().1;
    assert!(dpx.reason.contains("truncated"), "{}", dpx.reason);
    let exr = bad.iter().find(|(_, b)| b.frame == 1004).unwrap().1;
    assert!(exr.reason.contains("OpenEXR"), "{}", exr.reason);
}

#[test]
fn drop_frame_clip_and_schema_names() {
    let (report, _, _) = ingest_folder();
    let df = report
        .clips
        .iter()
        .find(|c| c.format == Format::Dpx)
        .unwrap();
    let json = serde_json::to_value(df).unwrap();
    assert_eq!(json["timecode"]["start"], "10:00:59;27");
    // 8 frames from 10:00:59;27: 27, 28, 29, then 10:01:00;02 (labels ;00 and ;01 dropped).
    assert_eq!(json["timecode"]["end"], "10:01:00;06");
    assert_eq!(json["timecode"]["rate"], "30000/1001");
    for path in [
        "/name",
        "/reel",
        "/camera/make",
        "/camera/model",
        "/camera/serial",
        "/timecode/start",
        "/timecode/end",
        "/timecode/rate",
        "/image/width",
        "/image/height",
        "/image/bit_depth",
        "/frames/first",
        "/frames/last",
        "/frames/count",
        "/frames/missing",
        "/colour/guess",
    ] {
        assert!(json.pointer(path).is_some(), "{path} in the record's JSON");
    }
    let back: ClipRecord = serde_json::from_value(json).unwrap();
    assert_eq!(&back, df, "the record round-trips through JSON");
}

#[test]
fn which_frame_holds_a_timecode() {
    let (report, _, _) = ingest_folder();
    let dpx = report
        .clips
        .iter()
        .find(|c| c.format == Format::Dpx)
        .unwrap();
    let at = dpx
        .frame_at(&Timecode::parse("10:01:00;02").unwrap())
        .unwrap();
    assert_eq!((at.frame, at.status.clone()), (86403, FrameStatus::Present));
    let at = dpx
        .frame_at(&Timecode::parse("10:01:00:03").unwrap())
        .unwrap();
    assert_eq!(at.frame, 86404);
    assert!(matches!(at.status, FrameStatus::Bad { .. }));
    assert_eq!(
        dpx.frame_at(&Timecode::parse("10:01:00;00").unwrap()),
        None,
        "a dropped label"
    );
    assert_eq!(
        dpx.frame_at(&Timecode::parse("10:01:00;07").unwrap()),
        None,
        "after the end"
    );
    let dng = report
        .clips
        .iter()
        .find(|c| c.format == Format::Dng)
        .unwrap();
    let at = dng
        .frame_at(&Timecode::parse("13:45:10:10").unwrap())
        .unwrap();
    assert_eq!((at.frame, at.status), (105, FrameStatus::Missing));
    assert_eq!(at.key, "day1/A001C003_230101_R1AB.000105.dng");
}

#[test]
fn thumbnails_are_small_jpegs_of_the_middle_frame() {
    let (report, _, source) = ingest_folder();
    for clip in &report.clips {
        let (frame, w, h, jpeg) = thumbnail_jpeg(
            clip,
            &source,
            &ThumbnailOptions {
                max_width: 16,
                quality: 80,
            },
        )
        .unwrap_or_else(|e| panic!("{}: {e}", clip.key));
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "{}: a JPEG", clip.key);
        assert!(w <= 16 && w > 0 && h > 0);
        assert!(clip.frames.first <= frame && frame <= clip.frames.last);
        assert!(!clip.frames.missing.contains(&frame));
        assert!(!clip.frames.bad.iter().any(|b| b.frame == frame));
    }
}

#[test]
fn the_benchmark_counts_every_frame() {
    let r = bench_ingest(500).unwrap();
    assert_eq!((r.frames, r.clips), (500, 1));
    assert!(r.frames_per_second > 0.0);
}

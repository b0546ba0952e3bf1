//! Untrusted bytes: every truncation and thousands of mutations of each format's frames give
//! a `FrameInfo` or an error with a reason — never a panic. Also: a real CinemaDNG layout
//! (imaging's synthetic camera: lossless-JPEG tiles) probes to what imaging's own metadata
//! reader says.

use platefarm_imaging::synth::{sample_frame_dng, SampleCompression, SampleSpec};
use platefarm_ingest::probe::{probe, ProbeError};
use platefarm_ingest::synth::mixed_folder;
use platefarm_ingest::{Format, Rate, Timecode};
use platefarm_testkit::{mutate, Rng};

fn samples() -> Vec<(Format, Vec<u8>)> {
    let f = mixed_folder().objects;
    let pick = |k: &str| f[k].clone();
    vec![
        (Format::Dng, pick("day1/A001C003_230101_R1AB.000100.dng")),
        (Format::Dpx, pick("day1/B002C001_230102_DF.0086400.dpx")),
        (Format::Exr, pick("day2/C003_plate.1001.exr")),
        (Format::Tiff, pick("stills/D004_ref.tif")),
    ]
}

#[test]
fn truncations_are_errors_with_reasons() {
    for (format, bytes) in samples() {
        assert!(
            probe(format, &bytes, bytes.len() as u64).is_ok(),
            "{format:?} intact"
        );
        for cut in 0..bytes.len() {
            match probe(format, &bytes[..cut], cut as u64) {
                Err(ProbeError::Bad(reason)) => assert!(!reason.is_empty()),
                Err(ProbeError::NeedMore) => panic!("{format:?} cut at {cut}: a whole file"),
                Ok(_) => panic!("{format:?} cut at {cut} of {} probed as good", bytes.len()),
            }
            // A prefix of a longer file asks for more instead of failing.
            if let Err(e) = probe(format, &bytes[..cut], bytes.len() as u64) {
                assert_eq!(e, ProbeError::NeedMore, "{format:?} prefix of {cut}");
            }
        }
    }
}

#[test]
fn mutations_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for (format, bytes) in samples() {
        for _ in 0..3000 {
            let m = mutate(&mut rng, &bytes, 4, &[0, 0xFF, 0x7F, 0x80, b'0', 9]);
            let _ = probe(format, &m, m.len() as u64);
        }
    }
}

#[test]
fn cinema_dng_tiles_probe_like_imaging_reads_them() {
    let spec = SampleSpec {
        width: 96,
        height: 64,
        n_frames: 2,
        bit_depth: 12,
        compression: SampleCompression::LosslessJpeg,
        frame_rate: 25,
        start_timecode: "02:03:04:05".into(),
        ..SampleSpec::default()
    };
    let bytes = sample_frame_dng(&spec, 1);
    let info = probe(Format::Dng, &bytes, bytes.len() as u64).expect("probe");
    let theirs = platefarm_imaging::read_dng_metadata(&bytes).unwrap();
    assert_eq!(info.camera.make, theirs.make);
    assert_eq!(info.camera.model, theirs.model);
    assert_eq!(info.camera.serial, theirs.serial);
    assert_eq!(info.reel, theirs.reel_name);
    assert_eq!(info.lens.model, theirs.lens);
    assert_eq!(info.exposure.iso, theirs.iso);
    assert_eq!(info.timecode.map(|t| t.to_string()), theirs.timecode);
    assert_eq!(info.timecode, Some(Timecode::parse("02:03:04:06").unwrap()));
    assert_eq!(info.rate, Some(Rate::fps(25)));
    assert_eq!((info.image.width, info.image.height), (96, 64));
    assert_eq!(info.image.bit_depth, 12);
    assert_eq!(info.image.compression.as_deref(), Some("lossless JPEG"));
    assert_eq!(info.white_balance.as_shot_neutral, theirs.as_shot_neutral);
    let truncated = &bytes[..bytes.len() - 100];
    assert!(matches!(
        probe(Format::Dng, truncated, truncated.len() as u64),
        Err(ProbeError::Bad(r)) if r.contains("truncated")
    ));
}

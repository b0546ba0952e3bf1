//! A corpus run on stable Rust over the decoders the fuzz targets cover (DNG with its
//! lossless-JPEG tiles, DPX, OpenEXR, TIFF): mutated real files give images or errors, never panics.

use platefarm_imaging::synth::{sample_frame_dng, SampleCompression, SampleSpec};
use platefarm_imaging::*;

use platefarm_testkit::Rng;

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    platefarm_testkit::mutate(rng, input, 3, b"\x00\xff\x7f\x80")
}

#[test]
fn decoders_survive_a_mutation_corpus() {
    let limits = DecodeLimits {
        max_width: 4096,
        max_height: 4096,
        max_pixels: 4 << 20,
        max_bytes: 64 << 20,
    };
    let small = |compression| SampleSpec {
        width: 256,
        height: 128,
        n_frames: 1,
        bit_depth: 12,
        compression,
        ..SampleSpec::default()
    };
    let dngs = [
        sample_frame_dng(&small(SampleCompression::LosslessJpeg), 0),
        sample_frame_dng(&small(SampleCompression::Uncompressed), 0),
    ];
    let rgb: Vec<u16> = (0..64 * 32 * 3).map(|i| (i % 1024) as u16).collect();
    let dpx = dpx::encode_dpx_10bit(64, 32, &rgb, &dpx::DpxMetadata::default());
    let img = RgbImage {
        width: 64,
        height: 32,
        data: (0..64 * 32 * 3).map(|i| i as f32 / 6144.0).collect(),
    };
    let exrs: Vec<Vec<u8>> = [
        ExrCompression::Piz,
        ExrCompression::Zip,
        ExrCompression::None,
    ]
    .into_iter()
    .map(|compression| {
        encode_exr(
            &img,
            &ExrOptions {
                compression,
                ..Default::default()
            },
            &FrameHeader::default(),
        )
        .unwrap()
    })
    .collect();
    let tiff = encode_tiff_f32(&img).unwrap();
    let mut rng = Rng(0x00DE_C0DE);
    let mut runs = 0;
    for seed in &dngs {
        for _ in 0..400 {
            if let Ok(raw) = decode_dng(&mutate(&mut rng, seed), &limits) {
                let _ = develop_to_aces(&raw, &DevelopOptions::default());
            }
            runs += 1;
        }
    }
    for _ in 0..1500 {
        let _ = dpx::decode_dpx(&mutate(&mut rng, &dpx), &limits);
        runs += 1;
    }
    for seed in &exrs {
        for _ in 0..400 {
            let _ = decode_exr(&mutate(&mut rng, seed), &limits);
            runs += 1;
        }
    }
    for _ in 0..500 {
        let _ = decode_tiff(&mutate(&mut rng, &tiff), &limits);
        runs += 1;
    }
    assert_eq!(runs, 4_000);
}

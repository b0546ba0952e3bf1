//! Throughput of the per-pixel colour paths on a DCI 4K frame (4096×2160): LogC3 → ACES2065-1
//! as float (`Pipeline::apply_rgb`) and from 10-bit codes (`IntegerDecoder`), and the ACES 1.3 /
//! 2.0 sRGB output transforms on a smaller crop (they are per-pixel heavy and run on proxies).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use platefarm_color::{ColorSpace, Display, IntegerDecoder, OutputTransform, Pipeline, View};
use std::hint::black_box;

const W: usize = 4096;
const H: usize = 2160;

/// A deterministic spread of 10-bit LogC3 codes (a ramp crossed with a second ramp).
fn codes(n_px: usize) -> Vec<u16> {
    (0..n_px * 3)
        .map(|i| ((i * 7919 + i / 3 * 104_729) % 1024) as u16)
        .collect()
}

fn bench(c: &mut Criterion) {
    let logc3 = ColorSpace::from_name("ARRI LogC3 (EI800)").expect("known space");
    let aces = ColorSpace::from_name("ACES2065-1").expect("known space");
    let frame_codes = codes(W * H);
    let frame: Vec<f32> = frame_codes.iter().map(|c| f32::from(*c) / 1023.0).collect();

    let mut g = c.benchmark_group("4096x2160");
    g.sample_size(10);
    g.throughput(Throughput::Elements((W * H) as u64));
    let pipeline = Pipeline::new(logc3, aces);
    let mut buf = frame.clone();
    g.bench_function("pipeline_logc3_to_ap0", |b| {
        b.iter(|| {
            buf.copy_from_slice(&frame);
            pipeline.apply_rgb(black_box(&mut buf));
        })
    });
    let dec = IntegerDecoder::new(logc3, aces, 10);
    let mut out = vec![0f32; frame_codes.len()];
    g.bench_function("integer_decoder_10bit_logc3_to_ap0", |b| {
        b.iter(|| {
            for (row_in, row_out) in frame_codes.chunks(W * 3).zip(out.chunks_mut(W * 3)) {
                dec.decode_row(black_box(row_in), row_out);
            }
        })
    });
    g.finish();

    // Output transforms: a 512×270 crop of linear values (an 8× proxy of the frame).
    let n_px = 512 * 270;
    let mut lin = frame[..n_px * 3].to_vec();
    pipeline.apply_rgb(&mut lin);
    let mut g = c.benchmark_group("512x270");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n_px as u64));
    for (name, view) in [
        ("aces13_srgb", View::Aces13SdrVideo),
        ("aces20_srgb", View::Aces20Sdr100Rec709),
    ] {
        let ot = OutputTransform::with_view(Display::Srgb, view);
        let mut buf = lin.clone();
        g.bench_function(name, |b| {
            b.iter(|| {
                buf.copy_from_slice(&lin);
                ot.apply_rgb(black_box(&mut buf));
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Every file our EXR writer produces is read back bit-exactly by OpenEXR's own library (the
//! `OpenEXR` Python package): a corpus of sizes, RGB/RGBA, half/float, every compression we
//! write, negative data-window origins with overscan, the awkward values (NaN, ±inf,
//! denormals, ±65504, −0), and the edge cases of our own PIZ coder (constant blocks, long
//! runs, every half code, 1-pixel-wide and 1-line images). Also: the bytes do not depend on the
//! thread count.

use half::f16;
use platefarm_imaging::*;

const READ: &str = r#"
import sys, OpenEXR, numpy as np
for name in sys.argv[1:]:
    with OpenEXR.File(name, separate_channels=True) as f:
        h = f.header()
        dw, dsp = h['dataWindow'], h['displayWindow']
        chans = f.channels()
        print(name, ''.join(sorted(chans.keys())), str(h['compression']).split('.')[-1],
              *[int(v) for v in (*dw[0], *dw[1], *dsp[0], *dsp[1])])
        for c, ch in chans.items():
            np.ascontiguousarray(ch.pixels).tofile(f"{name}.{c}.bin")
"#;

/// Values that stress the codecs: specials, the half range's edges, smooth and noisy ramps.
fn corpus_value(i: usize, seed: u64) -> f32 {
    const SPECIAL: [f32; 12] = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        65504.0,
        -65504.0,
        5.96e-8, // smallest half denormal
        -6.0e-5, // half denormal
        1.0e-40, // float denormal (flushes to 0 in half)
        -0.0,
        0.0,
        1.0,
        70000.0, // beyond half: becomes inf
    ];
    let mut x = (i as u64 ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    match x % 7 {
        0 => SPECIAL[(x >> 8) as usize % SPECIAL.len()],
        1 | 2 => (i % 97) as f32 / 97.0, // smooth ramp: long Huffman runs
        _ => ((x >> 11) as f32 / (1u64 << 53) as f32) * 8.0 - 2.0,
    }
}

struct Case {
    name: String,
    pixels: Vec<f32>,
    channels: usize,
    layout: ExrLayout,
    opts: ExrOptions,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let sizes: [(u32, u32); 5] = [(1, 1), (3, 70), (33, 65), (257, 31), (64, 100)];
    let compressions = [
        ExrCompression::Piz,
        ExrCompression::Zip,
        ExrCompression::Zips,
        ExrCompression::None,
    ];
    for (s, &(w, h)) in sizes.iter().enumerate() {
        for channels in [3, 4] {
            for pixel in [ExrPixel::Half, ExrPixel::Float] {
                for compression in compressions {
                    let n = (w * h) as usize * channels;
                    let seed = (s * 16 + channels) as u64;
                    // Overscan on one size: data window (-5,-7) around a smaller display window.
                    let layout = if (w, h) == (33, 65) {
                        ExrLayout {
                            data: Window {
                                x: -5,
                                y: -7,
                                width: w,
                                height: h,
                            },
                            display: Window::at_origin(w - 10, h - 14),
                        }
                    } else {
                        ExrLayout::plain(w, h)
                    };
                    out.push(Case {
                        name: format!("{w}x{h}_{channels}_{pixel:?}_{compression:?}"),
                        pixels: (0..n).map(|i| corpus_value(i, seed)).collect(),
                        channels,
                        layout,
                        opts: ExrOptions { compression, pixel },
                    });
                }
            }
        }
    }
    // Compressible blocks, so the codecs' own paths are read back (noisy blocks are stored raw):
    // a smooth gradient with a few specials, and a ramp over ~30 000 distinct half codes (the
    // 16-bit wavelet, used when a block holds ≥ 2^14 distinct values).
    let (w, h) = (1024u32, 70u32);
    for (kind, channels) in [("smooth", 3), ("smooth", 4), ("wide", 3)] {
        for compression in compressions {
            let n = (w * h) as usize * channels;
            let pixels = (0..n)
                .map(|i| {
                    let (x, y) = ((i / channels) % w as usize, (i / channels) / w as usize);
                    match kind {
                        "smooth" if i % 4099 == 7 => corpus_value(i, 1),
                        "smooth" => (x as f32 / 300.0 + y as f32 / 50.0).sin() * 2.0 + 2.5,
                        _ => f16::from_bits(((x * 29 + y * 13 + i % channels) % 30_000) as u16)
                            .to_f32(),
                    }
                })
                .collect();
            out.push(Case {
                name: format!("{kind}{channels}_{compression:?}"),
                pixels,
                channels,
                layout: ExrLayout::plain(w, h),
                opts: ExrOptions {
                    compression,
                    pixel: ExrPixel::Half,
                },
            });
        }
    }
    // Our PIZ coder's edge cases, each also through the other compressions: constant blocks
    // (only 0; one other value), runs longer than one run code holds, two alternating values,
    // every finite half code (the 16-bit wavelet and a code table without gaps), smooth float
    // samples (two 16-bit words each, compressed rather than stored raw), a 1-pixel-wide and a
    // 1-line image.
    let edge: [(&str, u32, u32, usize, ExrPixel); 9] = [
        ("zero", 1024, 40, 3, ExrPixel::Half),
        ("one", 333, 33, 4, ExrPixel::Half),
        ("runs", 1000, 64, 3, ExrPixel::Half),
        ("alt", 515, 35, 3, ExrPixel::Half),
        ("allcodes", 256, 256, 3, ExrPixel::Half),
        ("smoothf", 700, 37, 3, ExrPixel::Float),
        ("smoothf", 64, 31, 4, ExrPixel::Float),
        ("thin", 1, 100, 3, ExrPixel::Half),
        ("line", 4099, 1, 4, ExrPixel::Half),
    ];
    for (kind, w, h, channels, pixel) in edge {
        for compression in compressions {
            let pixels = (0..(w * h) as usize * channels)
                .map(|i| {
                    let (p, c) = (i / channels, i % channels);
                    let (x, y) = (p % w as usize, p / w as usize);
                    let smooth = (x as f32 / 40.0 + y as f32 / 9.0 + c as f32).sin() + 1.5;
                    match kind {
                        "zero" => 0.0,
                        "one" => 1.0,
                        // Runs of 700 (two run codes and a rest), a new value for each.
                        "runs" => (p / 700) as f32 * 0.25,
                        "alt" => [0.5, -3.0][(x + y) % 2],
                        // Bit patterns 0..63488 minus the NaNs: ±0, denormals, …, ±65504, ±inf.
                        "allcodes" => {
                            let code = (p * 3 + c) % 63_490;
                            let bits = if code < 31_745 {
                                code
                            } else {
                                code - 31_745 + 0x8000
                            };
                            f16::from_bits(bits as u16).to_f32()
                        }
                        // Multiples of 2^-10, so a float's low 16-bit word compresses too.
                        "smoothf" => (smooth * 1024.0).round() / 1024.0,
                        _ => smooth,
                    }
                })
                .collect();
            out.push(Case {
                name: format!("{kind}{w}x{h}_{channels}_{pixel:?}_{compression:?}"),
                pixels,
                channels,
                layout: ExrLayout::plain(w, h),
                opts: ExrOptions { compression, pixel },
            });
        }
    }
    out
}

/// Cases whose blocks compress well (so the codecs' own paths are read back, not raw blocks).
fn compressible(name: &str) -> bool {
    ["smooth", "wide", "zero", "one", "runs", "alt"]
        .iter()
        .any(|k| name.starts_with(k))
}

#[test]
fn openexr_reads_every_file_we_write_bit_exactly() {
    let dir = platefarm_testkit::scratch();
    let cases = cases();
    let mut paths = Vec::new();
    for case in &cases {
        let bytes = encode_exr_layout(
            &case.pixels,
            case.channels,
            &case.layout,
            &case.opts,
            &FrameHeader::default(),
        )
        .unwrap();
        if compressible(&case.name) && case.opts.compression != ExrCompression::None {
            let sample = match case.opts.pixel {
                ExrPixel::Half => 2,
                ExrPixel::Float => 4,
            };
            let raw = case.pixels.len() * sample;
            // A float's low mantissa bits are close to noise: those blocks shrink less (a file
            // smaller than its raw samples, header included, still has compressed blocks).
            let (num, den) = if sample == 2 { (3, 4) } else { (1, 1) };
            assert!(
                bytes.len() < raw * num / den,
                "{}: {} bytes of {raw}",
                case.name,
                bytes.len()
            );
        }
        let path = dir.path().join(format!("{}.exr", case.name));
        std::fs::write(&path, bytes).unwrap();
        paths.push(path.to_string_lossy().to_string());
    }
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let listing = platefarm_testkit::run_python(READ, &args);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), cases.len(), "{listing}");
    for ((case, path), line) in cases.iter().zip(&paths).zip(&lines) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let want_channels = if case.channels == 3 { "BGR" } else { "ABGR" };
        assert_eq!(f[1], want_channels, "{line}");
        let want_compression = match case.opts.compression {
            ExrCompression::Piz => "PIZ_COMPRESSION",
            ExrCompression::Zip => "ZIP_COMPRESSION",
            ExrCompression::Zips => "ZIPS_COMPRESSION",
            ExrCompression::None => "NO_COMPRESSION",
        };
        assert_eq!(f[2], want_compression, "{line}");
        let (d, s) = (case.layout.data, case.layout.display);
        let want_windows = [
            d.x,
            d.y,
            d.x + d.width as i32 - 1,
            d.y + d.height as i32 - 1,
            s.x,
            s.y,
            s.x + s.width as i32 - 1,
            s.y + s.height as i32 - 1,
        ];
        let got: Vec<i32> = f[3..].iter().map(|v| v.parse().unwrap()).collect();
        assert_eq!(got, want_windows, "{line}");
        for (k, c) in ["R", "G", "B", "A"][..case.channels].iter().enumerate() {
            let bin = std::fs::read(format!("{path}.{c}.bin")).unwrap();
            let values = case.pixels.iter().skip(k).step_by(case.channels);
            match case.opts.pixel {
                ExrPixel::Half => {
                    let got: Vec<u16> = bin
                        .chunks_exact(2)
                        .map(|b| u16::from_le_bytes([b[0], b[1]]))
                        .collect();
                    let want: Vec<u16> = values.map(|v| f16::from_f32(*v).to_bits()).collect();
                    assert_eq!(got, want, "{} channel {c}", case.name);
                }
                ExrPixel::Float => {
                    let got: Vec<u32> = bin
                        .chunks_exact(4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect();
                    let want: Vec<u32> = values.map(|v| v.to_bits()).collect();
                    assert_eq!(got, want, "{} channel {c}", case.name);
                }
            }
        }
    }
}

#[test]
fn exr_bytes_do_not_depend_on_the_thread_count() {
    let (w, h) = (301u32, 203u32);
    let pixels: Vec<f32> = (0..(w * h * 4) as usize)
        .map(|i| corpus_value(i, 9))
        .collect();
    for compression in [
        ExrCompression::Piz,
        ExrCompression::Zip,
        ExrCompression::Zips,
    ] {
        let encode = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    encode_exr_layout(
                        &pixels,
                        4,
                        &ExrLayout::plain(w, h),
                        &ExrOptions {
                            compression,
                            pixel: ExrPixel::Half,
                        },
                        &FrameHeader {
                            timecode: Some("01:02:03:04".into()),
                            ..FrameHeader::default()
                        },
                    )
                    .unwrap()
                })
        };
        let one = encode(1);
        assert_eq!(one, encode(3), "{compression:?}");
        assert_eq!(one, encode(8), "{compression:?}");
    }
}

//! DPX against OpenImageIO: every bit depth, packing and byte order OIIO writes decodes to the
//! values OIIO reads back, and OIIO reads our 10-bit files to our values and metadata.

use platefarm_imaging::dpx::{decode_dpx, encode_dpx_10bit, DpxMetadata};
use platefarm_imaging::DecodeLimits;

const WRITE_CASES: &str = r#"
import sys, numpy as np, OpenImageIO as oiio
out_dir = sys.argv[1]
rng = np.random.default_rng(7)
a = rng.random((5, 9, 3)).astype(np.float32)
for bits in (8, 10, 12, 16):
    for pack in ("Packed", "Filled, method A", "Filled, method B"):
        for endian in ("big", "little"):
            name = f"{out_dir}/b{bits}_{pack[-1]}_{endian}.dpx"
            spec = oiio.ImageSpec(9, 5, 3, "uint16" if bits > 8 else "uint8")
            spec.attribute("oiio:BitsPerSample", bits)
            spec.attribute("dpx:Packing", pack)
            spec.attribute("oiio:Endian", endian)
            o = oiio.ImageOutput.create(name)
            assert o.open(name, spec)
            o.write_image(a)
            o.close()
            i = oiio.ImageInput.open(name)
            i.read_image("float").astype("<f4").tofile(name + ".f32")
            i.close()
            print(name)
"#;

#[test]
fn oiio_written_dpx_decodes_to_oiio_values() {
    let dir = platefarm_testkit::scratch();
    let listing = platefarm_testkit::run_python(WRITE_CASES, &[dir.path().to_str().unwrap()]);
    let mut cases = 0;
    for name in listing.lines() {
        let bytes = std::fs::read(name).unwrap();
        let img =
            decode_dpx(&bytes, &DecodeLimits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = platefarm_testkit::read_f32_le(format!("{name}.f32"));
        assert_eq!((img.width, img.height, img.channels), (9, 5, 3), "{name}");
        let bits = img.bit_depth as u32;
        for (i, (got, want)) in img.data.iter().zip(&want).enumerate() {
            // OIIO widens n-bit codes to 16 bits by bit replication before converting to float.
            let v = *got as u32;
            let wide = if bits == 16 {
                v
            } else {
                (v << (16 - bits)) | (v >> (2 * bits).saturating_sub(16))
            };
            let ours = wide as f32 / 65535.0;
            assert!(
                (ours - want).abs() < 1e-7,
                "{name} value {i}: ours {got} ({ours}), OIIO {want}"
            );
        }
        cases += 1;
    }
    assert_eq!(cases, 24);
}

#[test]
fn oiio_reads_our_10bit_dpx() {
    let dir = platefarm_testkit::scratch();
    let path = dir.path().join("ours.dpx");
    let (w, h) = (33u32, 7u32);
    let rgb: Vec<u16> = (0..w * h * 3).map(|i| ((i * 97) % 1024) as u16).collect();
    let meta = DpxMetadata {
        creator: "platefarm test".into(),
        timecode: Some("10:20:30:12".into()),
        frame_rate: Some(24.0),
        ..Default::default()
    };
    std::fs::write(&path, encode_dpx_10bit(w, h, &rgb, &meta)).unwrap();
    let out = platefarm_testkit::run_python(
        "import sys, OpenImageIO as oiio\n\
         i = oiio.ImageInput.open(sys.argv[1]); s = i.spec()\n\
         px = i.read_image('float')\n\
         print(s.width, s.height, s.nchannels, s.get_int_attribute('oiio:BitsPerSample'))\n\
         print(s.get_string_attribute('dpx:Packing'), '|', s.get_string_attribute('Software'), '|', s.get_string_attribute('smpte:TimeCode'))\n\
         print(' '.join(str(round(float(v) * 1023)) for v in px.flatten()))",
        &[path.to_str().unwrap()],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "33 7 3 10");
    assert!(
        lines[1].starts_with("Filled, method A | platefarm test"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("10:20:30:12"), "timecode: {}", lines[1]);
    let values: Vec<u16> = lines[2]
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(values, rgb);
}

//! OpenEXR files written by OpenImageIO — scanline and tiled, half and float, every common
//! compression — decode to the values OIIO reads back.

use platefarm_imaging::{decode_exr, DecodeLimits};

const WRITE: &str = r#"
import sys, numpy as np, OpenImageIO as oiio
out = sys.argv[1]
rng = np.random.default_rng(3)
a = (rng.random((37, 53, 3)) * 4.0 - 0.5).astype(np.float32)
for fmt in ("half", "float"):
    for comp in ("none", "zip", "zips", "piz", "rle", "pxr24", "b44", "dwaa"):
        for tiled in (False, True):
            if comp in ("b44", "dwaa", "pxr24") and fmt == "float":
                continue
            name = f"{out}/{fmt}_{comp}_{'tiled' if tiled else 'scan'}.exr"
            spec = oiio.ImageSpec(53, 37, 3, fmt)
            spec.attribute("compression", comp)
            if tiled:
                spec.tile_width, spec.tile_height = 16, 16
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
fn oiio_written_exrs_decode_to_oiio_values() {
    let dir = platefarm_testkit::scratch();
    let listing = platefarm_testkit::run_python(WRITE, &[dir.path().to_str().unwrap()]);
    let mut n = 0;
    for name in listing.lines() {
        let img = decode_exr(&std::fs::read(name).unwrap(), &DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = platefarm_testkit::read_f32_le(format!("{name}.f32"));
        assert_eq!((img.width, img.height), (53, 37), "{name}");
        assert_eq!(img.data.len(), want.len(), "{name}");
        for (i, (a, b)) in img.data.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{name} value {i}: ours {a}, OIIO {b}"
            );
        }
        n += 1;
    }
    assert_eq!(n, 26, "{listing}");
}

//! Fuzz target: the lossless-JPEG decoder never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = platefarm_imaging::ljpeg::decode(data, 4 << 20);
});

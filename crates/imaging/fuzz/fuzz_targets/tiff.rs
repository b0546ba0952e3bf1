//! Fuzz target: TIFF RGB reading never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = platefarm_imaging::DecodeLimits { max_width: 4096, max_height: 4096, max_pixels: 4 << 20, max_bytes: 64 << 20 };
    let _ = platefarm_imaging::decode_tiff(data, &limits);
});

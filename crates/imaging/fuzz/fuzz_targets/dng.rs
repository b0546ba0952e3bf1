//! Fuzz target: DNG decoding and developing never panic, allocate within small limits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use platefarm_imaging::{decode_dng, develop_to_aces, DecodeLimits, DevelopOptions};

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits { max_width: 4096, max_height: 4096, max_pixels: 4 << 20, max_bytes: 64 << 20 };
    if let Ok(raw) = decode_dng(data, &limits) {
        let _ = develop_to_aces(&raw, &DevelopOptions::default());
    }
});

//! Fuzz target: AMF parsing and transform resolution never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(amf) = platefarm_standards::amf::Amf::parse(text) {
            let _ = amf.resolve();
        }
    }
});

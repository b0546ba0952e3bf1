//! Fuzz target: FDL parsing, validation, selection and template application never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(fdl) = platefarm_standards::Fdl::parse(text) {
            let _ = fdl.framing(None, None, None);
            let _ = platefarm_standards::fdl_template::apply_template(&fdl, None, None, None, &fdl, None);
        }
    }
});

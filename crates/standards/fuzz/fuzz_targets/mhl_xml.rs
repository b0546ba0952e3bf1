//! Fuzz target: the XML reader ASC MHL manifests and chains go through never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = platefarm_standards::xml::parse_xml(text);
    }
});

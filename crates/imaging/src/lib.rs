//! placeholder, replaced by its owner
pub mod dpx;
pub mod reframe;

#[derive(Debug, Clone)]
pub struct DecodeLimits {
    pub max_width: u32,
    pub max_height: u32,
    pub max_pixels: u64,
    pub max_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits { max_width: 32768, max_height: 32768, max_pixels: 400_000_000, max_bytes: 4 << 30 }
    }
}

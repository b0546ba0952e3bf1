//! placeholder, replaced by its owner
pub mod reframe;

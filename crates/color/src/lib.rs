//! Colour science for platefarm: RGB primaries and chromatic adaptation, camera log encodings
//! and gamuts under their OpenColorIO ACES studio-config names, ACES working spaces, fused
//! conversions and integer-code decoders. Pure: no IO, no threads.

pub mod aces20;
pub mod cdl;
pub mod curves;
pub mod matrix;
pub mod output;
pub mod pipeline;
pub mod spaces;

pub use cdl::{Cdl, CdlError, CdlLook};
pub use curves::Curve;
pub use matrix::{
    bradford_cat, rgb_to_xyz, Mat3, Primaries, ACES_WHITE_XY, AP0, AP1, D50_XY, D65_XY, REC709,
};
pub use output::{Display, OutputTransform, View};
pub use pipeline::{adaptation_matrix, gamut_matrix, Adaptation, IntegerDecoder, Pipeline};
pub use spaces::{ColorSpace, UnknownColorSpace, COLOR_SPACES};

/// Everything that can go wrong when building a colour conversion; each names what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ColorError {
    #[error(transparent)]
    UnknownSpace(#[from] UnknownColorSpace),
    #[error(transparent)]
    Cdl(#[from] CdlError),
    #[error("integer decoder bit depth {0} is outside the supported range 8..=16")]
    BitDepth(u8),
    #[error("unknown display {display:?} (known: {known})")]
    UnknownDisplay { display: String, known: String },
    #[error("unknown view {view:?} for display {display:?} (known: {known})")]
    UnknownView {
        display: String,
        view: String,
        known: String,
    },
}

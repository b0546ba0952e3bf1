//! Colour science for platefarm: RGB primaries, chromatic adaptation and (later) camera
//! encodings, ACES working spaces, ASC CDL and output transforms. Pure: no IO, no threads.

pub mod matrix;

pub use matrix::{
    bradford_cat, rgb_to_xyz, Mat3, Primaries, ACES_WHITE_XY, AP0, AP1, D50_XY, D65_XY, REC709,
};

//! Open standards that travel with a turnover: ASC FDL (framing) and ACES AMF (colour).
//! Pure: text in, values and text out.

pub mod amf;
pub mod fdl;
pub mod fdl_template;
mod fdl_validate;
pub mod xml;

pub use fdl::{Fdl, FdlError, FdlProblem, Framing, Rect};

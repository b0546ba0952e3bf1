//! Pure imaging for platefarm: decode (DNG/CinemaDNG with our own lossless-JPEG decoder, DPX,
//! OpenEXR), develop camera raw to ACES2065-1, reframe (crop, per-axis scale, canvas), encode
//! (OpenEXR, DPX, PNG previews), and a synthetic camera for tests and demos.
//!
//! Invariants: bytes and arrays in, bytes and arrays out — no files, no network, no async.
//! Parallel loops are rayon iterators that run in the *caller's* pool; this crate never builds
//! one. Untrusted bytes go through `DecodeLimits` and give an `ImagingError`, never a panic.
//! Output bytes do not depend on the number of threads.

mod deflate;
pub mod develop;
pub mod dng;
pub mod dpx;
mod exr_block;
pub mod exr_io;
pub mod exr_write;
mod huffman;
pub mod ljpeg;
mod piz;
pub mod plate;
pub mod preview;
pub mod reframe;
pub mod rows;
pub mod synth;
pub mod tiff_ifd;
pub mod tiff_rgb;
mod wavelet;

pub use develop::{camera_to_aces, develop_to_aces, Demosaic, DevelopOptions};
pub use dng::{decode_dng, read_dng_metadata, CameraMetadata, CfaPattern, RawFrame};
pub use exr_io::{
    decode_exr, decode_exr_layout, encode_exr, ExrCompression, ExrOptions, ExrPixel, ExrPixels,
    FrameHeader,
};
pub use exr_write::{encode_exr_layout, encode_exr_rows, ExrFile, ExrLayout, Window};
pub use plate::{
    decode_to_aces, decode_to_aces_layout, dpx_identity, open_aces, premultiply, render_plate,
    render_proxy, unpremultiply, DpxRows, InputFormat, InputTransform, LayoutImage, OpenedFrame,
    PlateOutput, PlateSpec, ProxyFormat, ProxyImage, ProxySpec,
};
pub use preview::{
    contact_sheet, encode_jpeg, encode_png, encode_png_tagged, preview_rgb8, preview_rgb8_with,
};
pub use reframe::{reframe, Filter, Framing, FramingError, Resampled};
pub use rows::{BufferRows, MapRows, RgbAlphaRows, RowCursor, Rows};
pub use tiff_rgb::{decode_tiff, decode_tiff_rgba, encode_tiff_f32, TiffRgba};

/// What went wrong with an image, grouped by concern.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImagingError {
    /// Malformed or truncated input.
    #[error("{what}")]
    Format { what: String },
    /// Valid input we do not handle.
    #[error("unsupported: {what}")]
    Unsupported { what: String },
    /// Input beyond the decode limits.
    #[error("over the decode limits: {what}")]
    Limits { what: String },
    #[error("encoding failed: {what}")]
    Encode { what: String },
    #[error("framing: {0}")]
    Framing(#[from] FramingError),
    #[error("DPX: {0}")]
    Dpx(#[from] dpx::DpxError),
}

/// Bounds on what a decoder accepts from untrusted bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_width: u32,
    pub max_height: u32,
    pub max_pixels: u64,
    pub max_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_width: 32768,
            max_height: 32768,
            max_pixels: 400_000_000,
            max_bytes: 4 << 30,
        }
    }
}

/// An interleaved RGB float image (scene-linear ACES2065-1 unless said otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub data: Vec<f32>,
}

/// Everything a worker needs to turn one raw frame into one plate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderSpec {
    pub limits: DecodeLimits,
    pub develop: DevelopOptions,
    pub exr: ExrOptions,
    pub frame: u32,
    pub fdl_json: Option<String>,
    pub amf_uuid: Option<String>,
    /// Reframing after develop (from the shot's FDL); `None` keeps the developed image.
    pub framing: Option<Framing>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RenderedFrame {
    pub exr: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub metadata: CameraMetadata,
}

/// DNG → develop → (reframe) → OpenEXR, with the camera metadata in the header.
pub fn render_dng_to_exr(bytes: &[u8], spec: &RenderSpec) -> Result<RenderedFrame, ImagingError> {
    let raw = decode_dng(bytes, &spec.limits)?;
    let img = develop_to_aces(&raw, &spec.develop)?;
    let mut rows: Box<dyn Rows> = Box::new(BufferRows::new(img.data, img.width, img.height, 3));
    if let Some(f) = &spec.framing {
        rows = Box::new(Resampled::new(rows, f)?);
    }
    let (width, height) = (rows.width() as u32, rows.height() as u32);
    let m = &raw.metadata;
    let header = FrameHeader {
        frame: spec.frame,
        timecode: m.timecode.clone(),
        frame_rate: m.frame_rate,
        reel_name: m.reel_name.clone(),
        camera_make: m.make.clone(),
        camera_model: m.model.clone(),
        camera_serial: m.serial.clone(),
        lens: m.lens.clone(),
        iso: m.iso,
        fdl_json: spec.fdl_json.clone(),
        amf_uuid: spec.amf_uuid.clone(),
        extra: Vec::new(),
    };
    let layout = ExrLayout::plain(width, height);
    let exr = encode_exr_rows(rows.as_ref(), &layout, &spec.exr, &header)?.into_bytes();
    Ok(RenderedFrame {
        exr,
        width,
        height,
        metadata: raw.metadata,
    })
}

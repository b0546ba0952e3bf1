//! The render step behind a trait, so the worker's queue logic does not care which imaging
//! pipeline runs. `ImagingRenderer` is the real one (platefarm-imaging).

use platefarm_core::{ChunkMessage, Compression, PixelType};
use std::fmt;
use std::sync::Arc;

/// Why a frame or a chunk's sidecars could not be rendered (permanent: bad input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderFailure(pub String);

impl fmt::Display for RenderFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What every frame of a chunk shares, prepared once per chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkContext {
    pub shot: String,
    pub compression: Compression,
    pub pixel: PixelType,
    /// The shot's FDL, embedded in the EXR header as `ascFramingDecisionList`.
    pub fdl_json: Option<String>,
    /// The AMF's identity, embedded in the EXR header.
    pub amf_uuid: Option<String>,
    /// Reframing from the shot's FDL canvas template, if one was selected.
    pub framing: Option<platefarm_imaging::Framing>,
}

#[derive(Debug, Clone)]
pub struct FrameJob {
    pub frame: u32,
    pub context: Arc<ChunkContext>,
}

pub trait Renderer: Send + Sync + 'static {
    /// Reads the chunk's sidecars once; a bad FDL or AMF fails the chunk with its reason.
    fn prepare(
        &self,
        msg: &ChunkMessage,
        fdl: Option<&[u8]>,
        amf: Option<&[u8]>,
    ) -> Result<Arc<ChunkContext>, RenderFailure>;
    /// Renders one input frame to output bytes. Runs on the worker's rayon pool.
    fn render(&self, input: &[u8], job: &FrameJob) -> Result<Vec<u8>, RenderFailure>;
}

/// Camera raw (DNG) → ACES2065-1 OpenEXR with platefarm-imaging.
#[derive(Debug, Clone, Default)]
pub struct ImagingRenderer {
    pub limits: platefarm_imaging::DecodeLimits,
}

impl Renderer for ImagingRenderer {
    fn prepare(
        &self,
        msg: &ChunkMessage,
        fdl: Option<&[u8]>,
        amf: Option<&[u8]>,
    ) -> Result<Arc<ChunkContext>, RenderFailure> {
        let text = |bytes: &[u8], what: &str, path: &Option<String>| {
            std::str::from_utf8(bytes).map(str::to_string).map_err(|_| {
                RenderFailure(format!(
                    "{what} {:?} is not UTF-8 text",
                    path.as_deref().unwrap_or("")
                ))
            })
        };
        let mut framing = None;
        let fdl_json = match fdl {
            None => None,
            Some(bytes) => {
                let t = text(bytes, "FDL", &msg.fdl_path)?;
                let fdl_name = msg.fdl_path.as_deref().unwrap_or("");
                let doc = platefarm_standards::Fdl::parse(&t)
                    .map_err(|e| RenderFailure(format!("FDL {fdl_name:?}: {e}")))?;
                if let Some(template) = msg.fdl.canvas_template.as_deref() {
                    let sel = &msg.fdl;
                    let result = platefarm_standards::fdl_template::apply_template(
                        &doc,
                        sel.context.as_deref(),
                        sel.canvas.as_deref(),
                        sel.framing_decision.as_deref(),
                        &doc,
                        Some(template),
                    )
                    .map_err(|e| {
                        RenderFailure(format!(
                            "FDL {fdl_name:?} canvas template {template:?}: {e}"
                        ))
                    })?;
                    let (source, scale, canvas, translation) = result.render_mapping();
                    framing = Some(platefarm_imaging::Framing {
                        source,
                        scale,
                        canvas,
                        translation,
                        filter: platefarm_imaging::Filter::Lanczos3,
                    });
                }
                // Compact JSON for the EXR header attribute.
                Some(doc.value.to_string())
            }
        };
        let amf_uuid = match amf {
            None => None,
            Some(bytes) => {
                let t = text(bytes, "AMF", &msg.amf_path)?;
                let amf = platefarm_standards::amf::Amf::parse(&t).map_err(|e| {
                    RenderFailure(format!(
                        "AMF {:?}: {e}",
                        msg.amf_path.as_deref().unwrap_or("")
                    ))
                })?;
                Some(amf.uuid)
            }
        };
        Ok(Arc::new(ChunkContext {
            shot: msg.shot.clone(),
            compression: msg.output.compression,
            pixel: msg.output.pixel,
            fdl_json,
            amf_uuid,
            framing,
        }))
    }

    fn render(&self, input: &[u8], job: &FrameJob) -> Result<Vec<u8>, RenderFailure> {
        use platefarm_imaging as im;
        let ctx = &job.context;
        let spec = im::RenderSpec {
            limits: self.limits.clone(),
            exr: im::ExrOptions {
                compression: match ctx.compression {
                    Compression::Piz => im::ExrCompression::Piz,
                    Compression::Zip => im::ExrCompression::Zip,
                    Compression::Zips => im::ExrCompression::Zips,
                    Compression::None => im::ExrCompression::None,
                },
                pixel: match ctx.pixel {
                    PixelType::Half => im::ExrPixel::Half,
                    PixelType::Float => im::ExrPixel::Float,
                },
            },
            frame: job.frame,
            fdl_json: ctx.fdl_json.clone(),
            amf_uuid: ctx.amf_uuid.clone(),
            framing: ctx.framing,
            ..Default::default()
        };
        im::render_dng_to_exr(input, &spec)
            .map(|r| r.exr)
            .map_err(|e| RenderFailure(e.to_string()))
    }
}

//! The render step behind a trait, so the worker's queue logic does not care which imaging
//! pipeline runs. `ImagingRenderer` is the real one: any input platefarm-imaging decodes
//! (camera raw, DPX, OpenEXR, TIFF) → ACES2065-1 plate, and the shot's review proxy.

use platefarm_color::{Cdl, CdlLook, OutputTransform};
use platefarm_core::{
    resolve_input_space, AmfInput, ChunkMessage, Compression, InputKind, InputSpaceError,
    PixelType, ProxyFormat,
};
use platefarm_imaging as im;
use platefarm_standards::amf::{Amf, Look};
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

/// What every frame of a chunk shares, prepared once per chunk: the colour pipelines sample
/// their curves into tables, so they are built here and not per frame.
#[derive(Debug, Clone)]
pub struct ChunkContext {
    pub shot: String,
    /// Input colour space, framing, EXR options, header metadata, proxy look and transform.
    pub plate: im::PlateSpec,
    /// Name of the input colour space the frames are decoded from (`None`: camera raw).
    pub input_colorspace: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FrameJob {
    pub frame: u32,
    pub context: Arc<ChunkContext>,
}

/// A review proxy's bytes and format (which names its key's extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyBytes {
    pub format: ProxyFormat,
    pub bytes: Vec<u8>,
}

/// One rendered frame: the plate and, when the shot asks for one, its proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFrame {
    pub plate: Vec<u8>,
    pub proxy: Option<ProxyBytes>,
}

pub trait Renderer: Send + Sync + 'static {
    /// Reads the chunk's sidecars once; a bad FDL or AMF fails the chunk with its reason.
    fn prepare(
        &self,
        msg: &ChunkMessage,
        fdl: Option<&[u8]>,
        amf: Option<&[u8]>,
    ) -> Result<Arc<ChunkContext>, RenderFailure>;
    /// Renders one input frame. Runs on the worker's rayon pool.
    fn render(&self, input: &[u8], job: &FrameJob) -> Result<RenderedFrame, RenderFailure>;
}

/// Any decodable input → ACES2065-1 OpenEXR (+ proxy) with platefarm-imaging.
#[derive(Debug, Clone, Default)]
pub struct ImagingRenderer {
    pub limits: im::DecodeLimits,
}

fn text(bytes: &[u8], what: &str, path: &Option<String>) -> Result<String, RenderFailure> {
    std::str::from_utf8(bytes).map(str::to_string).map_err(|_| {
        RenderFailure(format!(
            "{what} {:?} is not UTF-8 text",
            path.as_deref().unwrap_or("")
        ))
    })
}

/// The shot's FDL: its compact JSON for the EXR header and the canvas template's framing.
fn read_fdl(
    msg: &ChunkMessage,
    bytes: &[u8],
) -> Result<(String, Option<im::Framing>), RenderFailure> {
    let t = text(bytes, "FDL", &msg.fdl_path)?;
    let fdl_name = msg.fdl_path.as_deref().unwrap_or("");
    let doc = platefarm_standards::Fdl::parse(&t)
        .map_err(|e| RenderFailure(format!("FDL {fdl_name:?}: {e}")))?;
    let mut framing = None;
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
        framing = Some(im::Framing {
            source,
            scale,
            canvas,
            translation,
            filter: im::Filter::Lanczos3,
        });
    }
    Ok((doc.value.to_string(), framing))
}

/// The AMF's unapplied CDL looks, in order, for the proxy. A look the proxy cannot apply
/// fails the chunk rather than silently showing the wrong grade.
fn amf_looks(amf: &Amf, amf_name: &str) -> Result<Vec<CdlLook>, RenderFailure> {
    let mut looks = Vec::new();
    for (i, look) in amf.looks.iter().enumerate() {
        match look {
            Look::Cdl { applied: true, .. } | Look::Reference { applied: true, .. } => {}
            Look::Cdl {
                cdl, working_space, ..
            } => {
                // CdlLook grades in ACEScct, the working space AMF assumes when none is given.
                if let Some(ws) = working_space.as_deref().filter(|w| !w.contains("ACEScct")) {
                    return Err(RenderFailure(format!(
                        "AMF {amf_name:?} look {}: CDL working space {ws:?} is not supported for proxies (ACEScct)",
                        i + 1
                    )));
                }
                let look = CdlLook::new(Cdl {
                    slope: cdl.slope,
                    offset: cdl.offset,
                    power: cdl.power,
                    saturation: cdl.saturation,
                })
                .map_err(|e| RenderFailure(format!("AMF {amf_name:?} look {}: {e}", i + 1)))?;
                looks.push(look);
            }
            Look::Reference { id, .. } => {
                return Err(RenderFailure(format!(
                    "AMF {amf_name:?} look {} ({id:?}) cannot be applied to a proxy: only ASC CDL looks can",
                    i + 1
                )))
            }
        }
    }
    Ok(looks)
}

impl Renderer for ImagingRenderer {
    fn prepare(
        &self,
        msg: &ChunkMessage,
        fdl: Option<&[u8]>,
        amf: Option<&[u8]>,
    ) -> Result<Arc<ChunkContext>, RenderFailure> {
        let (fdl_json, framing) = match fdl {
            None => (None, None),
            Some(bytes) => {
                let (json, framing) = read_fdl(msg, bytes)?;
                (Some(json), framing)
            }
        };
        let amf_name = msg.amf_path.as_deref().unwrap_or("");
        let amf = amf
            .map(|bytes| {
                let t = text(bytes, "AMF", &msg.amf_path)?;
                Amf::parse(&t).map_err(|e| RenderFailure(format!("AMF {amf_name:?}: {e}")))
            })
            .transpose()?;
        let amf_input = match amf.as_ref().and_then(|a| a.input_transform.as_ref()) {
            None => None,
            Some((id, applied)) => match platefarm_standards::amf::lookup(id) {
                Some(("input", space)) => Some(AmfInput {
                    id: id.clone(),
                    space,
                    applied: *applied,
                }),
                // Camera raw never reads it; other input fails below if it has no colour space.
                _ => None,
            },
        };
        let format_hint = im::InputFormat::from_path(&msg.input_pattern);
        // An extension the farm does not know (validation refuses those) leaves the format to
        // the bytes: a colour space is then used if one was given.
        let kind = InputKind::from_path(&msg.input_pattern).unwrap_or(InputKind::Encoded("input"));
        let input_space =
            match resolve_input_space(kind, msg.input_colorspace.as_deref(), amf_input.as_ref()) {
                Ok(space) => space,
                Err(InputSpaceError::Missing { .. }) if format_hint.is_none() => None,
                Err(e) => return Err(RenderFailure(e.to_string())),
            };
        let proxy = match &msg.proxy {
            None => None,
            Some(p) => {
                let output = OutputTransform::from_names(&p.display, &p.view).ok_or_else(|| {
                    RenderFailure(format!(
                        "proxy display/view {:?} / {:?} is not supported",
                        p.display, p.view
                    ))
                })?;
                let looks = match &amf {
                    Some(a) => amf_looks(a, amf_name)?,
                    None => Vec::new(),
                };
                Some(im::ProxySpec {
                    format: match p.format {
                        ProxyFormat::Jpeg => im::ProxyFormat::Jpeg,
                        ProxyFormat::Png => im::ProxyFormat::Png,
                    },
                    output,
                    looks,
                    quality: p.quality.clamp(1, 100),
                    max_width: p.max_width,
                })
            }
        };
        let plate = im::PlateSpec {
            limits: self.limits.clone(),
            format_hint,
            develop: im::DevelopOptions::default(),
            input: input_space.map(im::InputTransform::new),
            framing,
            exr: im::ExrOptions {
                compression: match msg.output.compression {
                    Compression::Piz => im::ExrCompression::Piz,
                    Compression::Zip => im::ExrCompression::Zip,
                    Compression::Zips => im::ExrCompression::Zips,
                    Compression::None => im::ExrCompression::None,
                },
                pixel: match msg.output.pixel {
                    PixelType::Half => im::ExrPixel::Half,
                    PixelType::Float => im::ExrPixel::Float,
                },
            },
            fdl_json,
            amf_uuid: amf.map(|a| a.uuid),
            proxy,
            // Plates read single-part EXRs; a multi-part input fails naming its parts.
            exr_part: None,
        };
        Ok(Arc::new(ChunkContext {
            shot: msg.shot.clone(),
            plate,
            input_colorspace: input_space.map(|s| s.name.to_string()),
        }))
    }

    fn render(&self, input: &[u8], job: &FrameJob) -> Result<RenderedFrame, RenderFailure> {
        let out = im::render_plate(input, job.frame, &job.context.plate)
            .map_err(|e| RenderFailure(e.to_string()))?;
        let proxy = out.proxy.map(|p| ProxyBytes {
            format: match p.format {
                im::ProxyFormat::Jpeg => ProxyFormat::Jpeg,
                im::ProxyFormat::Png => ProxyFormat::Png,
            },
            bytes: p.bytes,
        });
        Ok(RenderedFrame {
            plate: out.exr,
            proxy,
        })
    }
}

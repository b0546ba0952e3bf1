//! ACES Metadata File (AMF 1.0 and 2.0): parse, check the structure the XSD requires (with
//! element paths), resolve transform IDs through the ACES transform registry to the colour
//! spaces platefarm renders with, and write the AMF of a delivered shot.

use crate::xml::{parse_xml, Element};
use std::fmt;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AmfError {
    #[error("AMF is not well-formed XML: {0}")]
    Xml(String),
    #[error("AMF is invalid: {}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("AMF transform {id:?} ({what}) is not supported by platefarm{hint}")]
    Unsupported {
        id: String,
        what: &'static str,
        hint: String,
    },
}

/// ASC CDL values of a look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CdlValues {
    pub slope: [f64; 3],
    pub offset: [f64; 3],
    pub power: [f64; 3],
    pub saturation: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Look {
    /// A CDL in a working space (the colour space the look's working-space transform names).
    Cdl {
        cdl: CdlValues,
        working_space: Option<String>,
        applied: bool,
    },
    /// A look by transform id or file reference.
    Reference { id: String, applied: bool },
}

/// A parsed AMF.
#[derive(Debug, Clone, PartialEq)]
pub struct Amf {
    pub version: String,
    pub uuid: String,
    pub description: Option<String>,
    pub clip_name: Option<String>,
    pub input_transform: Option<(String, bool)>,
    pub looks: Vec<Look>,
    pub output_transform: Option<(String, bool)>,
    pub archived_pipelines: usize,
    /// Transform ids that are not well-formed URNs but that the registry knows.
    pub warnings: Vec<String>,
}

/// What platefarm will do with an AMF.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResolvedPipeline {
    /// OCIO studio-config name of the camera encoding (None: no input transform, e.g. raw).
    pub input: Option<String>,
    pub input_applied: bool,
    pub looks: Vec<String>,
    /// Registry name of the output transform, for review proxies.
    pub output: Option<String>,
}

const REGISTRY: &str = include_str!("../data/aces_transforms.tsv");

/// ACES 1.x IDT names the registry does not list as previous equivalents.
const LEGACY_IDTS: &[(&str, &str)] = &[
    ("IDT.ARRI.Alexa-v3-logC-EI800", "ARRI LogC3 (EI800)"),
    ("IDT.ARRI.ARRI-LogC4", "ARRI LogC4"),
    ("IDT.Sony.SLog3_SGamut3", "S-Log3 S-Gamut3"),
    ("IDT.Sony.SLog3_SGamut3Cine", "S-Log3 S-Gamut3.Cine"),
    (
        "IDT.Sony.Venice_SLog3_SGamut3Cine",
        "S-Log3 Venice S-Gamut3.Cine",
    ),
    ("IDT.Panasonic.VLog_VGamut", "V-Log V-Gamut"),
    ("IDT.RED.Log3G10_REDWideGamutRGB", "Log3G10 REDWideGamutRGB"),
];

/// Looks a transform id up: (kind, resolved name).
pub fn lookup(id: &str) -> Option<(&'static str, String)> {
    let bare = id.rsplit(':').next().unwrap_or(id);
    for line in REGISTRY.lines().filter(|l| !l.starts_with('#')) {
        let mut f = line.split('\t');
        let (Some(k), Some(kind), Some(target)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let k_bare = k.rsplit(':').next().unwrap_or(k);
        if k == id || k_bare == bare {
            let kind = match kind {
                "input" => "input",
                "output" => "output",
                _ => "look",
            };
            return Some((kind, target.to_string()));
        }
    }
    let stem = bare.rsplit_once(".a1").map(|(s, _)| s).unwrap_or(bare);
    LEGACY_IDTS
        .iter()
        .find(|(k, _)| *k == stem)
        .map(|(_, v)| ("input", v.to_string()))
}

fn well_formed_id(id: &str) -> bool {
    id.starts_with("urn:ampas:aces:transformId:v") && id.split(':').count() == 6
}

fn triple(el: &Element, name: &str, path: &str, problems: &mut Vec<String>) -> [f64; 3] {
    let Some(t) = el.text_of(name) else {
        problems.push(format!("{path}/{name}: missing"));
        return [0.0; 3];
    };
    let v: Vec<f64> = t
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() != 3 {
        problems.push(format!("{path}/{name}: {t:?} is not three numbers"));
        return [0.0; 3];
    }
    [v[0], v[1], v[2]]
}

fn applied(el: &Element) -> bool {
    el.attr("applied")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

fn transform_id(el: &Element) -> Option<String> {
    el.text_of("transformId")
}

impl Amf {
    pub fn parse(text: &str) -> Result<Amf, AmfError> {
        let root = parse_xml(text).map_err(AmfError::Xml)?;
        let mut problems = Vec::new();
        if root.name != "acesMetadataFile" {
            return Err(AmfError::Invalid(vec![format!(
                "root element is <{}>, expected <acesMetadataFile>",
                root.name
            )]));
        }
        let version = root.attr("version").unwrap_or("1.0").to_string();
        if !matches!(version.as_str(), "1.0" | "2.0") {
            problems.push(format!(
                "/acesMetadataFile@version: {version:?} is not 1.0 or 2.0"
            ));
        }
        let info = root.child("amfInfo");
        if info.is_none() {
            problems.push("/acesMetadataFile/amfInfo: missing".into());
        }
        let uuid = info.and_then(|i| i.text_of("uuid")).unwrap_or_default();
        if info.is_some() {
            let bare = uuid.strip_prefix("urn:uuid:").unwrap_or(&uuid);
            let ok = bare.len() == 36
                && bare.split('-').map(str::len).eq([8, 4, 4, 4, 12])
                && bare.replace('-', "").bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                problems.push(format!(
                    "/acesMetadataFile/amfInfo/uuid: {uuid:?} is not a urn:uuid"
                ));
            }
        }
        let pipeline = root.child("pipeline");
        let mut amf = Amf {
            version,
            uuid,
            description: info.and_then(|i| i.text_of("description")),
            clip_name: root.child("clipId").and_then(|c| c.text_of("clipName")),
            input_transform: None,
            looks: Vec::new(),
            output_transform: None,
            archived_pipelines: root.all("archivedPipeline").count(),
            warnings: Vec::new(),
        };
        match pipeline {
            None => problems.push("/acesMetadataFile/pipeline: missing".into()),
            Some(p) => {
                if p.child("pipelineInfo").is_none() {
                    problems.push("/acesMetadataFile/pipeline/pipelineInfo: missing".into());
                }
                if let Some(it) = p.child("inputTransform") {
                    let id = transform_id(it)
                        .or_else(|| it.child("inverseOutputTransform").and_then(transform_id))
                        .or_else(|| {
                            it.child("inverseOutputDeviceTransform")
                                .and_then(transform_id)
                        });
                    match id {
                        Some(id) => amf.input_transform = Some((id, applied(it))),
                        None => problems.push(
                            "/acesMetadataFile/pipeline/inputTransform: no transformId".into(),
                        ),
                    }
                }
                for (i, lt) in p.all("lookTransform").enumerate() {
                    let path = format!("/acesMetadataFile/pipeline/lookTransform[{}]", i + 1);
                    // AMF 2.0 writes SOPNode/SatNode, AMF 1.0 ASC_SOP/ASC_SAT.
                    let cc = lt.child("ColorCorrection");
                    let sop = ["SOPNode", "ASC_SOP"]
                        .iter()
                        .find_map(|n| lt.child(n).or_else(|| cc.and_then(|c| c.child(n))));
                    if let Some(sop) = sop {
                        let slope = triple(sop, "Slope", &format!("{path}/SOPNode"), &mut problems);
                        let offset =
                            triple(sop, "Offset", &format!("{path}/SOPNode"), &mut problems);
                        let power = triple(sop, "Power", &format!("{path}/SOPNode"), &mut problems);
                        let sat_node = ["SatNode", "ASC_SAT"]
                            .iter()
                            .find_map(|n| lt.child(n).or_else(|| cc.and_then(|c| c.child(n))));
                        let saturation = match sat_node.and_then(|s| s.text_of("Saturation")) {
                            None => 1.0,
                            Some(t) => t.trim().parse().unwrap_or_else(|_| {
                                problems.push(format!(
                                    "{path}/SatNode/Saturation: {t:?} is not a number"
                                ));
                                1.0
                            }),
                        };
                        let ws = lt.child("cdlWorkingSpace");
                        let working_space = ws
                            .and_then(|w| w.child("toCdlWorkingSpace"))
                            .and_then(transform_id)
                            .or_else(|| {
                                ws.and_then(|w| w.child("fromCdlWorkingSpace"))
                                    .and_then(transform_id)
                            });
                        amf.looks.push(Look::Cdl {
                            cdl: CdlValues {
                                slope,
                                offset,
                                power,
                                saturation,
                            },
                            working_space,
                            applied: applied(lt),
                        });
                    } else if let Some(id) = transform_id(lt).or_else(|| lt.text_of("file")) {
                        amf.looks.push(Look::Reference {
                            id,
                            applied: applied(lt),
                        });
                    } else {
                        problems.push(format!("{path}: neither a CDL, a transformId nor a file"));
                    }
                }
                if let Some(ot) = p.child("outputTransform") {
                    let id = transform_id(ot)
                        .or_else(|| ot.child("outputDeviceTransform").and_then(transform_id));
                    match id {
                        Some(id) => amf.output_transform = Some((id, applied(ot))),
                        None => problems.push(
                            "/acesMetadataFile/pipeline/outputTransform: no transformId".into(),
                        ),
                    }
                }
            }
        }
        for id in amf
            .input_transform
            .iter()
            .map(|t| &t.0)
            .chain(amf.output_transform.iter().map(|t| &t.0))
        {
            if !well_formed_id(id) {
                if lookup(id).is_some() {
                    amf.warnings.push(format!("transform id {id:?} is not a urn:ampas:aces:transformId URN (the registry knows it)"));
                } else {
                    problems.push(format!(
                        "transform id {id:?} is neither a transformId URN nor in the ACES registry"
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(amf)
        } else {
            Err(AmfError::Invalid(problems))
        }
    }

    /// The pipeline platefarm renders: input transform to an OCIO colour space, looks, output.
    pub fn resolve(&self) -> Result<ResolvedPipeline, AmfError> {
        let unsupported = |id: &str, what: &'static str, hint: &str| AmfError::Unsupported {
            id: id.to_string(),
            what,
            hint: hint.to_string(),
        };
        let input = match &self.input_transform {
            None => None,
            Some((id, _)) => match lookup(id) {
                Some(("input", space)) => Some(space),
                Some((kind, name)) => {
                    return Err(unsupported(
                        id,
                        "input transform",
                        &format!(" (the registry lists it as a {kind} transform: {name})"),
                    ))
                }
                None => {
                    return Err(unsupported(
                        id,
                        "input transform",
                        " (not in the ACES transform registry)",
                    ))
                }
            },
        };
        let mut looks = Vec::new();
        for l in &self.looks {
            looks.push(match l {
                Look::Cdl {
                    cdl, working_space, ..
                } => {
                    let ws = working_space
                        .as_deref()
                        .map(|w| lookup(w).map(|(_, n)| n).unwrap_or_else(|| w.to_string()))
                        .unwrap_or_else(|| "ACEScct".into());
                    format!(
                        "CDL in {ws}: slope {:?} offset {:?} power {:?} saturation {}",
                        cdl.slope, cdl.offset, cdl.power, cdl.saturation
                    )
                }
                Look::Reference { id, .. } => match lookup(id) {
                    Some((_, name)) => name,
                    None => {
                        return Err(unsupported(
                            id,
                            "look",
                            " (not in the ACES transform registry)",
                        ))
                    }
                },
            });
        }
        let output = match &self.output_transform {
            None => None,
            Some((id, _)) => match lookup(id) {
                Some(("output", name)) => Some(name),
                _ => {
                    return Err(unsupported(
                        id,
                        "output transform",
                        " (not in the ACES transform registry)",
                    ))
                }
            },
        };
        Ok(ResolvedPipeline {
            input,
            input_applied: self.input_transform.as_ref().map(|t| t.1).unwrap_or(false),
            looks,
            output,
        })
    }
}

impl fmt::Display for ResolvedPipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "input:  {}",
            self.input
                .as_deref()
                .unwrap_or("(none: camera raw or already ACES)")
        )?;
        for l in &self.looks {
            writeln!(f, "look:   {l}")?;
        }
        write!(f, "output: {}", self.output.as_deref().unwrap_or("(none)"))
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The AMF of a delivered shot: the source's input transform marked applied (plates are
/// ACES2065-1), its looks and output transform carried over unapplied, a fresh identity.
/// `uuid` is `urn:uuid:…` or a bare UUID; `now` is an ISO 8601 date-time.
pub fn write_delivery_amf(source: &Amf, uuid: &str, clip_name: &str, now: &str) -> String {
    let uuid = if uuid.starts_with("urn:uuid:") {
        uuid.to_string()
    } else {
        format!("urn:uuid:{uuid}")
    };
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<aces:acesMetadataFile xmlns:aces=\"urn:ampas:aces:amf:v2.0\" xmlns:cdl=\"urn:ASC:CDL:v1.01\" version=\"2.0\">\n");
    x.push_str(&format!(
        "    <aces:amfInfo>\n        <aces:description>platefarm delivery of {clip}</aces:description>\n        <aces:author>\n            <aces:name>platefarm</aces:name>\n            <aces:emailAddress>platefarm@localhost</aces:emailAddress>\n        </aces:author>\n        <aces:dateTime>\n            <aces:creationDateTime>{now}</aces:creationDateTime>\n            <aces:modificationDateTime>{now}</aces:modificationDateTime>\n        </aces:dateTime>\n        <aces:uuid>{uuid}</aces:uuid>\n    </aces:amfInfo>\n    <aces:clipId>\n        <aces:clipName>{clip}</aces:clipName>\n    </aces:clipId>\n",
        clip = xml_escape(clip_name)
    ));
    x.push_str(&format!(
        "    <aces:pipeline>\n        <aces:pipelineInfo>\n            <aces:dateTime>\n                <aces:creationDateTime>{now}</aces:creationDateTime>\n                <aces:modificationDateTime>{now}</aces:modificationDateTime>\n            </aces:dateTime>\n            <aces:uuid>{uuid}</aces:uuid>\n            <aces:systemVersion>\n                <aces:majorVersion>2</aces:majorVersion>\n                <aces:minorVersion>0</aces:minorVersion>\n                <aces:patchVersion>0</aces:patchVersion>\n            </aces:systemVersion>\n        </aces:pipelineInfo>\n"
    ));
    if let Some((id, _)) = &source.input_transform {
        x.push_str(&format!("        <aces:inputTransform applied=\"true\">\n            <aces:transformId>{}</aces:transformId>\n        </aces:inputTransform>\n", xml_escape(id)));
    }
    for look in &source.looks {
        match look {
            Look::Cdl {
                cdl, working_space, ..
            } => {
                let fmt3 = |v: [f64; 3]| format!("{} {} {}", v[0], v[1], v[2]);
                x.push_str("        <aces:lookTransform applied=\"false\">\n");
                if let Some(ws) = working_space {
                    x.push_str(&format!("            <aces:cdlWorkingSpace>\n                <aces:toCdlWorkingSpace>\n                    <aces:transformId>{}</aces:transformId>\n                </aces:toCdlWorkingSpace>\n            </aces:cdlWorkingSpace>\n", xml_escape(ws)));
                }
                x.push_str(&format!(
                    "            <cdl:SOPNode>\n                <cdl:Slope>{}</cdl:Slope>\n                <cdl:Offset>{}</cdl:Offset>\n                <cdl:Power>{}</cdl:Power>\n            </cdl:SOPNode>\n            <cdl:SatNode>\n                <cdl:Saturation>{}</cdl:Saturation>\n            </cdl:SatNode>\n        </aces:lookTransform>\n",
                    fmt3(cdl.slope),
                    fmt3(cdl.offset),
                    fmt3(cdl.power),
                    cdl.saturation
                ));
            }
            Look::Reference { id, .. } => {
                x.push_str(&format!("        <aces:lookTransform applied=\"false\">\n            <aces:transformId>{}</aces:transformId>\n        </aces:lookTransform>\n", xml_escape(id)));
            }
        }
    }
    if let Some((id, _)) = &source.output_transform {
        x.push_str(&format!("        <aces:outputTransform applied=\"false\">\n            <aces:transformId>{}</aces:transformId>\n        </aces:outputTransform>\n", xml_escape(id)));
    }
    x.push_str("    </aces:pipeline>\n</aces:acesMetadataFile>\n");
    x
}

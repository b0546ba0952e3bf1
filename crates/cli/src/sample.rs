//! `platefarm sample DIR`: a realistic camera turnover made offline — two CinemaDNG clips of a
//! colour chart with a moving element (one uncompressed 16-bit, one lossless-JPEG 12-bit), an
//! AMF and an FDL per clip, and a two-shot `turnover.json` that references them.

use anyhow::Context;
use platefarm_imaging::synth::{sample_frame_dng, SampleCompression, SampleSpec};
use rayon::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// One synthetic camera clip.
#[derive(Debug, Clone)]
pub struct SampleClip {
    pub name: &'static str,
    pub shot: &'static str,
    pub reel: &'static str,
    pub spec: SampleSpec,
    /// First frame number (= start timecode in frames at 24 fps).
    pub first_frame: u32,
}

impl SampleClip {
    pub fn folder(&self) -> String {
        format!("clips/{}", self.name)
    }
    pub fn pattern(&self) -> String {
        format!("clips/{0}/{0}.%07d.dng", self.name)
    }
    pub fn frame_key(&self, frame: u32) -> String {
        format!("clips/{0}/{0}.{frame:07}.dng", self.name)
    }
}

fn timecode(frame: u32, fps: u32) -> String {
    let (h, m, s, f) = (
        frame / (3600 * fps),
        frame / (60 * fps) % 60,
        frame / fps % 60,
        frame % fps,
    );
    format!("{h:02}:{m:02}:{s:02}:{f:02}")
}

/// The sample's two clips, `n_frames` each.
pub fn sample_clips(n_frames: u32) -> Vec<SampleClip> {
    let make = |name, shot, reel, first_frame: u32, bit_depth, compression| SampleClip {
        name,
        shot,
        reel,
        first_frame,
        spec: SampleSpec {
            n_frames,
            bit_depth,
            compression,
            reel_name: reel.to_string(),
            start_timecode: timecode(first_frame, 24),
            ..SampleSpec::default()
        },
    };
    vec![
        make(
            "A001C003_230512_R1AB",
            "SH010",
            "A001",
            86_400,
            16,
            SampleCompression::Uncompressed,
        ),
        make(
            "B002C011_230513_R2CD",
            "SH020",
            "B002",
            172_800,
            12,
            SampleCompression::LosslessJpeg,
        ),
    ]
}

fn amf(clip: &SampleClip, uuid: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<aces:acesMetadataFile xmlns:aces="urn:ampas:aces:amf:v2.0" xmlns:cdl="urn:ASC:CDL:v1.01" version="2.0">
    <aces:amfInfo>
        <aces:description>platefarm sample: {name}</aces:description>
        <aces:author>
            <aces:name>platefarm sample</aces:name>
            <aces:emailAddress>dit@example.com</aces:emailAddress>
        </aces:author>
        <aces:dateTime>
            <aces:creationDateTime>2026-11-25T09:00:00Z</aces:creationDateTime>
            <aces:modificationDateTime>2026-11-25T09:00:00Z</aces:modificationDateTime>
        </aces:dateTime>
        <aces:uuid>urn:uuid:{uuid}</aces:uuid>
    </aces:amfInfo>
    <aces:clipId>
        <aces:clipName>{name}</aces:clipName>
        <aces:sequence idx="{hashes}" min="{first}" max="{last}">{name}.{hashes}.dng</aces:sequence>
    </aces:clipId>
    <aces:pipeline>
        <aces:pipelineInfo>
            <aces:dateTime>
                <aces:creationDateTime>2026-11-25T09:00:00Z</aces:creationDateTime>
                <aces:modificationDateTime>2026-11-25T09:00:00Z</aces:modificationDateTime>
            </aces:dateTime>
            <aces:uuid>urn:uuid:{uuid}</aces:uuid>
            <aces:systemVersion>
                <aces:majorVersion>1</aces:majorVersion>
                <aces:minorVersion>3</aces:minorVersion>
                <aces:patchVersion>0</aces:patchVersion>
            </aces:systemVersion>
        </aces:pipelineInfo>
        <aces:lookTransform applied="false">
            <aces:description>on-set grade</aces:description>
            <aces:cdlWorkingSpace>
                <aces:toCdlWorkingSpace>
                    <aces:transformId>urn:ampas:aces:transformId:v1.5:ACEScsc.Academy.ACES_to_ACEScct.a1.0.3</aces:transformId>
                </aces:toCdlWorkingSpace>
                <aces:fromCdlWorkingSpace>
                    <aces:transformId>urn:ampas:aces:transformId:v1.5:ACEScsc.Academy.ACEScct_to_ACES.a1.0.3</aces:transformId>
                </aces:fromCdlWorkingSpace>
            </aces:cdlWorkingSpace>
            <cdl:SOPNode>
                <cdl:Slope>1.05 1.0 0.96</cdl:Slope>
                <cdl:Offset>0.0 0.0 0.01</cdl:Offset>
                <cdl:Power>1.0 1.0 1.0</cdl:Power>
            </cdl:SOPNode>
            <cdl:SatNode>
                <cdl:Saturation>0.95</cdl:Saturation>
            </cdl:SatNode>
        </aces:lookTransform>
        <aces:outputTransform applied="false">
            <aces:description>ACES 1.0 - SDR Video, Rec.709</aces:description>
            <aces:transformId>urn:ampas:aces:transformId:v1.5:ODT.Academy.Rec709_100nits_dim.a1.0.3</aces:transformId>
        </aces:outputTransform>
    </aces:pipeline>
</aces:acesMetadataFile>
"#,
        name = clip.name,
        hashes = "#######",
        first = clip.first_frame,
        last = clip.first_frame + clip.spec.n_frames - 1,
    )
}

/// An FDL for the clip's developed image: a 2:1 (≈ 2.00) framing decision centred on the canvas,
/// and a "VFX Pull 1920" canvas template.
fn fdl(clip: &SampleClip, uuid: &str, width: u32, height: u32) -> serde_json::Value {
    let fd_h = (width / 2).min(height) as f64;
    json!({
        "uuid": uuid,
        "version": {"major": 2, "minor": 0},
        "fdl_creator": "platefarm sample",
        "default_framing_intent": "FI1",
        "framing_intents": [{"label": "2:1", "id": "FI1", "aspect_ratio": {"width": 2, "height": 1}, "protection": 0.0}],
        "contexts": [{
            "label": "platefarm Synthetic S35",
            "context_creator": "platefarm sample",
            "canvases": [{
                "label": format!("{} developed", clip.name),
                "id": "C001",
                "source_canvas_id": "C001",
                "dimensions": {"width": width, "height": height},
                "anamorphic_squeeze": 1.0,
                "framing_decisions": [{
                    "label": "2:1",
                    "id": "C001-FI1",
                    "framing_intent_id": "FI1",
                    "dimensions": {"width": width as f64, "height": fd_h},
                    "anchor_point": {"x": 0.0, "y": ((height as f64 - fd_h) / 2.0).floor()}
                }]
            }]
        }],
        "canvas_templates": [{
            "label": "VFX Pull 1920",
            "id": "VFX1920",
            "target_dimensions": {"width": 1920, "height": 960},
            "target_anamorphic_squeeze": 1.0,
            "fit_source": "framing_decision.dimensions",
            "fit_method": "width",
            "alignment_method_vertical": "center",
            "alignment_method_horizontal": "center",
            "round": {"even": "even", "mode": "round"}
        }]
    })
}

/// The two-shot turnover for the sample, with 4-frame handles; the first shot is reframed by
/// its FDL's "VFX1920" canvas template (a 1920×960 VFX pull of the 2:1 framing decision).
pub fn turnover_json(clips: &[SampleClip]) -> serde_json::Value {
    let shots: Vec<_> = clips
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let handles = 4.min(c.spec.n_frames.saturating_sub(1) / 2);
            let fdl = if i == 0 { json!({"canvas_template": "VFX1920"}) } else { json!({}) };
            json!({
                "name": c.shot,
                "input_clip": c.pattern(),
                "output_location": "plates",
                "frame_range": {"start": c.first_frame + handles, "end": c.first_frame + c.spec.n_frames - 1 - handles},
                "handles": handles,
                "amf_path": format!("clips/{}.amf", c.name),
                "fdl_path": format!("clips/{}.fdl", c.name),
                "fdl": fdl,
                "output": {"format": "exr", "compression": "piz", "pixel": "half"}
            })
        })
        .collect();
    json!({"production": "platefarm-sample", "priority": 50, "shots": shots})
}

/// Writes the sample under `dir`; returns the path of `turnover.json`.
pub fn write_sample(dir: &Path, n_frames: u32) -> anyhow::Result<PathBuf> {
    let clips = sample_clips(n_frames);
    for (i, clip) in clips.iter().enumerate() {
        let folder = dir.join(clip.folder());
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        (0..clip.spec.n_frames)
            .into_par_iter()
            .try_for_each(|idx| -> anyhow::Result<()> {
                let path = dir.join(clip.frame_key(clip.first_frame + idx));
                let bytes = sample_frame_dng(&clip.spec, idx);
                std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
            })?;
        let uuid = format!("0badcafe-5a3e-4f00-8000-{:012x}", i + 1);
        let amf_path = dir.join(format!("clips/{}.amf", clip.name));
        std::fs::write(&amf_path, amf(clip, &uuid))
            .with_context(|| format!("writing {}", amf_path.display()))?;
        let (w, h) = clip.spec.output_size();
        let fdl_path = dir.join(format!("clips/{}.fdl", clip.name));
        let fdl_text = serde_json::to_string_pretty(&fdl(clip, &uuid, w, h))?;
        std::fs::write(&fdl_path, fdl_text)
            .with_context(|| format!("writing {}", fdl_path.display()))?;
    }
    let turnover = dir.join("turnover.json");
    std::fs::write(
        &turnover,
        serde_json::to_string_pretty(&turnover_json(&clips))?,
    )
    .with_context(|| format!("writing {}", turnover.display()))?;
    Ok(turnover)
}

/// `platefarm sample DIR|URL`: writes the sample into a folder, or into any store URL (the
/// turnover's paths are keys relative to the store, so the same file works on S3). Returns
/// where `turnover.json` is.
pub async fn write_sample_to(location: &str, n_frames: u32) -> anyhow::Result<String> {
    use crate::farm::{open_store, parse_store, StoreLocation};
    match parse_store(location)? {
        StoreLocation::Local(dir) => Ok(write_sample(&dir, n_frames)?.display().to_string()),
        StoreLocation::S3(url) => {
            let registry = prometheus::Registry::new();
            let (store, _) = open_store(&url, &registry).await?;
            let scratch = tempfile::tempdir().context("scratch folder")?;
            write_sample(scratch.path(), n_frames)?;
            let mut stack = vec![scratch.path().to_path_buf()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir)? {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let key = path
                        .strip_prefix(scratch.path())
                        .expect("under the scratch folder")
                        .to_string_lossy()
                        .replace('\\', "/");
                    let bytes = std::fs::read(&path)?;
                    store
                        .put(&key, bytes)
                        .await
                        .with_context(|| format!("uploading {key} to {url}"))?;
                }
            }
            Ok(format!("{}/turnover.json", url.trim_end_matches('/')))
        }
    }
}

//! The embedded farm end to end with mixed inputs: a DPX LogC3 shot (colour space from its
//! AMF, a JPEG proxy with the AMF's look) beside a camera-raw DNG shot (framed by its FDL, a PNG
//! proxy) — every plate and proxy delivered; a DPX shot without an input colour space is
//! refused at submit with its path; a corrupt DPX frame fails its chunk with the decoder's
//! reason.

use platefarm::embedded::{EmbeddedFarm, FarmOptions};
use platefarm::sample::{sample_clips, write_sample};
use platefarm_catalog::Catalog;
use platefarm_core::{ChunkState, TurnoverState};
use platefarm_imaging as im;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const FRAMES: u32 = 4;
const DPX_FIRST: u32 = 1001;
const LOGC3_IDT: &str = "urn:ampas:aces:transformId:v2.0:CSC.Arri.LogC3_to_ACES.a2.v1";

/// The sample AMF of the first DNG clip, given an input transform (or not): a real AMF 2.0
/// with a CDL look, as a DIT hands it over.
fn dpx_amf(root: &Path, input_transform: bool) -> String {
    let clip = &sample_clips(FRAMES)[0];
    let text = std::fs::read_to_string(root.join(format!("clips/{}.amf", clip.name))).unwrap();
    if !input_transform {
        return text;
    }
    text.replacen(
        "<aces:lookTransform",
        &format!("<aces:inputTransform applied=\"false\"><aces:transformId>{LOGC3_IDT}</aces:transformId></aces:inputTransform>\n        <aces:lookTransform"),
        1,
    )
}

/// Writes the DNG sample, a 4-frame DPX clip and its AMF; returns the turnover: the sample's
/// first (framed) DNG shot with a PNG proxy, and the DPX shot with a JPEG proxy.
fn turnover(root: &Path) -> Value {
    let body: Value =
        serde_json::from_slice(&std::fs::read(write_sample(root, FRAMES).unwrap()).unwrap())
            .unwrap();
    let (w, h) = (320u32, 180u32);
    std::fs::create_dir_all(root.join("clips/D001")).unwrap();
    for f in DPX_FIRST..DPX_FIRST + FRAMES {
        let codes: Vec<u16> = (0..w * h * 3)
            .map(|i| ((i * 7 + f * 31) % 1024) as u16)
            .collect();
        let meta = im::dpx::DpxMetadata {
            timecode: Some(format!("01:00:00:{:02}", f - DPX_FIRST)),
            frame_rate: Some(24.0),
            ..Default::default()
        };
        std::fs::write(
            root.join(format!("clips/D001/D001.{f:07}.dpx")),
            im::dpx::encode_dpx_10bit(w, h, &codes, &meta),
        )
        .unwrap();
    }
    std::fs::write(root.join("clips/D001.amf"), dpx_amf(root, true)).unwrap();
    let mut dng = body["shots"][0].clone();
    dng["proxy"] = json!({"format": "png", "max_width": 1024});
    let dpx = json!({
        "name": "SH030",
        "input_clip": "clips/D001/",
        "output_location": "plates",
        "frame_range": {"start": DPX_FIRST, "end": DPX_FIRST + FRAMES - 1},
        "amf_path": "clips/D001.amf",
        "proxy": {"format": "jpeg", "quality": 85}
    });
    json!({"production": "mixed inputs", "shots": [dng, dpx]})
}

async fn run(root: &Path, body: &Value) -> platefarm_catalog::TurnoverSummary {
    let farm = EmbeddedFarm::start(FarmOptions {
        workers: 2,
        chunk_size: 2,
        ..FarmOptions::new(root)
    })
    .await
    .unwrap();
    let receipt = farm.submit(body.to_string().as_bytes()).await.unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(300), farm.wait(&receipt.turnover_id))
        .await
        .unwrap()
        .unwrap();
    farm.shutdown().await;
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpx_and_a_dng_shot_deliver_every_plate_and_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let body = turnover(root);
    let summary = run(root, &body).await;
    assert_eq!(summary.state, TurnoverState::Completed, "{summary:?}");
    let dng_shot = body["shots"][0]["name"].as_str().unwrap().to_string();
    let dng_range = (
        body["shots"][0]["frame_range"]["start"].as_u64().unwrap() as u32
            - body["shots"][0]["handles"].as_u64().unwrap() as u32,
        body["shots"][0]["frame_range"]["end"].as_u64().unwrap() as u32
            + body["shots"][0]["handles"].as_u64().unwrap() as u32,
    );
    for (shot, (first, last), ext, size) in [
        (dng_shot.as_str(), dng_range, "png", (1920, 960)),
        (
            "SH030",
            (DPX_FIRST, DPX_FIRST + FRAMES - 1),
            "jpg",
            (320, 180),
        ),
    ] {
        for f in first..=last {
            let plate = root.join(format!("plates/{shot}/{shot}.{f:07}.exr"));
            let img = im::decode_exr(&std::fs::read(&plate).unwrap(), &Default::default())
                .unwrap_or_else(|e| panic!("{}: {e}", plate.display()));
            assert_eq!((img.width, img.height), size, "{}", plate.display());
            let proxy = root.join(format!("plates/{shot}/proxy/{shot}.{f:07}.{ext}"));
            let bytes =
                std::fs::read(&proxy).unwrap_or_else(|e| panic!("{}: {e}", proxy.display()));
            match ext {
                "png" => {
                    assert_eq!(&bytes[1..4], b"PNG");
                    // max_width 1024 halves the 1920-wide framed plate.
                    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 960);
                }
                _ => assert_eq!(&bytes[..2], &[0xFF, 0xD8]),
            }
        }
    }
    // The DPX plates are the renderer's plates of the same frames, with the DPX timecode.
    let plate =
        std::fs::read(root.join(format!("plates/SH030/SH030.{:07}.exr", DPX_FIRST + 2))).unwrap();
    let tc = exr::meta::MetaData::read_from_buffered(std::io::Cursor::new(&plate), false)
        .unwrap()
        .headers[0]
        .shared_attributes
        .time_code
        .unwrap();
    assert_eq!((tc.hours, tc.frame), (1, 2));
    // Delivered: the shot's AMF and MHL generation cover plates and proxies.
    assert!(root.join("plates/SH030/SH030.amf").exists());
    assert!(root.join("plates/SH030/ascmhl").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpx_shot_without_input_colour_space_is_refused_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut body = turnover(root);
    // The AMF without an input transform, and no input_colorspace: refused before planning.
    std::fs::write(root.join("clips/D001.amf"), dpx_amf(root, false)).unwrap();
    let farm = EmbeddedFarm::start(FarmOptions::new(root)).await.unwrap();
    let err = farm
        .submit(body.to_string().as_bytes())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("$.shots[1].input_colorspace: DPX input needs an input colour space: give input_colorspace or an AMF with an input transform"),
        "{err}"
    );
    // Both given and disagreeing: refused, naming both.
    std::fs::write(root.join("clips/D001.amf"), dpx_amf(root, true)).unwrap();
    body["shots"][1]["input_colorspace"] = json!("ACEScg");
    let err = farm
        .submit(body.to_string().as_bytes())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("$.shots[1].input_colorspace: input_colorspace \"ACEScg\" disagrees with the AMF's input transform")
            && err.contains("ARRI LogC3 (EI800)"),
        "{err}"
    );
    farm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_dpx_frame_fails_its_chunk_with_the_decoders_reason() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut body = turnover(root);
    body["shots"].as_array_mut().unwrap().remove(0);
    let victim = root.join(format!("clips/D001/D001.{:07}.dpx", DPX_FIRST + 3));
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let summary = run(root, &body).await;
    assert_eq!(summary.state, TurnoverState::CompletedWithFailures);
    assert_eq!((summary.chunks.done, summary.chunks.failed), (1, 1));
    let catalog = platefarm_catalog::SqlCatalog::sqlite_file(&root.join(".platefarm/catalog.db"))
        .await
        .unwrap();
    let rows = catalog.chunks(&summary.turnover_id).await.unwrap();
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r.state == ChunkState::Failed)
        .collect();
    let detail = failed[0].detail.as_deref().unwrap();
    assert!(
        detail.contains(&format!("frame {}", DPX_FIRST + 3))
            && detail.contains("D001.0001004.dpx")
            && detail.contains("DPX truncated"),
        "{detail}"
    );
}

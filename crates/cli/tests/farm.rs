//! The farm as processes against real components — RabbitMQ, an S3 server (s3s-fs),
//! PostgreSQL — with `platefarm serve` and two `platefarm worker` processes rendering the
//! sample footage: a clean run byte-identical to the embedded farm, workers SIGKILLed mid-chunk,
//! a broker restart, an S3 outage, a dispatcher SIGKILLed and restarted, poison chunks, and
//! bad requests (plus schemathesis against the OpenAPI document). Each test is bounded in time
//! and stops everything it started.

mod common;

use common::farm::{assert_every_frame_once, n, serial, Farm, FarmOptions, TOKEN};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(300);

/// Polls the farm's status until `pred` holds (or fails the test after `limit`).
fn until(
    farm: &Farm,
    id: &str,
    limit: Duration,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let s = farm.status(id);
        if pred(&s) {
            return s;
        }
        if started.elapsed() > limit {
            farm.fail(&format!("timed out waiting for {what}: {s}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn chunks(farm: &Farm, id: &str) -> Vec<Value> {
    let addr = farm.api.trim_start_matches("http://").parse().unwrap();
    let auth = format!("Bearer {TOKEN}");
    let (_, body) = platefarm_testkit::http_with(
        addr,
        "GET",
        &format!("/v1/turnovers/{id}/chunks"),
        &[("Authorization", &auth)],
        b"",
    );
    serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_run_delivers_every_frame_identical_to_the_embedded_farm() {
    let _serial = serial().await;
    let farm = Farm::start(FarmOptions::default()).await;
    let turnover = farm.sample();
    let id = farm.submit(&turnover);
    let (code, out, err) = farm.cli(&["watch", &id]);
    if code != 0 {
        farm.fail(&format!("watch exited {code}: {out}\n{err}"));
    }
    assert!(out.contains("completed"), "{out}");
    let status = farm.status(&id);
    assert_eq!(status["state"], "completed");
    assert_every_frame_once(&farm, &status);

    // `--log-format json`: every worker line is a JSON object, and each line about a chunk
    // names its turnover, shot and chunk.
    let lines = farm.worker_log_lines();
    let rendered: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "chunk rendered")
        .collect();
    let done: Vec<Value> = chunks(&farm, &id)
        .into_iter()
        .filter(|c| c["state"] == "done")
        .collect();
    assert!(
        rendered.len() >= done.len() && !done.is_empty(),
        "{} 'chunk rendered' lines for {} done chunks",
        rendered.len(),
        done.len()
    );
    for l in &rendered {
        let span = &l["span"];
        assert_eq!(span["name"], "chunk", "{l}");
        assert_eq!(span["turnover_id"], id.as_str(), "{l}");
        let chunk_id = span["chunk_id"].as_str().unwrap_or_default();
        let shot = span["shot"].as_str().unwrap_or_default();
        assert!(
            done.iter()
                .any(|c| c["chunk_id"] == chunk_id && c["shot"] == shot),
            "a logged chunk the catalog does not know as done: {l}"
        );
    }

    // The same turnover on the embedded farm, in one process: the same bytes.
    let local = turnover.parent().unwrap();
    let (code, _, err) = farm.cli(&[
        "render",
        turnover.to_str().unwrap(),
        "--root",
        local.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "embedded render: {err}");
    let farm_plates: BTreeMap<String, Vec<u8>> = farm
        .objects("plates/")
        .await
        .into_iter()
        .filter(|(k, _)| k.ends_with(".exr"))
        .collect();
    let mut compared = 0;
    for (key, bytes) in &farm_plates {
        let embedded = std::fs::read(local.join(key)).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(
            embedded == *bytes,
            "{key} differs between the farm and the embedded farm"
        );
        compared += 1;
    }
    assert_eq!(
        compared as u64,
        n(&status["frames_total"]),
        "every plate compared"
    );

    // Each shot's delivery on S3: a delivery AMF and an ASC MHL history that verifies.
    let shots: Vec<String> = status["shots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["shot"].as_str().unwrap().to_string())
        .collect();
    for shot in shots {
        let folder = format!("plates/{shot}/");
        let objects = farm.objects(&folder).await;
        let scratch = tempfile::tempdir().unwrap();
        for (key, bytes) in &objects {
            let path = scratch.path().join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        assert!(objects
            .iter()
            .any(|(k, _)| k.ends_with(&format!("{shot}.amf"))));
        let dir = scratch.path().join(&folder);
        let (code, out, err) = farm.cli(&["mhl", "verify", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "MHL of {shot}: {out}{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_killed_mid_chunk_lose_nothing() {
    let _serial = serial().await;
    let mut farm = Farm::start(FarmOptions {
        delivery_limit: 20,
        ..FarmOptions::default()
    })
    .await;
    let turnover = farm.sample();
    let id = farm.submit(&turnover);
    let mut kills = 0;
    let started = Instant::now();
    while kills < 3 && started.elapsed() < LIMIT {
        // Kill a worker that holds a chunk, then replace it.
        let running: Vec<String> = chunks(&farm, &id)
            .iter()
            .filter(|c| c["state"] == "running")
            .filter_map(|c| c["worker_id"].as_str().map(str::to_string))
            .collect();
        if let Some(victim) = running.first() {
            let idx: usize = victim
                .trim_start_matches("worker-")
                .parse()
                .unwrap_or(usize::MAX);
            if let Some(pid) = farm.worker_pid(idx) {
                std::thread::sleep(Duration::from_millis(300)); // mid-chunk
                farm.kill_worker(pid);
                farm.spawn_worker();
                kills += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(kills, 3, "three workers killed while holding a chunk");
    let status = farm.wait_final(&id, LIMIT);
    assert_eq!(status["state"], "completed", "{status}");
    assert_every_frame_once(&farm, &status);
    let redelivered = chunks(&farm, &id)
        .iter()
        .filter(|c| n(&c["attempts"]) > 1)
        .count();
    assert!(redelivered >= 1, "killed chunks were redelivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_mid_turnover_loses_nothing() {
    let _serial = serial().await;
    let mut farm = Farm::start(FarmOptions {
        own_broker: true,
        delivery_limit: 20,
        ..FarmOptions::default()
    })
    .await;
    let turnover = farm.sample();
    let id = farm.submit(&turnover);
    until(&farm, &id, LIMIT, "a first chunk done", |s| {
        n(&s["chunks"]["done"]) >= 1
    });
    let broker = farm.broker.as_mut().unwrap();
    broker.stop();
    std::thread::sleep(Duration::from_secs(3));
    broker.start_again();
    let status = farm.wait_final(&id, LIMIT);
    assert_eq!(status["state"], "completed", "{status}");
    assert_every_frame_once(&farm, &status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_outage_is_waited_out() {
    let _serial = serial().await;
    let mut farm = Farm::start(FarmOptions {
        delivery_limit: 20,
        ..FarmOptions::default()
    })
    .await;
    let turnover = farm.sample();
    let id = farm.submit(&turnover);
    until(&farm, &id, LIMIT, "a first chunk done", |s| {
        n(&s["chunks"]["done"]) >= 1
    });
    farm.s3.stop();
    std::thread::sleep(Duration::from_secs(5));
    farm.s3.start_again();
    let status = farm.wait_final(&id, LIMIT);
    assert_eq!(status["state"], "completed", "{status}");
    assert_every_frame_once(&farm, &status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_killed_and_restarted_resumes() {
    let _serial = serial().await;
    let mut farm = Farm::start(FarmOptions::default()).await;
    let turnover = farm.sample();
    let id = farm.submit(&turnover);
    until(&farm, &id, LIMIT, "a first chunk done", |s| {
        n(&s["chunks"]["done"]) >= 1
    });
    farm.kill_dispatcher();
    std::thread::sleep(Duration::from_secs(2));
    farm.spawn_dispatcher();
    farm.wait_ready();
    let status = farm.wait_final(&id, LIMIT);
    assert_eq!(status["state"], "completed", "{status}");
    assert_every_frame_once(&farm, &status);
    // SIGTERM: both kinds of service stop cleanly with status 0.
    let mut d = farm.dispatcher.take().unwrap();
    assert_eq!(
        Farm::terminate(&mut d, Duration::from_secs(30)),
        Some(0),
        "serve exits 0 on SIGTERM"
    );
    let mut w = farm.workers.remove(0);
    assert_eq!(
        Farm::terminate(&mut w, Duration::from_secs(30)),
        Some(0),
        "worker exits 0 on SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_chunks_fail_with_their_reason_and_the_rest_completes() {
    let _serial = serial().await;
    let mut farm = Farm::start(FarmOptions {
        delivery_limit: 3,
        ..FarmOptions::default()
    })
    .await;
    let turnover = farm.sample();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&turnover).unwrap()).unwrap();
    // A corrupt frame in the first shot: its chunk fails at once with the decoder's reason.
    let pattern = doc["shots"][0]["input_clip"].as_str().unwrap().to_string();
    let first = n(&doc["shots"][0]["frame_range"]["start"]) - n(&doc["shots"][0]["handles"]);
    let corrupt_key = platefarm_core::ClipPattern::parse(&pattern)
        .unwrap()
        .frame_path(first as u32);
    let store = farm.store().await;
    platefarm_store::ObjectStore::put(&store, &corrupt_key, b"II*\0this is not a DNG".to_vec())
        .await
        .unwrap();
    let id = farm.submit(&turnover);
    // The last chunk of the second shot: whichever worker holds it is killed, every time.
    let target = loop {
        let c = chunks(&farm, &id);
        if let Some(last) = c
            .iter()
            .rev()
            .find(|c| c["shot"] == doc["shots"][1]["name"])
        {
            break last["chunk_id"].as_str().unwrap().to_string();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let started = Instant::now();
    let mut kills = 0;
    loop {
        let c = chunks(&farm, &id);
        let Some(t) = c.iter().find(|c| c["chunk_id"] == target.as_str()) else {
            continue;
        };
        if t["state"] == "failed" {
            break;
        }
        if t["state"] == "running" {
            let idx: usize = t["worker_id"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("worker-")
                .parse()
                .unwrap_or(usize::MAX);
            if let Some(pid) = farm.worker_pid(idx) {
                farm.kill_worker(pid);
                farm.spawn_worker();
                kills += 1;
            }
        }
        if started.elapsed() > LIMIT {
            farm.fail(&format!("the poison chunk never failed: {t}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(kills >= 3, "the chunk's workers were killed {kills} times");
    let status = farm.wait_final(&id, LIMIT);
    assert_eq!(status["state"], "completed_with_failures", "{status}");
    let failures = status["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2, "{status}");
    let reason = |chunk: &str| {
        failures
            .iter()
            .find(|f| f["chunk_id"] == chunk)
            .and_then(|f| f["reason"].as_str())
            .unwrap_or("")
            .to_string()
    };
    assert!(reason(&target).contains("delivery limit"), "{status}");
    let corrupt = failures
        .iter()
        .find(|f| f["chunk_id"] != target.as_str())
        .unwrap();
    let why = corrupt["reason"].as_str().unwrap();
    assert!(
        why.contains(&corrupt_key) && (why.contains("DNG") || why.contains("TIFF")),
        "{why}"
    );
    // Everything else was delivered.
    let c = status["chunks"].clone();
    assert_eq!(n(&c["done"]) + 2, n(&c["done"]) + n(&c["failed"]));
    let (code, out, _) = farm.cli(&["status", &id]);
    assert_eq!(code, 0);
    assert!(
        out.contains("delivery limit") && out.contains(&corrupt_key),
        "{out}"
    );
    let (code, _, _) = farm.cli(&["watch", &id]);
    assert_eq!(
        code, 1,
        "watch exits 1 when the turnover ended with failures"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_right_status_and_schemathesis_finds_no_server_error() {
    let _serial = serial().await;
    let farm = Farm::start(FarmOptions {
        workers: 0,
        ..FarmOptions::default()
    })
    .await;
    let dir = farm.dir.path();
    let write = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let check = |file: &Path, code: i32, needle: &str, token: Option<&str>| {
        let mut c = farm.command();
        c.arg("submit").arg(file);
        if let Some(t) = token {
            c.env("PLATEFARM_API_TOKEN", t);
        } else {
            c.env_remove("PLATEFARM_API_TOKEN");
        }
        c.env("RUST_BACKTRACE", "1");
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{}: {err}", file.display());
        assert!(
            err.contains(needle),
            "{}: expected {needle:?} in {err}",
            file.display()
        );
        assert!(
            !err.contains("stack backtrace") && !err.contains("panicked"),
            "{err}"
        );
    };
    let good = serde_json::json!({"turnover_id": "TO-bad", "production": "p", "shots": [{
        "name": "A", "input_clip": "clips/none.%04d.dng", "output_location": "plates",
        "frame_range": {"start": 1, "end": 2}}]});
    check(
        &write("malformed.json", "{\"production\": "),
        2,
        "malformed JSON",
        Some(TOKEN),
    );
    let mut unknown = good.clone();
    unknown["colour"] = serde_json::json!(1);
    check(
        &write("unknown.json", &unknown.to_string()),
        2,
        "colour",
        Some(TOKEN),
    );
    let mut outside = good.clone();
    outside["shots"][0]["input_clip"] = serde_json::json!("../../etc/x.%04d.dng");
    check(
        &write("outside.json", &outside.to_string()),
        2,
        "$.shots[0].input_clip",
        Some(TOKEN),
    );
    check(
        &write("missing.json", &good.to_string()),
        2,
        "frames",
        Some(TOKEN),
    );
    check(
        &write("token.json", &good.to_string()),
        2,
        "missing API token",
        None,
    );
    check(
        &write("token2.json", &good.to_string()),
        2,
        "wrong API token",
        Some("guess"),
    );
    let big = format!("{{\"production\": \"{}\"}}", "x".repeat(9 << 20));
    check(&write("big.json", &big), 2, "8 MiB", Some(TOKEN));

    // schemathesis drives every operation of the OpenAPI document; no 5xx allowed.
    let st = platefarm_testkit::venv_tool("schemathesis");
    assert!(
        st.exists(),
        "schemathesis is in the test venv (scripts/requirements-test.txt)"
    );
    let out = std::process::Command::new(&st)
        .args(["run", &format!("{}/v1/openapi.json", farm.api)])
        .args(["--checks", "not_a_server_error", "--max-examples", "25"])
        .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        farm.fail(&format!("schemathesis found a problem:\n{text}"));
    }
}

/// Ingest is farm work on the same queue as renders: the generated footage folder (DNG, DPX,
/// EXR; a gap, drop-frame, corrupt frames) in the S3 bucket is ingested by `platefarm ingest
/// --amqp` (the environment's broker) and by `POST /v1/ingests`; both are inspected by the
/// worker processes (their logs name the ingest and the clip), recorded by the dispatcher in
/// PostgreSQL, and the records match what the generator wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_runs_on_the_worker_processes() {
    use platefarm_store::ObjectStore;
    let _serial = serial().await;
    let farm = Farm::start(FarmOptions::default()).await;
    let footage = platefarm_ingest::synth::mixed_folder();
    let store = farm.store().await;
    for (key, bytes) in &footage.objects {
        store
            .put(&format!("card1/{key}"), bytes.clone())
            .await
            .unwrap();
    }
    // The CLI, with the farm's environment (PLATEFARM_AMQP_URL set): jobs on the queue.
    let (code, out, err) = farm.cli(&["ingest", "card1/", "--json"]);
    assert_eq!(code, 0, "ingest: {err}\n{}", farm.logs());
    assert!(err.contains("handed to the workers"), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["state"], "completed", "{report}");
    assert_eq!(report["clips_done"], footage.expected.len(), "{report}");
    let clips = report["clips"].as_array().unwrap();
    assert_eq!(clips.len(), footage.expected.len());
    for want in &footage.expected {
        let mut want = serde_json::to_value(want).unwrap();
        want["location"] = Value::from("card1");
        let got = clips
            .iter()
            .find(|c| c["key"] == want["key"])
            .unwrap_or_else(|| panic!("no record of {}", want["key"]));
        // Field by field (the generator knows which frames it broke, not the decoder's words).
        let mut got = got.clone();
        for bad in got["frames"]["bad"].as_array_mut().unwrap() {
            assert!(!bad["reason"].as_str().unwrap().is_empty(), "{bad}");
            bad["reason"] = Value::from("");
        }
        for field in [
            "name", "reel", "camera", "lens", "timecode", "image", "frames", "colour", "format",
            "location",
        ] {
            assert_eq!(got[field], want[field], "{}: {field}", want["key"]);
        }
    }
    let bad: usize = footage.expected.iter().map(|c| c.frames.bad.len()).sum();
    assert_eq!(report["bad_frames"].as_array().unwrap().len(), bad);
    let ingest_id = report["ingest_id"].as_str().unwrap().to_string();
    let inspected: Vec<Value> = farm
        .worker_log_lines()
        .into_iter()
        .filter(|l| l["fields"]["message"] == "clip ingested")
        .collect();
    assert!(
        inspected.len() >= footage.expected.len(),
        "{} 'clip ingested' lines",
        inspected.len()
    );
    for l in &inspected {
        assert_eq!(l["span"]["name"], "ingest", "{l}");
        assert_eq!(l["span"]["ingest_id"], ingest_id.as_str(), "{l}");
    }

    // The API hands out the same jobs; the thumbnails the workers wrote are served.
    let addr = farm.api.trim_start_matches("http://").parse().unwrap();
    let auth = format!("Bearer {TOKEN}");
    let call = |method: &str, path: &str, body: &[u8]| {
        let (s, b) =
            platefarm_testkit::http_with(addr, method, path, &[("Authorization", &auth)], body);
        (
            s,
            serde_json::from_str::<Value>(&b).unwrap_or(Value::String(b)),
        )
    };
    let (status, receipt) = call("POST", "/v1/ingests", br#"{"location": "card1"}"#);
    assert_eq!(status, 202, "{receipt}");
    let id = receipt["ingest_id"].as_str().unwrap();
    let started = Instant::now();
    let s = loop {
        let (_, s) = call("GET", &format!("/v1/ingests/{id}"), b"");
        if s["state"] != "running" {
            break s;
        }
        if started.elapsed() > LIMIT {
            farm.fail(&format!("ingest {id} still running: {s}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(s["state"], "completed", "{s}");
    assert_eq!(s["clips_done"], footage.expected.len(), "{s}");
    let clip = &footage.expected[0];
    let (status, _) = call(
        "GET",
        &format!(
            "/v1/clips/thumbnail?location=card1&key={}",
            clip.key.replace('%', "%25")
        ),
        b"",
    );
    assert_eq!(status, 200, "the thumbnail of {}", clip.key);
}

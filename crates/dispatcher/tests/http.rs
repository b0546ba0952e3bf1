//! The dispatcher service (`serve`) on a real socket: auth, every error status with a message
//! naming the problem, idempotent submission, status with per-shot progress, cancel,
//! retry-failed, server-sent events, the OpenAPI document, health and metrics.

use platefarm_catalog::SqlCatalog;
use platefarm_dispatcher::{serve, Adapters, ServeConfig};
use platefarm_queue::MemoryQueue;
use platefarm_store::{LocalStore, ObjectStore};
use platefarm_testkit::http_with;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

const TOKEN: &str = "s3cret-token";

struct Api {
    addr: SocketAddr,
    queue: Arc<MemoryQueue>,
    store: Arc<LocalStore>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Api {
    async fn start() -> Api {
        let catalog = SqlCatalog::connect("sqlite::memory:").await.unwrap();
        Api::start_with(Arc::new(catalog)).await
    }

    async fn start_with(catalog: Arc<SqlCatalog>) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(LocalStore::open(dir.path()).unwrap());
        for f in 1..=4u32 {
            store
                .put(&format!("in/C.{f:03}.dng"), b"x".to_vec())
                .await
                .unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let queue = Arc::new(MemoryQueue::new());
        let adapters = Adapters {
            store: store.clone(),
            queue: queue.clone(),
            catalog,
            hook: None,
        };
        let config = ServeConfig {
            token: Some(TOKEN.into()),
            ..ServeConfig::default()
        };
        let server = tokio::spawn(async move {
            serve(
                config,
                adapters,
                prometheus::Registry::new(),
                listener,
                async {
                    let _ = stopped.await;
                },
            )
            .await
            .unwrap()
        });
        Api {
            addr,
            queue,
            store,
            _dir: dir,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// `n` worker tasks on the API's queue and store (they run ingest jobs like renders).
    fn workers(
        &self,
        n: usize,
    ) -> (
        tokio::sync::watch::Sender<bool>,
        Vec<tokio::task::JoinHandle<()>>,
    ) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let metrics = platefarm_worker::WorkerMetrics::new(&prometheus::Registry::new());
        let handles = (0..n)
            .map(|i| {
                let worker = platefarm_worker::Worker::new(
                    platefarm_worker::WorkerConfig {
                        worker_id: format!("test-{i}"),
                        ..Default::default()
                    },
                    self.queue.clone(),
                    self.store.clone(),
                    Arc::new(platefarm_worker::ImagingRenderer::default()),
                    Arc::new(
                        rayon::ThreadPoolBuilder::new()
                            .num_threads(1)
                            .build()
                            .unwrap(),
                    ),
                    metrics.clone(),
                );
                let mut rx = rx.clone();
                tokio::spawn(async move {
                    worker
                        .run(async move {
                            let _ = rx.wait_for(|s| *s).await;
                        })
                        .await
                        .unwrap();
                })
            })
            .collect();
        (tx, handles)
    }

    /// Polls `GET /v1/ingests/{id}` until it is no longer running.
    async fn wait_ingest(&self, id: &str) -> Value {
        for _ in 0..600 {
            let (status, s) = self.call("GET", &format!("/v1/ingests/{id}"), b"");
            assert_eq!(status, 200, "{s}");
            if s["state"] != "running" {
                return s;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("ingest {id} still running after 60 s");
    }

    /// Blocking request with the token (call inside spawn_blocking).
    fn call(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let auth = format!("Bearer {TOKEN}");
        let (status, text) = http_with(self.addr, method, path, &[("Authorization", &auth)], body);
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.server.take().unwrap().await.unwrap();
    }
}

fn turnover(id: &str, start: u32, end: u32) -> Value {
    json!({"turnover_id": id, "production": "p", "shots": [{
        "name": "SH1", "input_clip": "in/C.%03d.dng", "output_location": "out",
        "frame_range": {"start": start, "end": end}}]})
}

fn problem_paths(v: &Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["path"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_with_the_right_status_and_a_message() {
    let api = Arc::new(Api::start().await);
    let a = api.clone();
    tokio::task::spawn_blocking(move || {
        let api = a;
        let good = turnover("TO-http", 1, 4).to_string();
        // Auth: missing and wrong tokens, on every /v1 route.
        let (s, body) = platefarm_testkit::http(api.addr, "POST", "/v1/turnovers", good.as_bytes());
        assert_eq!(s, 401, "{body}");
        assert!(body.contains("missing API token"), "{body}");
        let (s, body) = http_with(
            api.addr,
            "GET",
            "/v1/turnovers",
            &[("Authorization", "Bearer nope")],
            b"",
        );
        assert_eq!(s, 401);
        assert!(body.contains("wrong API token"));
        // The OpenAPI document is public and is the one in docs/.
        let (s, doc) = platefarm_testkit::http(api.addr, "GET", "/v1/openapi.json", b"");
        assert_eq!(s, 200);
        let served: Value = serde_json::from_str(&doc).unwrap();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let in_docs: Value = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        if served != in_docs {
            std::fs::write(path, serde_json::to_string_pretty(&served).unwrap() + "\n").unwrap();
            panic!("docs/openapi.json was out of date; it has been rewritten — commit it");
        }

        // Submission: accepted, idempotent, conflicting.
        let (s, r) = api.call("POST", "/v1/turnovers", good.as_bytes());
        assert_eq!(s, 202, "{r}");
        assert_eq!(
            (r["n_frames"].as_u64(), r["existing"].as_bool()),
            (Some(4), Some(false))
        );
        let (s, r) = api.call("POST", "/v1/turnovers", good.as_bytes());
        assert_eq!(
            (s, r["existing"].as_bool()),
            (200, Some(true)),
            "same request again"
        );
        let (s, r) = api.call(
            "POST",
            "/v1/turnovers",
            turnover("TO-http", 1, 3).to_string().as_bytes(),
        );
        assert_eq!(s, 409, "{r}");
        assert!(r["error"].as_str().unwrap().contains("TO-http"));

        // Bad requests name the problem.
        let (s, r) = api.call("POST", "/v1/turnovers", b"{oops");
        assert_eq!(s, 400);
        assert!(
            r["error"]
                .as_str()
                .unwrap()
                .contains("malformed JSON at line 1"),
            "{r}"
        );
        let mut unknown = turnover("TO-u", 1, 4);
        unknown["shots"][0]["colour"] = json!("blue");
        let (s, r) = api.call("POST", "/v1/turnovers", unknown.to_string().as_bytes());
        assert_eq!(s, 422);
        assert!(r.to_string().contains("colour"), "{r}");
        let mut handles = turnover("TO-h", 3, 9);
        handles["shots"][0]["handles"] = json!("x");
        let (s, r) = api.call("POST", "/v1/turnovers", handles.to_string().as_bytes());
        assert_eq!(s, 422);
        assert!(
            problem_paths(&r).contains(&"$.shots[0].handles".to_string()),
            "{r}"
        );
        let mut outside = turnover("TO-o", 1, 4);
        outside["shots"][0]["input_clip"] = json!("../../etc/C.%03d.dng");
        let (s, r) = api.call("POST", "/v1/turnovers", outside.to_string().as_bytes());
        assert_eq!(s, 422);
        assert!(
            problem_paths(&r).contains(&"$.shots[0].input_clip".to_string()),
            "{r}"
        );
        let big = vec![b' '; 9 << 20];
        let (s, r) = api.call("POST", "/v1/turnovers", &big);
        assert_eq!(s, 413);
        assert!(r["error"].as_str().unwrap().contains("8 MiB"), "{r}");

        // Status, list, chunks.
        let (s, st) = api.call("GET", "/v1/turnovers/TO-http", b"");
        assert_eq!(s, 200);
        assert_eq!(st["state"], "running");
        assert_eq!(st["shots"][0]["shot"], "SH1");
        assert_eq!(st["shots"][0]["frames_total"], 4);
        assert!(st["failures"].as_array().unwrap().is_empty());
        assert!(st["outputs"]["SH1"].as_array().unwrap().is_empty());
        let (s, list) = api.call("GET", "/v1/turnovers?state=running&production=p", b"");
        assert_eq!(s, 200);
        assert_eq!(list.as_array().unwrap().len(), 1);
        let (s, r) = api.call("GET", "/v1/turnovers?state=bogus", b"");
        assert_eq!(s, 400);
        assert!(r["error"].as_str().unwrap().contains("bogus"));
        let (s, _) = api.call("GET", "/v1/turnovers?colour=1", b"");
        assert_eq!(s, 400);
        // A NUL cannot be stored or searched in PostgreSQL text: refused before the catalog.
        let (s, r) = api.call("GET", "/v1/turnovers?production=a%00b", b"");
        assert_eq!(s, 400, "{r}");
        assert!(r["error"].as_str().unwrap().contains("U+0000"), "{r}");
        let (s, r) = api.call("GET", "/v1/turnovers/TO%00x/chunks", b"");
        assert_eq!(s, 404, "{r}");
        assert!(
            r["error"]
                .as_str()
                .unwrap()
                .contains("not a valid turnover id"),
            "{r}"
        );
        let mut nul = turnover("TO-nul", 1, 4);
        nul["production"] = json!("p\u{0}q");
        let (s, r) = api.call("POST", "/v1/turnovers", nul.to_string().as_bytes());
        assert_eq!(s, 422, "{r}");
        assert!(
            problem_paths(&r).contains(&"$.production".to_string()),
            "{r}"
        );
        let (s, chunks) = api.call("GET", "/v1/turnovers/TO-http/chunks", b"");
        assert_eq!((s, chunks.as_array().unwrap().len()), (200, 1));
        for (method, path) in [
            ("GET", "/v1/turnovers/nope"),
            ("GET", "/v1/turnovers/nope/chunks"),
            ("POST", "/v1/turnovers/nope/cancel"),
            ("POST", "/v1/turnovers/nope/retry-failed"),
            ("GET", "/v1/turnovers/nope/events"),
        ] {
            let (s, r) = api.call(method, path, b"");
            assert_eq!(s, 404, "{method} {path}: {r}");
            assert!(r["error"].as_str().unwrap().contains("nope"));
        }
        let (s, _) = api.call("GET", "/v1/nothing-here", b"");
        assert_eq!(s, 404);
    })
    .await
    .unwrap();

    // Server-sent events: a snapshot, then the cancellation, then the stream ends.
    let addr = api.addr;
    let reader = tokio::task::spawn_blocking(move || {
        let auth = format!("Bearer {TOKEN}");
        http_with(
            addr,
            "GET",
            "/v1/turnovers/TO-http/events",
            &[("Authorization", &auth)],
            b"",
        )
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let a = api.clone();
    let cancelled =
        tokio::task::spawn_blocking(move || a.call("POST", "/v1/turnovers/TO-http/cancel", b""))
            .await
            .unwrap();
    assert_eq!(cancelled.0, 200, "{}", cancelled.1);
    assert_eq!(cancelled.1["chunks_cancelled"], 1);
    let (s, stream) = tokio::time::timeout(std::time::Duration::from_secs(10), reader)
        .await
        .expect("the event stream ends after the final state")
        .unwrap();
    assert_eq!(s, 200);
    assert!(stream.contains("event: snapshot"), "{stream}");
    assert!(stream.contains("\"state\":\"cancelled\""), "{stream}");

    let a = api.clone();
    tokio::task::spawn_blocking(move || {
        let (s, st) = a.call("GET", "/v1/turnovers/TO-http", b"");
        assert_eq!((s, st["state"].as_str()), (200, Some("cancelled")));
        let (s, metrics) = platefarm_testkit::http(a.addr, "GET", "/metrics", b"");
        assert_eq!(s, 200);
        assert!(
            metrics.contains("platefarm_dispatcher_turnovers_submitted_total 1"),
            "{metrics}"
        );
        assert!(
            metrics.contains("platefarm_dispatcher_turnovers_rejected_total 4"),
            "{metrics}"
        );
        let (s, _) = platefarm_testkit::http(a.addr, "GET", "/health/livez", b"");
        assert_eq!(s, 200);
        let mut ready = 0;
        for _ in 0..50 {
            ready = platefarm_testkit::http(a.addr, "GET", "/health/readyz", b"").0;
            if ready == 200 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(ready, 200, "ready once broker, store and catalog answer");
    })
    .await
    .unwrap();
    Arc::try_unwrap(api).ok().unwrap().stop().await;
}

#[tokio::test]
async fn serving_a_public_address_without_a_token_is_refused() {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let adapters = Adapters {
        store: Arc::new(LocalStore::open(dir.path()).unwrap()),
        queue: Arc::new(MemoryQueue::new()),
        catalog: Arc::new(SqlCatalog::connect("sqlite::memory:").await.unwrap()),
        hook: None,
    };
    let err = serve(
        ServeConfig::default(),
        adapters,
        prometheus::Registry::new(),
        listener,
        async {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("without an API token"), "{err}");
}

/// API requests are counted and timed by route *template*, method and status class: a raw id
/// never becomes a label value, a request without the token is counted, an unknown path is
/// `unmatched`, and health and metrics scrapes are not API requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_requests_are_counted_by_route_template_and_status() {
    let api = Arc::new(Api::start().await);
    let a = api.clone();
    let metrics = tokio::task::spawn_blocking(move || {
        assert_eq!(a.call("GET", "/v1/turnovers/no-such-turnover", b"").0, 404);
        assert_eq!(a.call("GET", "/v1/turnovers/no-such-turnover", b"").0, 404);
        assert_eq!(a.call("GET", "/v1/turnovers", b"").0, 200);
        assert_eq!(a.call("GET", "/nowhere/at-all", b"").0, 404);
        let (status, _) = http_with(a.addr, "GET", "/v1/turnovers", &[], b"");
        assert_eq!(status, 401);
        let _ = http_with(a.addr, "GET", "/health/livez", &[], b"");
        http_with(a.addr, "GET", "/metrics", &[], b"").1
    })
    .await
    .unwrap();
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
    };
    let requests = "platefarm_dispatcher_http_requests_total";
    let seconds = "platefarm_dispatcher_http_request_duration_seconds";
    let by_id = r#"route="/v1/turnovers/{id}""#;
    assert_eq!(
        value(&format!(
            r#"{requests}{{method="GET",{by_id},status="4xx"}}"#
        )),
        2.0
    );
    assert_eq!(
        value(&format!(
            r#"{requests}{{method="GET",{by_id},status="5xx"}}"#
        )),
        0.0
    );
    assert_eq!(
        value(&format!(
            r#"{requests}{{method="GET",route="/v1/turnovers",status="2xx"}}"#
        )),
        1.0
    );
    assert_eq!(
        value(&format!(
            r#"{requests}{{method="GET",route="/v1/turnovers",status="4xx"}}"#
        )),
        1.0,
        "the 401 is counted"
    );
    assert_eq!(
        value(&format!(
            r#"{requests}{{method="GET",route="unmatched",status="4xx"}}"#
        )),
        1.0
    );
    assert_eq!(
        value(&format!(r#"{seconds}_count{{method="GET",{by_id}}}"#)),
        2.0
    );
    assert!(
        !metrics.contains("no-such-turnover") && !metrics.contains("nowhere"),
        "a raw path became a label value:\n{metrics}"
    );
    assert!(!metrics.contains("route=\"/metrics\"") && !metrics.contains("/health"));
    Arc::try_unwrap(api).ok().unwrap().stop().await;
}

/// `GET /v1/clips` over ingested records: search by reel and the timecode question, and bad
/// parameters answered 400 naming the problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clip_search_answers_which_clip_and_frame_hold_a_timecode() {
    use platefarm_catalog::Catalog;
    let catalog = Arc::new(SqlCatalog::connect("sqlite::memory:").await.unwrap());
    let footage = platefarm_ingest::synth::mixed_folder();
    catalog
        .upsert_clips(&footage.expected, chrono::Utc::now())
        .await
        .unwrap();
    let api = Api::start_with(catalog).await;
    let clip = footage
        .expected
        .iter()
        .find(|c| c.reel.is_some() && c.timecode.start.is_some())
        .expect("a clip with reel and timecode");
    let rate = clip.timecode.rate.unwrap();
    let tc = clip.timecode.start.unwrap().add_frames(3, rate).unwrap();
    let path = format!(
        "/v1/clips?reel={}&timecode={}",
        clip.reel.as_deref().unwrap(),
        tc.to_string().replace(':', "%3A").replace(';', "%3B")
    );
    let (status, v) = api.call("GET", &path, b"");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["match"]["clip"], clip.name.as_str(), "{v}");
    assert_eq!(v["match"]["frame"], clip.frames.first + 3, "{v}");
    assert_eq!(v["clips"][0]["key"], clip.key.as_str());
    assert!(v["clips"][0]["thumbnail_key"]
        .as_str()
        .unwrap()
        .starts_with(".platefarm/thumbnails/"));
    let (status, all) = api.call("GET", "/v1/clips", b"");
    assert_eq!(status, 200);
    assert_eq!(
        all["clips"].as_array().unwrap().len(),
        footage.expected.len()
    );
    assert_eq!(all["match"], Value::Null);
    for (path, names) in [
        ("/v1/clips?timecode=25%3A99", "25:99"),
        ("/v1/clips?limit=0", "limit"),
        ("/v1/clips?color=red", "color"),
    ] {
        let (status, v) = api.call("GET", path, b"");
        assert_eq!(status, 400, "{path}: {v}");
        assert!(v["error"].as_str().unwrap().contains(names), "{path}: {v}");
    }
    let (status, _) = http_with(api.addr, "GET", "/v1/clips", &[], b"");
    assert_eq!(status, 401, "the token is required");
    api.stop().await;
}

/// `POST /v1/ingests` over the farm's store: the generated mixed folder is recorded (bad
/// frames with reasons, thumbnails beside it) and found by `GET /v1/clips`; bad requests get
/// the right status and a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_of_a_store_prefix_is_recorded_and_searchable() {
    let catalog = Arc::new(SqlCatalog::connect("sqlite::memory:").await.unwrap());
    let api = Api::start_with(catalog).await;
    let footage = platefarm_ingest::synth::mixed_folder();
    for (key, bytes) in &footage.objects {
        let path = api._dir.path().join("day1-card").join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    // No worker yet: the ingest is accepted and waits on the queue, one job per clip.
    let (status, v) = api.call("POST", "/v1/ingests", br#"{"location": "day1-card/"}"#);
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["clips"], footage.expected.len(), "{v}");
    let id = v["ingest_id"].as_str().unwrap().to_string();
    let (status, s) = api.call("GET", &format!("/v1/ingests/{id}"), b"");
    assert_eq!((status, s["state"].as_str()), (200, Some("running")), "{s}");
    assert_eq!(s["clips_done"], 0);
    // Two workers take the jobs from the same queue as renders.
    let (stop_workers, workers) = api.workers(2);
    let s = api.wait_ingest(&id).await;
    assert_eq!(s["state"], "completed", "{s}");
    assert_eq!(s["clips_done"], footage.expected.len(), "{s}");
    assert_eq!(s["clips_failed"], 0, "{s}");
    let frames: u64 = footage.expected.iter().map(|c| c.frames.count as u64).sum();
    assert_eq!(s["frames"], frames, "{s}");
    let bad: usize = footage.expected.iter().map(|c| c.frames.bad.len()).sum();
    assert_eq!(s["bad_frames"].as_array().unwrap().len(), bad, "{s}");
    for b in s["bad_frames"].as_array().unwrap() {
        assert!(!b["reason"].as_str().unwrap().is_empty(), "{b}");
    }
    let no_thumb = s["thumbnail_errors"].as_array().unwrap().len();
    let (status, v) = api.call("GET", "/v1/ingests/IN-nope", b"");
    assert_eq!(status, 404, "{v}");
    let (status, found) = api.call("GET", "/v1/clips?location=day1-card", b"");
    assert_eq!(status, 200);
    let clips = found["clips"].as_array().unwrap();
    assert_eq!(clips.len(), footage.expected.len(), "{found}");
    let mut thumbs = 0;
    for c in clips {
        let thumb = api
            ._dir
            .path()
            .join("day1-card")
            .join(c["thumbnail_key"].as_str().unwrap());
        if thumb.is_file() {
            thumbs += 1;
            // Served by the thumbnail route, as written.
            let path = format!(
                "/v1/clips/thumbnail?location=day1-card&key={}",
                c["key"].as_str().unwrap().replace('%', "%25")
            );
            let auth = format!("Bearer {TOKEN}");
            let (status, _) = http_with(api.addr, "GET", &path, &[("Authorization", &auth)], b"");
            assert_eq!(status, 200, "{path}");
        }
    }
    assert_eq!(
        thumbs + no_thumb,
        clips.len(),
        "every clip has a thumbnail or a reason"
    );
    let (status, v) = api.call(
        "GET",
        "/v1/clips/thumbnail?location=day1-card&key=nope",
        b"",
    );
    assert_eq!(status, 404, "{v}");
    assert!(v["error"].as_str().unwrap().contains("no clip"), "{v}");
    let (status, v) = api.call("GET", "/v1/clips/thumbnail?location=day1-card", b"");
    assert_eq!(status, 400, "{v}");
    // A tampered file under an ASC MHL history fails the ingest naming it; nothing is handed out.
    let card = api._dir.path().join("day1-card");
    platefarm_mhl::create_generation(
        &card,
        &platefarm_mhl::CreateOptions::new(chrono::Utc::now()),
    )
    .unwrap();
    let victim = footage.objects.keys().next().unwrap().clone();
    let mut bytes = std::fs::read(card.join(&victim)).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(card.join(&victim), bytes).unwrap();
    let (status, v) = api.call("POST", "/v1/ingests", br#"{"location": "day1-card"}"#);
    assert_eq!(status, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains(&victim), "{v}");
    let _ = stop_workers.send(true);
    for w in workers {
        w.await.unwrap();
    }
    for (body, want, names) in [
        (&br#"{"location": "../etc"}"#[..], 422, ".."),
        (br#"{"location": "nothing-here/"}"#, 422, "no footage"),
        (br#"{"location": "day\u0004card"}"#, 422, "location"),
        (br#"{"location": 3}"#, 400, "malformed"),
        (br#"{"location": "day1-card", "colour": 1}"#, 400, "colour"),
    ] {
        let (status, v) = api.call("POST", "/v1/ingests", body);
        assert_eq!(status, want, "{v}");
        assert!(v["error"].as_str().unwrap().contains(names), "{v}");
    }
    api.stop().await;
}

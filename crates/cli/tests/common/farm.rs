//! A real farm of processes for the reliability tests: its own RabbitMQ vhost (or its own
//! broker node), its own S3 server, its own PostgreSQL database, `platefarm serve` and
//! `platefarm worker` processes of the binary under test. Everything it starts is stopped and
//! removed on drop; each process's log is kept in the farm's scratch folder and printed when a
//! check fails.

#![allow(dead_code)]

use platefarm_testkit::postgres::Database;
use platefarm_testkit::rabbit::{BrokerNode, Vhost};
use platefarm_testkit::s3::S3Server;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "farm-test-token";

/// Farm tests render real frames on two cores: one at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

pub struct FarmOptions {
    /// A broker node of the test's own (for broker-restart tests) instead of a vhost on the
    /// shared broker.
    pub own_broker: bool,
    pub frames: u32,
    pub chunk_size: u32,
    pub delivery_limit: u32,
    pub workers: usize,
}

impl Default for FarmOptions {
    fn default() -> Self {
        FarmOptions {
            own_broker: false,
            frames: 8,
            chunk_size: 2,
            delivery_limit: 5,
            workers: 2,
        }
    }
}

pub struct Farm {
    pub dir: tempfile::TempDir,
    pub api: String,
    pub s3: S3Server,
    pub broker: Option<BrokerNode>,
    vhost: Option<Vhost>,
    db: Option<Database>,
    env: Vec<(String, String)>,
    pub dispatcher: Option<Child>,
    pub workers: Vec<Child>,
    /// `worker-<n>` of each entry of `workers`.
    worker_ids: Vec<usize>,
    /// `host:port` of every worker's /metrics and /health, in start order (killed ones too).
    pub worker_metrics: Vec<String>,
    n_started: usize,
    n_logs: usize,
    pub opts: FarmOptions,
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_platefarm"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Farm {
    pub async fn start(opts: FarmOptions) -> Farm {
        let dir = tempfile::tempdir().expect("scratch");
        let (vhost, broker, amqp) = if opts.own_broker {
            let node = BrokerNode::start();
            let url = node.url();
            (None, Some(node), url)
        } else {
            let v = Vhost::new();
            let url = v.url();
            (Some(v), None, url)
        };
        let s3 = S3Server::start();
        let db = Database::create().await;
        let api = format!("http://127.0.0.1:{}", free_port());
        let mut env: Vec<(String, String)> = s3
            .env()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.extend([
            ("PLATEFARM_AMQP_URL".into(), amqp),
            ("PLATEFARM_STORE".into(), format!("s3://{}", s3.bucket())),
            ("PLATEFARM_CATALOG_URL".into(), db.url().to_string()),
            ("PLATEFARM_API_URL".into(), api.clone()),
            ("PLATEFARM_API_TOKEN".into(), TOKEN.into()),
            (
                "PLATEFARM_DELIVERY_LIMIT".into(),
                opts.delivery_limit.to_string(),
            ),
            ("PLATEFARM_CHUNK_SIZE".into(), opts.chunk_size.to_string()),
            ("RUST_LOG".into(), "warn,platefarm=info".into()),
        ]);
        let mut farm = Farm {
            dir,
            api,
            s3,
            broker,
            vhost,
            db: Some(db),
            env,
            dispatcher: None,
            workers: Vec::new(),
            worker_ids: Vec::new(),
            worker_metrics: Vec::new(),
            n_started: 0,
            n_logs: 0,
            opts,
        };
        farm.spawn_dispatcher();
        for _ in 0..farm.opts.workers {
            farm.spawn_worker();
        }
        farm.wait_ready();
        farm
    }

    fn log_file(&mut self, name: &str) -> std::fs::File {
        self.n_logs += 1;
        let path = self
            .dir
            .path()
            .join(format!("{:02}-{name}.log", self.n_logs));
        std::fs::File::create(path).expect("log file")
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(bin());
        c.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c.env_remove("RUST_BACKTRACE");
        c
    }

    pub fn spawn_dispatcher(&mut self) {
        let log = self.log_file("serve");
        let listen = self.api.trim_start_matches("http://").to_string();
        let child = self
            .command()
            .args(["serve", "--listen", &listen, "--log-format", "json"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start platefarm serve");
        self.dispatcher = Some(child);
    }

    /// Starts a worker; returns its pid.
    pub fn spawn_worker(&mut self) -> u32 {
        let log = self.log_file("worker");
        let n = self.n_started;
        self.n_started += 1;
        let listen = format!("127.0.0.1:{}", free_port());
        let child = self
            .command()
            .args([
                "worker",
                "--log-format",
                "json",
                "--threads",
                "1",
                "--listen",
                &listen,
                "--worker-id",
            ])
            .arg(format!("worker-{n}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start platefarm worker");
        let pid = child.id();
        self.worker_metrics.push(listen);
        self.workers.push(child);
        self.worker_ids.push(n);
        pid
    }

    /// Waits until the API answers readyz (broker, store, catalog reachable).
    pub fn wait_ready(&self) {
        let addr: std::net::SocketAddr = self.api.trim_start_matches("http://").parse().unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if std::net::TcpStream::connect(addr).is_ok()
                && platefarm_testkit::http(addr, "GET", "/health/readyz", b"").0 == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.fail("the dispatcher did not become ready within 60 s");
    }

    /// Runs a CLI command against the farm; returns (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command().args(args).output().expect("run platefarm");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// Writes the sample into the farm's bucket and a local copy; returns the local
    /// `turnover.json` (the same document: its paths are store keys).
    pub fn sample(&self) -> PathBuf {
        let frames = self.opts.frames.to_string();
        let store = format!("s3://{}", self.s3.bucket());
        let (code, _, err) = self.cli(&["sample", &store, "--frames", &frames]);
        assert_eq!(code, 0, "sample to S3: {err}");
        let local = self.dir.path().join("sample");
        let (code, _, err) = self.cli(&["sample", local.to_str().unwrap(), "--frames", &frames]);
        assert_eq!(code, 0, "sample: {err}");
        local.join("turnover.json")
    }

    pub fn submit(&self, turnover: &Path) -> String {
        let (code, out, err) = self.cli(&["submit", turnover.to_str().unwrap()]);
        if code != 0 {
            self.fail(&format!("submit failed: {err}"));
        }
        out.trim().to_string()
    }

    pub fn status(&self, id: &str) -> Value {
        let (code, out, err) = self.cli(&["status", id, "--json"]);
        if code != 0 {
            return serde_json::json!({"error": err});
        }
        serde_json::from_str(&out).unwrap_or(Value::Null)
    }

    /// Polls until the turnover is final (or `limit` passes); returns its status.
    pub fn wait_final(&self, id: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let s = self.status(id);
            if s["state"].as_str().is_some_and(|st| st != "running") {
                return s;
            }
            if started.elapsed() > limit {
                self.fail(&format!("turnover {id} not final after {limit:?}: {s}"));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The pid of the worker started as `worker-<idx>`, if it is still running.
    pub fn worker_pid(&self, idx: usize) -> Option<u32> {
        self.worker_ids
            .iter()
            .position(|i| *i == idx)
            .map(|pos| self.workers[pos].id())
    }

    pub fn kill_worker(&mut self, pid: u32) {
        if let Some(pos) = self.workers.iter().position(|c| c.id() == pid) {
            self.worker_ids.remove(pos);
            let mut c = self.workers.remove(pos);
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn kill_dispatcher(&mut self) {
        if let Some(mut c) = self.dispatcher.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM to a child; returns its exit code once it has stopped.
    pub fn terminate(child: &mut Child, limit: Duration) -> Option<i32> {
        // SAFETY: kill(2) on a pid we spawned and have not reaped.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// Every line the worker processes logged so far, parsed (they log JSON).
    pub fn worker_log_lines(&self) -> Vec<serde_json::Value> {
        let mut lines = Vec::new();
        for e in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !name.ends_with("-worker.log") {
                continue;
            }
            for l in std::fs::read_to_string(e.path()).unwrap().lines() {
                let v = serde_json::from_str(l)
                    .unwrap_or_else(|err| panic!("{name}: not a JSON log line ({err}): {l}"));
                lines.push(v);
            }
        }
        lines
    }

    /// Every log so far, for a failure message.
    pub fn logs(&self) -> String {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.sort();
        let mut out = String::new();
        for p in names
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
        {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            out.push_str(&format!("\n--- {} (last lines)\n", p.display()));
            for l in tail.into_iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    pub fn fail(&self, why: &str) -> ! {
        panic!("{why}\n{}", self.logs());
    }

    /// The farm's bucket, as the farm's processes see it.
    pub async fn store(&self) -> platefarm_store_s3::S3Store {
        let env: std::collections::HashMap<String, String> = self.env.iter().cloned().collect();
        let url = format!("s3://{}", self.s3.bucket());
        let config = platefarm_store_s3::S3Config::from_lookup(&url, |k| env.get(k).cloned())
            .expect("S3 settings");
        platefarm_store_s3::S3Store::new(config)
            .await
            .expect("S3 store")
    }

    /// Objects under `prefix` in the farm's bucket, as (key, bytes).
    pub async fn objects(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        use platefarm_store::ObjectStore;
        let store = self.store().await;
        let mut out = Vec::new();
        for meta in store.list(prefix).await.expect("list the bucket") {
            let bytes = store.get(&meta.key, u64::MAX).await.expect("get");
            out.push((meta.key, bytes));
        }
        out
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        for c in self.workers.iter_mut().chain(self.dispatcher.iter_mut()) {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(db) = self.db.take() {
            db.drop_blocking();
        }
        let _ = self.vhost.take();
        let _ = self.broker.take();
    }
}

pub fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// Every frame delivered exactly once: each shot's outputs are its frames, each key once.
pub fn assert_every_frame_once(farm: &Farm, status: &Value) {
    assert_eq!(
        n(&status["frames_done"]),
        n(&status["frames_total"]),
        "frames: {status}"
    );
    for shot in status["shots"].as_array().unwrap() {
        let name = shot["shot"].as_str().unwrap();
        let keys: Vec<&str> = status["outputs"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        let unique: std::collections::BTreeSet<&&str> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "{name}: a key twice");
        if keys.len() as u64 != n(&shot["frames_total"]) {
            farm.fail(&format!(
                "{name}: {} outputs for {} frames",
                keys.len(),
                n(&shot["frames_total"])
            ));
        }
        assert_eq!(shot["delivery"], "delivered", "{shot}");
    }
}

//! `platefarm autoscaler --actuator process` against the real farm (RabbitMQ, S3, PostgreSQL,
//! `platefarm serve`): nothing queued → no worker; a turnover submitted → workers start within
//! seconds; the queue drained → they are stopped with SIGTERM and exit 0 → none left, and
//! every frame was delivered once.

mod common;

use common::farm::{assert_every_frame_once, free_port, serial, Farm, FarmOptions};
use serde_json::Value;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Autoscaler {
    child: Child,
    addr: std::net::SocketAddr,
}

impl Drop for Autoscaler {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            Farm::terminate(&mut self.child, Duration::from_secs(60));
        }
    }
}

impl Autoscaler {
    fn scaling(&self) -> Value {
        if std::net::TcpStream::connect(self.addr).is_err() {
            return Value::Null;
        }
        let (code, body) = platefarm_testkit::http(self.addr, "GET", "/v1/scaling", b"");
        if code != 200 {
            return Value::Null;
        }
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    /// Polls `/v1/scaling` until `pred` holds; the answer, or the farm's logs on a timeout.
    fn until(
        &self,
        farm: &Farm,
        limit: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let started = Instant::now();
        loop {
            let s = self.scaling();
            if !s.is_null() && pred(&s) {
                return s;
            }
            if started.elapsed() > limit {
                farm.fail(&format!(
                    "{what}: not within {limit:?}; last /v1/scaling: {s}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The log without its ANSI colours.
fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scales_from_zero_to_the_work_and_back_to_zero() {
    let _serial = serial().await;
    let farm = Farm::start(FarmOptions {
        workers: 0,
        ..FarmOptions::default()
    })
    .await;
    let port = free_port();
    let log = std::fs::File::create(farm.dir.path().join("autoscaler.log")).unwrap();
    let child = farm
        .command()
        .args([
            "autoscaler",
            "--actuator",
            "process",
            "--min-workers",
            "0",
            "--max-workers",
            "2",
            "--idle-after",
            "3",
            "--stabilisation",
            "2",
            "--interval",
            "0.5",
            "--startup",
            "1",
            "--drain-target",
            "5",
            "--worker-threads",
            "1",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start platefarm autoscaler");
    let scaler = Autoscaler {
        child,
        addr: format!("127.0.0.1:{port}").parse().unwrap(),
    };

    // Nothing queued: nothing runs, for several evaluations.
    let s = scaler.until(&farm, Duration::from_secs(30), "first evaluation", |s| {
        !s["evaluated_at"].is_null()
    });
    assert_eq!(
        (s["desired_workers"].as_u64(), s["running_workers"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    std::thread::sleep(Duration::from_secs(2));
    let s = scaler.scaling();
    assert_eq!(s["running_workers"], 0, "still idle: {s}");

    let turnover = farm.sample();
    let submitted = Instant::now();
    let id = farm.submit(&turnover);
    let s = scaler.until(&farm, Duration::from_secs(30), "workers started", |s| {
        s["running_workers"].as_u64().unwrap_or(0) >= 1
    });
    let to_worker = submitted.elapsed();
    let mut pids: Vec<u64> = s["worker_pids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(!pids.is_empty(), "{s}");
    // First worker rendering: a chunk running or done.
    let started = Instant::now();
    loop {
        let st = farm.status(&id);
        if st["chunks"]["running"].as_u64().unwrap_or(0) + st["frames_done"].as_u64().unwrap_or(0)
            > 0
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            farm.fail(&format!("no chunk started: {st}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "scale-up: first worker process {:.2} s after the submission, first chunk rendering {:.2} s after it",
        to_worker.as_secs_f64(),
        submitted.elapsed().as_secs_f64()
    );

    let mut most = 0;
    let status = loop {
        most = most.max(scaler.scaling()["running_workers"].as_u64().unwrap_or(0));
        let st = farm.status(&id);
        if st["state"] != "running" {
            break st;
        }
        if submitted.elapsed() > Duration::from_secs(300) {
            farm.fail(&format!("not final after 300 s: {st}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        most, 2,
        "scaled up to --max-workers for 8 chunks due in 5 s"
    );
    assert_eq!(status["state"], "completed", "{status}");
    assert_every_frame_once(&farm, &status);
    let s = scaler.scaling();
    pids.extend(
        s["worker_pids"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_u64),
    );

    // Drained: back to zero after the idle period, every worker stopped gracefully.
    let s = scaler.until(&farm, Duration::from_secs(60), "scaled back to zero", |s| {
        s["desired_workers"] == 0 && s["running_workers"] == 0 && s["stopping_workers"] == 0
    });
    assert_eq!(s["reason"], "nothing to do", "{s}");
    let gone = Instant::now();
    while pids.iter().any(|p| alive(*p)) && gone.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        pids.iter().all(|p| !alive(*p)),
        "workers {pids:?} still running"
    );
    let log = plain(&std::fs::read_to_string(farm.dir.path().join("autoscaler.log")).unwrap());
    assert!(
        log.contains("desired=0 running=0 reason=idle for"),
        "scaled down for idleness:\n{log}"
    );
    let stopped = log.matches("worker exited after SIGTERM").count();
    assert_eq!(
        stopped,
        pids.iter().collect::<std::collections::BTreeSet<_>>().len(),
        "{log}"
    );
    assert!(
        !log.contains("exited on its own"),
        "a worker died instead of being stopped:\n{log}"
    );
    assert_eq!(
        log.matches("exit status: 0").count(),
        stopped,
        "every stopped worker exited 0:\n{log}"
    );

    let mut scaler = scaler;
    let code = Farm::terminate(&mut scaler.child, Duration::from_secs(60));
    assert_eq!(code, Some(0), "the autoscaler exits 0 on SIGTERM");
}

//! `platefarm bench-farm` works end to end against the real components (RabbitMQ vhost, an S3
//! server, PostgreSQL): its efficiency section renders the sample three ways — the embedded farm
//! on a local folder, the embedded farm on the farm's S3 store, worker processes over RabbitMQ
//! and S3 — and reports every baseline. Correctness only: the figures go in `docs/bench.md`.

mod common;

use common::farm::{bin, serial};
use platefarm_testkit::postgres::Database;
use platefarm_testkit::rabbit::Vhost;
use platefarm_testkit::s3::S3Server;
use serde_json::Value;
use std::process::Command;

fn runs(report: &Value, field: &str) -> Vec<f64> {
    report[field]["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("{field} missing in {report:#}"))
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_farm_reports_efficiency_against_one_process_on_both_stores() {
    let _serial = serial().await;
    let vhost = Vhost::new();
    let s3 = S3Server::start();
    let db = Database::create().await;
    let dir = platefarm_testkit::scratch();
    let out = Command::new(bin())
        .envs(s3.env())
        .env_remove("RUST_BACKTRACE")
        .env("RUST_LOG", "warn")
        .args(["bench-farm", "--only", "farm", "--runs", "1", "--json"])
        .args(["--farm-frames", "6", "--chunk-size", "2"])
        .arg("--dir")
        .arg(dir.path())
        .args(["--amqp", &vhost.url(), "--catalog", db.url()])
        .args(["--farm-store", &format!("s3://{}", s3.bucket())])
        .output()
        .expect("running bench-farm");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench-farm failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");

    // The sample: two clips of 6 frames, every frame of each rendered once per run.
    assert_eq!(report["farm_frames"], 12, "{report:#}");
    for field in [
        "embedded_frames_per_s",
        "embedded_same_store_frames_per_s",
        "farm_frames_per_s",
        "farm_efficiency",
        "farm_efficiency_same_store",
    ] {
        let r = runs(&report, field);
        assert_eq!(r.len(), 1, "{field}: {r:?}");
        assert!(r[0].is_finite() && r[0] > 0.0, "{field}: {r:?}");
    }
    // The ratio is what it says: process farm over the same-store baseline.
    let ratio = runs(&report, "farm_frames_per_s")[0]
        / runs(&report, "embedded_same_store_frames_per_s")[0];
    let same = runs(&report, "farm_efficiency_same_store")[0];
    assert!((ratio - same).abs() < 1e-9, "{ratio} vs {same}");
    // Both farms that ran on S3 delivered each shot there: two ASC MHL generations a shot.
    let plates = s3.data_dir().join(s3.bucket()).join("plates");
    for shot in ["SH010", "SH020"] {
        let history = plates.join(shot).join("ascmhl");
        let generations = std::fs::read_dir(&history)
            .unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", history.display()))
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".mhl"))
            .count();
        assert_eq!(generations, 2, "{shot}: {generations} MHL generations");
    }
    db.drop_now().await;
}

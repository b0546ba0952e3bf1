//! The observability and deploy files checked for real: `promtool check config|rules` on
//! deploy/prometheus, the Grafana dashboards against deploy/grafana/dashboard.schema.json, the
//! Kubernetes manifests with kubernetes-validate and the KEDA fields (scripts/check_k8s.py), then
//! a real Prometheus (its own storage, a free port, 1 s scrapes) scraping a farm of processes
//! (`platefarm serve`, two workers, the broker's rabbitmq_prometheus plugin) that renders a
//! small turnover: every dashboard expression (template variables set to real label values)
//! and every alert expression must return data, and every alert rule must evaluate healthy.
//! Alert expressions are evaluated with their comparisons made `bool`: a healthy farm fires
//! none, so the filtered form is empty by design; the `bool` form proves that every metric and
//! label value the rule reads exists. Everything started is stopped on drop, failure included.

mod common;

use common::farm::{free_port, serial, Farm, FarmOptions};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    std::env::var_os("PLATEFARM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/platefarm/venv/bin/python")
        })
}

/// Runs a checker; fails the test with its output unless it exits 0.
fn check(what: &str, cmd: &mut Command) {
    let out = cmd.current_dir(repo()).output().unwrap_or_else(|e| {
        panic!("{what}: cannot run {cmd:?}: {e} (scripts/test.sh installs it)")
    });
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dashboards() -> Vec<(PathBuf, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("deploy/grafana/dashboards"))
        .expect("deploy/grafana/dashboards")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "dashboards: {files:?}");
    files
        .into_iter()
        .map(|p| {
            let v = serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, v)
        })
        .collect()
}

#[test]
fn deploy_files_pass_their_validators() {
    check(
        "promtool check config",
        Command::new("promtool").args(["check", "config", "deploy/prometheus/prometheus.yml"]),
    );
    check(
        "promtool check rules",
        Command::new("promtool").args(["check", "rules", "deploy/prometheus/alerts.yml"]),
    );
    let files: Vec<String> = dashboards()
        .into_iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    check(
        "dashboards against deploy/grafana/dashboard.schema.json",
        Command::new(python())
            .args([
                "-c",
                "import json, sys, jsonschema\n\
                 schema = json.load(open(sys.argv[1]))\n\
                 jsonschema.Draft202012Validator.check_schema(schema)\n\
                 v = jsonschema.Draft202012Validator(schema)\n\
                 bad = [f'{f}: {\"/\".join(map(str, e.absolute_path))}: {e.message}' for f in sys.argv[2:] for e in v.iter_errors(json.load(open(f)))]\n\
                 print('\\n'.join(bad)); sys.exit(1 if bad else 0)",
                "deploy/grafana/dashboard.schema.json",
            ])
            .args(&files),
    );
    let chunks = platefarm_queue::FarmQueues::default().chunks;
    check(
        "deploy/rabbitmq (definitions, plugins and config against docker-compose.yml)",
        Command::new(python()).arg("scripts/check_rabbitmq.py"),
    );
    // And the real broker takes them: imported, the farm's user authenticates with the
    // compose password (the broker's own hashing), then the user is removed again.
    // The broker (another user) reads the file itself: a world-readable copy in /tmp.
    let scratch = tempfile::Builder::new()
        .prefix("platefarm-definitions")
        .tempdir_in("/tmp")
        .unwrap();
    let defs = scratch.path().join("definitions.json");
    std::fs::copy(repo().join("deploy/rabbitmq/definitions.json"), &defs).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&defs, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    check(
        "rabbitmqctl import_definitions deploy/rabbitmq/definitions.json",
        Command::new("rabbitmqctl")
            .args(["-q", "import_definitions"])
            .arg(&defs),
    );
    let auth = Command::new("rabbitmqctl")
        .args(["-q", "authenticate_user", "platefarm", "platefarm"])
        .output()
        .expect("rabbitmqctl");
    let _ = Command::new("rabbitmqctl")
        .args(["-q", "delete_user", "platefarm"])
        .output();
    assert!(
        auth.status.success(),
        "the broker refused the compose credentials after importing the definitions: {}",
        String::from_utf8_lossy(&auth.stderr)
    );
    // The default set (KEDA's metrics-api trigger on the autoscaler's decision) and the
    // queue-length alternative, each a complete set one would apply.
    let default: Vec<String> = [
        "config",
        "dispatcher",
        "worker",
        "autoscaler",
        "keda-scaledobject",
    ]
    .iter()
    .map(|n| format!("deploy/k8s/{n}.yaml"))
    .collect();
    let queue_length: Vec<String> = [
        "config",
        "dispatcher",
        "worker",
        "queue-length/keda-scaledobject",
    ]
    .iter()
    .map(|n| format!("deploy/k8s/{n}.yaml"))
    .collect();
    // Both at once is refused: two ScaledObjects would fight over the worker Deployment.
    let both: Vec<String> = default.iter().chain(&queue_length[3..]).cloned().collect();
    let out = Command::new(python())
        .arg("scripts/check_k8s.py")
        .arg(&chunks)
        .args(&both)
        .current_dir(repo())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && said.contains("KEDA allows one"),
        "{said}"
    );
    for (what, manifests) in [("metrics-api", default), ("queue-length", queue_length)] {
        check(
            &format!("deploy/k8s, {what} set (kubernetes-validate and the KEDA fields)"),
            Command::new(python())
                .arg("scripts/check_k8s.py")
                .arg(&chunks)
                .args(&manifests),
        );
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Prometheus server of the test's own, killed on drop.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(farm: &Farm, autoscaler: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("scratch");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let quoted = |v: &[String]| {
            v.iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files: [\"{rules}\"]\n\
             scrape_configs:\n\
             - job_name: platefarm-dispatcher\n  static_configs: [{{targets: [{api}]}}]\n\
             - job_name: platefarm-worker\n  static_configs: [{{targets: [{workers}]}}]\n\
             - job_name: platefarm-autoscaler\n  static_configs: [{{targets: [\"{autoscaler}\"]}}]\n\
             - job_name: rabbitmq\n  static_configs: [{{targets: [\"127.0.0.1:15692\"]}}]\n",
            rules = repo().join("deploy/prometheus/alerts.yml").display(),
            api = quoted(&[farm.api.trim_start_matches("http://").to_string()]),
            workers = quoted(&farm.worker_metrics),
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus (scripts/test.sh installs it)");
        let p = Prometheus { child, addr, dir };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if std::net::TcpStream::connect(addr).is_ok()
                && platefarm_testkit::http(addr, "GET", "/-/ready", b"").0 == 200
            {
                return p;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("prometheus did not become ready:\n{}", p.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    fn get(&self, path: &str) -> Value {
        let (status, body) = platefarm_testkit::http(self.addr, "GET", path, b"");
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("GET {path}: {status} {body}"))
    }

    /// The result vector of an instant query (Err with Prometheus's error).
    fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let v = self.get(&format!("/api/v1/query?query={}", encode(expr)));
        if v["status"] != "success" {
            return Err(format!("{}: {}", v["errorType"], v["error"]));
        }
        Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `expr` with every comparison outside label matchers and strings made `bool`
/// (`a > 0` → `a > bool 0`), so it returns its operands' series instead of filtering them.
fn with_bool_comparisons(expr: &str) -> String {
    let chars: Vec<char> = expr.chars().collect();
    let (mut out, mut braces, mut quote, mut i) = (String::new(), 0usize, None, 0);
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{') => braces += 1,
            (None, '}') => braces = braces.saturating_sub(1),
            (None, '=' | '!' | '>' | '<') if braces == 0 => {
                let op_len = if next == Some('=') { 2 } else { 1 };
                if c == '!' && op_len == 1 {
                    out.push(c);
                    i += 1;
                    continue;
                }
                out.extend(&chars[i..i + op_len]);
                i += op_len;
                let rest: String = chars[i..].iter().collect();
                if !rest.trim_start().starts_with("bool") {
                    out.push_str(" bool");
                }
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

#[test]
fn comparisons_are_made_bool_outside_label_matchers() {
    assert_eq!(
        with_bool_comparisons(r#"sum(x{a!="b",c=~"d>"}) > 0 and y == bool 1"#),
        r#"sum(x{a!="b",c=~"d>"}) > bool 0 and y == bool 1"#
    );
    assert_eq!(
        with_bool_comparisons("a <= b != c"),
        "a <= bool b != bool c"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_and_alert_expression_returns_data_on_a_real_farm() {
    let _serial = serial().await;
    assert!(
        std::net::TcpStream::connect("127.0.0.1:15692").is_ok(),
        "RabbitMQ's prometheus plugin is not on :15692: rabbitmq-plugins enable rabbitmq_prometheus (scripts/test.sh does)"
    );
    let farm = Farm::start(FarmOptions {
        frames: 4,
        ..FarmOptions::default()
    })
    .await;
    // The autoscaler as on Kubernetes: it observes and serves its decision, KEDA acts.
    let autoscaler = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(farm.dir.path().join("autoscaler.log")).unwrap();
    let _autoscaler = KillOnDrop(
        farm.command()
            .args(["autoscaler", "--actuator", "external", "--interval", "0.5"])
            .args(["--listen", &autoscaler])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start platefarm autoscaler"),
    );
    let prom = Prometheus::start(&farm, &autoscaler);
    let turnover = farm.sample();
    let id = farm.submit(&turnover);
    let status = farm.wait_final(&id, Duration::from_secs(300));
    assert_eq!(status["state"], "completed", "{status}");

    // Every target up, and the finished turnover's frames seen by a scrape.
    let started = Instant::now();
    loop {
        let up = prom.query("sum(up)").unwrap_or_default();
        let done = prom
            .query("platefarm_dispatcher_frames_done_total > 0")
            .unwrap_or_default();
        let targets = 3 + farm.worker_metrics.len();
        if up.first().and_then(|r| r["value"][1].as_str()) == Some(&targets.to_string())
            && !done.is_empty()
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            farm.fail(&format!(
                "prometheus did not scrape every target: up {up:?}, targets {}\n{}",
                prom.get("/api/v1/targets"),
                prom.log()
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(3));

    let mut exprs: Vec<(String, String)> = Vec::new();
    for (path, dash) in dashboards() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut vars: Vec<(String, String)> = Vec::new();
        for var in dash["templating"]["list"].as_array().unwrap() {
            let q = var["query"].as_str().unwrap();
            let (metric, label) = q
                .trim_start_matches("label_values(")
                .trim_end_matches(')')
                .split_once(',')
                .unwrap_or_else(|| panic!("{name}: variable query {q}"));
            let values = prom.get(&format!(
                "/api/v1/label/{}/values?match[]={}",
                label.trim(),
                encode(metric.trim())
            ));
            let first = values["data"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no value for {q}: {values}"));
            vars.push((var["name"].as_str().unwrap().to_string(), first.to_string()));
        }
        // Longest names first, so `$worker` never eats part of `$workers`.
        vars.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        for panel in dash["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let mut e = target["expr"]
                    .as_str()
                    .unwrap()
                    .replace("$__rate_interval", "30s");
                for (n, v) in &vars {
                    e = e
                        .replace(&format!("${{{n}}}"), v)
                        .replace(&format!("${n}"), v);
                }
                assert!(!e.contains('$'), "{name}: unsubstituted variable in {e}");
                exprs.push((format!("{name}: {}", panel["title"]), e));
            }
        }
    }

    // The alert rules as Prometheus loaded them; each must have been evaluated without error.
    let started = Instant::now();
    let rules = loop {
        let v = prom.get("/api/v1/rules?type=alert");
        let rules: Vec<Value> = v["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        if !rules.is_empty() && rules.iter().all(|r| r["health"] == "ok") {
            break rules;
        }
        if started.elapsed() > Duration::from_secs(20) {
            panic!("alert rules not all healthy: {v}");
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(rules.len() >= 8, "alert rules: {rules:?}");
    for r in &rules {
        let query = r["query"].as_str().unwrap();
        exprs.push((format!("alert {}", r["name"]), with_bool_comparisons(query)));
    }

    let mut failures = Vec::new();
    for (what, e) in &exprs {
        match prom.query(e) {
            Ok(result) if !result.is_empty() => {}
            Ok(_) => failures.push(format!("{what}: no data for {e}")),
            Err(err) => failures.push(format!("{what}: {err} in {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} expressions failed:\n{}",
        failures.len(),
        exprs.len(),
        failures.join("\n")
    );
}

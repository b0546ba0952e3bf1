//! RabbitMQ for tests: a throwaway vhost on the machine's broker (`Vhost`), and a whole
//! broker node of a test's own that it can stop and start again (`BrokerNode`).
//!
//! Both drive the real broker through `rabbitmqctl` (the tests run as root); nothing here
//! fakes RabbitMQ. Helpers panic with what went wrong: they are test set-up.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The machine's broker (see the test command's set-up).
pub const HOST: &str = "127.0.0.1";
pub const AMQP_PORT: u16 = 5672;
pub const MANAGEMENT_URL: &str = "http://127.0.0.1:15672";

const RABBITMQ_SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const RABBITMQ_HOME: &str = "/var/lib/rabbitmq";

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A name no other test process or test in this process uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos:x}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `rabbitmqctl args…`, panicking with its output on failure.
pub fn rabbitmqctl(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running rabbitmqctl {args:?}: {e}"));
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Percent-encodes a vhost for an AMQP URL path.
fn encode_vhost(vhost: &str) -> String {
    vhost
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A vhost of its own on the machine's broker, with full permissions for guest; deleted
/// (with everything in it) on drop. Tests isolate themselves this way, not by queue names.
pub struct Vhost {
    name: String,
}

impl Vhost {
    pub fn new() -> Self {
        let name = unique("pf-test");
        rabbitmqctl(&["add_vhost", &name]);
        rabbitmqctl(&["set_permissions", "-p", &name, "guest", ".*", ".*", ".*"]);
        Vhost { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `amqp://guest:guest@127.0.0.1:5672/<vhost>`
    pub fn url(&self) -> String {
        format!(
            "amqp://guest:guest@{HOST}:{AMQP_PORT}/{}",
            encode_vhost(&self.name)
        )
    }

    /// The management API of the machine's broker. Enables the plugin if needed (idempotent,
    /// online) so `depth` can report unacked counts.
    pub fn management_url(&self) -> String {
        let up = TcpStream::connect((HOST, 15672)).is_ok();
        if !up {
            let out = Command::new("rabbitmq-plugins")
                .args(["enable", "rabbitmq_management"])
                .output()
                .expect("running rabbitmq-plugins");
            assert!(
                out.status.success(),
                "enabling rabbitmq_management: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            wait_for_port(15672, Duration::from_secs(60));
        }
        MANAGEMENT_URL.to_string()
    }
}

impl Default for Vhost {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        // Never panic in drop (it may run during a failing test's unwinding).
        let _ = Command::new("rabbitmqctl")
            .args(["delete_vhost", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((HOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while TcpStream::connect((HOST, port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "nothing listening on {HOST}:{port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A RabbitMQ node of the test's own (`pf-<unique>@localhost`) on free ports, its data and
/// logs in a temp dir owned by `rabbitmq`. Durable queues and persistent messages survive
/// `stop` + `start_again`. Killed and cleaned up on drop.
pub struct BrokerNode {
    node: String,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl BrokerNode {
    /// Starts the node and waits until it accepts AMQP connections.
    pub fn start() -> Self {
        let node = format!("{}@localhost", unique("pf"));
        let port = free_port();
        let dir = tempfile::Builder::new()
            .prefix("pf-rabbit-")
            .tempdir()
            .expect("temp dir for the broker node");
        let (uid, gid) = rabbitmq_ids();
        for sub in ["mnesia", "log"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("broker node dirs");
        }
        // Our own config: the machine's rabbitmq.conf pins port 5672 and its enabled plugins
        // would bind the management port, both taken by the machine's node.
        std::fs::write(
            dir.path().join("rabbitmq.conf"),
            format!("listeners.tcp.local = {HOST}:{port}\n"),
        )
        .expect("broker node config");
        std::fs::write(dir.path().join("enabled_plugins"), "[].\n").expect("plugins file");
        std::fs::write(dir.path().join("rabbitmq-env.conf"), "").expect("env file");
        chown_tree(dir.path(), uid, gid);
        let mut broker = BrokerNode {
            node,
            port,
            dir,
            child: None,
        };
        broker.spawn();
        broker
    }

    /// `amqp://guest:guest@127.0.0.1:<port>/%2f`
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@{HOST}:{}/%2f", self.port)
    }

    pub fn node_name(&self) -> &str {
        &self.node
    }

    /// Stops the node cleanly (`rabbitmqctl -n NODE stop`) and waits for it to exit.
    pub fn stop(&mut self) {
        rabbitmqctl(&["-n", &self.node, "stop"]);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }

    /// Starts the stopped node again on the same port with the same data.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "start_again on a running node");
        self.spawn();
    }

    fn spawn(&mut self) {
        let d = self.dir.path();
        let dist_port = free_port();
        let env: Vec<(&str, String)> = vec![
            ("HOME", RABBITMQ_HOME.into()),
            ("RABBITMQ_NODENAME", self.node.clone()),
            ("RABBITMQ_NODE_IP_ADDRESS", HOST.into()),
            ("RABBITMQ_NODE_PORT", self.port.to_string()),
            ("RABBITMQ_DIST_PORT", dist_port.to_string()),
            ("RABBITMQ_MNESIA_BASE", path(&d.join("mnesia"))),
            ("RABBITMQ_LOG_BASE", path(&d.join("log"))),
            ("RABBITMQ_PID_FILE", path(&d.join("node.pid"))),
            ("RABBITMQ_CONFIG_FILE", path(&d.join("rabbitmq.conf"))),
            (
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                path(&d.join("enabled_plugins")),
            ),
            ("RABBITMQ_CONF_ENV_FILE", path(&d.join("rabbitmq-env.conf"))),
            ("ERL_EPMD_ADDRESS", HOST.into()),
        ];
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "rabbitmq", "--", "env"]);
        for (k, v) in &env {
            cmd.arg(format!("{k}={v}"));
        }
        cmd.arg(RABBITMQ_SERVER)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {RABBITMQ_SERVER} as rabbitmq: {e}"));
        self.child = Some(child);
        let start = Instant::now();
        while TcpStream::connect((HOST, self.port)).is_err() {
            if let Some(Some(status)) = self.child.as_mut().map(|c| c.try_wait().ok().flatten()) {
                panic!(
                    "broker node {} exited with {status} while starting; logs in {}",
                    self.node,
                    d.join("log").display()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "broker node {} not listening on {} after 90 s; logs in {}",
                self.node,
                self.port,
                d.join("log").display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for BrokerNode {
    /// Stops the node; if it is still running after that, kills exactly its own processes by
    /// id (the beam from the node's pid file, checked to carry this node's name, and the
    /// `runuser` we spawned). Never signals a process group.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("timeout")
            .args(["60", "rabbitmqctl", "-n", &self.node, "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(beam) = std::fs::read_to_string(self.dir.path().join("node.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            let ours = || {
                std::fs::read(format!("/proc/{beam}/cmdline"))
                    .map(|cmd| String::from_utf8_lossy(&cmd).contains(&self.node))
                    .unwrap_or(false)
            };
            // `rabbitmqctl stop` returns as the node shuts down; give beam a moment to exit.
            let start = Instant::now();
            while ours() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(100));
            }
            if ours() {
                let _ = Command::new("kill")
                    .args(["-KILL", &beam.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
        }
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
        }
        let _ = child.wait();
    }
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn rabbitmq_ids() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "rabbitmq"])
            .output()
            .expect("running id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("the rabbitmq user exists")
    };
    (id("-u"), id("-g"))
}

fn chown_tree(root: &Path, uid: u32, gid: u32) {
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        std::os::unix::fs::chown(&p, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
        if p.is_dir() {
            for entry in std::fs::read_dir(&p).expect("read broker dir") {
                stack.push(entry.expect("dir entry").path());
            }
        }
    }
}

//! A real S3 server for tests: `s3s-fs` (SigV4, multipart, buckets as folders) on a free
//! loopback port over a fresh temp dir, with a bucket created, and `stop`/`start_again` on the
//! same port and data for outage tests. Killed on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the test command installs the server when it is missing.
pub const INSTALL: &str = "cargo install s3s-fs@0.14.1 --features binary --locked";

/// A running `s3s-fs` with one bucket.
pub struct S3Server {
    child: Option<Child>,
    binary: PathBuf,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    bucket: String,
}

impl S3Server {
    pub const ACCESS_KEY: &'static str = "platefarm-test-access";
    pub const SECRET_KEY: &'static str = "platefarm-test-secret-key";
    pub const REGION: &'static str = "us-east-1";

    /// Starts a server with the bucket `platefarm-test`. Panics (with the install command) when
    /// `s3s-fs` is not installed, or with the server's log when it does not come up.
    pub fn start() -> S3Server {
        S3Server::start_with_bucket("platefarm-test")
    }

    pub fn start_with_bucket(bucket: &str) -> S3Server {
        let binary = find_binary();
        let dir = crate::scratch();
        // s3s-fs serves each top-level folder of its root as a bucket.
        std::fs::create_dir_all(dir.path().join("data").join(bucket)).expect("create the bucket");
        let addr = free_port();
        let mut server = S3Server {
            child: None,
            binary,
            addr,
            dir,
            bucket: bucket.to_string(),
        };
        server.start_again();
        server
    }

    /// Makes another bucket (a folder of the server's root), for tests that want a fresh one.
    pub fn create_bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.data_dir().join(bucket)).expect("create the bucket");
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn access_key(&self) -> &str {
        Self::ACCESS_KEY
    }

    pub fn secret_key(&self) -> &str {
        Self::SECRET_KEY
    }

    pub fn region(&self) -> &str {
        Self::REGION
    }

    /// The server's root: one folder per bucket, one file per object.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// What a child process needs to reach this server through the standard AWS variables.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", Self::ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", Self::SECRET_KEY.to_string()),
            ("AWS_REGION", Self::REGION.to_string()),
            ("PLATEFARM_S3_FORCE_PATH_STYLE", "true".to_string()),
        ]
    }

    /// Kills the server (the port and the data stay ours): requests now fail to connect.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts the server on the same port over the same data; returns once it accepts
    /// connections.
    pub fn start_again(&mut self) {
        self.stop();
        let log_path = self.dir.path().join("s3s-fs.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("open the server log");
        let child = Command::new(&self.binary)
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(self.addr.port().to_string())
            .arg("--access-key")
            .arg(Self::ACCESS_KEY)
            .arg("--secret-key")
            .arg(Self::SECRET_KEY)
            .arg(self.data_dir())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.binary.display()));
        self.child = Some(child);
        self.wait_until_up(&log_path);
    }

    fn wait_until_up(&mut self, log_path: &Path) {
        // Start-up is a few milliseconds; the generous bound only keeps a broken install from
        // hanging the suite.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                panic!(
                    "s3s-fs did not come up on {} (exit: {exited:?}); log:\n{log}",
                    self.addr
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `PLATEFARM_S3S_FS`, then `s3s-fs` in `~/.cargo/bin`, then on `PATH`.
fn find_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PLATEFARM_S3S_FS") {
        return PathBuf::from(p);
    }
    let mut candidates = Vec::new();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        candidates.push(Path::new(&home).join("bin/s3s-fs"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join(".cargo/bin/s3s-fs"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("s3s-fs")));
    }
    candidates
        .into_iter()
        .find(|c| c.is_file())
        .unwrap_or_else(|| {
            panic!(
                "s3s-fs (the S3 server the store tests use) is not installed: run `{INSTALL}` \
                 (scripts/test.sh does) or set PLATEFARM_S3S_FS"
            )
        })
}

/// A loopback port nobody listens on right now (the OS picks it; we release it for s3s-fs).
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local addr")
}

//! Test-only helpers shared by every crate's tests: where the reference tools' Python venv
//! lives, where the shared vectors are, and running a Python oracle script.
//!
//! The test command (`scripts/test.sh`) creates the venv and exports `PLATEFARM_PYTHON`;
//! without it we fall back to the default cache location so `cargo test` works after one
//! run of the test command.

pub mod postgres;
pub mod rabbit;
pub mod s3;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python interpreter of the reference-tool venv (rawpy, OpenEXR, ascmhl, opencolorio…).
///
/// Panics with set-up instructions when the venv is missing: tests that need a reference
/// tool must not silently pass without it.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PLATEFARM_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    let default = Path::new(&home).join(".cache/platefarm/venv/bin/python");
    assert!(
        default.exists(),
        "reference-tool venv not found at {} — run `scripts/test.sh` once (it creates it) \
         or set PLATEFARM_PYTHON",
        default.display()
    );
    default
}

/// A program installed in the venv's `bin/` (e.g. `ascmhl`, `oiiotool`).
pub fn venv_tool(name: &str) -> PathBuf {
    let py = python();
    py.parent().expect("python lives in a bin dir").join(name)
}

/// Runs `python -c script args…`, returns stdout; panics with stderr on failure.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python oracle failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python prints UTF-8")
}

/// `../shared/vectors` relative to the workspace (or `PLATEFARM_VECTORS`).
pub fn vectors_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("PLATEFARM_VECTORS") {
        return PathBuf::from(p);
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = here
        .parent()
        .and_then(Path::parent)
        .expect("crates/testkit");
    let candidates = [
        workspace.join("../shared/vectors"),
        workspace.join("shared/vectors"),
        workspace.join("../../shared/vectors"),
        // Where this project's CI machine keeps the shared reference data.
        PathBuf::from("/work/shared/vectors"),
    ];
    for c in &candidates {
        if c.is_dir() {
            return c.canonicalize().expect("vectors dir resolves");
        }
    }
    panic!("shared vectors not found next to the workspace; set PLATEFARM_VECTORS")
}

/// A fresh scratch directory removed on drop.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("platefarm-test-")
        .tempdir()
        .expect("temp dir")
}

/// A minimal blocking HTTP/1.1 client for tests of our own servers on loopback:
/// returns (status code, body).
pub fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    http_with(addr, method, path, &[], body)
}

/// `http` with extra request headers (`("Authorization", "Bearer t")`).
pub fn http_with(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the test server");
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write request");
    // A server may answer (413) and close before taking the whole body: read its answer.
    if let Err(e) = s.write_all(body) {
        assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "write body: {e}"
        );
    }
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read response");
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("HTTP status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    // Chunked bodies from axum: strip the chunk-size lines.
    let body = if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body)
    } else {
        body
    };
    (status, body)
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size_line, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size_line.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// A small deterministic PRNG (xorshift64*) for mutation corpora, so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// A mutation of `input`: one to `max_edits` truncations, bit flips, inserted bytes (from
/// `alphabet`) or duplicated runs — what a fuzzer's first minutes produce.
pub fn mutate(rng: &mut Rng, input: &[u8], max_edits: usize, alphabet: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(max_edits) {
        if v.is_empty() {
            break;
        }
        let at = rng.below(v.len());
        match rng.below(4) {
            0 => v.truncate(at.max(1)),
            1 => v[at] ^= 1 << rng.below(8),
            2 => v.insert(at, alphabet[rng.below(alphabet.len())]),
            _ => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                let chunk = v[at..end].to_vec();
                v.splice(at..at, chunk);
            }
        }
    }
    v
}

/// A raw little-endian f32 dump (what the Python oracles write with `tofile`).
pub fn read_f32_le(path: impl AsRef<Path>) -> Vec<f32> {
    let bytes =
        std::fs::read(path.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()));
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect()
}

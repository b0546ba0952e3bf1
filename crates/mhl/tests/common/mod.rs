//! Shared helpers for the integration tests: scratch trees, running the ASC reference tool,
//! and reading its verify output into per-path classes.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Runs a venv tool (`ascmhl`, `ascmhl-debug`) in `cwd`: (exit code, stdout + stderr).
pub fn tool(args: &[&str], cwd: &Path) -> (i32, String) {
    let out = Command::new(platefarm_testkit::venv_tool(args[0]))
        .args(&args[1..])
        .current_dir(cwd)
        .output()
        .expect("ascmhl runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

pub fn ascmhl_verify(root: &Path) -> (i32, String) {
    tool(
        &["ascmhl-debug", "verify", root.to_str().unwrap()],
        root.parent().unwrap(),
    )
}

/// A small delivery: nested folders, an empty file, a file over the 1 MiB read buffer.
pub fn sample_tree(root: &Path) {
    std::fs::create_dir_all(root.join("SH010")).unwrap();
    std::fs::create_dir_all(root.join("SH020/sub")).unwrap();
    for (p, n) in [
        ("SH010/SH010.0001.exr", 3000usize),
        ("SH010/SH010.0002.exr", (1 << 20) + 4321),
        ("SH020/sub/a.txt", 5),
        ("SH020/b.amf", 0),
        ("readme.txt", 12),
        ("Zebra.txt", 7),
    ] {
        std::fs::write(
            root.join(p),
            (0..n).map(|i| (i * 7 % 251) as u8).collect::<Vec<_>>(),
        )
        .unwrap();
    }
}

/// Per-path classes from `ascmhl-debug verify` output: "mismatch", "new", "missing".
pub fn ascmhl_classes(output: &str) -> BTreeMap<String, &'static str> {
    let mut out = BTreeMap::new();
    let mut in_missing = false;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("found new file ") {
            out.insert(rest.trim().to_string(), "new");
            in_missing = false;
        } else if let Some(rest) = line.strip_prefix("ERROR: hash mismatch") {
            let rest = rest.trim_start().trim_start_matches("for").trim_start();
            let path = rest.split(" old ").next().unwrap().trim().to_string();
            out.insert(path, "mismatch");
            in_missing = false;
        } else if line.contains("missing file(s):") {
            in_missing = true;
        } else if in_missing && line.starts_with("  ") {
            out.insert(line.trim().to_string(), "missing");
        } else {
            in_missing = false;
        }
    }
    out
}

/// Our report in the same classes (verified files left out).
pub fn our_classes(r: &platefarm_mhl::VerifyReport) -> BTreeMap<String, &'static str> {
    use platefarm_mhl::FileOutcome;
    r.outcomes
        .iter()
        .filter_map(|(p, o)| {
            let c = match o {
                FileOutcome::Verified => return None,
                FileOutcome::New => "new",
                FileOutcome::Missing => "missing",
                FileOutcome::Mismatch { .. } => "mismatch",
            };
            Some((p.clone(), c))
        })
        .collect()
}

/// The XSDs in `<dir>/xsd/`, the directory schema importing the local manifest schema.
pub fn install_xsd(dir: &Path) {
    let xsd = dir.join("xsd");
    std::fs::create_dir_all(&xsd).unwrap();
    let vectors = platefarm_testkit::vectors_dir().join("mhl");
    std::fs::copy(vectors.join("ASCMHL.xsd"), xsd.join("ASCMHL.xsd")).unwrap();
    let directory = std::fs::read_to_string(vectors.join("ASCMHLDirectory.xsd")).unwrap();
    let local = directory.replace(
        "https://raw.githubusercontent.com/ascmitc/mhl/master/xsd/ASCMHL.xsd",
        "ASCMHL.xsd",
    );
    std::fs::write(xsd.join("ASCMHLDirectory.xsd"), local).unwrap();
}

//! Our histories against the ASC reference tool (`ascmhl`) and the ASC reference scenario.

use chrono::{DateTime, Utc};
use platefarm_mhl::*;
use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
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

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ascmhl(args: &[&str], cwd: &Path) -> (bool, String) {
    let out = Command::new(platefarm_testkit::venv_tool(args[0]))
        .args(&args[1..])
        .current_dir(cwd)
        .output()
        .expect("ascmhl runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn sample_tree(root: &Path) {
    std::fs::create_dir_all(root.join("SH010")).unwrap();
    std::fs::create_dir_all(root.join("SH020/sub")).unwrap();
    for (p, n) in [
        ("SH010/SH010.0001.exr", 3000usize),
        ("SH010/SH010.0002.exr", 70_000),
        ("SH020/sub/a.txt", 5),
        ("SH020/b.amf", 0),
        ("readme.txt", 12),
    ] {
        std::fs::write(
            root.join(p),
            (0..n).map(|i| (i * 7 % 251) as u8).collect::<Vec<_>>(),
        )
        .unwrap();
    }
}

#[test]
fn the_reference_scenario_verifies_and_our_directory_hashes_match_it() {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("A002R2EC");
    copy_dir(
        &platefarm_testkit::vectors_dir().join("mhl/scenario_02_file_server_A002R2EC"),
        &root,
    );
    let report = verify(&root).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.outcomes.len(), 3);
    let reference = recorded_directory_hashes(&root).unwrap();
    // A new generation computes the directory hashes afresh with our code.
    create_generation(&root, &CreateOptions::new(at("2026-11-25T10:00:00Z"))).unwrap();
    let ours = recorded_directory_hashes(&root).unwrap();
    for (path, content, structure) in &reference {
        let mine = ours.iter().rev().find(|(p, _, _)| p == path).unwrap();
        assert_eq!(
            (&mine.1, &mine.2),
            (content, structure),
            "directory {path:?}"
        );
    }
    let (ok, out) = ascmhl(
        &["ascmhl-debug", "verify", root.to_str().unwrap()],
        dir.path(),
    );
    assert!(ok, "ascmhl verify after our third generation:\n{out}");
}

#[test]
fn our_histories_pass_the_reference_tool() {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("delivery");
    sample_tree(&root);
    for format in HashFormat::ALL {
        let _ = std::fs::remove_dir_all(root.join("ascmhl"));
        let opts = CreateOptions {
            format,
            ..CreateOptions::new(at("2026-11-25T09:00:00Z"))
        };
        let g = create_generation(&root, &opts).unwrap();
        assert_eq!((g.generation, g.files), (1, 5));
        let (ok, out) = ascmhl(
            &["ascmhl-debug", "verify", root.to_str().unwrap()],
            dir.path(),
        );
        assert!(ok, "{format:?}: ascmhl verify failed:\n{out}");
        let (ok, out) = ascmhl(&["ascmhl", "diff", root.to_str().unwrap()], dir.path());
        assert!(ok, "{format:?}: ascmhl diff failed:\n{out}");
    }
    // XSD check: the tool reads xsd/ relative to its working directory.
    std::fs::create_dir_all(dir.path().join("xsd")).unwrap();
    for x in ["ASCMHL.xsd", "ASCMHLDirectory.xsd"] {
        std::fs::copy(
            platefarm_testkit::vectors_dir().join("mhl").join(x),
            dir.path().join("xsd").join(x),
        )
        .unwrap();
    }
    let manifest = std::fs::read_dir(root.join("ascmhl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "mhl"))
        .unwrap();
    let (ok, out) = ascmhl(
        &[
            "ascmhl-debug",
            "xsd-schema-check",
            manifest.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(
        ok && !out.to_lowercase().contains("error"),
        "xsd-schema-check:\n{out}"
    );
}

#[test]
fn changes_are_detected_like_the_reference_tool() {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("delivery");
    sample_tree(&root);
    create_generation(&root, &CreateOptions::new(at("2026-11-25T09:00:00Z"))).unwrap();
    assert!(verify(&root).unwrap().is_ok());
    std::fs::write(root.join("SH010/SH010.0001.exr"), b"changed").unwrap();
    std::fs::remove_file(root.join("readme.txt")).unwrap();
    std::fs::write(root.join("SH020/new.txt"), b"new").unwrap();
    let r = verify(&root).unwrap();
    assert!(matches!(
        r.outcomes["SH010/SH010.0001.exr"],
        FileOutcome::Mismatch { .. }
    ));
    assert_eq!(r.outcomes["readme.txt"], FileOutcome::Missing);
    assert_eq!(r.outcomes["SH020/new.txt"], FileOutcome::New);
    assert_eq!(r.outcomes["SH010/SH010.0002.exr"], FileOutcome::Verified);
    let (ok, out) = ascmhl(
        &["ascmhl-debug", "verify", root.to_str().unwrap()],
        dir.path(),
    );
    assert!(!ok, "ascmhl must fail too:\n{out}");
    assert!(out.contains("SH010.0001.exr"), "{out}");
    assert!(out.contains("readme.txt"), "{out}");
}

#[test]
fn a_second_generation_records_verified_and_new_files() {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("delivery");
    sample_tree(&root);
    create_generation(&root, &CreateOptions::new(at("2026-11-25T09:00:00Z"))).unwrap();
    std::fs::write(root.join("SH010/SH010.0003.exr"), b"frame three").unwrap();
    let g = create_generation(&root, &CreateOptions::new(at("2026-11-25T11:30:00Z"))).unwrap();
    assert_eq!(g.generation, 2);
    assert_eq!(g.outcomes["SH010/SH010.0003.exr"], FileOutcome::New);
    assert_eq!(g.outcomes["readme.txt"], FileOutcome::Verified);
    let text = std::fs::read_to_string(&g.manifest).unwrap();
    assert!(text.contains("action=\"verified\"") && text.contains("action=\"original\""));
    let hist = info(&root).unwrap();
    assert_eq!(hist.generations.len(), 2);
    assert_eq!(hist.generations[1].files, 6);
    let (ok, out) = ascmhl(
        &["ascmhl-debug", "verify", root.to_str().unwrap()],
        dir.path(),
    );
    assert!(ok, "{out}");
    let (ok, out) = ascmhl(&["ascmhl", "info", root.to_str().unwrap()], dir.path());
    assert!(
        ok && out.contains("Generation 2 (2026-11-25T11:30:00+00:00)"),
        "{out}"
    );
}

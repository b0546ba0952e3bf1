//! Changes after a generation (changed byte, deleted file, added file, edited manifest) are
//! classified by our verifier exactly as by the reference tool; later generations record
//! verified / original / failed hashes and grow the chain.

mod common;
use common::*;
use platefarm_mhl::*;
use std::path::{Path, PathBuf};

fn delivered() -> (tempfile::TempDir, PathBuf) {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("delivery");
    sample_tree(&root);
    create_generation(&root, &CreateOptions::new(at("2026-11-25T09:00:00Z"))).unwrap();
    (dir, root)
}

fn flip_one_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// Our classes and exit code equal the reference tool's; returns our report.
fn check_same_as_ascmhl(root: &Path, expected_code: i32) -> VerifyReport {
    let ours = verify(root).unwrap();
    let (code, out) = ascmhl_verify(root);
    assert_eq!(code, expected_code, "ascmhl exit code:\n{out}");
    assert_eq!(ours.exit_code(), code, "our exit-code equivalent: {ours:?}");
    assert_eq!(
        our_classes(&ours),
        ascmhl_classes(&out),
        "ascmhl said:\n{out}"
    );
    ours
}

#[test]
fn a_changed_byte_is_a_hash_mismatch_for_both() {
    let (_dir, root) = delivered();
    flip_one_byte(&root.join("SH010/SH010.0002.exr"));
    let r = check_same_as_ascmhl(&root, 11);
    assert!(matches!(
        &r.outcomes["SH010/SH010.0002.exr"],
        FileOutcome::Mismatch { format: HashFormat::Xxh64, expected, actual } if expected != actual
    ));
    assert_eq!(r.count(|o| *o == FileOutcome::Verified), 5);
    // The content hash of the folder and the root changes; the structure hashes too (they
    // include the child hashes).
    let dirs: Vec<&str> = r.directories.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(dirs, [".", "SH010"]);
    assert!(r.directories.iter().all(|d| d.content.is_some()));
}

#[test]
fn a_deleted_file_is_missing_for_both() {
    let (_dir, root) = delivered();
    std::fs::remove_file(root.join("readme.txt")).unwrap();
    let r = check_same_as_ascmhl(&root, 10);
    assert_eq!(r.outcomes["readme.txt"], FileOutcome::Missing);
}

#[test]
fn a_deleted_folder_is_missing_for_both() {
    let (_dir, root) = delivered();
    std::fs::remove_dir_all(root.join("SH020/sub")).unwrap();
    let r = check_same_as_ascmhl(&root, 10);
    assert_eq!(r.outcomes["SH020/sub"], FileOutcome::Missing);
    assert_eq!(r.outcomes["SH020/sub/a.txt"], FileOutcome::Missing);
}

#[test]
fn an_added_file_is_new_for_both() {
    let (_dir, root) = delivered();
    std::fs::write(root.join("SH020/new.txt"), b"new").unwrap();
    let r = check_same_as_ascmhl(&root, 21);
    assert_eq!(r.outcomes["SH020/new.txt"], FileOutcome::New);
}

#[test]
fn all_three_at_once_are_classified_alike_and_mismatch_wins_the_exit_code() {
    let (_dir, root) = delivered();
    flip_one_byte(&root.join("SH010/SH010.0001.exr"));
    std::fs::remove_file(root.join("Zebra.txt")).unwrap();
    std::fs::write(root.join("SH010/SH010.0003.exr"), b"frame three").unwrap();
    let r = check_same_as_ascmhl(&root, 11);
    assert_eq!(our_classes(&r).len(), 3);
}

#[test]
fn an_edited_manifest_breaks_the_chain_for_both() {
    let (_dir, root) = delivered();
    let manifest = std::fs::read_dir(root.join("ascmhl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "mhl"))
        .unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("<hostname>", "<hostname>x")).unwrap();
    let r = verify(&root).unwrap();
    assert!(matches!(
        &r.chain[..],
        [ChainProblem::ModifiedManifest { .. }]
    ));
    let (code, out) = ascmhl_verify(&root);
    assert_eq!((code, r.exit_code()), (31, 31), "{out}");
    // A damaged history gets no new generation.
    let err = create_generation(&root, &CreateOptions::new(at("2026-11-25T10:00:00Z")));
    assert!(matches!(err, Err(MhlError::DamagedChain { .. })), "{err:?}");
    std::fs::remove_file(&manifest).unwrap();
    let r = verify(&root);
    assert!(matches!(r, Err(MhlError::NoHistory(_))), "{r:?}");
}

#[test]
fn a_second_generation_records_verified_and_new_files_and_chains_two_manifests() {
    let (dir, root) = delivered();
    std::fs::write(root.join("SH010/SH010.0003.exr"), b"frame three").unwrap();
    let g = create_generation(&root, &CreateOptions::new(at("2026-11-25T11:30:00Z"))).unwrap();
    assert_eq!(g.generation, 2);
    assert!(g.is_ok());
    assert_eq!(g.outcomes["SH010/SH010.0003.exr"], FileOutcome::New);
    assert_eq!(g.count_verified(), 6);
    let name = g
        .manifest
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(name, "0002_delivery_2026-11-25_113000Z.mhl");
    let chain = std::fs::read_to_string(root.join("ascmhl/ascmhl_chain.xml")).unwrap();
    assert_eq!(chain.matches("<hashlist sequencenr=").count(), 2);
    assert!(chain.contains(&name));
    let hist = info(&root).unwrap();
    assert_eq!(hist.generations.len(), 2);
    let g2 = &hist.generations[1];
    assert_eq!(
        (g2.files, g2.original, g2.verified, g2.failed),
        (7, 1, 6, 0)
    );
    assert_eq!(check_same_as_ascmhl(&root, 0).exit_code(), 0);
    let (code, out) = tool(&["ascmhl", "info", root.to_str().unwrap()], dir.path());
    assert!(
        code == 0 && out.contains("Generation 2 (2026-11-25T11:30:00+00:00)"),
        "{out}"
    );
}

#[test]
fn a_changed_file_is_recorded_failed_in_the_next_generation() {
    let (_dir, root) = delivered();
    flip_one_byte(&root.join("readme.txt"));
    std::fs::remove_file(root.join("SH020/b.amf")).unwrap();
    let g = create_generation(&root, &CreateOptions::new(at("2026-11-25T11:30:00Z"))).unwrap();
    assert!(!g.is_ok());
    assert!(matches!(
        g.outcomes["readme.txt"],
        FileOutcome::Mismatch { .. }
    ));
    assert_eq!(g.missing, ["SH020/b.amf"]);
    let text = std::fs::read_to_string(&g.manifest).unwrap();
    assert_eq!(text.matches("action=\"failed\"").count(), 1);
    // Both tools still compare against the original hash.
    check_same_as_ascmhl(&root, 11);
}

#[test]
fn a_new_format_is_recorded_next_to_the_verified_old_one() {
    let (_dir, root) = delivered();
    let opts = CreateOptions {
        hash: HashFormat::Md5,
        ..CreateOptions::new(at("2026-11-25T11:30:00Z"))
    };
    let g = create_generation(&root, &opts).unwrap();
    assert!(g.is_ok() && g.count_verified() == 6, "{g:?}");
    let text = std::fs::read_to_string(&g.manifest).unwrap();
    assert_eq!(text.matches("<md5 action=\"verified\"").count(), 6);
    assert_eq!(text.matches("<xxh64 action=\"verified\"").count(), 6);
    check_same_as_ascmhl(&root, 0);
}

#[test]
fn ignore_patterns_are_recorded_and_honoured_by_both() {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("delivery");
    sample_tree(&root);
    std::fs::write(root.join("SH010/render.tmp"), b"scratch").unwrap();
    std::fs::create_dir_all(root.join("SH020/cache")).unwrap();
    std::fs::write(root.join("SH020/cache/c.bin"), b"cache").unwrap();
    let opts = CreateOptions {
        ignore: vec!["*.tmp".into(), "cache/".into()],
        ..CreateOptions::new(at("2026-11-25T09:00:00Z"))
    };
    let g = create_generation(&root, &opts).unwrap();
    assert_eq!(g.files, 6);
    let text = std::fs::read_to_string(&g.manifest).unwrap();
    assert!(text.contains("<pattern>*.tmp</pattern>") && !text.contains("render.tmp"));
    // Later files matching the recorded patterns stay ignored by both tools.
    std::fs::write(root.join("later.tmp"), b"x").unwrap();
    check_same_as_ascmhl(&root, 0);
    let (code, out) = tool(
        &["ascmhl-debug", "verify", "-dh", root.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_nested_history_is_refused() {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("delivery");
    sample_tree(&root);
    create_generation(
        &root.join("SH010"),
        &CreateOptions::new(at("2026-11-25T09:00:00Z")),
    )
    .unwrap();
    let err = create_generation(&root, &CreateOptions::new(at("2026-11-25T10:00:00Z")));
    assert!(matches!(err, Err(MhlError::NestedHistory(_))), "{err:?}");
}

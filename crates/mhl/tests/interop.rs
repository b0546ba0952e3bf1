//! Histories we write, in every hash format, against the ASC reference tool: it verifies them
//! (files and directory hashes), diffs them, validates them against the XSDs, and writes the
//! same hashes, directory hashes and record order for the same tree.

mod common;
use common::*;
use platefarm_mhl::*;
use std::path::Path;

fn manifests(root: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root.join("ascmhl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mhl"))
        .collect();
    v.sort();
    v
}

/// The `<path>` texts of a manifest, in order.
fn record_paths(manifest: &Path) -> Vec<String> {
    std::fs::read_to_string(manifest)
        .unwrap()
        .lines()
        .filter(|l| l.trim_start().starts_with("<path"))
        .map(|l| {
            let start = l.find('>').unwrap() + 1;
            l[start..l.rfind("</path>").unwrap()].to_string()
        })
        .collect()
}

#[test]
fn every_format_passes_verify_diff_info_and_the_xsds() {
    let dir = platefarm_testkit::scratch();
    install_xsd(dir.path());
    let root = dir.path().join("delivery");
    sample_tree(&root);
    for format in HashFormat::ALL {
        let _ = std::fs::remove_dir_all(root.join("ascmhl"));
        let opts = CreateOptions {
            hash: format,
            ..CreateOptions::new(at("2026-11-25T09:00:00Z"))
        };
        let g = create_generation(&root, &opts).unwrap();
        assert_eq!((g.generation, g.files, g.is_ok()), (1, 6, true));
        let r = root.to_str().unwrap();
        for args in [
            vec!["ascmhl-debug", "verify", r],
            vec!["ascmhl-debug", "verify", "-dh", r],
            vec!["ascmhl", "diff", r],
            vec!["ascmhl", "info", r],
        ] {
            let (code, out) = tool(&args, dir.path());
            assert_eq!(code, 0, "{format:?}: {args:?}:\n{out}");
        }
        let manifest = manifests(&root).remove(0);
        let (code, out) = tool(
            &[
                "ascmhl-debug",
                "xsd-schema-check",
                manifest.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert!(
            code == 0 && out.contains("validated"),
            "{format:?} manifest XSD:\n{out}"
        );
        let chain = root.join("ascmhl/ascmhl_chain.xml");
        let (code, out) = tool(
            &[
                "ascmhl-debug",
                "xsd-schema-check",
                "-df",
                "-xsd",
                "xsd/ASCMHLDirectory.xsd",
                chain.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert!(
            code == 0 && out.contains("validated"),
            "{format:?} chain XSD:\n{out}"
        );
    }
}

#[test]
fn the_reference_tool_writes_the_same_hashes_and_order_for_the_same_tree() {
    let dir = platefarm_testkit::scratch();
    for format in [HashFormat::Xxh64, HashFormat::Xxh128, HashFormat::C4] {
        let ours = dir.path().join(format!("ours-{}/delivery", format.name()));
        let theirs = dir
            .path()
            .join(format!("theirs-{}/delivery", format.name()));
        sample_tree(&ours);
        sample_tree(&theirs);
        let opts = CreateOptions {
            hash: format,
            ..CreateOptions::new(at("2026-11-25T09:00:00Z"))
        };
        create_generation(&ours, &opts).unwrap();
        let (code, out) = tool(
            &[
                "ascmhl",
                "create",
                "-h",
                format.name(),
                theirs.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert_eq!(code, 0, "{out}");
        let strip = |v: Vec<RecordedDirectoryHash>| {
            v.into_iter()
                .map(|r| (r.path, r.format, r.content, r.structure))
                .collect::<Vec<_>>()
        };
        let a = strip(recorded_directory_hashes(&ours).unwrap());
        let b = strip(recorded_directory_hashes(&theirs).unwrap());
        assert_eq!(a.len(), 4, "root + 3 directories");
        assert_eq!(a, b, "{format:?} directory hashes");
        assert_eq!(
            record_paths(&manifests(&ours)[0]),
            record_paths(&manifests(&theirs)[0]),
            "{format:?} record order"
        );
        // Their file hashes verify with our verifier, ours with theirs.
        let report = verify(&theirs).unwrap();
        assert_eq!(report.exit_code(), 0, "{report:?}");
        assert_eq!(report.count(|o| *o == FileOutcome::Verified), 6);
    }
}

#[test]
fn the_reference_tool_continues_our_history_and_we_continue_its() {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("delivery");
    sample_tree(&root);
    create_generation(&root, &CreateOptions::new(at("2026-11-25T09:00:00Z"))).unwrap();
    std::fs::write(root.join("SH020/late.txt"), b"late").unwrap();
    let (code, out) = tool(
        &["ascmhl", "create", "-h", "xxh64", root.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(code, 0, "ascmhl create on our history:\n{out}");
    let hist = info(&root).unwrap();
    assert_eq!(hist.generations.len(), 2);
    assert_eq!(hist.generations[1].creator.tool, "ascmhl");
    assert_eq!(
        (hist.generations[1].verified, hist.generations[1].original),
        (6, 1)
    );
    let g = create_generation(&root, &CreateOptions::new(at("2026-11-25T12:00:00Z"))).unwrap();
    assert_eq!(g.generation, 3);
    assert!(g.is_ok() && g.outcomes.values().all(|o| *o == FileOutcome::Verified));
    assert_eq!(verify(&root).unwrap().exit_code(), 0);
    assert_eq!(ascmhl_verify(&root).0, 0);
}

#[test]
fn unusual_names_and_empty_folders_hash_and_escape_like_the_reference_tool() {
    let dir = platefarm_testkit::scratch();
    let build = |root: &Path| {
        for d in ["Ünïcode", "empty", "a b/c d", "x&y"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for (p, body) in [
            ("Ünïcode/naïve & co.txt", "n"),
            ("a<b>.txt", "lt"),
            ("quote\"s'.txt", "q"),
            ("a b/c d/e f.txt", "sp"),
            ("x&y/z.txt", "amp"),
            ("B.txt", "upper sorts before lower"),
            ("a.txt", "lower"),
        ] {
            std::fs::write(root.join(p), body).unwrap();
        }
    };
    let ours = dir.path().join("ours/Lieferung 1");
    let theirs = dir.path().join("theirs/Lieferung 1");
    build(&ours);
    build(&theirs);
    let g = create_generation(&ours, &CreateOptions::new(at("2026-11-25T09:00:00Z"))).unwrap();
    assert_eq!(g.files, 7);
    let (code, out) = tool(
        &["ascmhl", "create", "-h", "xxh64", theirs.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    let strip = |v: Vec<RecordedDirectoryHash>| {
        v.into_iter()
            .map(|r| (r.path, r.content, r.structure))
            .collect::<Vec<_>>()
    };
    let a = strip(recorded_directory_hashes(&ours).unwrap());
    assert_eq!(a.len(), 6, "root, 4 folders and the nested one: {a:?}");
    assert_eq!(a, strip(recorded_directory_hashes(&theirs).unwrap()));
    assert_eq!(
        record_paths(&manifests(&ours)[0]),
        record_paths(&manifests(&theirs)[0])
    );
    assert!(manifests(&ours)[0]
        .to_str()
        .unwrap()
        .ends_with("0001_Lieferung 1_2026-11-25_090000Z.mhl"));
    for root in [&ours, &theirs] {
        assert_eq!(verify(root).unwrap().exit_code(), 0);
        let (code, out) = ascmhl_verify(root);
        assert_eq!(code, 0, "{out}");
    }
}

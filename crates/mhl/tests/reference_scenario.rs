//! The ASC reference scenario (`scenario_02_file_server_A002R2EC`, two generations by the
//! reference tool): our verifier accepts it and our directory hashes equal the recorded ones.

mod common;
use common::*;
use platefarm_mhl::*;

fn scenario() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("A002R2EC");
    copy_dir(
        &platefarm_testkit::vectors_dir().join("mhl/scenario_02_file_server_A002R2EC"),
        &root,
    );
    (dir, root)
}

#[test]
fn the_reference_scenario_verifies() {
    let (_dir, root) = scenario();
    let report = verify(&root).unwrap();
    assert_eq!(report.exit_code(), 0, "{report:?}");
    assert_eq!(report.count(|o| *o == FileOutcome::Verified), 3);
    assert_eq!(report.outcomes.len(), 3);
    assert!(report.directories.is_empty() && report.chain.is_empty());
    let hist = info(&root).unwrap();
    assert_eq!(hist.generations.len(), 2);
    assert_eq!(hist.generations[1].verified, 3);
    assert_eq!(hist.generations[0].creator.hostname, "myHost.local");
}

#[test]
fn our_directory_hashes_equal_the_recorded_ones() {
    let (_dir, root) = scenario();
    let recorded = recorded_directory_hashes(&root).unwrap();
    let latest = recorded.iter().map(|r| r.generation).max().unwrap();
    let ours = directory_hashes(&root, HashFormat::Xxh64, &[]).unwrap();
    let mut compared = 0;
    for r in recorded.iter().filter(|r| r.generation == latest) {
        assert_eq!(r.format, HashFormat::Xxh64);
        let mine = ours.iter().find(|d| d.path == r.path).unwrap();
        assert_eq!(
            (&mine.content, &mine.structure),
            (&r.content, &r.structure),
            "directory {:?}",
            r.path
        );
        compared += 1;
    }
    assert_eq!(compared, 2, "root and Clips");
}

#[test]
fn a_generation_of_ours_on_the_reference_history_passes_the_reference_tool() {
    let (dir, root) = scenario();
    let g = create_generation(&root, &CreateOptions::new(at("2026-11-25T10:00:00Z"))).unwrap();
    assert!(g.is_ok(), "{g:?}");
    assert_eq!(g.generation, 3);
    assert!(g.outcomes.values().all(|o| *o == FileOutcome::Verified));
    let recorded = recorded_directory_hashes(&root).unwrap();
    for path in [".", "Clips"] {
        let by_gen: Vec<_> = recorded.iter().filter(|r| r.path == path).collect();
        assert_eq!(by_gen.len(), 3, "{path}");
        assert_eq!(
            (&by_gen[1].content, &by_gen[1].structure),
            (&by_gen[2].content, &by_gen[2].structure)
        );
    }
    let (code, out) = ascmhl_verify(&root);
    assert_eq!(code, 0, "ascmhl verify after our third generation:\n{out}");
    let (code, out) = tool(
        &["ascmhl-debug", "verify", "-dh", root.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(code, 0, "ascmhl verify -dh:\n{out}");
    assert!(verify(&root).unwrap().is_ok());
}

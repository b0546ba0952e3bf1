//! Untrusted histories: malformed manifests and chain files are errors naming the file and
//! the element, never panics (a stable mutation run over a real history).

mod common;
use common::*;
use platefarm_mhl::*;
use std::path::{Path, PathBuf};

fn delivered() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = platefarm_testkit::scratch();
    let root = dir.path().join("delivery");
    sample_tree(&root);
    let g = create_generation(&root, &CreateOptions::new(at("2026-11-25T09:00:00Z"))).unwrap();
    (dir, root, g.manifest)
}

fn malformed_message(root: &Path) -> String {
    match verify(root) {
        Err(e @ MhlError::Malformed { .. }) => e.to_string(),
        other => panic!("expected a Malformed error, got {other:?}"),
    }
}

#[test]
fn broken_documents_name_the_file_and_the_element() {
    let (_dir, root, manifest) = delivered();
    let good = std::fs::read_to_string(&manifest).unwrap();
    let chain_path = root.join("ascmhl/ascmhl_chain.xml");
    let chain = std::fs::read_to_string(&chain_path).unwrap();

    let start = good.find("<path size").unwrap();
    let end = start + good[start..].find("</path>").unwrap() + "</path>".len();
    let no_path = format!("{}<nopath/>{}", &good[..start], &good[end..]);
    std::fs::write(&manifest, no_path).unwrap();
    let m = malformed_message(&root);
    assert!(
        m.contains("0001_delivery") && m.contains("<hash> #1 without <path>"),
        "{m}"
    );

    std::fs::write(&manifest, good.replace("</hashes>", "")).unwrap();
    let m = malformed_message(&root);
    assert!(m.contains("0001_delivery"), "{m}");

    std::fs::write(&manifest, &good).unwrap();
    std::fs::write(&chain_path, chain.replace(" sequencenr=\"1\"", "")).unwrap();
    let m = malformed_message(&root);
    assert!(
        m.contains("ascmhl_chain.xml") && m.contains("sequencenr"),
        "{m}"
    );

    std::fs::write(&chain_path, chain.replace("ascmhldirectory", "hashlist")).unwrap();
    let m = malformed_message(&root);
    assert!(m.contains("expected <ascmhldirectory>"), "{m}");

    std::fs::write(&chain_path, &chain).unwrap();
    assert_eq!(verify(&root).unwrap().exit_code(), 0);
}

#[test]
fn mutated_manifests_and_chains_never_panic() {
    let (_dir, root, manifest) = delivered();
    let good_manifest = std::fs::read(&manifest).unwrap();
    let chain_path = root.join("ascmhl/ascmhl_chain.xml");
    let good_chain = std::fs::read(&chain_path).unwrap();
    let mut state = 0x1234_5678_9abc_def1u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let specials = b"<>&\"'/=\x00\xff\xc3 9c4x";
    let (mut ok, mut errors) = (0, 0);
    for i in 0..1500 {
        let (target, good) = if i % 3 == 0 {
            (&chain_path, &good_chain)
        } else {
            (&manifest, &good_manifest)
        };
        let mut bytes = good.clone();
        for _ in 0..1 + next(4) {
            let at = next(bytes.len());
            match next(4) {
                0 => bytes[at] = specials[next(specials.len())],
                1 => {
                    bytes.remove(at);
                }
                2 => bytes.insert(at, specials[next(specials.len())]),
                _ => bytes.truncate(at.max(1)),
            }
        }
        std::fs::write(target, &bytes).unwrap();
        match (verify(&root), info(&root)) {
            (Ok(_), Ok(_)) => ok += 1,
            _ => errors += 1,
        }
        std::fs::write(target, good).unwrap();
    }
    // Both kinds of result occur: the mutations reach the parsers and past them.
    assert!(ok > 100 && errors > 100, "ok {ok}, errors {errors}");
    assert_eq!(verify(&root).unwrap().exit_code(), 0);
}

//! A folder with an ASC MHL history (made by platefarm-mhl) is verified before it is
//! inspected: intact it passes, a changed or missing file fails the ingest naming it.

mod common;

use common::{listing, write_all, DirSource};
use platefarm_ingest::{ingest, synth::mixed_folder, IngestError, IngestOptions};

fn folder_with_history() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &mixed_folder().objects);
    let now = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap();
    let g = platefarm_mhl::create_generation(dir.path(), &platefarm_mhl::CreateOptions::new(now))
        .expect("a generation");
    assert!(g.is_ok());
    dir
}

#[test]
fn an_intact_history_is_verified_then_ingested() {
    let dir = folder_with_history();
    let source = DirSource {
        root: dir.path().into(),
    };
    let report = ingest(&listing(dir.path()), &source, &IngestOptions::default()).unwrap();
    let mhl = report.mhl.expect("the history was verified");
    assert_eq!(mhl.histories, [""]);
    assert_eq!(mhl.verified, mixed_folder().objects.len());
    assert!(mhl.new_files.is_empty(), "{:?}", mhl.new_files);
    assert_eq!(report.clips.len(), 4);
}

#[test]
fn a_changed_or_missing_file_fails_naming_it() {
    let dir = folder_with_history();
    let changed = "day2/C003_plate.1002.exr";
    let gone = "day1/A001C003_230101_R1AB.000101.dng";
    let mut bytes = std::fs::read(dir.path().join(changed)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(dir.path().join(changed), bytes).unwrap();
    std::fs::remove_file(dir.path().join(gone)).unwrap();
    std::fs::write(dir.path().join("day1/new_sidecar.txt"), "new").unwrap();
    let source = DirSource {
        root: dir.path().into(),
    };
    let err = ingest(&listing(dir.path()), &source, &IngestOptions::default()).unwrap_err();
    match &err {
        IngestError::MhlMismatch {
            mismatched,
            missing,
        } => {
            assert_eq!(mismatched, &[changed.to_string()]);
            assert_eq!(missing, &[gone.to_string()]);
        }
        other => panic!("expected a mismatch, got {other}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(changed) && msg.contains(gone), "{msg}");
}

#[test]
fn a_modified_manifest_fails() {
    let dir = folder_with_history();
    let manifest = std::fs::read_dir(dir.path().join("ascmhl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "mhl"))
        .unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("<hashlist", "<!-- edited -->\n<hashlist"),
    )
    .unwrap();
    let source = DirSource {
        root: dir.path().into(),
    };
    let err = ingest(&listing(dir.path()), &source, &IngestOptions::default()).unwrap_err();
    assert!(matches!(err, IngestError::Mhl { .. }), "{err}");
    assert!(err.to_string().contains("modified"), "{err}");
}

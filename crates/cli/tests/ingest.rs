//! `platefarm ingest` and `platefarm clips search` as a user runs them: the generated folder
//! mixing DNG, DPX and EXR sequences (a gap, a drop-frame clip, corrupt frames) and a TIFF
//! still is ingested into a SQLite catalog; the records match what the generator wrote field
//! by field, every clip has a JPEG thumbnail beside the footage, the reel/timecode question
//! finds the right clip and frame, and a tampered file fails the ASC MHL check with its name.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_platefarm")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run platefarm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn write_footage(dir: &Path) -> platefarm_ingest::synth::Footage {
    let footage = platefarm_ingest::synth::mixed_folder();
    for (key, bytes) in &footage.objects {
        let path = dir.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    footage
}

#[test]
fn ingest_records_match_the_generator_and_the_timecode_question_is_answered() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("footage");
    let footage = write_footage(&dir);
    let catalog = format!("sqlite:{}", scratch.path().join("clips.db").display());
    let (code, out, err) = run(&[
        "ingest",
        dir.to_str().unwrap(),
        "--catalog",
        &catalog,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let clips = report["clips"].as_array().unwrap();
    assert_eq!(clips.len(), footage.expected.len(), "{out}");
    let location = std::fs::canonicalize(&dir).unwrap().display().to_string();
    for want in &footage.expected {
        let mut want = serde_json::to_value(want).unwrap();
        want["location"] = Value::from(location.clone());
        let got = clips
            .iter()
            .find(|c| c["key"] == want["key"])
            .unwrap_or_else(|| panic!("no clip {} in {out}", want["key"]));
        // Field by field, so a difference names its field. The generator knows which frames
        // it broke, not the decoder's words: reasons are checked below.
        let mut got = got.clone();
        for bad in got["frames"]["bad"].as_array_mut().unwrap() {
            assert!(!bad["reason"].as_str().unwrap().is_empty(), "{bad}");
            bad["reason"] = Value::from("");
        }
        let got = &got;
        for field in [
            "name", "reel", "camera", "lens", "timecode", "image", "frames", "colour", "format",
        ] {
            assert_eq!(got[field], want[field], "{}: {field}", want["key"]);
        }
        // Its thumbnail, a JPEG, beside the footage.
        let record: platefarm_ingest::ClipRecord = serde_json::from_value(got.clone()).unwrap();
        let thumb = std::fs::read(dir.join(platefarm_ingest::thumbnail_key(&record)))
            .unwrap_or_else(|e| panic!("thumbnail of {}: {e}", want["key"]));
        assert_eq!(&thumb[..2], &[0xFF, 0xD8], "a JPEG");
    }
    let bad: usize = clips
        .iter()
        .map(|c| c["frames"]["bad"].as_array().unwrap().len())
        .sum();
    assert!(
        bad >= 2,
        "the corrupt DPX and EXR frames are reported: {out}"
    );

    // The editorial question, for every clip with timecode: its third frame's label on its
    // reel finds that clip and that frame number.
    let mut asked = 0;
    for want in footage
        .expected
        .iter()
        .filter(|c| c.timecode.start.is_some())
    {
        let start = want.timecode.start.unwrap();
        let tc = start.add_frames(2, want.timecode.rate.unwrap()).unwrap();
        let mut args = vec![
            "clips".to_string(),
            "search".into(),
            "--catalog".into(),
            catalog.clone(),
            "--timecode".into(),
            tc.to_string(),
            "--json".into(),
        ];
        if let Some(reel) = &want.reel {
            args.extend(["--reel".into(), reel.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        let hits: Value = serde_json::from_str(&out).unwrap();
        let hit = hits
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["clip"]["key"] == want.key.as_str())
            .unwrap_or_else(|| panic!("{tc} on {:?}: {out}", want.reel));
        assert_eq!(hit["at"]["frame"], want.frames.first + 2, "{out}");
        asked += 1;
    }
    assert!(asked >= 2, "clips with timecode asked: {asked}");

    // The plain listing, and a user error.
    let (code, out, _) = run(&[
        "clips",
        "search",
        "--catalog",
        &catalog,
        "--text",
        "A001C003",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("A001C003_230101_R1AB"), "{out}");
    let (code, _, err) = run(&[
        "clips",
        "search",
        "--catalog",
        &catalog,
        "--timecode",
        "25:61",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("25:61") && !err.contains("panicked"), "{err}");
}

#[test]
fn a_tampered_file_fails_the_mhl_check_naming_it() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("footage");
    write_footage(&dir);
    let (code, _, err) = run(&["mhl", "create", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let catalog = format!("sqlite:{}", scratch.path().join("clips.db").display());
    let (code, out, err) = run(&["ingest", dir.to_str().unwrap(), "--catalog", &catalog]);
    assert_eq!(code, 0, "an intact history verifies: {err}");
    assert!(out.contains("ASC MHL verified"), "{out}");

    let victim = "day1/A001C003_230101_R1AB.000101.dng";
    let mut bytes = std::fs::read(dir.join(victim)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(dir.join(victim), bytes).unwrap();
    let (code, _, err) = run(&["ingest", dir.to_str().unwrap(), "--catalog", &catalog]);
    assert_ne!(code, 0);
    assert!(err.contains(victim), "the tampered file is named: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("stack backtrace"),
        "{err}"
    );
}

#[test]
fn a_location_that_is_neither_a_folder_nor_in_a_store_is_a_clear_error() {
    let scratch = tempfile::tempdir().unwrap();
    let catalog = format!("sqlite:{}", scratch.path().join("clips.db").display());
    let (code, _, err) = run(&["ingest", "no/such/place", "--catalog", &catalog]);
    assert_ne!(code, 0);
    assert!(
        err.contains("no/such/place") && err.contains("--store"),
        "{err}"
    );
}

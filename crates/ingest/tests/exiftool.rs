//! Oracle: ExifTool (`exiftool -json -n`) reads the same synthetic DNG, DPX, EXR and TIFF
//! files, and every field both report agrees with what our header probes say. Needs
//! `exiftool` on PATH (Debian: libimage-exiftool-perl); fails, never skips, without it.

use platefarm_ingest::inspect::probe_entry;
use platefarm_ingest::synth::mixed_folder;
use platefarm_ingest::timecode::from_bcd;
use platefarm_ingest::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

fn exiftool(dir: &std::path::Path) -> BTreeMap<String, Value> {
    let out = Command::new("exiftool")
        .args(["-json", "-n", "-r", "."])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "exiftool is needed on PATH for this oracle test ({e}); \
                 install it with `apt-get install libimage-exiftool-perl`"
            )
        });
    assert!(
        out.status.success() || !out.stdout.is_empty(),
        "exiftool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).expect("exiftool JSON");
    list.into_iter()
        .map(|v| {
            let key = v["SourceFile"]
                .as_str()
                .unwrap()
                .trim_start_matches("./")
                .to_string();
            (key, v)
        })
        .collect()
}

fn nums(v: &Value) -> Vec<f64> {
    match v {
        Value::Number(n) => vec![n.as_f64().unwrap()],
        Value::String(s) => s
            .split_whitespace()
            .map(|x| x.parse().expect("a number"))
            .collect(),
        other => panic!("not numbers: {other}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

/// Compares one field; returns whether both reported it.
fn check(
    problems: &mut Vec<String>,
    file: &str,
    field: &str,
    ours: Option<Value>,
    theirs: Option<&Value>,
) -> bool {
    let theirs =
        theirs.filter(|v| !matches!(v, Value::String(s) if s.is_empty() || s.starts_with('?')));
    let (Some(o), Some(t)) = (ours, theirs) else {
        return false;
    };
    let same = match (&o, t) {
        (Value::Number(_), _) | (Value::Array(_), _) => {
            let a: Vec<f64> = match &o {
                Value::Array(v) => v.iter().flat_map(nums).collect(),
                v => nums(v),
            };
            let b = nums(t);
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| close(*x, *y))
        }
        (Value::String(a), Value::String(b)) => a == b,
        (Value::String(a), b) => a.as_str() == b.to_string().as_str(),
        _ => o == *t,
    };
    if !same {
        problems.push(format!("{file}: {field}: ours {o}, exiftool {t}"));
    }
    true
}

#[test]
fn exiftool_agrees_on_every_field_both_report() {
    let footage = mixed_folder();
    let dir = tempfile::tempdir().unwrap();
    for (key, bytes) in &footage.objects {
        let p = dir.path().join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let et = exiftool(dir.path());
    let source = MemorySource::new(footage.objects.clone());
    let mut problems = Vec::new();
    let mut compared = BTreeMap::<&str, usize>::new();
    for clip in discover(&source.entries()).clips {
        for (_, entry) in &clip.frames {
            let Ok(info) = probe_entry(clip.format, entry, &source, 64 * 1024) else {
                continue; // bad frames are checked in tests/synth.rs
            };
            let t = et
                .get(&entry.key)
                .unwrap_or_else(|| panic!("exiftool did not read {}", entry.key));
            let s = |v: &Option<String>| v.clone().map(Value::String);
            let n = |v: Option<f64>| v.map(|x| serde_json::json!(x));
            let tc_of = |tc: Option<Timecode>| tc.map(|t| Value::String(t.to_string()));
            let mut fields: Vec<(&str, Option<Value>, Option<Value>)> = vec![(
                "ImageWidth/Height",
                Some(serde_json::json!([info.image.width, info.image.height])),
                None,
            )];
            match clip.format {
                Format::Dng => {
                    let et_tc = t["TimeCodes"].as_str().map(|s| {
                        let b: Vec<u8> = s
                            .split('.')
                            .map(|h| u8::from_str_radix(h, 16).unwrap())
                            .collect();
                        from_bcd(b[0], b[1], b[2], b[3]).unwrap().to_string()
                    });
                    let cfa = t["CFAPattern2"].as_str().map(|s| {
                        s.split_whitespace()
                            .map(|c| ["R", "G", "B"][c.parse::<usize>().unwrap()])
                            .collect::<String>()
                    });
                    fields = vec![
                        ("Make", s(&info.camera.make), Some(t["Make"].clone())),
                        ("Model", s(&info.camera.model), Some(t["Model"].clone())),
                        (
                            "CameraSerialNumber",
                            s(&info.camera.serial),
                            Some(t["CameraSerialNumber"].clone()),
                        ),
                        ("ReelName", s(&info.reel), Some(t["ReelName"].clone())),
                        ("TimeCodes", tc_of(info.timecode), et_tc.map(Value::String)),
                        (
                            "FrameRate",
                            n(info.rate.map(|r| (r.as_f64() * 1000.0).round() / 1000.0)),
                            Some(t["FrameRate"].clone()),
                        ),
                        (
                            "ISO",
                            info.exposure.iso.map(|v| serde_json::json!(v)),
                            Some(t["ISO"].clone()),
                        ),
                        (
                            "ExposureTime",
                            n(info.exposure.exposure_time_s),
                            Some(t["ExposureTime"].clone()),
                        ),
                        ("FNumber", n(info.lens.aperture), Some(t["FNumber"].clone())),
                        (
                            "FocalLength",
                            n(info.lens.focal_length_mm),
                            Some(t["FocalLength"].clone()),
                        ),
                        (
                            "LensModel",
                            s(&info.lens.model),
                            Some(t["LensModel"].clone()),
                        ),
                        (
                            "AsShotNeutral",
                            info.white_balance
                                .as_shot_neutral
                                .map(|v| serde_json::json!(v)),
                            Some(t["AsShotNeutral"].clone()),
                        ),
                        (
                            "ActiveArea",
                            info.image.active_area.map(|v| serde_json::json!(v)),
                            Some(t["ActiveArea"].clone()),
                        ),
                        ("CFAPattern2", s(&info.image.cfa), cfa.map(Value::String)),
                        (
                            "BitsPerSample",
                            Some(serde_json::json!(info.image.bit_depth)),
                            Some(t["BitsPerSample"].clone()),
                        ),
                        (
                            "DefaultCropSize",
                            Some(serde_json::json!([info.image.width, info.image.height])),
                            Some(t["DefaultCropSize"].clone()),
                        ),
                        (
                            "ImageWidth",
                            info.image.sensor.map(|v| serde_json::json!(v[0])),
                            Some(t["ImageWidth"].clone()),
                        ),
                        (
                            "ImageHeight",
                            info.image.sensor.map(|v| serde_json::json!(v[1])),
                            Some(t["ImageHeight"].clone()),
                        ),
                    ];
                }
                Format::Dpx => {
                    let et_tc = t["TimeCode"].as_u64().map(|w| {
                        let [h, m, s, f] = (w as u32).to_be_bytes();
                        from_bcd(f, s, m, h).unwrap().to_string()
                    });
                    let v = |k: &str| info.vendor.get(k).cloned();
                    fields = vec![
                        (
                            "ImageWidth",
                            Some(serde_json::json!(info.image.width)),
                            Some(t["ImageWidth"].clone()),
                        ),
                        (
                            "ImageHeight",
                            Some(serde_json::json!(info.image.height)),
                            Some(t["ImageHeight"].clone()),
                        ),
                        (
                            "BitDepth",
                            Some(serde_json::json!(info.image.bit_depth)),
                            Some(t["BitDepth"].clone()),
                        ),
                        ("TimeCode", tc_of(info.timecode), et_tc.map(Value::String)),
                        (
                            "FrameRate",
                            v("dpx.tv_frame_rate"),
                            Some(t["FrameRate"].clone()),
                        ),
                        (
                            "OriginalFrameRate",
                            v("dpx.film_frame_rate"),
                            Some(t["OriginalFrameRate"].clone()),
                        ),
                        (
                            "InputDeviceName",
                            s(&info.camera.model),
                            Some(t["InputDeviceName"].clone()),
                        ),
                        (
                            "InputDeviceSerialNumber",
                            s(&info.camera.serial),
                            Some(t["InputDeviceSerialNumber"].clone()),
                        ),
                        (
                            "TransferCharacteristic",
                            v("dpx.transfer"),
                            Some(t["TransferCharacteristic"].clone()),
                        ),
                        (
                            "ColorimetricSpecification",
                            v("dpx.colorimetric"),
                            Some(t["ColorimetricSpecification"].clone()),
                        ),
                        ("Creator", v("dpx.creator"), Some(t["Creator"].clone())),
                        ("Project", v("dpx.project"), Some(t["Project"].clone())),
                        (
                            "SlateInformation",
                            v("dpx.slate"),
                            Some(t["SlateInformation"].clone()),
                        ),
                        (
                            "DPXFileSize",
                            v("dpx.file_size"),
                            Some(t["DPXFileSize"].clone()),
                        ),
                    ];
                }
                Format::Exr => {
                    let et_tc = t["TimeCode"].as_str().map(|s| {
                        let w: u32 = s.split_whitespace().next().unwrap().parse().unwrap();
                        let [f, sec, m, h] = w.to_le_bytes();
                        from_bcd(f, sec, m, h).unwrap().to_string()
                    });
                    let dw = info.image.data_window.map(|v| serde_json::json!(v));
                    fields = vec![
                        (
                            "CameraMake",
                            s(&info.camera.make),
                            Some(t["CameraMake"].clone()),
                        ),
                        (
                            "CameraModel",
                            s(&info.camera.model),
                            Some(t["CameraModel"].clone()),
                        ),
                        (
                            "CameraSerialNumber",
                            s(&info.camera.serial),
                            Some(t["CameraSerialNumber"].clone()),
                        ),
                        ("ReelName", s(&info.reel), Some(t["ReelName"].clone())),
                        (
                            "LensModel",
                            s(&info.lens.model),
                            Some(t["LensModel"].clone()),
                        ),
                        (
                            "ISO",
                            info.exposure.iso.map(|v| serde_json::json!(v)),
                            Some(t["ISO"].clone()),
                        ),
                        (
                            "FramesPerSecond",
                            n(info.rate.map(|r| r.as_f64())),
                            Some(t["FramesPerSecond"].clone()),
                        ),
                        ("TimeCode", tc_of(info.timecode), et_tc.map(Value::String)),
                        ("DataWindow", dw, Some(t["DataWindow"].clone())),
                        (
                            "DisplayWindow",
                            info.vendor.get("exr.displayWindow").cloned(),
                            Some(t["DisplayWindow"].clone()),
                        ),
                        (
                            "Chromaticities",
                            info.vendor.get("exr.chromaticities").cloned(),
                            Some(t["Chromaticities"].clone()),
                        ),
                        (
                            "ImageWidth",
                            Some(serde_json::json!(info.image.width)),
                            Some(t["ImageWidth"].clone()),
                        ),
                        (
                            "ImageHeight",
                            Some(serde_json::json!(info.image.height)),
                            Some(t["ImageHeight"].clone()),
                        ),
                    ];
                }
                Format::Tiff => {
                    fields = vec![
                        ("Make", s(&info.camera.make), Some(t["Make"].clone())),
                        ("Model", s(&info.camera.model), Some(t["Model"].clone())),
                        (
                            "ImageWidth",
                            Some(serde_json::json!(info.image.width)),
                            Some(t["ImageWidth"].clone()),
                        ),
                        (
                            "ImageHeight",
                            Some(serde_json::json!(info.image.height)),
                            Some(t["ImageHeight"].clone()),
                        ),
                        (
                            "SamplesPerPixel",
                            Some(serde_json::json!(info.image.channels)),
                            Some(t["SamplesPerPixel"].clone()),
                        ),
                        (
                            "ImageDescription",
                            info.vendor.get("tiff.ImageDescription").cloned(),
                            Some(t["ImageDescription"].clone()),
                        ),
                        (
                            "BitsPerSample",
                            info.vendor.get("tiff.BitsPerSample").cloned(),
                            Some(t["BitsPerSample"].clone()),
                        ),
                    ];
                }
            }
            for (field, ours, theirs) in fields {
                if check(
                    &mut problems,
                    &entry.key,
                    field,
                    ours,
                    theirs.as_ref().filter(|v| !v.is_null()),
                ) {
                    *compared.entry(clip.format.name()).or_default() += 1;
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "ExifTool disagrees:\n{}",
        problems.join("\n")
    );
    // Every format was compared on many fields (a typo in a tag name would silently compare nothing).
    assert!(compared["dng"] >= 11 * 18, "{compared:?}");
    assert!(compared["dpx"] >= 7 * 14, "{compared:?}");
    assert!(compared["exr"] >= 5 * 13, "{compared:?}");
    assert!(compared["tiff"] >= 7, "{compared:?}");
}

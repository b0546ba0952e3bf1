//! Every hash format against the reference tool's own hasher (`ascmhl.hasher`, i.e. Python's
//! xxhash / hashlib and its C4 encoding): files around the 1 MiB read-buffer boundary, and the
//! hash of a hash list that directory hashes are built from.

use platefarm_mhl::{hash_file, hash_of_hash_list, HashFormat};

const ORACLE: &str = r#"
import sys, json
from ascmhl import hasher
fmts, paths = sys.argv[1].split(","), sys.argv[2:]
out = {}
for f in fmts:
    files = [hasher.hash_file(p, f) for p in paths]
    out[f] = {"files": files, "list": hasher.hash_of_hash_list(list(files), f),
              "empty": hasher.hash_of_hash_list([], f)}
print(json.dumps(out))
"#;

#[test]
fn every_format_equals_the_reference_hasher() {
    let dir = platefarm_testkit::scratch();
    let sizes = [
        0usize,
        1,
        3,
        64,
        (1 << 20) - 1,
        1 << 20,
        (1 << 20) + 17,
        5 * (1 << 20) + 3,
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let paths: Vec<String> = sizes
        .iter()
        .map(|&n| {
            let bytes: Vec<u8> = (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let p = dir.path().join(format!("f{n}.bin"));
            std::fs::write(&p, bytes).unwrap();
            p.to_str().unwrap().to_string()
        })
        .collect();
    let names: Vec<&str> = HashFormat::ALL.iter().map(|f| f.name()).collect();
    let mut args = vec![names.join(",")];
    args.extend(paths.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let oracle: serde_json::Value =
        serde_json::from_str(&platefarm_testkit::run_python(ORACLE, &args)).unwrap();
    let mut compared = 0;
    for format in HashFormat::ALL {
        let expected = &oracle[format.name()];
        let ours: Vec<String> = paths
            .iter()
            .map(|p| {
                hash_file(std::path::Path::new(p), &[format])
                    .unwrap()
                    .remove(0)
            })
            .collect();
        for (i, digest) in ours.iter().enumerate() {
            assert_eq!(
                digest, &expected["files"][i],
                "{format:?} of {} bytes",
                sizes[i]
            );
            compared += 1;
        }
        assert_eq!(
            hash_of_hash_list(format, &ours),
            expected["list"],
            "{format:?} list"
        );
        assert_eq!(
            hash_of_hash_list(format, &[]),
            expected["empty"],
            "{format:?} empty"
        );
    }
    assert_eq!(compared, 6 * sizes.len());
}

#[test]
fn one_read_pass_gives_every_format_at_once() {
    let dir = platefarm_testkit::scratch();
    let p = dir.path().join("clip.mov");
    std::fs::write(&p, vec![42u8; 3 << 20]).unwrap();
    let all = hash_file(&p, &HashFormat::ALL).unwrap();
    for (format, digest) in HashFormat::ALL.iter().zip(&all) {
        assert_eq!(*digest, hash_file(&p, &[*format]).unwrap()[0], "{format:?}");
    }
}

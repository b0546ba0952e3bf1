//! Ingest of `N` (default 10,000) small CinemaDNG frames from disk, side by side with
//! `exiftool -json -n -r` on the same files:
//! `cargo run --release -p platefarm-ingest --example bench_vs_exiftool -- [N]`.
//! Also times the in-memory `bench_ingest` the CLI calls.

use platefarm_ingest::bench::{bench_ingest, bench_listing};
use platefarm_ingest::{ByteSource, Entry};
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

struct DirSource {
    root: PathBuf,
}

impl ByteSource for DirSource {
    fn read(&self, key: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.root.join(key)).map_err(|e| format!("{key}: {e}"))
    }
    fn read_prefix(&self, key: &str, len: usize) -> Result<Vec<u8>, String> {
        let f = std::fs::File::open(self.root.join(key)).map_err(|e| format!("{key}: {e}"))?;
        let mut buf = Vec::new();
        f.take(len as u64)
            .read_to_end(&mut buf)
            .map_err(|e| format!("{key}: {e}"))?;
        Ok(buf)
    }
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("N frames"))
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let frames = platefarm_ingest::synth::small_frames(n);
    let mut entries = Vec::new();
    for (key, bytes) in &frames {
        let p = dir.path().join(key);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, bytes).expect("write");
        entries.push(Entry::new(key.clone(), bytes.len() as u64));
    }
    let threads = rayon::current_num_threads();
    let mem = bench_ingest(n).expect("in-memory ingest");
    println!(
        "platefarm ingest (memory, {threads} threads): {} frames in {:.3} s = {:.0} frames/s",
        mem.frames, mem.seconds, mem.frames_per_second
    );
    let source = DirSource {
        root: dir.path().into(),
    };
    let disk = bench_listing(&entries, &source).expect("ingest");
    println!(
        "platefarm ingest (files, {threads} threads): {} frames in {:.3} s = {:.0} frames/s",
        disk.frames, disk.seconds, disk.frames_per_second
    );
    let t = Instant::now();
    let out = std::process::Command::new("exiftool")
        .args(["-json", "-n", "-r", "-q"])
        .arg(dir.path())
        .output()
        .expect("exiftool on PATH (apt-get install libimage-exiftool-perl)");
    let secs = t.elapsed().as_secs_f64();
    let read = serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
        .map(|v| v.len())
        .unwrap_or(0);
    println!(
        "exiftool -json -n -r (1 process): {read} files in {secs:.3} s = {:.0} frames/s",
        read as f64 / secs
    );
}

//! Writes the synthetic mixed folder (or `n` small benchmark frames) to a directory:
//! `cargo run -p platefarm-ingest --example write_footage -- DIR [N]`.

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: write_footage DIR [N]"));
    let objects = match args.next() {
        Some(n) => platefarm_ingest::synth::small_frames(n.parse().expect("N frames")),
        None => platefarm_ingest::synth::mixed_folder().objects,
    };
    for (key, bytes) in objects {
        let path = dir.join(&key);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
    }
}

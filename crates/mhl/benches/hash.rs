//! Hashing throughput per format over 512 MiB of files (64 × 8 MiB, page cache warm), files
//! hashed in parallel on the global rayon pool as `create_generation` does; and the per-file
//! overhead of a whole generation / verification over 10 000 small files in 100 folders.
//! Run: `cargo bench -p platefarm-mhl --bench hash`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use platefarm_mhl::{create_generation, hash_file, verify, CreateOptions, HashFormat};
use rayon::prelude::*;

const N_FILES: usize = 64;
const FILE_SIZE: usize = 8 << 20;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let paths: Vec<_> = (0..N_FILES)
        .map(|i| {
            let bytes: Vec<u8> = (0..FILE_SIZE / 8)
                .flat_map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    state.to_le_bytes()
                })
                .collect();
            let p = dir.path().join(format!("frame.{i:04}.exr"));
            std::fs::write(&p, bytes).expect("write bench file");
            p
        })
        .collect();
    let mut group = c.benchmark_group("hash_512MiB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes((N_FILES * FILE_SIZE) as u64));
    for format in HashFormat::ALL {
        group.bench_function(format.name(), |b| {
            b.iter(|| {
                paths
                    .par_iter()
                    .map(|p| hash_file(p, &[format]).expect("hash"))
                    .count()
            })
        });
    }
    group.finish();
}

/// 10 000 files of 4 KiB: what dominates is walking, XML and history lookups, not hashing.
fn many_files(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("delivery");
    for d in 0..100 {
        let folder = root.join(format!("SH{d:03}"));
        std::fs::create_dir_all(&folder).expect("mkdir");
        for f in 0..100 {
            let body = vec![(d * 100 + f) as u8; 4096];
            std::fs::write(folder.join(format!("SH{d:03}.{f:04}.exr")), body).expect("write");
        }
    }
    let mut group = c.benchmark_group("tree_10k_files");
    group.sample_size(10);
    group.throughput(Throughput::Elements(10_000));
    let opts = CreateOptions::new(chrono::Utc::now());
    create_generation(&root, &opts).expect("first generation");
    group.bench_function("verify", |b| {
        b.iter(|| assert!(verify(&root).expect("verify").is_ok()))
    });
    let history = root.join("ascmhl");
    let chain = std::fs::read(history.join("ascmhl_chain.xml")).expect("chain");
    group.bench_function("create_generation_on_a_history", |b| {
        b.iter(|| {
            let g = create_generation(&root, &opts).expect("generation");
            assert_eq!(g.count_verified(), 10_000);
            // Back to one generation so every iteration does the same work.
            std::fs::remove_file(&g.manifest).expect("remove manifest");
            std::fs::write(history.join("ascmhl_chain.xml"), &chain).expect("chain");
        })
    });
    group.finish();
}

criterion_group!(benches, bench, many_files);
criterion_main!(benches);

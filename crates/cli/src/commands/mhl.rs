//! `platefarm mhl create|verify|info DIR`: ASC MHL histories for deliveries.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct MhlArgs {
    #[command(subcommand)]
    pub command: MhlCommand,
}

#[derive(clap::Subcommand)]
pub enum MhlCommand {
    /// Hash every file under DIR and add a generation to its history.
    Create {
        dir: PathBuf,
        /// xxh64 (default), xxh3, xxh128, md5, sha1 or c4.
        #[arg(long, default_value = "xxh64")]
        hash: String,
        /// Names or `*` globs to leave out (repeatable).
        #[arg(long)]
        ignore: Vec<String>,
    },
    /// Verify DIR against its history; exit status 1 on any problem.
    Verify { dir: PathBuf },
    /// List the generations of DIR's history.
    Info { dir: PathBuf },
}

/// Returns false when verification found a problem.
pub fn run(args: MhlArgs) -> anyhow::Result<bool> {
    use platefarm_mhl::*;
    match args.command {
        MhlCommand::Create { dir, hash, ignore } => {
            let format = HashFormat::from_name(&hash).ok_or_else(|| {
                anyhow::anyhow!("unknown hash format {hash:?} (xxh64, xxh3, xxh128, md5, sha1, c4)")
            })?;
            let started = std::time::Instant::now();
            let opts = CreateOptions {
                format,
                ignore,
                ..CreateOptions::new(chrono::Utc::now())
            };
            let g = create_generation(&dir, &opts)?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "generation {} of {}: {} files, {:.1} MB in {:.2} s ({:.0} MB/s)",
                g.generation,
                dir.display(),
                g.files,
                g.bytes as f64 / 1e6,
                secs,
                g.bytes as f64 / 1e6 / secs.max(1e-9)
            );
            let failed: Vec<_> = g
                .outcomes
                .iter()
                .filter(|(_, o)| matches!(o, FileOutcome::Mismatch { .. }))
                .collect();
            for (path, o) in &failed {
                println!("  hash mismatch: {path} {o:?}");
            }
            Ok(failed.is_empty())
        }
        MhlCommand::Verify { dir } => {
            let report = verify(&dir)?;
            for e in &report.chain_errors {
                println!("chain: {e}");
            }
            let mut ok = report.chain_errors.is_empty();
            for (path, o) in &report.outcomes {
                match o {
                    FileOutcome::Verified => {}
                    FileOutcome::New => {
                        ok = false;
                        println!("new file not in history: {path}");
                    }
                    FileOutcome::Missing => {
                        ok = false;
                        println!("missing: {path}");
                    }
                    FileOutcome::Mismatch { expected, actual } => {
                        ok = false;
                        println!("hash mismatch: {path} (expected {expected}, got {actual})");
                    }
                }
            }
            let n_ok = report
                .outcomes
                .values()
                .filter(|o| **o == FileOutcome::Verified)
                .count();
            println!(
                "{}: {n_ok} of {} files verified{}",
                dir.display(),
                report.outcomes.len(),
                if ok { "" } else { " — FAILED" }
            );
            Ok(ok)
        }
        MhlCommand::Info { dir } => {
            for g in info(&dir)?.generations {
                println!(
                    "generation {} {} by {} on {} ({}, {} files)",
                    g.sequence, g.creation_date, g.tool, g.hostname, g.process, g.files
                );
            }
            Ok(true)
        }
    }
}

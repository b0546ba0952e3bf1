//! `platefarm mhl create|verify|info DIR`: ASC MHL histories for deliveries (glue over
//! platefarm-mhl; every problem printed on its own line, non-zero exit on any).

use platefarm_mhl::{
    create_generation, info, verify, CreateOptions, FileOutcome, HashFormat, Process,
};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct MhlArgs {
    #[command(subcommand)]
    pub command: MhlCommand,
}

#[derive(clap::Subcommand)]
pub enum MhlCommand {
    /// Hash every file under DIR and add a generation to its history (DIR/ascmhl/).
    Create {
        dir: PathBuf,
        /// xxh64 (default), xxh3, xxh128, md5, sha1 or c4.
        #[arg(long, default_value = "xxh64")]
        hash: String,
        /// Git-style pattern to leave out, added to the history's (repeatable).
        #[arg(long)]
        ignore: Vec<String>,
        /// in-place (default), transfer or flatten.
        #[arg(long, default_value = "in-place")]
        process: String,
        /// Written into <creatorinfo><comment>.
        #[arg(long)]
        comment: Option<String>,
        /// Written into <creatorinfo><location>.
        #[arg(long)]
        location: Option<String>,
        /// Written into <creatorinfo><author> (repeatable).
        #[arg(long)]
        author: Vec<String>,
    },
    /// Verify DIR against its history; prints each problem, exit status 1 on any.
    Verify { dir: PathBuf },
    /// List the generations of DIR's history.
    Info {
        dir: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Returns false when a check failed (the caller exits with status 1).
pub fn run(args: MhlArgs) -> anyhow::Result<bool> {
    match args.command {
        MhlCommand::Create {
            dir,
            hash,
            ignore,
            process,
            comment,
            location,
            author,
        } => {
            let hash = HashFormat::from_name(&hash)
                .ok_or(platefarm_mhl::MhlError::UnknownHashFormat(hash))?;
            let mut opts = CreateOptions {
                hash,
                ignore,
                process: process.parse::<Process>()?,
                ..CreateOptions::new(chrono::Utc::now())
            };
            opts.creator.comment = comment;
            opts.creator.location = location;
            opts.creator.authors = author;
            let started = std::time::Instant::now();
            let g = create_generation(&dir, &opts)?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "generation {} of {}: {} files ({} new, {} verified), {:.1} MB in {:.2} s ({:.0} MB/s)",
                g.generation,
                dir.display(),
                g.files,
                g.outcomes.values().filter(|o| **o == FileOutcome::New).count(),
                g.count_verified(),
                g.bytes as f64 / 1e6,
                secs,
                g.bytes as f64 / 1e6 / secs.max(1e-9)
            );
            println!("  manifest {}", g.manifest.display());
            for (path, o) in &g.outcomes {
                if let FileOutcome::Mismatch {
                    format,
                    expected,
                    actual,
                } = o
                {
                    println!(
                        "hash mismatch: {path} ({} recorded {expected}, now {actual}; recorded as failed)",
                        format.name()
                    );
                }
            }
            for path in &g.missing {
                println!("missing: {path}");
            }
            Ok(g.is_ok())
        }
        MhlCommand::Verify { dir } => {
            let report = verify(&dir)?;
            for p in &report.chain {
                println!("chain: {p}");
            }
            for (path, o) in &report.outcomes {
                match o {
                    FileOutcome::Verified => {}
                    FileOutcome::New => println!("new file not in history: {path}"),
                    FileOutcome::Missing => println!("missing: {path}"),
                    FileOutcome::Mismatch {
                        format,
                        expected,
                        actual,
                    } => println!(
                        "hash mismatch: {path} ({} expected {expected}, got {actual})",
                        format.name()
                    ),
                }
            }
            for d in &report.directories {
                let what = match (&d.content, &d.structure) {
                    (Some(_), Some(_)) => "content and structure hash",
                    (Some(_), None) => "content hash",
                    _ => "structure hash",
                };
                println!(
                    "directory {what} mismatch: {} ({}, generation {})",
                    d.path,
                    d.format.name(),
                    d.generation
                );
            }
            let ok = report.is_ok();
            println!(
                "{}: {} of {} files verified{}",
                dir.display(),
                report.count(|o| *o == FileOutcome::Verified),
                report.outcomes.len(),
                if ok {
                    String::new()
                } else {
                    format!(
                        " — FAILED (ascmhl-debug verify would exit {})",
                        report.exit_code()
                    )
                }
            );
            Ok(ok)
        }
        MhlCommand::Info { dir, json } => {
            let hist = info(&dir)?;
            if json {
                let gens: Vec<_> = hist
                    .generations
                    .iter()
                    .map(|g| {
                        serde_json::json!({
                            "generation": g.sequence,
                            "manifest": g.manifest,
                            "creation_date": g.creator.creation_date,
                            "tool": g.creator.tool,
                            "tool_version": g.creator.tool_version,
                            "hostname": g.creator.hostname,
                            "authors": g.creator.authors,
                            "location": g.creator.location,
                            "comment": g.creator.comment,
                            "process": g.process,
                            "hash_formats": g.hash_formats,
                            "files": g.files,
                            "directories": g.directories,
                            "original": g.original,
                            "verified": g.verified,
                            "failed": g.failed,
                        })
                    })
                    .collect();
                let chain: Vec<String> = hist.chain.iter().map(|p| p.to_string()).collect();
                let doc = serde_json::json!({ "generations": gens, "chain_problems": chain });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                for g in &hist.generations {
                    let c = &g.creator;
                    println!(
                        "generation {} {} by {} {} on {} ({}, {}): {} files ({} original, {} verified, {} failed)",
                        g.sequence,
                        c.creation_date,
                        c.tool,
                        c.tool_version,
                        c.hostname,
                        g.process,
                        g.hash_formats.join("+"),
                        g.files,
                        g.original,
                        g.verified,
                        g.failed
                    );
                    if let Some(comment) = &c.comment {
                        println!("  comment: {comment}");
                    }
                }
                for p in &hist.chain {
                    println!("chain: {p}");
                }
            }
            Ok(hist.chain.is_empty())
        }
    }
}

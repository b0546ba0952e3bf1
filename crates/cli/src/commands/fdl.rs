//! `platefarm fdl validate FILE…`: every problem of each FDL, with its JSON path.

use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct FdlArgs {
    #[command(subcommand)]
    pub command: FdlCommand,
}

#[derive(clap::Subcommand)]
pub enum FdlCommand {
    /// Validate FDL files against the ASC FDL v2.0.1 rules (1.x documents are read too).
    Validate { files: Vec<PathBuf> },
}

/// Returns the number of invalid files.
pub fn run(args: FdlArgs) -> anyhow::Result<usize> {
    match args.command {
        FdlCommand::Validate { files } => {
            anyhow::ensure!(!files.is_empty(), "give one or more FDL files");
            let mut bad = 0;
            for f in files {
                let text = std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?;
                match platefarm_standards::Fdl::parse(&text) {
                    Ok(doc) => println!(
                        "{}: ok (FDL {}.{})",
                        f.display(),
                        doc.version.0,
                        doc.version.1
                    ),
                    Err(platefarm_standards::FdlError::Invalid(problems)) => {
                        bad += 1;
                        println!("{}: {} problem(s)", f.display(), problems.len());
                        for p in problems {
                            println!("  {p}");
                        }
                    }
                    Err(e) => {
                        bad += 1;
                        println!("{}: {e}", f.display());
                    }
                }
            }
            Ok(bad)
        }
    }
}

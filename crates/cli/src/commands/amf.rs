//! `platefarm amf inspect FILE [--json]`: the colour pipeline platefarm resolves from an AMF.

use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct AmfArgs {
    #[command(subcommand)]
    pub command: AmfCommand,
}

#[derive(clap::Subcommand)]
pub enum AmfCommand {
    /// Parse an AMF and print the resolved pipeline (input colour space, looks, output).
    Inspect {
        file: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: AmfArgs) -> anyhow::Result<()> {
    match args.command {
        AmfCommand::Inspect { file, json } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let amf = platefarm_standards::amf::Amf::parse(&text)
                .with_context(|| file.display().to_string())?;
            let resolved = amf.resolve().with_context(|| file.display().to_string())?;
            if json {
                let out = serde_json::json!({
                    "file": file.display().to_string(),
                    "amf_version": amf.version,
                    "uuid": amf.uuid,
                    "clip_name": amf.clip_name,
                    "pipeline": resolved,
                    "warnings": amf.warnings,
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("{} (AMF {}, {})", file.display(), amf.version, amf.uuid);
                if let Some(clip) = &amf.clip_name {
                    println!("clip:   {clip}");
                }
                println!("{resolved}");
                for w in &amf.warnings {
                    println!("warning: {w}");
                }
            }
            Ok(())
        }
    }
}

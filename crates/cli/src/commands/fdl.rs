//! `platefarm fdl validate FILE…` (every problem of each FDL, with its JSON path) and
//! `platefarm fdl apply SOURCE TEMPLATE -o OUT` (a canvas template, as asc-fdl 1.0.2 applies it).

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
    /// Apply a canvas template to a source canvas and framing decision (as asc-fdl 1.0.2 does)
    /// and write the source FDL plus the new canvas.
    Apply {
        source: PathBuf,
        template: PathBuf,
        /// Context label (default: the first context).
        #[arg(long)]
        context: Option<String>,
        /// Canvas id (default: the context's first canvas).
        #[arg(long)]
        canvas: Option<String>,
        /// Framing decision id (default: the canvas's first).
        #[arg(long)]
        framing: Option<String>,
        /// Canvas template id (default: the template file's first).
        #[arg(long = "template-id")]
        template_id: Option<String>,
        /// Id of the new canvas.
        #[arg(long, default_value = "N001")]
        new_canvas_id: String,
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn load(path: &PathBuf) -> anyhow::Result<platefarm_standards::Fdl> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    platefarm_standards::Fdl::parse(&text).with_context(|| path.display().to_string())
}

/// Returns the number of invalid files.
pub fn run(args: FdlArgs) -> anyhow::Result<usize> {
    match args.command {
        FdlCommand::Apply {
            source,
            template,
            context,
            canvas,
            framing,
            template_id,
            new_canvas_id,
            output,
        } => {
            use platefarm_standards::fdl_template::{apply_template, result_document};
            let (src, tpl) = (load(&source)?, load(&template)?);
            let r = apply_template(
                &src,
                context.as_deref(),
                canvas.as_deref(),
                framing.as_deref(),
                &tpl,
                template_id.as_deref(),
            )?;
            let templates = tpl.value["canvas_templates"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let t = match &template_id {
                Some(id) => templates
                    .iter()
                    .find(|t| t["id"].as_str() == Some(id.as_str()))
                    .cloned(),
                None => templates.first().cloned(),
            }
            .unwrap_or_default();
            let doc = result_document(
                &src,
                &r,
                &t,
                &new_canvas_id,
                &uuid::Uuid::new_v4().to_string(),
                "platefarm",
            );
            std::fs::write(&output, serde_json::to_string_pretty(&doc)?)
                .with_context(|| format!("writing {}", output.display()))?;
            println!(
                "{}: canvas {}×{}, framing {}×{} at ({}, {}), scale {:.6}, translation ({}, {})",
                output.display(),
                r.canvas.width,
                r.canvas.height,
                r.framing.width,
                r.framing.height,
                r.framing_anchor.x,
                r.framing_anchor.y,
                r.scale_factor,
                r.content_translation.x,
                r.content_translation.y
            );
            Ok(0)
        }
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

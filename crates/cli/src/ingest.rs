//! `platefarm ingest LOCATION` and `platefarm clips search`: inspect camera originals into clip
//! records in the catalog (with a thumbnail per clip stored beside the footage), and search
//! them — by reel, camera, free text, and the editorial question: which clip and frame hold
//! timecode T on reel R.
//!
//! A location is a local folder, a store URL (`s3://bucket/prefix`, `file:///dir`), or a key
//! prefix inside the farm's store (`--store`). Every location is read through an
//! `ObjectStore`, so a folder and a bucket behave the same. The ingest runs here (embedded),
//! clips in parallel on this process's cores.

use anyhow::Context;
use platefarm_catalog::{ClipHit, ClipQuery};
use platefarm_ingest::{ClipRecord, FrameStatus, IngestReport, Timecode};
use platefarm_store::{ObjectStore, StoreUrl};
use std::sync::Arc;

/// Largest file ingest reads whole.
const MAX_FILE_BYTES: u64 = 2 << 30;

#[derive(clap::Args, Debug, Clone)]
pub struct IngestArgs {
    /// A local folder, a store URL (s3://bucket/prefix), or a key prefix in --store.
    pub location: String,
    /// The farm's store, when LOCATION is a key prefix inside it.
    #[arg(long = "store", env = "PLATEFARM_STORE")]
    pub store: Option<String>,
    #[command(flatten)]
    pub catalog: crate::farm::CatalogArgs,
    /// Print the report (every clip record) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not make thumbnails.
    #[arg(long)]
    pub no_thumbnails: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct SearchArgs {
    /// Reel name (case-insensitive, exact).
    #[arg(long)]
    pub reel: Option<String>,
    /// Part of the camera's make, model or serial.
    #[arg(long)]
    pub camera: Option<String>,
    /// A timecode (HH:MM:SS:FF, `;` before the frames for drop-frame): clips holding it, with
    /// the frame number.
    #[arg(long)]
    pub timecode: Option<String>,
    /// Words that must all occur in the clip's name, key, reel, camera, lens, …
    #[arg(long)]
    pub text: Option<String>,
    /// Only clips of this location.
    #[arg(long)]
    pub location: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    #[command(flatten)]
    pub catalog: crate::farm::CatalogArgs,
    #[arg(long)]
    pub json: bool,
}

/// The store a location is read from, and the key prefix inside it.
pub struct OpenLocation {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: String,
    /// How the records name the location.
    pub name: String,
}

pub async fn open_location(location: &str, store: Option<&str>) -> anyhow::Result<OpenLocation> {
    let registry = prometheus::Registry::new();
    let is_url = location.contains("://");
    if is_url || std::path::Path::new(location).is_dir() {
        let url = if is_url {
            location.to_string()
        } else {
            let dir = std::fs::canonicalize(location)
                .with_context(|| format!("ingest location {location}"))?;
            dir.display().to_string()
        };
        StoreUrl::parse(&url).with_context(|| format!("ingest location {location}"))?;
        let (store, _) = crate::farm::open_store(&url, &registry).await?;
        return Ok(OpenLocation {
            store,
            prefix: String::new(),
            name: url,
        });
    }
    let Some(store_url) = store else {
        anyhow::bail!(
            "ingest location {location:?} is not a folder, and no --store (PLATEFARM_STORE) is given to read it as a key prefix from"
        );
    };
    platefarm_store::check_key(location.trim_end_matches('/'))
        .map_err(|e| anyhow::anyhow!("ingest location {location:?}: {e}"))?;
    let (store, _) = crate::farm::open_store(store_url, &registry).await?;
    let prefix = format!("{}/", location.trim_end_matches('/'));
    Ok(OpenLocation {
        store,
        name: format!(
            "{}/{}",
            store_url.trim_end_matches('/'),
            location.trim_matches('/')
        ),
        prefix,
    })
}

/// Lists the location, inspects it (MHL first), stores thumbnails beside the footage; the
/// report's clips are what the catalog should record.
pub async fn ingest_location(loc: &OpenLocation, thumbnails: bool) -> anyhow::Result<IngestReport> {
    let done = platefarm_dispatcher::ingest::ingest_store(
        loc.store.clone(),
        &loc.prefix,
        &loc.name,
        thumbnails,
        MAX_FILE_BYTES,
    )
    .await?;
    for why in &done.thumbnail_errors {
        // A clip with no readable frame has no thumbnail; its record says why.
        eprintln!("platefarm: {why}");
    }
    Ok(done.report)
}

pub async fn run_ingest(args: &IngestArgs) -> anyhow::Result<()> {
    let loc = open_location(&args.location, args.store.as_deref()).await?;
    let catalog = crate::farm::open_catalog(&args.catalog.catalog).await?;
    let report = ingest_location(&loc, !args.no_thumbnails).await?;
    catalog
        .upsert_clips(&report.clips, chrono::Utc::now())
        .await
        .context("recording the clips in the catalog")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let frames: u32 = report.clips.iter().map(|c| c.frames.count).sum();
    println!(
        "{}: {} clips, {frames} frames{}",
        loc.name,
        report.clips.len(),
        match &report.mhl {
            Some(m) => format!(
                ", ASC MHL verified ({} files, {} new)",
                m.verified,
                m.new_files.len()
            ),
            None => String::new(),
        }
    );
    for clip in &report.clips {
        println!("  {}", clip_line(clip));
        for b in &clip.frames.bad {
            println!("    bad frame {} ({}): {}", b.frame, b.key, b.reason);
        }
    }
    Ok(())
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

fn clip_line(c: &ClipRecord) -> String {
    let tc = match (&c.timecode.start, &c.timecode.end, &c.timecode.rate) {
        (Some(s), Some(e), Some(r)) => format!("{s}–{e} @ {r}"),
        _ => "no timecode".into(),
    };
    let missing = if c.frames.missing.is_empty() {
        String::new()
    } else {
        format!(", {} missing", c.frames.missing.len())
    };
    let bad = if c.frames.bad.is_empty() {
        String::new()
    } else {
        format!(", {} bad", c.frames.bad.len())
    };
    format!(
        "{}  reel {}  {} {}  {}  {}×{}  frames {}–{} ({}{missing}{bad})",
        c.name,
        opt(&c.reel),
        opt(&c.camera.make),
        opt(&c.camera.model),
        tc,
        c.image.width,
        c.image.height,
        c.frames.first,
        c.frames.last,
        c.frames.count
    )
}

pub fn query(
    reel: Option<String>,
    camera: Option<String>,
    timecode: Option<&str>,
    text: Option<String>,
    location: Option<String>,
    limit: u32,
) -> Result<ClipQuery, String> {
    let timecode = match timecode {
        Some(t) => Some(t.parse::<Timecode>().map_err(|e| e.to_string())?),
        None => None,
    };
    Ok(ClipQuery {
        location,
        reel,
        camera,
        timecode,
        text,
        limit,
    })
}

pub async fn run_search(args: &SearchArgs) -> anyhow::Result<()> {
    let q = query(
        args.reel.clone(),
        args.camera.clone(),
        args.timecode.as_deref(),
        args.text.clone(),
        args.location.clone(),
        args.limit,
    )
    .map_err(anyhow::Error::msg)?;
    let catalog = crate::farm::open_catalog(&args.catalog.catalog).await?;
    let hits: Vec<ClipHit> = catalog.search_clips(&q).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
        return Ok(());
    }
    if hits.is_empty() {
        println!("no clip matches");
    }
    for h in &hits {
        match &h.at {
            Some(at) => {
                let state = match &at.status {
                    FrameStatus::Present => "present".to_string(),
                    FrameStatus::Missing => "missing (a gap in the clip)".to_string(),
                    FrameStatus::Bad { reason } => format!("unreadable: {reason}"),
                };
                println!(
                    "{} frame {} ({}) holds {}: {state}",
                    h.clip.name, at.frame, at.key, at.timecode
                );
            }
            None => println!("{}", clip_line(&h.clip)),
        }
    }
    Ok(())
}

//! `platefarm ingest LOCATION` and `platefarm clips search`: inspect camera originals into clip
//! records in the catalog (with a thumbnail per clip stored beside the footage), and search
//! them — by reel, camera, free text, and the editorial question: which clip and frame hold
//! timecode T on reel R.
//!
//! A location is a local folder, a store URL (`s3://bucket/prefix`, `file:///dir`), or a key
//! prefix inside the farm's store (`--store`). Every location is read through an
//! `ObjectStore`, so a folder and a bucket behave the same. Without a broker the ingest runs
//! here (embedded), clips in parallel on this process's cores; with `--amqp` it is farm work:
//! one job per clip on the workers' queue, recorded by the farm's dispatcher.

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
    /// Hand the clips to the farm's workers through this broker (LOCATION must then be a key
    /// prefix in --store; the farm's dispatcher records the results in --catalog). Without a
    /// broker the ingest runs here.
    #[arg(long = "amqp", env = "PLATEFARM_AMQP_URL")]
    pub amqp: Option<String>,
    /// Prefix of the farm's queue names.
    #[arg(long, env = "PLATEFARM_QUEUE_PREFIX", default_value = "platefarm")]
    pub queue_prefix: String,
    /// With --amqp: give up waiting for the workers after this many seconds.
    #[arg(long, default_value_t = 3600)]
    pub wait: u64,
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
    // Named as the API and the workers name a prefix of the farm's store, so the same footage
    // ingested either way is one record (and its thumbnail is served by the API).
    Ok(OpenLocation {
        store,
        name: location.trim_matches('/').to_string(),
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

/// `platefarm ingest --amqp`: the ingest as farm work (`submit_ingest`), waited for in the
/// catalog the farm's dispatcher records it in.
async fn run_on_farm(args: &IngestArgs, amqp: &str) -> anyhow::Result<()> {
    let location = args.location.trim_matches('/');
    let Some(store_url) = args.store.as_deref() else {
        anyhow::bail!("with a broker (--amqp) the workers read the location from the farm's store: give --store (PLATEFARM_STORE) and a key prefix in it");
    };
    if args.location.contains("://") || std::path::Path::new(&args.location).is_dir() {
        anyhow::bail!(
            "with a broker (--amqp) the location must be a key prefix in --store, not {:?} (workers elsewhere cannot read it); copy the footage into the store, or ingest without --amqp",
            args.location
        );
    }
    if !location.is_empty() {
        platefarm_store::check_key(location)
            .map_err(|e| anyhow::anyhow!("ingest location {:?}: {e}", args.location))?;
    }
    let registry = prometheus::Registry::new();
    let (store, _) = crate::farm::open_store(store_url, &registry).await?;
    let broker = crate::farm::BrokerArgs {
        amqp_url: amqp.to_string(),
        amqp_management: None,
        queue_prefix: args.queue_prefix.clone(),
        delivery_limit: 5,
    };
    let queue = crate::farm::open_queue(&broker, &registry).await?;
    let catalog = crate::farm::open_catalog(&args.catalog.catalog).await?;
    let prefix = if location.is_empty() {
        String::new()
    } else {
        format!("{location}/")
    };
    let receipt = platefarm_dispatcher::ingest::submit_ingest(
        store,
        queue.as_ref(),
        catalog.as_ref(),
        &broker.queues(),
        &prefix,
        location,
        !args.no_thumbnails,
    )
    .await?;
    eprintln!(
        "platefarm: ingest {} of {}: {} clips handed to the workers",
        receipt.ingest_id,
        if location.is_empty() {
            "the store"
        } else {
            location
        },
        receipt.clips
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(args.wait);
    let status = loop {
        match catalog.ingest(&receipt.ingest_id).await? {
            Some(s) if s.state.is_final() => break s,
            Some(_) | None if std::time::Instant::now() > deadline => anyhow::bail!(
                "ingest {} not finished after {} s: is a dispatcher (platefarm serve) of this farm recording into {}?",
                receipt.ingest_id,
                args.wait,
                crate::farm::redact(&args.catalog.catalog)
            ),
            _ => tokio::time::sleep(std::time::Duration::from_millis(300)).await,
        }
    };
    let clips: Vec<ClipRecord> = catalog
        .search_clips(&ClipQuery {
            location: Some(location.to_string()),
            limit: 100_000,
            ..ClipQuery::default()
        })
        .await?
        .into_iter()
        .map(|h| h.clip)
        .collect();
    if args.json {
        let mut v = serde_json::to_value(&status)?;
        v["clips"] = serde_json::to_value(&clips)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "{}: {} clips, {} frames{} ({})",
            if location.is_empty() {
                "the store"
            } else {
                location
            },
            status.clips_done,
            status.frames,
            match &receipt.mhl {
                Some(m) => format!(
                    ", ASC MHL verified ({} files, {} new)",
                    m.verified,
                    m.new_files.len()
                ),
                None => String::new(),
            },
            status.state.as_str()
        );
        for clip in &clips {
            println!("  {}", clip_line(clip));
            for b in &clip.frames.bad {
                println!("    bad frame {} ({}): {}", b.frame, b.key, b.reason);
            }
        }
        for t in &status.thumbnail_errors {
            eprintln!("platefarm: {}: {}", t.clip, t.reason);
        }
    }
    if !status.failures.is_empty() {
        let list: Vec<String> = status
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.clip, f.reason))
            .collect();
        anyhow::bail!(
            "{} clip(s) could not be inspected: {}",
            list.len(),
            list.join("; ")
        );
    }
    Ok(())
}

pub async fn run_ingest(args: &IngestArgs) -> anyhow::Result<()> {
    if let Some(amqp) = &args.amqp {
        return run_on_farm(args, amqp).await;
    }
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

//! The farm's settings as flags with environment variables of the same meaning, and the one
//! place the binary picks engines: RabbitMQ or the in-process queue, S3 or a local folder,
//! PostgreSQL or SQLite. Services get trait objects; they never see which.

use anyhow::Context;
use platefarm_catalog::{Catalog, SqlCatalog};
use platefarm_queue::{FarmQueues, WorkQueue};
use platefarm_store::{LocalStore, ObjectStore};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args, Clone, Debug)]
pub struct BrokerArgs {
    /// RabbitMQ broker, vhost in the URL.
    #[arg(
        long = "amqp",
        env = "PLATEFARM_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp_url: String,
    /// RabbitMQ management API (for queue depth with unacknowledged messages), e.g.
    /// http://guest:guest@127.0.0.1:15672.
    #[arg(long = "amqp-management", env = "PLATEFARM_AMQP_MANAGEMENT_URL")]
    pub amqp_management: Option<String>,
    /// Prefix of the farm's queue names (several farms on one vhost).
    #[arg(long, env = "PLATEFARM_QUEUE_PREFIX", default_value = "platefarm")]
    pub queue_prefix: String,
    /// Deliveries of a chunk before it is dead-lettered (a worker crash counts as one).
    #[arg(long, env = "PLATEFARM_DELIVERY_LIMIT", default_value_t = 5)]
    pub delivery_limit: u32,
}

#[derive(clap::Args, Clone, Debug)]
pub struct StoreArgs {
    /// Object store: file:///dir, a plain folder, or s3://bucket[/prefix] (with AWS_ENDPOINT_URL,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, PLATEFARM_S3_FORCE_PATH_STYLE).
    #[arg(long = "store", env = "PLATEFARM_STORE")]
    pub store: String,
}

#[derive(clap::Args, Clone, Debug)]
pub struct CatalogArgs {
    /// Catalog: sqlite:PATH or postgres://user@host/db.
    #[arg(long = "catalog", env = "PLATEFARM_CATALOG_URL")]
    pub catalog: String,
}

#[derive(clap::Args, Clone, Debug)]
pub struct ApiArgs {
    /// The platefarm API.
    #[arg(
        long = "api",
        env = "PLATEFARM_API_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub api: String,
    /// Bearer token sent to the API.
    #[arg(long = "token", env = "PLATEFARM_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl BrokerArgs {
    pub fn queues(&self) -> FarmQueues {
        FarmQueues::with_prefix(self.queue_prefix.as_str(), self.delivery_limit)
    }
}

/// A store URL: `file:///dir`, `s3://bucket[/prefix]`, or a plain folder.
pub enum StoreLocation {
    Local(PathBuf),
    S3(String),
}

pub fn parse_store(url: &str) -> anyhow::Result<StoreLocation> {
    if let Some(rest) = url.strip_prefix("file://") {
        anyhow::ensure!(
            rest.starts_with('/'),
            "store URL {url:?}: file:// needs an absolute path (file:///srv/farm)"
        );
        return Ok(StoreLocation::Local(PathBuf::from(rest)));
    }
    if url.starts_with("s3://") {
        return Ok(StoreLocation::S3(url.to_string()));
    }
    anyhow::ensure!(
        !url.contains("://"),
        "store URL {url:?}: use file:///dir, s3://bucket[/prefix] or a folder"
    );
    Ok(StoreLocation::Local(PathBuf::from(url)))
}

/// Opens the store; `local_root` is the folder of a local store (for in-place deliveries).
pub async fn open_store(
    url: &str,
    registry: &prometheus::Registry,
) -> anyhow::Result<(Arc<dyn ObjectStore>, Option<PathBuf>)> {
    let _ = registry;
    match parse_store(url)? {
        StoreLocation::Local(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating the store folder {}", dir.display()))?;
            let store = LocalStore::open(&dir)
                .with_context(|| format!("opening the store at {}", dir.display()))?;
            Ok((Arc::new(store), Some(dir)))
        }
        StoreLocation::S3(url) => anyhow::bail!("{url}: this build has no S3 store"),
    }
}

/// RabbitMQ behind the retry wrapper: a service may start before the broker, and rides out
/// broker restarts (calls wait up to a minute, consumers consume again).
pub async fn open_queue(
    args: &BrokerArgs,
    registry: &prometheus::Registry,
) -> anyhow::Result<Arc<dyn WorkQueue>> {
    let amqp = platefarm_queue_amqp::AmqpQueue::new(platefarm_queue_amqp::AmqpConfig {
        url: args.amqp_url.clone(),
        management_url: args.amqp_management.clone(),
        connection_name: format!("platefarm {}", std::process::id()),
        ..Default::default()
    })
    .with_context(|| format!("broker {}", redact(&args.amqp_url)))?;
    let queue =
        platefarm_queue::Retrying::new(amqp, platefarm_queue::RetryPolicy::default(), registry)
            .context("registering the queue metrics")?;
    Ok(Arc::new(queue))
}

pub async fn open_catalog(url: &str) -> anyhow::Result<Arc<dyn Catalog>> {
    anyhow::ensure!(
        url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"),
        "catalog URL {url:?}: use sqlite:PATH or postgres://user@host/db"
    );
    let cat = SqlCatalog::connect(url)
        .await
        .with_context(|| format!("opening the catalog {}", redact(url)))?;
    Ok(Arc::new(cat))
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

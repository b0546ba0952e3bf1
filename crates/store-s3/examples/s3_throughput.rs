//! Put/get throughput of `S3Store` for 60 MB objects against s3s-fs on loopback:
//! `cargo run --release -p platefarm-store-s3 --example s3_throughput` (prints MB/s).

use platefarm_store::ObjectStore;
use platefarm_store_s3::{S3Config, S3Credentials, S3Store};
use platefarm_testkit::s3::S3Server;
use std::time::Instant;

const SIZE: usize = 60_000_000;
const ROUNDS: usize = 3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = S3Server::start();
    let mut config = S3Config::new(server.bucket());
    config.endpoint = Some(server.endpoint());
    config.region = Some(server.region().to_string());
    config.force_path_style = true;
    config.credentials = S3Credentials::Static {
        access_key_id: server.access_key().to_string(),
        secret_access_key: server.secret_key().to_string(),
        session_token: None,
    };
    let store = S3Store::new(config).await?;
    let bytes: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let mb = SIZE as f64 / 1e6;
    for round in 0..ROUNDS {
        let key = format!("bench/plate-{round}");
        let t = Instant::now();
        store.put(&key, bytes.clone()).await?;
        let put_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let got = store.get(&key, SIZE as u64).await?;
        let get_s = t.elapsed().as_secs_f64();
        assert_eq!(got.len(), SIZE);
        println!(
            "round {round}: put {:.0} MB/s ({put_s:.2} s), get {:.0} MB/s ({get_s:.2} s)",
            mb / put_s,
            mb / get_s
        );
    }
    Ok(())
}

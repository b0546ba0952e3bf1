//! `platefarm submit | status | watch | cancel | retry-failed`: the farm's API from a shell.
//! `submit` prints the turnover id alone on stdout (for scripts); `watch` exits 0 when the
//! turnover completed and 1 when it ended any other way.

use crate::client::ApiClient;
use anyhow::{bail, Context};
use serde_json::Value;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

pub async fn submit(api: &ApiClient, file: &Path) -> anyhow::Result<String> {
    let body = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let a = api.call("POST", "/v1/turnovers", body).await?;
    match a.status {
        200 | 202 => Ok(a.body["turnover_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()),
        _ => bail!("{}: {} (HTTP {})", file.display(), a.message(), a.status),
    }
}

fn id_path(id: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        "{id:?} is not a turnover id"
    );
    Ok(format!("/v1/turnovers/{id}"))
}

pub async fn status(api: &ApiClient, id: &str, json: bool) -> anyhow::Result<Value> {
    let v = api.ok("GET", &id_path(id)?, Vec::new()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", render_status(&v));
    }
    Ok(v)
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

pub fn render_status(v: &Value) -> String {
    let mut out = String::new();
    let c = &v["chunks"];
    let (done, total) = (n(&v["frames_done"]), n(&v["frames_total"]));
    out.push_str(&format!(
        "{}  {}  production {}  priority {}\n",
        v["turnover_id"].as_str().unwrap_or("?"),
        v["state"].as_str().unwrap_or("?"),
        v["production"].as_str().unwrap_or("?"),
        n(&v["priority"])
    ));
    out.push_str(&format!(
        "  frames {done}/{total} ({:.0} %)  chunks: {} planned, {} published, {} running, {} done, {} failed, {} cancelled\n",
        100.0 * done as f64 / total.max(1) as f64,
        n(&c["planned"]), n(&c["published"]), n(&c["running"]), n(&c["done"]), n(&c["failed"]), n(&c["cancelled"])
    ));
    for s in v["shots"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {:<12} {}/{} frames  delivery {}{}\n",
            s["shot"].as_str().unwrap_or("?"),
            n(&s["frames_done"]),
            n(&s["frames_total"]),
            s["delivery"].as_str().unwrap_or("?"),
            s["delivery_detail"]
                .as_str()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        ));
    }
    let failures = v["failures"].as_array().cloned().unwrap_or_default();
    if !failures.is_empty() {
        out.push_str("  failures:\n");
        for f in &failures {
            out.push_str(&format!(
                "    {} (frames {}-{}): {}\n",
                f["chunk_id"].as_str().unwrap_or("?"),
                n(&f["frame_start"]),
                n(&f["frame_end"]),
                f["reason"].as_str().unwrap_or("no reason recorded")
            ));
        }
    }
    out
}

pub async fn cancel(api: &ApiClient, id: &str) -> anyhow::Result<()> {
    let v = api
        .ok("POST", &format!("{}/cancel", id_path(id)?), Vec::new())
        .await?;
    println!("{id}: cancelled ({} chunks)", n(&v["chunks_cancelled"]));
    Ok(())
}

pub async fn retry_failed(api: &ApiClient, id: &str) -> anyhow::Result<()> {
    let v = api
        .ok(
            "POST",
            &format!("{}/retry-failed", id_path(id)?),
            Vec::new(),
        )
        .await?;
    println!(
        "{id}: {} failed chunks planned again",
        n(&v["chunks_retried"])
    );
    Ok(())
}

/// Follows a turnover until it is final; returns whether it completed without failures.
/// Reconnects (with a fresh snapshot) when the stream or the dispatcher goes away.
pub async fn watch(api: &ApiClient, id: &str) -> anyhow::Result<bool> {
    let path = id_path(id)?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40.cyan/blue} {pos}/{len} frames  {per_sec}  eta {eta}  {msg}",
            )
            .expect("valid template"),
        );
        bar
    });
    let mut final_state: Option<String> = None;
    let mut outage = std::time::Instant::now();
    let mut last_line = std::time::Instant::now() - Duration::from_secs(60);
    while final_state.is_none() {
        let mut frames_done = 0u64;
        let mut frames_total = 0u64;
        let result = api
            .events(&format!("{path}/events"), |name, data| {
                match name {
                    "snapshot" => {
                        frames_done = n(&data["frames_done"]);
                        frames_total = n(&data["frames_total"]);
                        let state = data["state"].as_str().unwrap_or("running");
                        if state != "running" {
                            final_state = Some(state.to_string());
                        }
                    }
                    _ => match data["type"].as_str() {
                        Some("chunk") => {
                            let state = data["state"].as_str().unwrap_or("");
                            if state == "done" {
                                frames_done += n(&data["n_frames"]);
                            } else if state == "failed" {
                                let line = format!(
                                    "FAILED {}: {}",
                                    data["chunk_id"].as_str().unwrap_or("?"),
                                    data["detail"].as_str().unwrap_or("")
                                );
                                match &bar {
                                    Some(b) => b.println(line),
                                    None => println!("{line}"),
                                }
                            }
                        }
                        Some("shot_delivered") => {
                            let line = if data["ok"].as_bool() == Some(true) {
                                format!("shot {} delivered", data["shot"].as_str().unwrap_or("?"))
                            } else {
                                format!(
                                    "shot {} NOT delivered: {}",
                                    data["shot"].as_str().unwrap_or("?"),
                                    data["detail"].as_str().unwrap_or("")
                                )
                            };
                            match &bar {
                                Some(b) => b.println(line),
                                None => println!("{line}"),
                            }
                        }
                        Some("turnover") => {
                            final_state = data["state"].as_str().map(str::to_string);
                        }
                        _ => {}
                    },
                }
                match &bar {
                    Some(b) => {
                        b.set_length(frames_total);
                        b.set_position(frames_done);
                    }
                    None if last_line.elapsed() > Duration::from_secs(2)
                        || final_state.is_some() =>
                    {
                        println!("{id}: {frames_done}/{frames_total} frames");
                        last_line = std::time::Instant::now();
                    }
                    None => {}
                }
                final_state.is_none()
            })
            .await;
        match result {
            Ok(()) => outage = std::time::Instant::now(),
            Err(e) if final_state.is_none() => {
                // A 404 or 401 will not get better; an outage might.
                let msg = format!("{e:#}");
                if msg.contains("HTTP 4") {
                    if let Some(b) = &bar {
                        b.finish_and_clear();
                    }
                    return Err(e);
                }
                if outage.elapsed() > Duration::from_secs(600) {
                    return Err(e.context("gave up after 10 minutes without the API"));
                }
                tracing::warn!(error = %msg, "lost the event stream, reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(_) => {}
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let state = final_state.unwrap_or_default();
    let summary = api.ok("GET", &path, Vec::new()).await?;
    print!("{}", render_status(&summary));
    Ok(state == "completed")
}

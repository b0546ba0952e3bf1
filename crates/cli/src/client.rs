//! The API client behind `submit`, `status`, `watch`, `cancel` and `retry-failed`: plain HTTP/1.1
//! (hyper) with the bearer token, every request bounded by a timeout, and errors that say what
//! the server answered.

use anyhow::{bail, Context};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::time::Duration;

pub struct ApiClient {
    base: String,
    token: Option<String>,
    http: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

/// A response: status and JSON body (or the text, wrapped, when it is not JSON).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The server's `error` (and `problems`) as one message.
    pub fn message(&self) -> String {
        let mut m = self.body["error"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| self.body.to_string());
        if let Some(problems) = self.body["problems"].as_array() {
            for p in problems {
                m.push_str(&format!(
                    "\n  {}: {}",
                    p["path"].as_str().unwrap_or("$"),
                    p["reason"].as_str().unwrap_or("")
                ));
            }
        }
        m
    }
}

impl ApiClient {
    pub fn new(base: &str, token: Option<String>) -> anyhow::Result<Self> {
        let base = base.trim_end_matches('/').to_string();
        if base.starts_with("https://") {
            bail!("--api {base}: this build speaks plain HTTP; put TLS in front of the API (ingress) and talk to it over http:// inside the cluster");
        }
        if !base.starts_with("http://") {
            bail!("--api {base:?} is not an http:// URL");
        }
        Ok(ApiClient {
            base,
            token,
            http: Client::builder(TokioExecutor::new()).build_http(),
            timeout: Duration::from_secs(30),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<hyper::Request<Full<Bytes>>> {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        Ok(req.body(Full::new(Bytes::from(body)))?)
    }

    pub async fn call(&self, method: &str, path: &str, body: Vec<u8>) -> anyhow::Result<Answer> {
        let req = self.request(method, path, body)?;
        let resp = tokio::time::timeout(self.timeout, self.http.request(req))
            .await
            .with_context(|| format!("{} did not answer within {:?}", self.base, self.timeout))?
            .with_context(|| format!("cannot reach the platefarm API at {}", self.base))?;
        let status = resp.status().as_u16();
        let bytes = tokio::time::timeout(self.timeout, resp.into_body().collect())
            .await
            .context("reading the answer timed out")?
            .context("reading the answer")?
            .to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| serde_json::json!({"error": String::from_utf8_lossy(&bytes)}));
        Ok(Answer { status, body })
    }

    /// A JSON answer with a 2xx status, or the server's message as the error.
    pub async fn ok(&self, method: &str, path: &str, body: Vec<u8>) -> anyhow::Result<Value> {
        let a = self.call(method, path, body).await?;
        if !(200..300).contains(&a.status) {
            bail!("{} (HTTP {})", a.message(), a.status);
        }
        Ok(a.body)
    }

    /// Opens `GET path` as a server-sent-event stream; calls `on_event(name, data)` per event
    /// until the stream ends or `on_event` returns false.
    pub async fn events(
        &self,
        path: &str,
        mut on_event: impl FnMut(&str, &Value) -> bool,
    ) -> anyhow::Result<()> {
        let req = self.request("GET", path, Vec::new())?;
        let resp = tokio::time::timeout(self.timeout, self.http.request(req))
            .await
            .context("the event stream did not open")?
            .with_context(|| format!("cannot reach the platefarm API at {}", self.base))?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            let bytes = resp.into_body().collect().await?.to_bytes();
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            bail!("{} (HTTP {status})", Answer { status, body }.message());
        }
        let mut body = resp.into_body();
        let mut buf = String::new();
        let (mut name, mut data) = (String::new(), String::new());
        // Keep-alives arrive every 15 s; a silent minute means the server is gone.
        while let Some(frame) = tokio::time::timeout(Duration::from_secs(60), body.frame())
            .await
            .context("the event stream went silent")?
        {
            let frame = frame.context("event stream")?;
            let Some(chunk) = frame.data_ref() else {
                continue;
            };
            buf.push_str(&String::from_utf8_lossy(chunk));
            while let Some(pos) = buf.find('\n') {
                let line = buf[..pos].trim_end_matches('\r').to_string();
                buf.drain(..=pos);
                if line.is_empty() {
                    if !data.is_empty() {
                        let v: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                        if !on_event(&name, &v) {
                            return Ok(());
                        }
                    }
                    name.clear();
                    data.clear();
                } else if let Some(n) = line.strip_prefix("event:") {
                    name = n.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
        }
        Ok(())
    }
}

//! Queue depth from the RabbitMQ management HTTP API (`GET /api/queues/{vhost}/{name}`).
//!
//! Plain HTTP/1.0 over a tokio `TcpStream` with basic auth: the API is on loopback or a private
//! network, one small JSON document per call, so a full HTTP client stack is not worth its
//! dependencies. HTTP/1.0 keeps the server from chunking and lets us read to EOF.

use platefarm_queue::{QueueDepth, QueueError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response we read: a queue document is a few kB.
const MAX_RESPONSE: u64 = 1 << 20;

/// Where the management API listens and how to log in.
#[derive(Debug, Clone)]
pub struct Management {
    /// `host:port`
    authority: String,
    /// Path prefix before `/api` (a reverse proxy may mount it under one), without trailing `/`.
    base_path: String,
    basic_auth: String,
}

impl Management {
    /// `url` is `http://host:port[/prefix]`; credentials are the AMQP ones.
    pub fn new(url: &str, user: &str, password: &str) -> Result<Self, QueueError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| QueueError::Config {
                field: "management_url",
                problem: format!(
                    "{url:?}: only http:// is supported (loopback or private network)"
                ),
            })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(QueueError::Config {
                field: "management_url",
                problem: format!("{url:?} has no host"),
            });
        }
        Ok(Management {
            authority: authority.to_string(),
            base_path: path.to_string(),
            basic_auth: base64(format!("{user}:{password}").as_bytes()),
        })
    }

    /// Ready / unacked / consumers of `queue` in `vhost`, as the statistics database last saw
    /// them (refreshed every ~5 s by default).
    pub async fn depth(
        &self,
        vhost: &str,
        queue: &str,
        timeout: Duration,
    ) -> Result<QueueDepth, QueueError> {
        let path = format!(
            "{}/api/queues/{}/{}",
            self.base_path,
            percent_encode(vhost),
            percent_encode(queue)
        );
        let (status, body) = tokio::time::timeout(timeout, self.get(&path))
            .await
            .map_err(|_| {
                QueueError::Unavailable(format!(
                    "management API {}{path} timed out after {timeout:?}",
                    self.authority
                ))
            })??;
        match status {
            200 => parse_depth(queue, &body),
            404 => Err(QueueError::NoSuchQueue(queue.to_string())),
            401 | 403 => Err(QueueError::Refused {
                queue: queue.to_string(),
                detail: format!("management API answered {status}"),
            }),
            _ => Err(QueueError::Unavailable(format!(
                "management API answered {status} for {path}"
            ))),
        }
    }

    async fn get(&self, path: &str) -> Result<(u16, Vec<u8>), QueueError> {
        let io = |e: std::io::Error| {
            QueueError::Unavailable(format!("management API {}: {e}", self.authority))
        };
        let mut stream = TcpStream::connect(&self.authority).await.map_err(io)?;
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {}\r\nAuthorization: Basic {}\r\nAccept: application/json\r\n\r\n",
            self.authority, self.basic_auth
        );
        stream.write_all(request.as_bytes()).await.map_err(io)?;
        let mut response = Vec::new();
        (&mut stream)
            .take(MAX_RESPONSE)
            .read_to_end(&mut response)
            .await
            .map_err(io)?;
        let bad = || {
            QueueError::Unavailable(format!(
                "management API {}: malformed HTTP response",
                self.authority
            ))
        };
        let head_end = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(bad)?;
        let status_line = std::str::from_utf8(&response[..head_end])
            .ok()
            .and_then(|head| head.lines().next())
            .ok_or_else(bad)?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(bad)?;
        Ok((status, response[head_end + 4..].to_vec()))
    }
}

/// Missing counters count as 0: a queue's statistics appear only after its first refresh.
fn parse_depth(queue: &str, body: &[u8]) -> Result<QueueDepth, QueueError> {
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        QueueError::Unavailable(format!("management API: queue {queue:?} document: {e}"))
    })?;
    let field = |name: &str| doc.get(name).and_then(|v| v.as_u64()).unwrap_or(0);
    Ok(QueueDepth {
        ready: field("messages_ready"),
        unacked: field("messages_unacknowledged"),
        consumers: field("consumers"),
    })
}

/// Percent-encodes everything but RFC 3986 unreserved characters (`/` in a vhost becomes %2F).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("guest:guest", "Z3Vlc3Q6Z3Vlc3Q="),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn vhost_and_queue_names_are_escaped() {
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode("pf-1.chunks dead"), "pf-1.chunks%20dead");
    }

    #[test]
    fn depth_document_fields() {
        let d = parse_depth(
            "q",
            br#"{"messages_ready":3,"messages_unacknowledged":1,"consumers":2,"name":"q"}"#,
        )
        .unwrap();
        assert_eq!((d.ready, d.unacked, d.consumers), (3, 1, 2));
        let fresh = parse_depth("q", br#"{"name":"q"}"#).unwrap();
        assert_eq!(fresh, QueueDepth::default());
        assert!(parse_depth("q", b"<html>").is_err());
    }

    #[test]
    fn urls() {
        let m = Management::new("http://127.0.0.1:15672/", "guest", "guest").unwrap();
        assert_eq!(
            (m.authority.as_str(), m.base_path.as_str()),
            ("127.0.0.1:15672", "")
        );
        let m = Management::new("http://h:1/rabbit", "u", "p").unwrap();
        assert_eq!(m.base_path, "/rabbit");
        assert!(Management::new("https://h:1", "u", "p").is_err());
        assert!(Management::new("http:///x", "u", "p").is_err());
    }
}

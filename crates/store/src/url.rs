//! Store URLs (`file:///dir`, `s3://bucket[/prefix]`, or a plain path): parsed here once so
//! every binary names stores the same way; the binary then picks the engine for each kind.

use crate::check_key;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where a store lives, as named on a command line or in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A local directory (`file:///srv/farm` or `/srv/farm` or `farm`).
    Local(PathBuf),
    /// An S3 bucket, with every key under `prefix` (empty, or `a/b` without slashes at the ends).
    S3 { bucket: String, prefix: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreUrlError {
    #[error("empty store URL (expected file:///dir, s3://bucket[/prefix] or a path)")]
    Empty,
    #[error("store URL {url:?}: unsupported scheme {scheme:?} (expected file:// or s3://)")]
    UnsupportedScheme { url: String, scheme: String },
    #[error("store URL {url:?}: file URLs name a local path (file:///dir), not a host {host:?}")]
    FileHost { url: String, host: String },
    #[error("store URL {url:?}: bucket {bucket:?} {reason}")]
    Bucket {
        url: String,
        bucket: String,
        reason: &'static str,
    },
    #[error("store URL {url:?}: prefix {prefix:?}: {reason}")]
    Prefix {
        url: String,
        prefix: String,
        reason: &'static str,
    },
}

impl StoreUrl {
    pub fn parse(url: &str) -> Result<StoreUrl, StoreUrlError> {
        if url.is_empty() {
            return Err(StoreUrlError::Empty);
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Ok(StoreUrl::Local(PathBuf::from(url)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                // file:///dir has an empty host; file://localhost/dir is the one host RFC 8089
                // allows. Anything else would silently mean a different machine.
                let (host, path) = match rest.find('/') {
                    Some(i) => (&rest[..i], &rest[i..]),
                    None => (rest, ""),
                };
                if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) {
                    return Err(StoreUrlError::FileHost {
                        url: url.to_string(),
                        host: host.to_string(),
                    });
                }
                if path.is_empty() {
                    return Err(StoreUrlError::UnsupportedScheme {
                        url: url.to_string(),
                        scheme: "file (without a path)".to_string(),
                    });
                }
                Ok(StoreUrl::Local(PathBuf::from(path)))
            }
            "s3" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                check_bucket_name(bucket).map_err(|reason| StoreUrlError::Bucket {
                    url: url.to_string(),
                    bucket: bucket.to_string(),
                    reason,
                })?;
                let prefix = prefix.trim_end_matches('/');
                if !prefix.is_empty() {
                    check_key(prefix).map_err(|e| StoreUrlError::Prefix {
                        url: url.to_string(),
                        prefix: prefix.to_string(),
                        reason: match e {
                            crate::StoreError::InvalidKey { reason, .. } => reason,
                            _ => "not a clean relative path",
                        },
                    })?;
                }
                Ok(StoreUrl::S3 {
                    bucket: bucket.to_string(),
                    prefix: prefix.to_string(),
                })
            }
            other => Err(StoreUrlError::UnsupportedScheme {
                url: url.to_string(),
                scheme: other.to_string(),
            }),
        }
    }
}

impl FromStr for StoreUrl {
    type Err = StoreUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreUrl::parse(s)
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Local(path) => write!(f, "{}", path.display()),
            StoreUrl::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            StoreUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// Checks an S3 bucket name against the rules every S3 implementation shares (3–63 characters
/// of lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit), so a
/// typo fails at start-up rather than as an opaque signature or DNS error.
pub fn check_bucket_name(bucket: &str) -> Result<(), &'static str> {
    if bucket.is_empty() {
        return Err("is empty");
    }
    if bucket.len() < 3 || bucket.len() > 63 {
        return Err("must be 3 to 63 characters long");
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err("may hold only lowercase letters, digits, '.' and '-'");
    }
    let first_last_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !first_last_ok(bucket.as_bytes()[0]) || !first_last_ok(bucket.as_bytes()[bucket.len() - 1]) {
        return Err("must start and end with a letter or digit");
    }
    if bucket.contains("..") {
        return Err("must not contain '..'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<StoreUrl, &str>) {
        match (StoreUrl::parse(input), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{input}"),
            (Err(e), Err(fragment)) => {
                let msg = e.to_string();
                assert!(
                    msg.contains(fragment),
                    "{input}: {msg:?} lacks {fragment:?}"
                );
            }
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }

    fn s3(bucket: &str, prefix: &str) -> StoreUrl {
        StoreUrl::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn parses_the_three_forms() {
        check("file:///srv/farm", Ok(StoreUrl::Local("/srv/farm".into())));
        check(
            "file://localhost/srv/farm",
            Ok(StoreUrl::Local("/srv/farm".into())),
        );
        check("/srv/farm", Ok(StoreUrl::Local("/srv/farm".into())));
        check("farm-out", Ok(StoreUrl::Local("farm-out".into())));
        check("s3://plates", Ok(s3("plates", "")));
        check("s3://plates/", Ok(s3("plates", "")));
        check("s3://plates/show/a", Ok(s3("plates", "show/a")));
        check("S3://plates/show/a/", Ok(s3("plates", "show/a")));
    }

    #[test]
    fn rejects_what_would_go_somewhere_unexpected() {
        check("", Err("empty store URL"));
        check("gs://plates", Err("unsupported scheme \"gs\""));
        check("file://nas/srv", Err("not a host \"nas\""));
        check("s3://", Err("bucket \"\" is empty"));
        check("s3://Plates", Err("lowercase"));
        check("s3://ab", Err("3 to 63"));
        check("s3://-plates", Err("start and end"));
        check("s3://plates/../x", Err("'..' segment"));
        check("s3://plates/a//b", Err("empty path segment"));
    }

    #[test]
    fn display_round_trips() {
        for url in ["s3://plates", "s3://plates/show/a", "/srv/farm"] {
            assert_eq!(StoreUrl::parse(url).unwrap().to_string(), url);
        }
    }
}

//! `S3Config`: what an `S3Store` needs, from code or from a store URL plus the standard AWS
//! environment variables, so one binary talks to AWS S3, MinIO and s3s alike.

use platefarm_store::{check_bucket_name, StoreError, StoreUrl};
use std::time::Duration;

/// S3's smallest part (every part but the last must be at least this big).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest part.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// S3's largest part count per upload.
pub const MAX_PARTS: u64 = 10_000;

/// Where credentials come from.
#[derive(Clone, PartialEq, Eq)]
pub enum S3Credentials {
    /// Fixed keys (MinIO, s3s, CI).
    Static {
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    },
    /// The AWS default chain: environment, shared profile files, web identity (EKS), ECS and
    /// EC2 instance metadata.
    DefaultChain,
}

impl std::fmt::Debug for S3Credentials {
    // Never print a secret into a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            S3Credentials::Static { access_key_id, .. } => f
                .debug_struct("Static")
                .field("access_key_id", access_key_id)
                .finish_non_exhaustive(),
            S3Credentials::DefaultChain => f.write_str("DefaultChain"),
        }
    }
}

/// Per-request time limits: every network call has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Timeouts {
    /// Establishing a TCP (+TLS) connection.
    pub connect: Duration,
    /// One HTTP attempt, including reading the response body.
    pub attempt: Duration,
    /// A whole SDK operation (all its attempts).
    pub operation: Duration,
}

impl Default for S3Timeouts {
    fn default() -> Self {
        // An attempt moves at most one part or one small object; 16 MiB at a slow 1 MB/s is
        // ~17 s, so two minutes is generous but still ends a hung connection.
        S3Timeouts {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(120),
            operation: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// Every key lives under `prefix/` (empty: the bucket's root). No slash at either end.
    pub prefix: String,
    /// A non-AWS endpoint (`http://127.0.0.1:9000`); `None` is AWS's regional endpoint.
    pub endpoint: Option<String>,
    /// `None`: the default region chain (`AWS_REGION`, profile), else `us-east-1`.
    pub region: Option<String>,
    pub credentials: S3Credentials,
    /// `http://host/bucket/key` instead of `http://bucket.host/key` (MinIO, s3s).
    pub force_path_style: bool,
    /// Objects larger than this are uploaded in parts.
    pub multipart_threshold: u64,
    /// Size of each part (raised automatically when an object would need more than 10 000).
    pub part_size: u64,
    /// How many parts of one object are in flight at once.
    pub upload_concurrency: usize,
    /// Keys per `ListObjectsV2` page (S3's maximum is 1 000).
    pub list_page_size: i32,
    /// Sign every uploaded body's SHA-256 (SigV4). Off sends `UNSIGNED-PAYLOAD`: the client and
    /// the server skip hashing every byte; over HTTPS TLS protects the body, and platefarm
    /// checks every plate's xxh64 at delivery either way.
    pub sign_payload: bool,
    pub timeouts: S3Timeouts,
}

impl S3Config {
    /// A configuration for `bucket` with the defaults: credentials from the default chain, no
    /// prefix, 16 MiB parts above a 32 MiB threshold.
    pub fn new(bucket: impl Into<String>) -> S3Config {
        S3Config {
            bucket: bucket.into(),
            prefix: String::new(),
            endpoint: None,
            region: None,
            credentials: S3Credentials::DefaultChain,
            force_path_style: false,
            multipart_threshold: 32 * 1024 * 1024,
            part_size: 16 * 1024 * 1024,
            upload_concurrency: 4,
            list_page_size: 1000,
            sign_payload: true,
            timeouts: S3Timeouts::default(),
        }
    }

    /// Parses `s3://bucket[/prefix]` and reads `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`,
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), `AWS_REGION` /
    /// `AWS_DEFAULT_REGION`, `PLATEFARM_S3_FORCE_PATH_STYLE` and `PLATEFARM_S3_SIGN_PAYLOAD`.
    pub fn from_env(url: &str) -> Result<S3Config, StoreError> {
        S3Config::from_lookup(url, |name| std::env::var(name).ok())
    }

    /// `from_env` with the environment given as a function (tests pass a map).
    pub fn from_lookup(
        url: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<S3Config, StoreError> {
        let config_err = |reason: String| StoreError::Config {
            store: url.to_string(),
            reason,
        };
        let (bucket, prefix) = match StoreUrl::parse(url).map_err(|e| config_err(e.to_string()))? {
            StoreUrl::S3 { bucket, prefix } => (bucket, prefix),
            StoreUrl::Local(_) => {
                return Err(config_err(
                    "not an S3 URL (expected s3://bucket[/prefix])".into(),
                ))
            }
        };
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        let mut config = S3Config::new(bucket);
        config.prefix = prefix;
        config.endpoint = var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL"));
        config.region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        config.credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => S3Credentials::Static {
                access_key_id,
                secret_access_key,
                session_token: var("AWS_SESSION_TOKEN"),
            },
            (None, None) => S3Credentials::DefaultChain,
            (Some(_), None) => {
                return Err(config_err(
                    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(config_err(
                    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into(),
                ))
            }
        };
        config.force_path_style = match var("PLATEFARM_S3_FORCE_PATH_STYLE").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(config_err(format!(
                    "PLATEFARM_S3_FORCE_PATH_STYLE={other:?}: expected true or false"
                )))
            }
        };
        config.sign_payload = match var("PLATEFARM_S3_SIGN_PAYLOAD").as_deref() {
            None | Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(other) => {
                return Err(config_err(format!(
                    "PLATEFARM_S3_SIGN_PAYLOAD={other:?}: expected true or false"
                )))
            }
        };
        config.validate()?;
        Ok(config)
    }

    /// `s3://bucket` or `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    /// Checks every field against S3's limits; the error names the field and the range.
    pub fn validate(&self) -> Result<(), StoreError> {
        let err = |reason: String| {
            Err(StoreError::Config {
                store: self.describe(),
                reason,
            })
        };
        if let Err(reason) = check_bucket_name(&self.bucket) {
            return err(format!("bucket {:?} {reason}", self.bucket));
        }
        if !self.prefix.is_empty() && platefarm_store::check_key(&self.prefix).is_err() {
            return err(format!(
                "prefix {:?} must be a clean relative path without a slash at either end",
                self.prefix
            ));
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return err(format!(
                "part_size {} is outside S3's {MIN_PART_SIZE}..={MAX_PART_SIZE} bytes",
                self.part_size
            ));
        }
        if self.multipart_threshold < MIN_PART_SIZE {
            return err(format!(
                "multipart_threshold {} is below S3's minimum part size {MIN_PART_SIZE}",
                self.multipart_threshold
            ));
        }
        if !(1..=64).contains(&self.upload_concurrency) {
            return err(format!(
                "upload_concurrency {} is outside 1..=64",
                self.upload_concurrency
            ));
        }
        if !(1..=1000).contains(&self.list_page_size) {
            return err(format!(
                "list_page_size {} is outside S3's 1..=1000",
                self.list_page_size
            ));
        }
        if let Some(endpoint) = &self.endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return err(format!(
                    "endpoint {endpoint:?} must start with http:// or https://"
                ));
            }
        }
        let t = &self.timeouts;
        if t.connect.is_zero() || t.attempt.is_zero() || t.operation.is_zero() {
            return err("timeouts must be non-zero".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(url: &str, vars: &[(&str, &str)]) -> Result<S3Config, StoreError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        S3Config::from_lookup(url, |k| vars.get(k).cloned())
    }

    #[test]
    fn reads_the_standard_variables() {
        let c = from(
            "s3://plates/show/a",
            &[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
                ("AWS_ACCESS_KEY_ID", "ak"),
                ("AWS_SECRET_ACCESS_KEY", "sk"),
                ("AWS_REGION", "eu-west-1"),
                ("PLATEFARM_S3_FORCE_PATH_STYLE", "true"),
            ],
        )
        .unwrap();
        assert_eq!(c.bucket, "plates");
        assert_eq!(c.prefix, "show/a");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert!(c.force_path_style);
        assert_eq!(
            c.credentials,
            S3Credentials::Static {
                access_key_id: "ak".into(),
                secret_access_key: "sk".into(),
                session_token: None
            }
        );
        assert!(
            !format!("{c:?}").contains("\"sk\""),
            "secret kept out of Debug"
        );
        assert_eq!(c.describe(), "s3://plates/show/a");
    }

    #[test]
    fn aws_defaults_when_nothing_is_set() {
        let c = from("s3://plates", &[]).unwrap();
        assert_eq!(c.credentials, S3Credentials::DefaultChain);
        assert_eq!(c.endpoint, None);
        assert_eq!(c.region, None);
        assert!(!c.force_path_style);
        let c = from(
            "s3://plates",
            &[
                ("AWS_ENDPOINT_URL", "http://a:1"),
                ("AWS_ENDPOINT_URL_S3", "http://b:2"),
            ],
        )
        .unwrap();
        assert_eq!(
            c.endpoint.as_deref(),
            Some("http://b:2"),
            "service-specific wins"
        );
    }

    #[test]
    fn errors_name_the_variable_or_field() {
        // (url, environment, a fragment the error must contain)
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            ("file:///x", &[], "not an S3 URL"),
            ("s3://Plates", &[], "lowercase"),
            (
                "s3://plates",
                &[("AWS_ACCESS_KEY_ID", "ak")],
                "AWS_SECRET_ACCESS_KEY",
            ),
            (
                "s3://plates",
                &[("PLATEFARM_S3_FORCE_PATH_STYLE", "yes")],
                "PLATEFARM_S3_FORCE_PATH_STYLE",
            ),
            (
                "s3://plates",
                &[("AWS_ENDPOINT_URL", "127.0.0.1:9000")],
                "http://",
            ),
        ];
        for (url, vars, fragment) in cases {
            let msg = from(url, vars).unwrap_err().to_string();
            assert!(msg.contains(fragment), "{url} {vars:?}: {msg:?}");
        }
        let mut c = S3Config::new("plates");
        c.part_size = 1024;
        let msg = c.validate().unwrap_err().to_string();
        assert!(msg.contains("part_size 1024"), "{msg}");
    }
}

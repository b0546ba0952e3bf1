//! `S3Store`: the `ObjectStore` trait over S3 (AWS S3, MinIO, s3s-fs, any SigV4 server).
//!
//! Keys are checked with `check_key` before any request, and live under the configured prefix
//! (added on the way in, stripped on the way out). Every put is atomic: a single `PutObject`,
//! or above the threshold a multipart upload whose `CompleteMultipartUpload` makes the whole
//! object visible at once (aborted on failure). The SDK's own retries are off: retries are
//! `platefarm_store::Retrying`'s job, so there is one policy and one set of metrics.

mod config;
mod error;

pub use config::{S3Config, S3Credentials, S3Timeouts, MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE};

use async_trait::async_trait;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use bytes::Bytes;
use platefarm_store::{check_key, ObjectMeta, ObjectStore, StoreError};

/// An S3 bucket (or a prefix of one) as an object store.
#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    config: S3Config,
}

impl S3Store {
    /// Builds the client (no request is made: a store can be created while S3 is down; call
    /// [`S3Store::check`] to fail fast on a wrong bucket or wrong keys).
    pub async fn new(config: S3Config) -> Result<S3Store, StoreError> {
        config.validate()?;
        let t = &config.timeouts;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(t.connect)
                    .operation_attempt_timeout(t.attempt)
                    .operation_timeout(t.operation)
                    .build(),
            );
        loader = match &config.region {
            Some(region) => loader.region(Region::new(region.clone())),
            None => loader.region(
                aws_config::meta::region::RegionProviderChain::default_provider()
                    .or_else(Region::from_static("us-east-1")),
            ),
        };
        if let Some(endpoint) = &config.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let S3Credentials::Static {
            access_key_id,
            secret_access_key,
            session_token,
        } = &config.credentials
        {
            loader = loader.credentials_provider(Credentials::new(
                access_key_id,
                secret_access_key,
                session_token.clone(),
                None,
                "platefarm-static",
            ));
        }
        let shared = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(config.force_path_style)
            // Checksums only where S3 requires them: older MinIO and other S3 servers reject
            // the flexible-checksum trailers newer SDKs send by default.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Ok(S3Store {
            client: Client::from_conf(s3_config),
            config,
        })
    }

    pub fn config(&self) -> &S3Config {
        &self.config
    }

    /// Checks the bucket exists and the credentials may use it (`HeadBucket`).
    pub async fn check(&self) -> Result<(), StoreError> {
        self.client
            .head_bucket()
            .bucket(&self.config.bucket)
            .send()
            .await
            .map_err(|e| self.bucket_error("check", e))?;
        Ok(())
    }

    /// The bucket key of a store key.
    fn full_key(&self, key: &str) -> String {
        if self.config.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.config.prefix)
        }
    }

    /// The store key of a bucket key, if it is under our prefix and a clean key.
    fn store_key<'a>(&self, full: &'a str) -> Option<&'a str> {
        let key = if self.config.prefix.is_empty() {
            full
        } else {
            full.strip_prefix(self.config.prefix.as_str())?
                .strip_prefix('/')?
        };
        check_key(key).ok().map(|()| key)
    }

    async fn put_single(&self, key: &str, full: String, bytes: Vec<u8>) -> Result<(), StoreError> {
        let len = bytes.len() as i64;
        let request = self
            .client
            .put_object()
            .bucket(&self.config.bucket)
            .key(full)
            .content_length(len)
            .body(ByteStream::from(bytes))
            .customize();
        let request = if self.config.sign_payload {
            request
        } else {
            request.disable_payload_signing()
        };
        request
            .send()
            .await
            .map_err(|e| self.error("put", key, e))?;
        Ok(())
    }

    async fn put_multipart(
        &self,
        key: &str,
        full: String,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.config.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| self.error("put", key, e))?;
        let Some(upload_id) = created.upload_id().map(str::to_string) else {
            return Err(StoreError::Unavailable(format!(
                "{}: CreateMultipartUpload for {key:?} returned no upload id",
                self.describe()
            )));
        };
        let result = match self.upload_parts(key, &full, &upload_id, bytes).await {
            Ok(parts) => self
                .client
                .complete_multipart_upload()
                .bucket(&self.config.bucket)
                .key(&full)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map(drop)
                .map_err(|e| self.error("put", key, e)),
            Err(e) => Err(e),
        };
        if result.is_err() {
            // Best effort: parts of an upload that is never completed are invisible but billed;
            // a bucket lifecycle rule cleans up what an abort cannot (docs/store.md).
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.config.bucket)
                .key(&full)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        result
    }

    /// Uploads the parts, `upload_concurrency` at a time; returns them in part order.
    async fn upload_parts(
        &self,
        key: &str,
        full: &str,
        upload_id: &str,
        bytes: Vec<u8>,
    ) -> Result<Vec<CompletedPart>, StoreError> {
        let len = bytes.len() as u64;
        // Grow the part when the configured size would exceed S3's 10 000 parts.
        let part_size = self.config.part_size.max(len.div_ceil(MAX_PARTS));
        if part_size > MAX_PART_SIZE {
            return Err(StoreError::TooLarge {
                key: key.to_string(),
                size: len,
                limit: MAX_PART_SIZE * MAX_PARTS,
            });
        }
        let bytes = Bytes::from(bytes);
        let n_parts = len.div_ceil(part_size).max(1);
        let mut parts = Vec::with_capacity(n_parts as usize);
        let mut in_flight = tokio::task::JoinSet::new();
        let mut next_part = 0u64;
        while next_part < n_parts || !in_flight.is_empty() {
            while next_part < n_parts && in_flight.len() < self.config.upload_concurrency {
                let start = next_part * part_size;
                let end = (start + part_size).min(len);
                let body = bytes.slice(start as usize..end as usize);
                let part_number = (next_part + 1) as i32;
                let request = self
                    .client
                    .upload_part()
                    .bucket(&self.config.bucket)
                    .key(full)
                    .upload_id(upload_id)
                    .part_number(part_number)
                    .content_length((end - start) as i64)
                    .body(ByteStream::from(body))
                    .customize();
                let request = if self.config.sign_payload {
                    request
                } else {
                    request.disable_payload_signing()
                };
                in_flight.spawn(async move { (part_number, request.send().await) });
                next_part += 1;
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            let (part_number, sent) = joined.map_err(|e| {
                StoreError::Unavailable(format!("{}: part upload task: {e}", self.describe()))
            })?;
            let output = sent.map_err(|e| self.error("put", key, e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(part_number)
                    .set_e_tag(output.e_tag().map(str::to_string))
                    .build(),
            );
        }
        parts.sort_by_key(|p| p.part_number());
        Ok(parts)
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        check_key(key)?;
        let response = self
            .client
            .get_object()
            .bucket(&self.config.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| self.error("get", key, e))?;
        let too_large = |size: u64| StoreError::TooLarge {
            key: key.to_string(),
            size,
            limit: max_bytes,
        };
        // Refuse on the announced length, before reading any of the body; dropping the
        // response closes the connection instead of draining it.
        let announced = response
            .content_length()
            .and_then(|l| u64::try_from(l).ok());
        if let Some(size) = announced {
            if size > max_bytes {
                return Err(too_large(size));
            }
        }
        let mut out = Vec::new();
        out.try_reserve_exact(announced.unwrap_or(0).min(max_bytes) as usize)
            .map_err(|_| too_large(announced.unwrap_or(0)))?;
        let mut body = response.body;
        // A server may omit or misstate the length: stop as soon as the limit is passed.
        while let Some(chunk) = body.try_next().await.map_err(|e| {
            StoreError::Unavailable(format!(
                "{}: reading {key:?} was interrupted: {e}",
                self.describe()
            ))
        })? {
            let total = out.len() as u64 + chunk.len() as u64;
            if total > max_bytes {
                return Err(too_large(announced.unwrap_or(total).max(total)));
            }
            out.try_reserve(chunk.len()).map_err(|_| too_large(total))?;
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        check_key(key)?;
        let full = self.full_key(key);
        if bytes.len() as u64 > self.config.multipart_threshold {
            self.put_multipart(key, full, bytes).await
        } else {
            self.put_single(key, full, bytes).await
        }
    }

    async fn head(&self, key: &str) -> Result<Option<u64>, StoreError> {
        check_key(key)?;
        match self
            .client
            .head_object()
            .bucket(&self.config.bucket)
            .key(self.full_key(key))
            .send()
            .await
        {
            Ok(head) => Ok(Some(
                head.content_length()
                    .and_then(|l| u64::try_from(l).ok())
                    .unwrap_or(0),
            )),
            Err(e) => match self.error("head", key, e) {
                StoreError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        if !prefix.is_empty() {
            // A prefix need not be a whole key, but it must not climb out of the store.
            check_key(prefix.trim_end_matches('/'))?;
        }
        let full_prefix = if self.config.prefix.is_empty() {
            prefix.to_string()
        } else {
            format!("{}/{prefix}", self.config.prefix)
        };
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.config.bucket)
                .prefix(&full_prefix)
                .max_keys(self.config.list_page_size)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.bucket_error("list", e))?;
            for object in page.contents() {
                // Objects other tools wrote with names our keys cannot address are skipped.
                let Some(key) = object.key().and_then(|k| self.store_key(k)) else {
                    continue;
                };
                let size = object
                    .size()
                    .and_then(|s| u64::try_from(s).ok())
                    .unwrap_or(0);
                out.push(ObjectMeta {
                    key: key.to_string(),
                    size,
                });
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => break,
            }
        }
        // S3 lists in UTF-8 byte order already; sorting keeps that promise for servers that
        // do not.
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        match self
            .client
            .delete_object()
            .bucket(&self.config.bucket)
            .key(self.full_key(key))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match self.error("delete", key, e) {
                StoreError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    fn describe(&self) -> String {
        self.config.describe()
    }
}

//! SDK errors → `StoreError`: outages, throttling and timeouts are retryable (`Unavailable`);
//! refused credentials (`Denied`), a missing bucket or a rejected request (`Config`) are not,
//! and name the bucket so the operator knows which setting to fix.

use crate::S3Store;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use platefarm_store::StoreError;

/// What an S3 error means for us, before it is given a key and a store name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Class {
    NotFound,
    NoSuchBucket,
    Denied,
    Retryable,
    Rejected,
}

/// Classifies a service error by HTTP status and S3 error code (HEAD responses have no body,
/// so the status must suffice on its own).
pub(crate) fn classify(status: u16, code: &str) -> Class {
    match (status, code) {
        (_, "NoSuchBucket") => Class::NoSuchBucket,
        (_, "NoSuchKey" | "NotFound" | "NoSuchUpload") => Class::NotFound,
        (
            _,
            "SlowDown"
            | "Throttling"
            | "ThrottlingException"
            | "RequestTimeout"
            | "RequestTimeTooSkewed"
            | "InternalError"
            | "ServiceUnavailable"
            | "OperationAborted",
        ) => Class::Retryable,
        (
            _,
            "AccessDenied"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "InvalidToken"
            | "AllAccessDisabled"
            | "AccountProblem",
        ) => Class::Denied,
        (401 | 403, _) => Class::Denied,
        (404, _) => Class::NotFound,
        (408 | 409 | 429, _) | (500..=599, _) => Class::Retryable,
        _ => Class::Rejected,
    }
}

impl S3Store {
    /// Maps an error of an operation on one key.
    pub(crate) fn error<E>(&self, op: &str, key: &str, err: SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.map(op, Some(key), err)
    }

    /// Maps an error of a bucket-wide operation (list, check), where a 404 is the bucket's.
    pub(crate) fn bucket_error<E>(&self, op: &str, err: SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.map(op, None, err)
    }

    fn map<E>(&self, op: &str, key: Option<&str>, err: SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let store = self.config.describe();
        let what = match key {
            Some(key) => format!("{op} {key:?}"),
            None => op.to_string(),
        };
        match &err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let code = service.err().code().unwrap_or("");
                let message = service.err().message().unwrap_or("");
                let detail = format!("{what}: HTTP {status} {code} {message}");
                let detail = detail.trim_end().to_string();
                match (classify(status, code), key) {
                    (Class::NotFound, Some(key)) => StoreError::NotFound {
                        key: key.to_string(),
                    },
                    (Class::NotFound | Class::NoSuchBucket, _) => StoreError::Config {
                        store,
                        reason: format!(
                            "bucket {:?} does not exist ({detail})",
                            self.config.bucket
                        ),
                    },
                    (Class::Denied, _) => StoreError::Denied {
                        reason: format!(
                            "bucket {:?} refused our credentials or permissions — check \
                             AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy \
                             ({detail})",
                            self.config.bucket
                        ),
                        store,
                    },
                    (Class::Retryable, _) => StoreError::Unavailable(format!("{store}: {detail}")),
                    (Class::Rejected, _) => StoreError::Config {
                        store,
                        reason: format!("request rejected ({detail})"),
                    },
                }
            }
            SdkError::DispatchFailure(failure) if failure.is_user() => StoreError::Config {
                store,
                reason: format!("{what}: {}", DisplayErrorContext(&err)),
            },
            SdkError::ConstructionFailure(_) => StoreError::Config {
                store,
                reason: format!("{what}: {}", DisplayErrorContext(&err)),
            },
            // Timeouts, refused or reset connections, truncated responses: an outage.
            _ => StoreError::Unavailable(format!("{store}: {what}: {}", DisplayErrorContext(&err))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_code_then_status() {
        let cases = [
            (404, "NoSuchKey", Class::NotFound),
            (404, "", Class::NotFound),
            (404, "NoSuchBucket", Class::NoSuchBucket),
            (403, "", Class::Denied),
            (403, "InvalidAccessKeyId", Class::Denied),
            (403, "SignatureDoesNotMatch", Class::Denied),
            (400, "ExpiredToken", Class::Denied),
            (400, "RequestTimeout", Class::Retryable),
            (503, "SlowDown", Class::Retryable),
            (500, "", Class::Retryable),
            (429, "", Class::Retryable),
            (400, "InvalidArgument", Class::Rejected),
            (403, "RequestTimeTooSkewed", Class::Retryable),
        ];
        for (status, code, want) in cases {
            assert_eq!(classify(status, code), want, "{status} {code}");
        }
    }
}

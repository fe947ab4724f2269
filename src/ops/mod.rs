//! The only layer that talks to the API server: one async function per cluster operation.
//! Task types and Rhai bindings both call these; nothing else builds a request.
//!
//! Functions here make ONE logical operation each (a list of all pages, one patch with its
//! re-read on conflict, one delete) and return [`OpsError`], whose variants say which operation
//! on which object failed. Retrying is the pool's job, driven by [`Retryable`].

pub mod configmaps;
pub mod exec;
pub mod namespaces;
pub mod pods;
pub mod wait;
pub mod webhook;
pub mod workloads;

use std::time::Duration;

use crate::pool::{RetryClass, Retryable};

/// `--dry-run`: `none` sends for real; `server` sends with `dryRun=All` so admission runs but
/// nothing is stored; `client` sends nothing that mutates and reports what would change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DryRun {
    #[default]
    None,
    Server,
    Client,
}

impl DryRun {
    /// True when mutations must not be sent at all.
    pub fn is_client(self) -> bool {
        self == DryRun::Client
    }
    /// True when mutations are sent with `dryRun=All`.
    pub fn is_server(self) -> bool {
        self == DryRun::Server
    }
}

/// A connection to the cluster plus the run-wide settings every operation honours.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    pub dry_run: DryRun,
}

impl Cluster {
    pub fn new(client: kube::Client, dry_run: DryRun) -> Self {
        Self { client, dry_run }
    }

    /// `PatchParams` for a mutation by pearl, honouring `--dry-run=server`.
    pub fn patch_params(&self) -> kube::api::PatchParams {
        kube::api::PatchParams { dry_run: self.dry_run.is_server(), ..Default::default() }
    }

    /// `DeleteParams` honouring `--dry-run=server`.
    pub fn delete_params(&self) -> kube::api::DeleteParams {
        kube::api::DeleteParams { dry_run: self.dry_run.is_server(), ..Default::default() }
    }

    /// `PostParams` honouring `--dry-run=server`.
    pub fn post_params(&self) -> kube::api::PostParams {
        kube::api::PostParams { dry_run: self.dry_run.is_server(), field_manager: Some(FIELD_MANAGER.into()) }
    }
}

/// The field manager name pearl writes with.
pub const FIELD_MANAGER: &str = "kubectl-pearl";

/// Names an object in errors: `pod ns/name`, `deployment ns/name`, `namespace name`.
pub fn object(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{kind} {ns}/{name}"),
        _ => format!("{kind} {name}"),
    }
}

/// What went wrong in one cluster operation.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The API server (or the connection to it) failed the request.
    #[error("{op} {object}: {}", describe_kube(.source))]
    Api {
        op: &'static str,
        object: String,
        #[source]
        source: kube::Error,
    },
    /// The request cannot succeed as asked (container not found, refused namespace, ...).
    #[error("{op} {object}: {message}")]
    Invalid { op: &'static str, object: String, message: String },
    /// A wait ran out of time.
    #[error("{op} {object}: timed out after {}: {message}", humantime::format_duration(*.after))]
    Timeout { op: &'static str, object: String, after: Duration, message: String },
    /// A condition the caller waited for turned into its failure case (fail-fast).
    #[error("{op} {object}: {message}")]
    ConditionFailed { op: &'static str, object: String, message: String },
    /// A webhook call failed.
    #[error("webhook POST {url}: {message}")]
    Webhook { url: String, status: Option<u16>, retry_after: Option<Duration>, message: String },
    /// The run was stopped (Ctrl-C or a script deadline) while the operation waited.
    #[error("{op} {object}: cancelled")]
    Cancelled { op: &'static str, object: String },
}

impl OpsError {
    pub fn api(op: &'static str, object: impl Into<String>, source: kube::Error) -> Self {
        OpsError::Api { op, object: object.into(), source }
    }

    /// The HTTP status of an API error, if there was one.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            OpsError::Api { source: kube::Error::Api(status), .. } => Some(status.code),
            OpsError::Webhook { status, .. } => *status,
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status_code() == Some(404) && matches!(self, OpsError::Api { .. })
    }
}

/// kube's own Display repeats the status twice; say it once, the way kubectl does.
fn describe_kube(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => {
            let reason = if s.reason.is_empty() { "Error" } else { s.reason.as_str() };
            format!("{} ({reason}, {})", s.message, s.code)
        }
        other => other.to_string(),
    }
}

/// Classify a kube error for the pool.
pub fn kube_retry_class(e: &kube::Error) -> RetryClass {
    match e {
        kube::Error::Api(s) => match s.code {
            409 if s.reason == "Conflict" || s.reason.is_empty() => RetryClass::Conflict,
            429 => {
                let after = s
                    .details
                    .as_ref()
                    .map(|d| d.retry_after_seconds)
                    .filter(|secs| *secs > 0)
                    .map(|secs| Duration::from_secs(secs.into()));
                after.map_or(RetryClass::Transient, RetryClass::After)
            }
            // 500 from a real failure of the server; 502-504 from proxies and overload.
            500 | 502 | 503 | 504 => RetryClass::Transient,
            _ => RetryClass::Never,
        },
        // Connection refused or reset, a request timeout: the server may be back in a moment.
        kube::Error::HyperError(_) | kube::Error::Service(_) => RetryClass::Transient,
        kube::Error::ReadEvents(_) => RetryClass::Transient,
        _ => RetryClass::Never,
    }
}

impl Retryable for OpsError {
    fn retry_class(&self) -> RetryClass {
        match self {
            OpsError::Api { source, .. } => kube_retry_class(source),
            OpsError::Webhook { status, retry_after, .. } => match (status, retry_after) {
                (_, Some(after)) => RetryClass::After(*after),
                (None, None) => RetryClass::Transient,
                (Some(code), None) if *code == 429 || *code >= 500 => RetryClass::Transient,
                _ => RetryClass::Never,
            },
            OpsError::Invalid { .. }
            | OpsError::Timeout { .. }
            | OpsError::ConditionFailed { .. }
            | OpsError::Cancelled { .. } => RetryClass::Never,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn status(code: u16, reason: &str) -> kube::Error {
        let mut s = Status::failure("boom", reason);
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn classification_follows_http_semantics() {
        assert_eq!(kube_retry_class(&status(409, "Conflict")), RetryClass::Conflict);
        assert_eq!(kube_retry_class(&status(409, "AlreadyExists")), RetryClass::Never);
        assert_eq!(kube_retry_class(&status(403, "Forbidden")), RetryClass::Never);
        assert_eq!(kube_retry_class(&status(404, "NotFound")), RetryClass::Never);
        assert_eq!(kube_retry_class(&status(422, "Invalid")), RetryClass::Never);
        assert_eq!(kube_retry_class(&status(429, "TooManyRequests")), RetryClass::Transient);
        for code in [500, 502, 503, 504] {
            assert_eq!(kube_retry_class(&status(code, "")), RetryClass::Transient);
        }
    }

    #[test]
    fn errors_name_the_operation_and_object() {
        let e = OpsError::api("patch labels", object("pod", Some("ns1"), "web-0"), status(403, "Forbidden"));
        assert_eq!(e.to_string(), "patch labels pod ns1/web-0: boom (Forbidden, 403)");
    }
}

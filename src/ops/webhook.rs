//! Webhook calls: POST a JSON body to a URL with a timeout, an optional bearer token and an
//! optional HMAC-SHA256 signature of the body, and classify failures for the pool's retries.
//!
//! - Token: `Authorization: Bearer <token>`, the token read from an environment variable or a
//!   file (surrounding whitespace trimmed) at call time, never stored in task files.
//! - Signature: header [`DEFAULT_SIGNATURE_HEADER`] (or another name) with the value
//!   `sha256=<lowercase hex of HMAC-SHA256(secret, exact body bytes)>`, as GitHub signs its
//!   webhooks; a receiver recomputes it over the raw body it got and compares in constant time.
//! - Failures: connection errors, timeouts, 5xx and 429 are retryable (`OpsError::Webhook` with
//!   the status; a `Retry-After` in seconds on 429/503 sets the delay); any other non-2xx status
//!   is final. A success is any 2xx.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::OpsError;

/// The signature header pearl sends unless told another name.
pub const DEFAULT_SIGNATURE_HEADER: &str = "X-Pearl-Signature";

/// Where a secret (token, signing key) comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SecretSource {
    /// The value of this environment variable.
    Env(String),
    /// The contents of this file.
    File(PathBuf),
}

impl SecretSource {
    /// Read the secret now, trimmed. The error names the variable or file, never the value.
    pub fn read(&self) -> Result<String, String> {
        let value = match self {
            SecretSource::Env(var) => std::env::var(var)
                .map_err(|_| format!("environment variable {var} is not set (or not UTF-8)"))?,
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?,
        };
        let value = value.trim().to_string();
        if value.is_empty() {
            return Err(match self {
                SecretSource::Env(var) => format!("environment variable {var} is empty"),
                SecretSource::File(path) => format!("secret file {} is empty", path.display()),
            });
        }
        Ok(value)
    }
}

/// How to sign the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signing {
    /// Header name, e.g. [`DEFAULT_SIGNATURE_HEADER`].
    pub header: String,
    pub secret: SecretSource,
}

/// One webhook call.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRequest {
    pub url: String,
    /// Sent as `Content-Type: application/json`.
    pub body: Value,
    /// For the whole request (connect, send, read the answer).
    pub timeout: Duration,
    /// Bearer token.
    pub token: Option<SecretSource>,
    pub signing: Option<Signing>,
    /// Extra headers.
    pub headers: BTreeMap<String, String>,
}

/// A 2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WebhookResponse {
    pub status: u16,
    /// The answer's body (at most the first 4 KiB).
    pub body: String,
}

/// `sha256=<hex>` of HMAC-SHA256 over `body` with `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + digest.len() * 2);
    hex.push_str("sha256=");
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// One HTTP client for the process: TLS setup once. Idle connections are not kept, because a
/// pooled connection belongs to the tokio runtime that opened it, and webhooks are too rare for
/// connection reuse to matter.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .user_agent(concat!("kubectl-pearl/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(0)
            .build()
            .expect("the webhook HTTP client builds with static settings")
    })
}

fn truncated(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// POST `req.body` to `req.url`. See the module docs for headers and error classes.
pub async fn post(req: &WebhookRequest) -> Result<WebhookResponse, OpsError> {
    let invalid =
        |message: String| OpsError::Invalid { op: "webhook POST", object: req.url.clone(), message };
    let body = serde_json::to_vec(&req.body).map_err(|e| invalid(format!("cannot encode the body: {e}")))?;
    let mut builder = client()
        .post(&req.url)
        .timeout(req.timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    if let Some(token) = &req.token {
        let token = token.read().map_err(|e| invalid(format!("bearer token: {e}")))?;
        builder = builder.bearer_auth(token);
    }
    if let Some(signing) = &req.signing {
        let secret = signing.secret.read().map_err(|e| invalid(format!("signing secret: {e}")))?;
        builder = builder.header(&signing.header, signature(secret.as_bytes(), &body));
    }
    let failed = |status: Option<u16>, retry_after: Option<Duration>, message: String| OpsError::Webhook {
        url: req.url.clone(),
        status,
        retry_after,
        message,
    };
    let response = builder.body(body).send().await.map_err(|e| {
        let message = if e.is_timeout() {
            format!("no answer within {}", humantime::format_duration(req.timeout))
        } else if e.is_connect() {
            format!("cannot connect: {}", error_chain(&e))
        } else if e.is_builder() {
            return invalid(format!("bad request: {}", error_chain(&e)));
        } else {
            error_chain(&e)
        };
        failed(None, None, message)
    })?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .filter(|_| status.as_u16() == 429 || status.as_u16() == 503);
    let text = response.text().await.map_err(|e| {
        let message = if e.is_timeout() {
            format!("answer not read within {}", humantime::format_duration(req.timeout))
        } else {
            format!("reading the answer: {}", error_chain(&e))
        };
        failed(None, None, message)
    })?;
    let text = truncated(&text, 4096).to_string();
    if status.is_success() {
        return Ok(WebhookResponse { status: status.as_u16(), body: text });
    }
    let mut message = format!("answered {status}");
    let snippet = truncated(text.trim(), 200);
    if !snippet.is_empty() {
        message.push_str(&format!(": {snippet}"));
    }
    Err(failed(Some(status.as_u16()), retry_after, message))
}

/// reqwest's Display hides the cause ("error sending request"): say all of it.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::{RetryClass, Retryable};

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn secrets_name_their_source_when_missing() {
        let e = SecretSource::Env("PEARL_TEST_SURELY_UNSET_VAR".into()).read().unwrap_err();
        assert!(e.contains("PEARL_TEST_SURELY_UNSET_VAR is not set"), "{e}");
        let e = SecretSource::File("/nonexistent/pearl-token".into()).read().unwrap_err();
        assert!(e.contains("/nonexistent/pearl-token"), "{e}");
    }

    #[test]
    fn status_classes_drive_retries() {
        let err = |status, retry_after| OpsError::Webhook {
            url: "u".into(),
            status,
            retry_after,
            message: "m".into(),
        };
        assert_eq!(err(Some(503), None).retry_class(), RetryClass::Transient);
        assert_eq!(err(None, None).retry_class(), RetryClass::Transient);
        assert_eq!(err(Some(400), None).retry_class(), RetryClass::Never);
        assert_eq!(err(Some(404), None).retry_class(), RetryClass::Never);
        let after = Duration::from_secs(2);
        assert_eq!(err(Some(429), Some(after)).retry_class(), RetryClass::After(after));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncated("héllo", 2), "h");
        assert_eq!(truncated("abc", 10), "abc");
    }
}

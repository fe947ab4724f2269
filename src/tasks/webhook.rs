//! Task type `webhook`: POST a JSON body to a URL (the namespace-manager's WEBHOOK action),
//! with a timeout, retries on the shared pool for 5xx, 429 and connection errors (never for
//! other 4xx), an optional bearer token and an optional HMAC-SHA256 signature header (see
//! `crate::ops::webhook` for the exact format).
//!
//! Body: `{"task": <task name>, "namespaces": <the task's namespaces or "*">, ...body}` where
//! `body` is the task's own map of fields (its keys win). Under `--dry-run` nothing is sent:
//! the item shows the body that would have been.

use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::{ParamDef, ParamKind, Params, Targets, TaskCx, TaskError, TaskOutput, TaskType};
use crate::ops::webhook::{self, DEFAULT_SIGNATURE_HEADER, SecretSource, Signing, WebhookRequest};

/// The task types this module registers.
pub fn types() -> Vec<&'static dyn TaskType> {
    vec![&Webhook]
}

static WEBHOOK_PARAMS: &[ParamDef] = &[
    ParamDef::new("url", ParamKind::String, "Where to POST (http or https)")
        .required()
        .example("https://hooks.example.com/pearl"),
    ParamDef::new(
        "body",
        ParamKind::Any,
        "Fields added to the JSON body (a map; its keys override task/namespaces)",
    )
    .example("{event: e2e-finished, build: 1234}"),
    ParamDef::new("headers", ParamKind::StringMap, "Extra HTTP headers").example("{X-Team: platform}"),
    ParamDef::new(
        "tokenEnv",
        ParamKind::String,
        "Send `Authorization: Bearer` with the token in this env variable",
    )
    .example("HOOK_TOKEN"),
    ParamDef::new("tokenFile", ParamKind::String, "Send `Authorization: Bearer` with the token in this file")
        .example("/var/run/secrets/hook-token"),
    ParamDef::new(
        "hmacSecretEnv",
        ParamKind::String,
        "Sign the body: header value sha256=<hex HMAC-SHA256 of the body>, key from this env variable",
    )
    .example("HOOK_SECRET"),
    ParamDef::new("hmacSecretFile", ParamKind::String, "As hmacSecretEnv, with the key read from this file")
        .example("/var/run/secrets/hook-secret"),
    ParamDef::new("hmacHeader", ParamKind::String, "Name of the signature header")
        .default(DEFAULT_SIGNATURE_HEADER)
        .example("X-Hub-Signature-256"),
    ParamDef::new("timeout", ParamKind::Duration, "Time allowed for one attempt (connect, send, answer)")
        .default("10s")
        .example("30s"),
];

/// `webhook`.
pub struct Webhook;

/// The JSON body the `webhook` task sends for `task` acting on `targets`, with `extra` merged in.
pub fn webhook_body(task: &str, targets: &Targets, extra: Option<&Map<String, Value>>) -> Value {
    let namespaces = match targets {
        Targets::All => json!("*"),
        Targets::Namespaces(names) => json!(names),
    };
    let mut body = Map::new();
    body.insert("task".into(), json!(task));
    body.insert("namespaces".into(), namespaces);
    for (k, v) in extra.into_iter().flatten() {
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

/// The request a validated `webhook` task makes.
pub fn webhook_request(params: &Params, body: Value) -> WebhookRequest {
    let token = match (params.str("tokenEnv"), params.str("tokenFile")) {
        (Some(var), _) => Some(SecretSource::Env(var.to_string())),
        (None, Some(file)) => Some(SecretSource::File(file.into())),
        (None, None) => None,
    };
    let secret = match (params.str("hmacSecretEnv"), params.str("hmacSecretFile")) {
        (Some(var), _) => Some(SecretSource::Env(var.to_string())),
        (None, Some(file)) => Some(SecretSource::File(file.into())),
        (None, None) => None,
    };
    WebhookRequest {
        url: params.str("url").unwrap_or_default().to_string(),
        body,
        timeout: params.duration("timeout").unwrap_or(Duration::from_secs(10)),
        token,
        signing: secret.map(|secret| Signing {
            header: params.str("hmacHeader").unwrap_or(DEFAULT_SIGNATURE_HEADER).to_string(),
            secret,
        }),
        headers: params.string_map("headers").unwrap_or_default(),
    }
}

impl TaskType for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }
    fn summary(&self) -> &'static str {
        "POST a JSON body to a URL, with retries on 5xx/429/connection errors, bearer token and HMAC signature"
    }
    fn params(&self) -> &'static [ParamDef] {
        WEBHOOK_PARAMS
    }
    fn mutating(&self) -> bool {
        false
    }
    fn example(&self) -> &'static str {
        "- name: tell-ci\n  type: webhook\n  namespace: e2e-1234\n  parameters:\n    url: https://ci.example.com/hooks/pearl\n    body: {event: namespace-parked}\n    tokenEnv: CI_TOKEN\n    hmacSecretEnv: CI_HOOK_SECRET\n    timeout: 15s\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        let url = params.str("url").unwrap_or_default();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("`url` must start with http:// or https://, not `{url}`"));
        }
        if params.has("tokenEnv") && params.has("tokenFile") {
            return Err("give `tokenEnv` or `tokenFile`, not both".into());
        }
        if params.has("hmacSecretEnv") && params.has("hmacSecretFile") {
            return Err("give `hmacSecretEnv` or `hmacSecretFile`, not both".into());
        }
        if let Some(body) = params.raw("body")
            && !body.is_object()
        {
            return Err("`body` must be a map of fields".into());
        }
        if params.duration("timeout").is_some_and(|t| t.is_zero()) {
            return Err("`timeout` must be more than 0".into());
        }
        Ok(())
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let mut body = webhook_body(&cx.task, &cx.targets, params.raw("body").and_then(Value::as_object));
            // The tasks it depends on, with the objects they acted on.
            if !cx.upstream().is_empty()
                && let Some(fields) = body.as_object_mut()
            {
                fields.entry("upstream").or_insert_with(|| Value::Array(cx.upstream().to_vec()));
            }
            let request = webhook_request(params, body);
            if cx.cluster.dry_run.is_client() || cx.cluster.dry_run.is_server() {
                return Ok(TaskOutput {
                    message: format!("(dry run) would POST to {}", request.url),
                    items: vec![json!({"url": request.url, "body": request.body, "sent": false})].into(),
                    ..TaskOutput::default()
                });
            }
            let response = cx.unit(|_| webhook::post(&request)).await?;
            let attempts = cx.attempts();
            let mut message = format!("POST {}: {}", request.url, response.status);
            if attempts > 1 {
                message.push_str(&format!(" after {attempts} attempts"));
            }
            Ok(TaskOutput {
                matched: 0,
                changed: 0,
                message,
                items: vec![
                    json!({"url": request.url, "status": response.status, "attempts": attempts, "sent": true}),
                ]
                .into(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Result<Params, String> {
        let p = Params::from_json(WEBHOOK_PARAMS, v.as_object().unwrap())
            .map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))?;
        Webhook.check(&p)?;
        Ok(p)
    }

    #[test]
    fn body_merges_the_tasks_fields() {
        let extra = json!({"event": "done", "namespaces": ["override"]});
        let body = webhook_body("t1", &Targets::Namespaces(vec!["a".into()]), extra.as_object());
        assert_eq!(body, json!({"task": "t1", "namespaces": ["override"], "event": "done"}));
        assert_eq!(webhook_body("t2", &Targets::All, None), json!({"task": "t2", "namespaces": "*"}));
    }

    #[test]
    fn checks_catch_conflicting_settings() {
        assert!(params(json!({"url": "ftp://x"})).unwrap_err().contains("http://"));
        assert!(
            params(json!({"url": "http://x", "tokenEnv": "A", "tokenFile": "/f"}))
                .unwrap_err()
                .contains("not both")
        );
        assert!(params(json!({"url": "http://x", "body": [1]})).unwrap_err().contains("map"));
        let p = params(json!({"url": "http://x", "hmacSecretEnv": "S"})).unwrap();
        let req = webhook_request(&p, json!({}));
        assert_eq!(
            req.signing,
            Some(Signing { header: DEFAULT_SIGNATURE_HEADER.into(), secret: SecretSource::Env("S".into()) })
        );
        assert_eq!(req.timeout, Duration::from_secs(10));
    }
}

//! Webhook POST: the only network access a script has besides the cluster. Secrets from the
//! environment or files are not reachable from scripts (the sandbox has neither).

use std::time::Duration;

use rhai::{Dynamic, Map};

use super::{Registrar, Res, string_map, to_dyn, to_json};
use crate::ops::webhook::{WebhookRequest, post};
use crate::script::host;

/// Default timeout of a webhook call from a script.
const TIMEOUT: Duration = Duration::from_secs(10);

fn send(url: &str, body: Dynamic, headers: Map) -> Res<Dynamic> {
    let h = host::current()?;
    let req = WebhookRequest {
        url: url.to_string(),
        body: to_json(&body)?,
        timeout: TIMEOUT,
        token: None,
        signing: None,
        headers: string_map(&headers, "webhook headers")?,
    };
    if h.cx.cluster.dry_run.is_client() {
        let mut m = Map::new();
        m.insert("status".into(), Dynamic::from(0_i64));
        m.insert("body".into(), Dynamic::from(String::new()));
        m.insert("dryRun".into(), Dynamic::TRUE);
        return Ok(Dynamic::from_map(m));
    }
    let resp = h.block(h.cx.unit(|_| post(&req)))?;
    to_dyn(resp)
}

pub fn register(r: &mut Registrar) {
    r.func(
        "webhook_post",
        &["url: String", "body: ?"],
        "Map",
        "POST a value as JSON (10 s timeout, retried on 5xx/429/connection errors): {status, body}. Not sent under --dry-run=client.",
        |url: &str, body: Dynamic| send(url, body, Map::new()),
    )
    .func(
        "webhook_post",
        &["url: String", "body: ?", "headers: Map"],
        "Map",
        "POST a value as JSON with extra headers.",
        send,
    );
}

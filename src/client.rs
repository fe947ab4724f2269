//! Building the API client the way kubectl does: `--kubeconfig`, or `KUBECONFIG` (several files
//! merged, the first to set a value wins), or `~/.kube/config`, or the in-cluster service account
//! when running in a pod; `--context/--cluster/--user` pick from it; `--as/--as-group` impersonate.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cli::KubeFlags;

/// A client and the namespace the context defaults to.
pub struct Connection {
    pub client: kube::Client,
    pub default_namespace: String,
    /// The server URL, for messages.
    pub server: String,
}

/// Where the configuration came from, for error messages.
fn source_name(flags: &KubeFlags) -> String {
    match (&flags.kubeconfig, std::env::var_os("KUBECONFIG")) {
        (Some(p), _) => p.display().to_string(),
        (None, Some(v)) if !v.is_empty() => format!("$KUBECONFIG ({})", v.to_string_lossy()),
        _ => "~/.kube/config".to_string(),
    }
}

/// The kube client configuration for these flags.
pub async fn config(flags: &KubeFlags) -> Result<kube::Config> {
    let options = KubeConfigOptions {
        context: flags.context.clone(),
        cluster: flags.cluster.clone(),
        user: flags.user.clone(),
    };
    let kubeconfig = match &flags.kubeconfig {
        Some(path) => Some(
            Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?,
        ),
        None => match Kubeconfig::from_env().context("cannot read the files in $KUBECONFIG")? {
            Some(k) => Some(k),
            None => match dirs_home().map(|h| h.join(".kube").join("config")) {
                Some(p) if p.exists() => {
                    Some(Kubeconfig::read_from(&p).with_context(|| format!("cannot read {}", p.display()))?)
                }
                _ => None,
            },
        },
    };
    let mut config = match kubeconfig {
        Some(k) => kube::Config::from_custom_kubeconfig(k, &options)
            .await
            .with_context(|| format!("cannot use the kubeconfig from {}", source_name(flags)))?,
        None => {
            if flags.context.is_some() || flags.cluster.is_some() || flags.user.is_some() {
                bail!(
                    "--context/--cluster/--user need a kubeconfig, and none was found ({})",
                    source_name(flags)
                );
            }
            kube::Config::incluster().map_err(|e| {
                anyhow::anyhow!(
                    "no kubeconfig found (checked {}) and not running in a pod ({e}); \
                     pass --kubeconfig or set KUBECONFIG",
                    source_name(flags)
                )
            })?
        }
    };
    // One retry layer: the pool decides and counts every attempt (kube 5 would otherwise retry
    // 429/503/504 itself, invisibly).
    config.default_retry = false;
    if let Some(user) = &flags.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !flags.as_group.is_empty() {
        if flags.as_user.is_none() {
            bail!("--as-group needs --as (the API server requires a user to impersonate groups)");
        }
        config.auth_info.impersonate_groups = Some(flags.as_group.clone());
    }
    if let Some(t) = flags.request_timeout.filter(|t| !t.is_zero()) {
        config.connect_timeout = Some(t.min(Duration::from_secs(30)));
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    }
    Ok(config)
}

fn dirs_home() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(std::path::PathBuf::from)
}

/// Connect: build the client (no request is sent until the first operation).
pub async fn connect(flags: &KubeFlags) -> Result<Connection> {
    let config = config(flags).await?;
    let default_namespace = config.default_namespace.clone();
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).context("cannot build the API client")?;
    Ok(Connection { client, default_namespace, server })
}

//! ConfigMaps: list/get (as plain data), and read-modify-write of data keys with a conflict-safe
//! merge patch (the patch carries the `resourceVersion` it was computed from, so a concurrent
//! writer makes it fail with 409 and the pool re-runs the operation on fresh state).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch};
use serde_json::json;

use super::{Cluster, FIELD_MANAGER, OpsError, object};

/// Page size of list calls.
const PAGE: u32 = 500;

/// A ConfigMap as plain data.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapInfo {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Text data.
    pub data: BTreeMap<String, String>,
    /// Keys of `binaryData` (values are not copied).
    pub binary_keys: Vec<String>,
    /// Creation time, RFC 3339.
    pub created: Option<String>,
    pub resource_version: String,
}

impl ConfigMapInfo {
    fn from_object(cm: ConfigMap) -> Self {
        let meta = cm.metadata;
        Self {
            name: meta.name.unwrap_or_default(),
            namespace: meta.namespace.unwrap_or_default(),
            labels: meta.labels.unwrap_or_default(),
            annotations: meta.annotations.unwrap_or_default(),
            data: cm.data.unwrap_or_default(),
            binary_keys: cm.binary_data.map(|b| b.into_keys().collect()).unwrap_or_default(),
            created: meta.creation_timestamp.map(|t| t.0.to_string()),
            resource_version: meta.resource_version.unwrap_or_default(),
        }
    }
}

/// What [`set_configmap_data`] did (or, under `--dry-run`, would do).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapChange {
    pub name: String,
    pub namespace: String,
    /// The ConfigMap did not exist and was (or would be) created.
    pub created: bool,
    /// Keys whose value changed, was added or removed, sorted.
    pub changed_keys: Vec<String>,
    /// The values of `changed_keys` before the change (absent key: not in the map).
    pub previous: BTreeMap<String, String>,
    /// Nothing was sent because of `--dry-run=client`.
    pub dry_run: bool,
}

impl ConfigMapChange {
    /// True when the ConfigMap was (or would be) created or modified.
    pub fn changed(&self) -> bool {
        self.created || !self.changed_keys.is_empty()
    }
}

fn api(cluster: &Cluster, namespace: Option<&str>) -> Api<ConfigMap> {
    match namespace {
        Some(ns) => Api::namespaced(cluster.client.clone(), ns),
        None => Api::all(cluster.client.clone()),
    }
}

/// List ConfigMaps in `namespace` (all namespaces when `None`), optionally by label selector,
/// reading every page.
pub async fn list_configmaps(
    cluster: &Cluster,
    namespace: Option<&str>,
    label_selector: Option<&str>,
) -> Result<Vec<ConfigMapInfo>, OpsError> {
    let api = api(cluster, namespace);
    let what = match namespace {
        Some(ns) => format!("configmaps in namespace {ns}"),
        None => "configmaps in all namespaces".to_string(),
    };
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(PAGE);
        if let Some(sel) = label_selector.filter(|s| !s.is_empty()) {
            lp = lp.labels(sel);
        }
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = api.list(&lp).await.map_err(|e| OpsError::api("list", what.clone(), e))?;
        out.extend(page.items.into_iter().map(ConfigMapInfo::from_object));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Get one ConfigMap; `None` when it does not exist.
pub async fn get_configmap(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Option<ConfigMapInfo>, OpsError> {
    api(cluster, Some(namespace))
        .get_opt(name)
        .await
        .map(|cm| cm.map(ConfigMapInfo::from_object))
        .map_err(|e| OpsError::api("get", object("configmap", Some(namespace), name), e))
}

/// Set (`Some`) or remove (`None`) data keys of a ConfigMap. Reads the current object, sends
/// only what differs as a JSON merge patch guarded by the `resourceVersion` it read (a
/// concurrent change fails with 409 Conflict, which the pool retries by calling this again).
/// When the ConfigMap is missing it is created if `create_if_missing`, else this fails with 404.
/// Honours `--dry-run` (client: nothing is sent; server: sent with `dryRun=All`).
pub async fn set_configmap_data(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, Option<String>>,
    create_if_missing: bool,
) -> Result<ConfigMapChange, OpsError> {
    let what = object("configmap", Some(namespace), name);
    let api = api(cluster, Some(namespace));
    let current = api
        .get_opt(name)
        .await
        .map_err(|e| OpsError::api("get", what.clone(), e))?
        .map(ConfigMapInfo::from_object);
    let mut change = ConfigMapChange {
        name: name.to_string(),
        namespace: namespace.to_string(),
        dry_run: cluster.dry_run.is_client(),
        ..ConfigMapChange::default()
    };
    let Some(current) = current else {
        if !create_if_missing {
            return Err(OpsError::Invalid {
                op: "write data",
                object: what,
                message: "not found (pass create=true to create it)".into(),
            });
        }
        let values: BTreeMap<String, String> =
            data.iter().filter_map(|(k, v)| Some((k.clone(), v.clone()?))).collect();
        change.created = true;
        change.changed_keys = values.keys().cloned().collect();
        if cluster.dry_run.is_client() {
            return Ok(change);
        }
        let cm = ConfigMap {
            metadata: kube::api::ObjectMeta {
                name: Some(name.to_string()),
                namespace: Some(namespace.to_string()),
                ..Default::default()
            },
            data: Some(values),
            ..Default::default()
        };
        api.create(&cluster.post_params(), &cm).await.map_err(|e| OpsError::api("create", what, e))?;
        return Ok(change);
    };
    let mut patch_data = serde_json::Map::new();
    for (key, value) in data {
        let old = current.data.get(key);
        if old == value.as_ref() {
            continue;
        }
        if let Some(old) = old {
            change.previous.insert(key.clone(), old.clone());
        }
        change.changed_keys.push(key.clone());
        patch_data.insert(key.clone(), value.clone().map_or(serde_json::Value::Null, Into::into));
    }
    if patch_data.is_empty() || cluster.dry_run.is_client() {
        return Ok(change);
    }
    let patch = json!({
        "metadata": { "resourceVersion": current.resource_version },
        "data": patch_data,
    });
    let mut pp = cluster.patch_params();
    pp.field_manager = Some(FIELD_MANAGER.into());
    api.patch(name, &pp, &Patch::Merge(&patch)).await.map_err(|e| OpsError::api("patch data", what, e))?;
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_keeps_data_and_binary_keys() {
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "c", "namespace": "n", "resourceVersion": "7", "labels": {"a": "b"}},
            "data": {"k": "v"},
            "binaryData": {"bin": "AAEC"}
        }))
        .unwrap();
        let info = ConfigMapInfo::from_object(cm);
        assert_eq!(info.name, "c");
        assert_eq!(info.namespace, "n");
        assert_eq!(info.data.get("k").map(String::as_str), Some("v"));
        assert_eq!(info.binary_keys, vec!["bin".to_string()]);
        assert_eq!(info.resource_version, "7");
        assert_eq!(info.labels.get("a").map(String::as_str), Some("b"));
    }

    #[test]
    fn change_reports_whether_anything_changed() {
        let mut c = ConfigMapChange::default();
        assert!(!c.changed());
        c.changed_keys.push("k".into());
        assert!(c.changed());
    }
}

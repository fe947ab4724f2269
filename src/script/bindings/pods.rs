//! Pods: list/get (as PodInfo maps plus `uid` and `resourceVersion`), metadata-only listing,
//! label/annotate one pod or a whole array on the pool, delete.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Pod;
use rhai::{Array, Dynamic, Map};

use super::{Registrar, Res, check_blast_radius, fail_bulk, scope, to_dyn};
use crate::ops::pods::{
    self as ops, DeleteOutcome, MetaChange, MetaField, MetaOutcome, PodMeta, PodSelector,
};
use crate::ops::{OpsError, object};
use crate::script::host::{self, runtime_error};

/// A pod as scripts see it.
pub fn pod_map(p: &Pod) -> Res<Dynamic> {
    let mut d = to_dyn(ops::PodInfo::from_pod(p))?;
    if let Some(mut m) = d.write_lock::<Map>() {
        m.insert("uid".into(), Dynamic::from(p.metadata.uid.clone().unwrap_or_default()));
        m.insert(
            "resourceVersion".into(),
            Dynamic::from(p.metadata.resource_version.clone().unwrap_or_default()),
        );
    }
    Ok(d)
}

/// The selector of the list bindings ("" = no selector).
fn selector_of(labels: &str, fields: &str) -> PodSelector {
    PodSelector {
        label_selector: (!labels.is_empty()).then(|| labels.to_string()),
        field_selector: (!fields.is_empty()).then(|| fields.to_string()),
        ..PodSelector::default()
    }
}

fn list(namespace: &str, labels: &str, fields: &str) -> Res<Array> {
    let h = host::current()?;
    let selector = selector_of(labels, fields);
    let scopes = [scope(namespace)];
    let pods = h.block(h.cx.unit(|_| ops::list_pods(&h.cx.cluster, &scopes, &selector)))?;
    h.add_matched(pods.len());
    pods.iter().map(pod_map).collect()
}

/// A pod's metadata as scripts see it: `namespace`, `name`, `uid`, `resourceVersion`, `labels`,
/// `annotations`; what the bulk label/annotate/delete helpers read.
fn meta_map(m: PodMeta) -> Dynamic {
    let text_map = |m: BTreeMap<String, String>| -> Map {
        m.into_iter().map(|(k, v)| (k.into(), Dynamic::from(v))).collect()
    };
    let mut map = Map::new();
    map.insert("namespace".into(), Dynamic::from(m.namespace));
    map.insert("name".into(), Dynamic::from(m.name));
    map.insert("uid".into(), Dynamic::from(m.uid));
    map.insert("resourceVersion".into(), Dynamic::from(m.resource_version));
    map.insert("labels".into(), Dynamic::from_map(text_map(m.labels)));
    map.insert("annotations".into(), Dynamic::from_map(text_map(m.annotations)));
    Dynamic::from_map(map)
}

/// Metadata-only listing: the API server sends only each pod's metadata, a fraction of the
/// bytes of whole pods, and the script gets small maps.
fn list_meta(namespace: &str, labels: &str, fields: &str) -> Res<Array> {
    let h = host::current()?;
    let selector = selector_of(labels, fields);
    let scopes = [scope(namespace)];
    let metas = h.block(h.cx.unit(|_| ops::list_pod_meta(&h.cx.cluster, &scopes, &selector)))?;
    h.add_matched(metas.len());
    Ok(metas.into_iter().map(meta_map).collect())
}

fn get(namespace: &str, name: &str) -> Res<Dynamic> {
    let h = host::current()?;
    match h.block(h.cx.unit(|_| ops::get_pod(&h.cx.cluster, namespace, name)))? {
        Some(p) => {
            h.add_matched(1);
            pod_map(&p)
        }
        None => Ok(Dynamic::UNIT),
    }
}

fn text_map(m: Option<&Dynamic>, what: &str) -> Res<BTreeMap<String, String>> {
    match m {
        None => Ok(BTreeMap::new()),
        Some(d) if d.is_unit() => Ok(BTreeMap::new()),
        Some(d) => {
            let map = d.read_lock::<Map>().ok_or_else(|| runtime_error(format!("{what} must be a map")))?;
            super::string_map(&map, what)
        }
    }
}

/// A pod map (from `list_pods`/`get_pod`, or any map with `namespace` and `name`) as [`PodMeta`].
pub fn pod_meta_of(item: &Dynamic, what: &str) -> Res<PodMeta> {
    let map = item
        .read_lock::<Map>()
        .ok_or_else(|| runtime_error(format!("{what}: expected pod maps, found {}", item.type_name())))?;
    let text = |k: &str| map.get(k).filter(|v| v.is_string()).map(|v| v.to_string());
    let (Some(namespace), Some(name)) = (text("namespace"), text("name")) else {
        return Err(runtime_error(format!("{what}: a pod map needs `namespace` and `name`")));
    };
    Ok(PodMeta {
        namespace,
        name,
        uid: text("uid").unwrap_or_default(),
        resource_version: text("resourceVersion").unwrap_or_default(),
        labels: text_map(map.get("labels"), what)?,
        annotations: text_map(map.get("annotations"), what)?,
    })
}

/// `#{key: "v", gone: ()}`: set `key`, remove `gone`.
fn meta_change(map: &Map, what: &str) -> Res<MetaChange> {
    let mut change = MetaChange { set: BTreeMap::new(), remove: BTreeSet::new() };
    for (k, v) in super::optional_string_map(map, what)? {
        match v {
            Some(v) => {
                change.set.insert(k, v);
            }
            None => {
                change.remove.insert(k);
            }
        }
    }
    Ok(change)
}

fn outcome_name(o: MetaOutcome) -> &'static str {
    match o {
        MetaOutcome::Unchanged => "unchanged",
        MetaOutcome::Changed => "changed",
        MetaOutcome::WouldChange => "wouldChange",
        MetaOutcome::Gone => "gone",
    }
}

fn update_one(namespace: &str, name: &str, map: Map, field: MetaField) -> Res<String> {
    let h = host::current()?;
    let change = meta_change(&map, &format!("{} pod {namespace}/{name}", field.op()))?;
    let cluster = &h.cx.cluster;
    let update = h.block(h.cx.unit(|_| {
        let change = &change;
        async move {
            let pod = ops::get_pod(cluster, namespace, name).await?.ok_or_else(|| OpsError::Invalid {
                op: field.op(),
                object: object("pod", Some(namespace), name),
                message: "not found".into(),
            })?;
            ops::update_pod_meta(cluster, &PodMeta::from_pod(&pod), field, change, 1).await
        }
    }))?;
    h.add_matched(1);
    if update.outcome.counts_as_change() {
        h.add_changed(1);
    }
    Ok(outcome_name(update.outcome).to_string())
}

/// Label/annotate every pod of `pods` on the pool (one PATCH per pod that needs it).
fn update_many(pods: Array, map: Map, field: MetaField) -> Res<Map> {
    let h = host::current()?;
    let what = format!("{}_pods", field.op());
    let change = meta_change(&map, &what)?;
    let metas = pods.iter().map(|p| pod_meta_of(p, &what)).collect::<Res<Vec<_>>>()?;
    check_blast_radius(&h, metas.len(), &what)?;
    let cluster = &h.cx.cluster;
    let change = &change;
    let results = h.block_raw(h.cx.each(metas, |m, attempt| async move {
        ops::update_pod_meta(cluster, &m, field, change, attempt).await
    }))?;
    let mut counts: BTreeMap<&str, i64> =
        ["changed", "unchanged", "wouldChange", "gone"].into_iter().map(|k| (k, 0)).collect();
    let total = results.len();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(u) => *counts.entry(outcome_name(u.outcome)).or_default() += 1,
            Err(e) => errors.push(e),
        }
    }
    h.add_matched(total);
    h.add_changed((counts["changed"] + counts["wouldChange"]) as usize);
    fail_bulk(&what, total, errors)?;
    let mut out: Map = counts.into_iter().map(|(k, v)| (k.into(), Dynamic::from(v))).collect();
    out.insert("matched".into(), Dynamic::from(total as i64));
    Ok(out)
}

fn delete_outcome(o: DeleteOutcome) -> &'static str {
    match o {
        DeleteOutcome::Deleted => "deleted",
        DeleteOutcome::WouldDelete => "wouldDelete",
        DeleteOutcome::AlreadyGone => "alreadyGone",
    }
}

fn delete_one(namespace: &str, name: &str) -> Res<String> {
    let h = host::current()?;
    let o = h.block(h.cx.unit(|_| ops::delete_pod(&h.cx.cluster, namespace, name, None, None)))?;
    if o != DeleteOutcome::AlreadyGone {
        h.add_changed(1);
    }
    Ok(delete_outcome(o).to_string())
}

/// Delete every pod of `pods` on the pool; each delete is bound to the listed pod's uid, so a
/// pod recreated under the same name since the list is left alone.
fn delete_many(pods: Array) -> Res<Map> {
    let h = host::current()?;
    let metas = pods.iter().map(|p| pod_meta_of(p, "delete_pods")).collect::<Res<Vec<_>>>()?;
    check_blast_radius(&h, metas.len(), "delete_pods")?;
    let cluster = &h.cx.cluster;
    let results = h.block_raw(h.cx.each(metas, |m, _| async move {
        ops::delete_pod(cluster, &m.namespace, &m.name, Some(&m.uid), None).await
    }))?;
    let total = results.len();
    let mut counts: BTreeMap<&str, i64> =
        ["deleted", "wouldDelete", "alreadyGone"].into_iter().map(|k| (k, 0)).collect();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(o) => *counts.entry(delete_outcome(o)).or_default() += 1,
            Err(e) => errors.push(e),
        }
    }
    h.add_changed((counts["deleted"] + counts["wouldDelete"]) as usize);
    fail_bulk("delete_pods", total, errors)?;
    let mut out: Map = counts.into_iter().map(|(k, v)| (k.into(), Dynamic::from(v))).collect();
    out.insert("matched".into(), Dynamic::from(total as i64));
    Ok(out)
}

pub fn register(r: &mut Registrar) {
    r.func(
        "list_pods",
        &["namespace: String"],
        "Array",
        "Pods in a namespace (\"*\" or \"\" = all): maps with name, namespace, labels, annotations, phase, ready, restarts, node, images, created, ageSeconds, containers, uid.",
        |ns: &str| list(ns, "", ""),
    )
    .func(
        "list_pods",
        &["namespace: String", "selector: String"],
        "Array",
        "Pods matching a label selector (\"app=web,tier!=db\").",
        |ns: &str, sel: &str| list(ns, sel, ""),
    )
    .func(
        "list_pods",
        &["namespace: String", "selector: String", "fields: String"],
        "Array",
        "Pods matching a label selector and a field selector (\"status.phase=Succeeded\", \"spec.nodeName=n1\").",
        list,
    )
    .func(
        "list_pod_meta",
        &["namespace: String"],
        "Array",
        "Pods' metadata only (namespace, name, uid, resourceVersion, labels, annotations): much less to fetch than list_pods, and all that label_pods, annotate_pods and delete_pods need.",
        |ns: &str| list_meta(ns, "", ""),
    )
    .func(
        "list_pod_meta",
        &["namespace: String", "selector: String"],
        "Array",
        "Metadata of the pods matching a label selector.",
        |ns: &str, sel: &str| list_meta(ns, sel, ""),
    )
    .func(
        "list_pod_meta",
        &["namespace: String", "selector: String", "fields: String"],
        "Array",
        "Metadata of the pods matching a label selector and a field selector.",
        list_meta,
    )
    .func("pods", &["namespace: String"], "Array", "Shorthand for list_pods(namespace), for one-liners.", |ns: &str| {
        list(ns, "", "")
    })
    .func("get_pod", &["namespace: String", "name: String"], "Map", "One pod, or () if it does not exist.", get)
    .func(
        "label_pod",
        &["namespace: String", "name: String", "labels: Map"],
        "String",
        "Set labels on one pod (a () value removes the key): \"changed\", \"unchanged\", \"wouldChange\" or \"gone\".",
        |ns: &str, name: &str, m: Map| update_one(ns, name, m, MetaField::Labels),
    )
    .func(
        "annotate_pod",
        &["namespace: String", "name: String", "annotations: Map"],
        "String",
        "Set annotations on one pod (a () value removes the key); outcome as label_pod.",
        |ns: &str, name: &str, m: Map| update_one(ns, name, m, MetaField::Annotations),
    )
    .func(
        "label_pods",
        &["pods: Array", "labels: Map"],
        "Map",
        "Label every pod of an array (from list_pods) on the worker pool; returns counts {matched, changed, unchanged, wouldChange, gone}. Throws if any failed.",
        |pods: Array, m: Map| update_many(pods, m, MetaField::Labels),
    )
    .func(
        "annotate_pods",
        &["pods: Array", "annotations: Map"],
        "Map",
        "Annotate every pod of an array on the worker pool; counts as label_pods.",
        |pods: Array, m: Map| update_many(pods, m, MetaField::Annotations),
    )
    .func(
        "delete_pod",
        &["namespace: String", "name: String"],
        "String",
        "Delete one pod: \"deleted\", \"wouldDelete\" (--dry-run) or \"alreadyGone\".",
        delete_one,
    )
    .func(
        "delete_pods",
        &["pods: Array"],
        "Map",
        "Delete every pod of an array on the worker pool; returns counts {matched, deleted, wouldDelete, alreadyGone}. Throws if any failed.",
        delete_many,
    );
}

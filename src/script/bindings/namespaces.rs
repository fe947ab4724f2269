//! Namespaces: list/get, delete (the same --protect, guarded-namespace and confirmation rules as
//! the task types), wait until gone.

use std::time::Duration;

use rhai::{Array, Dynamic, INT};

use super::{Registrar, Res, to_dyn};
use crate::ops::namespaces as ops;
use crate::script::host::{self, runtime_error};

fn list(selector: &str) -> Res<Array> {
    let h = host::current()?;
    let sel = (!selector.is_empty()).then_some(selector);
    let items = h.block(h.cx.unit(|_| ops::list(&h.cx.cluster, sel)))?;
    h.add_matched(items.len());
    items.into_iter().map(to_dyn).collect()
}

fn get(name: &str) -> Res<Dynamic> {
    let h = host::current()?;
    match h.block_raw(h.cx.unit(|_| ops::get(&h.cx.cluster, name)))? {
        Ok(ns) => {
            h.add_matched(1);
            to_dyn(ns)
        }
        Err(e) if e.is_not_found() => Ok(Dynamic::UNIT),
        Err(e) => Err(host::ops_error(e)),
    }
}

fn delete(name: &str) -> Res<Dynamic> {
    let h = host::current()?;
    // Refuse protected namespaces before asking anything.
    ops::deletion_verdict(name, &h.cx.safety)
        .map_err(|m| runtime_error(format!("delete namespace {name}: {m}")))?;
    if !h.cx.cluster.dry_run.is_client() {
        h.block(ops::confirm(&h.cx.safety, &format!("delete namespace {name}")))?;
    }
    let d = h.block(h.cx.unit(|_| ops::delete(&h.cx.cluster, name, &h.cx.safety)))?;
    h.add_matched(1);
    if !d.was_terminating {
        h.add_changed(1);
    }
    to_dyn(d)
}

fn wait_deleted(name: &str, timeout_secs: INT) -> Res<()> {
    let h = host::current()?;
    let timeout = Duration::from_secs(timeout_secs.max(0) as u64);
    h.block(ops::wait_deleted(&h.cx.cluster, name, None, timeout, &h.stop))
}

pub fn register(r: &mut Registrar) {
    r.func(
        "list_namespaces",
        &[],
        "Array",
        "Every namespace: maps with name, uid, labels, annotations, phase, created, ageSeconds.",
        || list(""),
    )
    .func("list_namespaces", &["selector: String"], "Array", "Namespaces matching a label selector.", list)
    .func("get_namespace", &["name: String"], "Map", "One namespace, or () if it does not exist.", get)
    .func(
        "delete_namespace",
        &["name: String"],
        "Map",
        "Delete a namespace: refuses --protect matches and kube-node-lease unless --force, asks unless --yes. Returns {name, uid, wasTerminating, sent}.",
        delete,
    )
    .func(
        "wait_namespace_deleted",
        &["name: String", "timeout_secs: INT"],
        "",
        "Watch until the namespace is gone; throws on timeout naming what still holds it.",
        wait_deleted,
    )
    .func(
        "is_protected",
        &["namespace: String"],
        "bool",
        "Whether --protect (or pearl's own guard) keeps pearl from deleting or scaling down this namespace.",
        |name: &str| -> Res<bool> { Ok(ops::deletion_verdict(name, &host::current()?.cx.safety).is_err()) },
    );
}

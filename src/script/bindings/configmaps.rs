//! ConfigMaps: list, get, read a key, write keys (conflict-safe; created if missing).

use rhai::{Array, Dynamic, Map};

use super::{Registrar, Res, optional_string_map, scope, to_dyn};
use crate::ops::configmaps as ops;
use crate::script::host;

fn list(namespace: &str, selector: &str) -> Res<Array> {
    let h = host::current()?;
    let sel = (!selector.is_empty()).then_some(selector);
    let items = h.block(h.cx.unit(|_| ops::list_configmaps(&h.cx.cluster, scope(namespace), sel)))?;
    h.add_matched(items.len());
    items.into_iter().map(to_dyn).collect()
}

fn get(namespace: &str, name: &str) -> Res<Dynamic> {
    let h = host::current()?;
    match h.block(h.cx.unit(|_| ops::get_configmap(&h.cx.cluster, namespace, name)))? {
        Some(cm) => {
            h.add_matched(1);
            to_dyn(cm)
        }
        None => Ok(Dynamic::UNIT),
    }
}

fn get_value(namespace: &str, name: &str, key: &str) -> Res<Dynamic> {
    let h = host::current()?;
    let cm = h.block(h.cx.unit(|_| ops::get_configmap(&h.cx.cluster, namespace, name)))?;
    Ok(cm.and_then(|c| c.data.get(key).cloned()).map_or(Dynamic::UNIT, Dynamic::from))
}

fn set_data(namespace: &str, name: &str, data: Map) -> Res<Dynamic> {
    let h = host::current()?;
    let what = format!("set_configmap_data {namespace}/{name}");
    let data = optional_string_map(&data, &what)?;
    let change =
        h.block(h.cx.unit(|_| ops::set_configmap_data(&h.cx.cluster, namespace, name, &data, true)))?;
    if change.changed() {
        h.add_changed(1);
    }
    to_dyn(change)
}

pub fn register(r: &mut Registrar) {
    r.func(
        "list_configmaps",
        &["namespace: String"],
        "Array",
        "ConfigMaps in a namespace (\"*\" or \"\" = all): maps with name, namespace, labels, annotations, data, created.",
        |ns: &str| list(ns, ""),
    )
    .func(
        "list_configmaps",
        &["namespace: String", "selector: String"],
        "Array",
        "ConfigMaps matching a label selector (\"app=web,tier!=db\").",
        list,
    )
    .func("get_configmap", &["namespace: String", "name: String"], "Map", "One ConfigMap, or () if it does not exist.", get)
    .func(
        "get_configmap_value",
        &["namespace: String", "name: String", "key: String"],
        "String",
        "One data value, or () if the ConfigMap or key does not exist.",
        get_value,
    )
    .func(
        "set_configmap_data",
        &["namespace: String", "name: String", "data: Map"],
        "Map",
        "Set data keys (a () value removes the key); creates the ConfigMap if missing. Returns {created, changedKeys, previous, dryRun}.",
        set_data,
    )
    .func(
        "set_configmap_value",
        &["namespace: String", "name: String", "key: String", "value: String"],
        "Map",
        "Set one data key (creating the ConfigMap if missing). Returns {created, changedKeys, previous, dryRun}.",
        |ns: &str, name: &str, key: &str, value: &str| {
            let mut m = Map::new();
            m.insert(key.into(), Dynamic::from(value.to_string()));
            set_data(ns, name, m)
        },
    );
}

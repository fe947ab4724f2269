//! Rhai bindings, one module per area. Each binding is a thin adapter: convert Rhai values to the
//! ops layer's plain data, run the SAME `crate::ops` function the task types use (on the shared
//! pool, with the task's retry policy), convert the result back to Rhai maps/arrays.
//!
//! Every binding is registered through [`Registrar::func`] with its parameter names, return type
//! and a one-line doc, so `bindings_help()` (and `kubectl pearl explain --script`) is generated
//! from the registration itself.

pub mod configmaps;
pub mod namespaces;
pub mod pod_io;
pub mod pods;
pub mod tasks;
pub mod util;
pub mod webhook;
pub mod workloads;

use std::collections::BTreeMap;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map, RhaiNativeFunc};

use super::host::{Host, runtime_error};
use crate::ops::OpsError;

/// Register every binding. Used by the production engine and by tests alike.
pub fn register_all(engine: &mut Engine) {
    util::register(&mut Registrar::new(engine, "util"));
    tasks::register(&mut Registrar::new(engine, "tasks"));
    configmaps::register(&mut Registrar::new(engine, "configmaps"));
    pods::register(&mut Registrar::new(engine, "pods"));
    pod_io::register(&mut Registrar::new(engine, "pods"));
    workloads::register(&mut Registrar::new(engine, "workloads"));
    namespaces::register(&mut Registrar::new(engine, "namespaces"));
    webhook::register(&mut Registrar::new(engine, "webhook"));
}

/// Registers bindings of one area with their metadata.
pub struct Registrar<'a> {
    engine: &'a mut Engine,
    area: &'static str,
}

/// The doc-comment line that carries a binding's area, read back by `bindings_help`.
pub const AREA_TAG: &str = "/// @area ";

impl<'a> Registrar<'a> {
    pub fn new(engine: &'a mut Engine, area: &'static str) -> Self {
        Self { engine, area }
    }

    /// Register `f` as `name`. `params` are `"name: Type"` entries, one per parameter, `ret` the
    /// return type as scripts see it (`""` for none), `doc` one line for the help.
    pub fn func<
        A: 'static,
        const N: usize,
        const X: bool,
        R: Clone + Send + Sync + 'static,
        const F: bool,
    >(
        &mut self,
        name: &str,
        params: &[&str],
        ret: &str,
        doc: &str,
        f: impl RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    ) -> &mut Self {
        let mut info: Vec<&str> = params.to_vec();
        if !ret.is_empty() {
            info.push(ret);
        }
        FuncRegistration::new(name)
            .with_params_info(info)
            .with_comments([format!("/// {doc}\n{AREA_TAG}{}", self.area)])
            .with_volatility(true)
            .register_into_engine(self.engine, f);
        self
    }
}

/// Result type of bindings.
pub type Res<T> = Result<T, Box<EvalAltResult>>;

/// Plain data (an ops struct) to a Rhai value (maps and arrays).
pub fn to_dyn<T: serde::Serialize>(value: T) -> Res<Dynamic> {
    rhai::serde::to_dynamic(value)
}

/// A Rhai value to JSON.
pub fn to_json(value: &Dynamic) -> Res<serde_json::Value> {
    rhai::serde::from_dynamic::<serde_json::Value>(value)
}

/// A Rhai map of labels/annotations/data to strings (numbers and booleans as their text).
pub fn string_map(map: &Map, what: &str) -> Res<BTreeMap<String, String>> {
    map.iter()
        .map(|(k, v)| {
            let text = if v.is_string() || v.is_int() || v.is_bool() || v.is_float() || v.is_char() {
                v.to_string()
            } else {
                return Err(runtime_error(format!(
                    "{what}: value of `{k}` must be a string, found {}",
                    v.type_name()
                )));
            };
            Ok((k.to_string(), text))
        })
        .collect()
}

/// A Rhai map whose values are strings or `()` (remove), as `Some`/`None`.
pub fn optional_string_map(map: &Map, what: &str) -> Res<BTreeMap<String, Option<String>>> {
    map.iter()
        .map(|(k, v)| {
            if v.is_unit() {
                return Ok((k.to_string(), None));
            }
            let one: Map = [(k.clone(), v.clone())].into_iter().collect();
            let mut m = string_map(&one, what)?;
            Ok((k.to_string(), m.remove(k.as_str())))
        })
        .collect()
}

/// A namespace argument: `""` or `"*"` means all namespaces.
pub fn scope(namespace: &str) -> Option<&str> {
    match namespace {
        "" | "*" => None,
        ns => Some(ns),
    }
}

/// An array of strings (or of maps with a `name` field).
pub fn string_list(items: &rhai::Array, what: &str) -> Res<Vec<String>> {
    items
        .iter()
        .map(|v| {
            if v.is_string() {
                return Ok(v.to_string());
            }
            Err(runtime_error(format!("{what}: expected strings, found {}", v.type_name())))
        })
        .collect()
}

/// `maxObjects` for bulk helpers: fail before changing anything.
pub fn check_blast_radius(h: &Host, n: usize, what: &str) -> Res<()> {
    match h.limits.max_objects {
        Some(max) if n > max => Err(runtime_error(format!(
            "{what}: {n} objects, more than maxObjects={max}: nothing was changed"
        ))),
        _ => Ok(()),
    }
}

/// A bulk helper's failures as one error naming the first (or nothing when all succeeded).
pub fn fail_bulk(what: &str, total: usize, errors: Vec<OpsError>) -> Res<()> {
    match errors.first() {
        None => Ok(()),
        Some(first) => {
            Err(runtime_error(format!("{what}: {} of {total} failed; first: {first}", errors.len())))
        }
    }
}

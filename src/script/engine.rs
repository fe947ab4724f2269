//! The one sandboxed Rhai engine, built once with every binding.
//!
//! Sandbox: `Engine::new_raw()` (no packages, no module resolver) plus Rhai's standard package,
//! which has no file, environment, process or network functions; a module resolver that resolves
//! nothing (so `import` cannot read files); `eval` disabled. Scripts reach the outside world only
//! through the bindings. Limits: call depth, expression depth, string/array/map sizes here;
//! operations, wall-clock deadline and cancellation per run through `on_progress` (see
//! [`host::progress`]).

use std::sync::OnceLock;

use rhai::packages::{Package, StandardPackage};
use rhai::{Engine, OptimizationLevel};

use super::bindings;
use super::host;

/// Nested function calls (recursion depth).
pub const MAX_CALL_LEVELS: usize = 64;
/// Expression nesting, at global level and inside functions.
pub const MAX_EXPR_DEPTH: (usize, usize) = (64, 32);
/// Longest string, in bytes (logs of a pod, a ConfigMap value: 4 MiB).
pub const MAX_STRING_SIZE: usize = 4 << 20;
/// Longest array (every pod of a large cluster).
pub const MAX_ARRAY_SIZE: usize = 200_000;
/// Most entries in a map.
pub const MAX_MAP_SIZE: usize = 100_000;
/// Default operations limit of a script run (`maxOperations`).
pub const DEFAULT_MAX_OPERATIONS: u64 = 50_000_000;

/// Build a sandboxed engine with every binding registered.
pub fn build() -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(StandardPackage::new().as_shared_module());
    engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    engine.disable_symbol("eval");
    engine.set_optimization_level(OptimizationLevel::Simple);
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(MAX_EXPR_DEPTH.0, MAX_EXPR_DEPTH.1);
    engine.set_max_string_size(MAX_STRING_SIZE);
    engine.set_max_array_size(MAX_ARRAY_SIZE);
    engine.set_max_map_size(MAX_MAP_SIZE);
    // Operations are limited per run (maxOperations) by the progress hook.
    engine.set_max_operations(0);
    engine.on_progress(host::progress);
    engine.on_print(bindings::util::log_info);
    engine.on_debug(|text, _source, pos| bindings::util::log_info(&format!("[debug {pos}] {text}")));
    bindings::register_all(&mut engine);
    engine
}

/// The process-wide engine.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(build)
}

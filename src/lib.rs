//! kubectl-pearl: scripted, concurrent Kubernetes maintenance. Task files and Rhai scripts run
//! on one shared worker pool; see the README's "How it is built" for how the modules fit together.
//!
//! - [`cli`] / [`commands`]: the command line and one function per subcommand;
//! - [`spec`]: task files parsed with positions and validated before anything runs;
//! - [`run`] / [`report`]: the dependency-aware runner and what the user sees;
//! - [`tasks`]: the task types, declared once (parameters validate files and generate `explain`);
//! - [`script`]: the Rhai engine and its bindings;
//! - [`ops`]: the only layer that talks to the API server; tasks and bindings share it;
//! - [`pool`]: bounded concurrency, rate limit, retries with backoff, cancellation.

pub mod cli;
pub mod client;
pub mod commands;
pub mod ops;
pub mod pool;
pub mod report;
pub mod run;
pub mod script;
pub mod spec;
pub mod tasks;
pub mod version;

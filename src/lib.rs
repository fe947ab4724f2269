//! kubectl-pearl: scripted, concurrent Kubernetes maintenance. Task files and Rhai scripts run
//! on one shared worker pool; see the README's "How it is built" for how the modules fit together.

pub mod ops;
pub mod pool;
pub mod script;
pub mod spec;
pub mod tasks;

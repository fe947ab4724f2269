//! kubectl-pearl: scripted, concurrent Kubernetes maintenance. Task files and Rhai scripts run
//! on one shared worker pool; see `DESIGN` in the README for how the modules fit together.

pub mod ops;
pub mod pool;
pub mod tasks;

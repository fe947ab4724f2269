//! Task types for workloads (being written).

use super::TaskType;

/// The task types this module registers.
pub fn types() -> Vec<&'static dyn TaskType> {
    vec![]
}

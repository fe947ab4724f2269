//! Rhai scripting (being written).

use crate::tasks::TaskType;

/// The `script` task type, registered with the others.
pub fn task_types() -> Vec<&'static dyn TaskType> {
    vec![]
}

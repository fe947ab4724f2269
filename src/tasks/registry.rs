//! The registry of task types: maps a `type:` name or alias to its implementation.

use std::sync::OnceLock;

use super::TaskType;
use super::params::suggest;

/// Every task type, in the order `explain` lists them.
pub struct Registry {
    types: Vec<&'static dyn TaskType>,
}

impl Registry {
    fn build() -> Self {
        // Each task type module lists its types once; this order is `explain`'s order.
        let mut types: Vec<&'static dyn TaskType> = Vec::new();
        types.extend(super::pods::types());
        types.extend(super::workloads::types());
        types.extend(super::namespaces::types());
        types.extend(super::webhook::types());
        types.extend(crate::script::task_types());
        let registry = Self { types };
        registry.assert_unique();
        registry
    }

    fn assert_unique(&self) {
        let mut seen = std::collections::HashSet::new();
        for t in &self.types {
            for name in std::iter::once(t.name()).chain(t.aliases().iter().copied()) {
                assert!(seen.insert(name.to_ascii_lowercase()), "task type name {name} registered twice");
            }
        }
    }

    pub fn all(&self) -> &[&'static dyn TaskType] {
        &self.types
    }

    /// Find a type by name or alias (case-insensitive, so `crewwritelabelpods` works too).
    pub fn get(&self, name: &str) -> Option<&'static dyn TaskType> {
        self.types.iter().copied().find(|t| {
            t.name().eq_ignore_ascii_case(name) || t.aliases().iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// The closest known name, for "did you mean".
    pub fn suggest(&self, name: &str) -> Option<String> {
        suggest(
            name,
            self.types.iter().flat_map(|t| std::iter::once(t.name()).chain(t.aliases().iter().copied())),
        )
    }
}

/// The process-wide registry.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::build)
}

//! Version information baked in at build time (see build.rs).

/// The crate version, as `kubectl pearl --version` prints it.
pub const SHORT: &str = env!("CARGO_PKG_VERSION");
/// The git commit the binary was built from (`unknown` outside a git checkout).
pub const COMMIT: &str = env!("PEARL_GIT_COMMIT");

/// What `kubectl pearl version -o json` prints.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    pub version: String,
    pub git_commit: String,
    pub target: String,
}

pub fn info() -> Info {
    Info {
        version: format!("v{SHORT}"),
        git_commit: COMMIT.to_string(),
        target: format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
    }
}

/// One line for humans: `kubectl-pearl v0.1.0 (commit 1a2b3c4d5e6f)`.
pub fn line() -> String {
    let i = info();
    let short: String = i.git_commit.chars().take(12).collect();
    format!("kubectl-pearl {} (commit {short}, {})", i.version, i.target)
}

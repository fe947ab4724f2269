//! Records the git commit the binary is built from, for `kubectl pearl version`.

use std::process::Command;

fn main() {
    let commit = std::env::var("PEARL_GIT_COMMIT").ok().filter(|c| !c.is_empty()).or_else(|| {
        let out = Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    println!("cargo:rustc-env=PEARL_GIT_COMMIT={}", commit.as_deref().unwrap_or("unknown"));
    println!("cargo:rerun-if-env-changed=PEARL_GIT_COMMIT");
    // Not .git/index: it changes on every `git add`, and would rebuild the crate each time.
    for path in [".git/HEAD", ".git/refs/heads"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

//! Shipping: the krew manifest, the release archive, and an install laid out the way krew lays
//! it out, run through the real kubectl.
//!
//! krew itself cannot be fetched here (the Go module proxy refuses `sigs.k8s.io/krew`), so its
//! checks are re-implemented below from its source, read at
//! github.com/kubernetes-sigs/krew:
//! - `internal/index/validation/validate.go` (`ValidatePlugin`, `validatePlatform`,
//!   `validateFiles`, `validateSelector`, `IsSafePluginName`, the sha256 pattern);
//! - `internal/installation/semver/version.go` (a `v` prefix, then apimachinery's
//!   `version.ParseSemantic`);
//! - `cmd/validate-krew-manifest/main.go` (file extension and name, every platform matching a
//!   supported os/arch, no two platforms selecting the same os/arch, line-length warnings,
//!   a LICENSE among the installed files);
//! - `internal/installation/install.go` and `move.go` (sha256 verified, archive unpacked, the
//!   `files` operations applied into `store/<name>/<version>`, `bin` inside that dir and present,
//!   a relative symlink `bin/kubectl-<name>`).
//!
//! Where we are stricter than krew it is said at the check (unknown fields, line lengths as
//! errors, shortDescription at most 50 characters).
//!
//! The archives are made by `tools/release package`, the same code the release workflow runs.
//! The archive that is installed and run holds the test build of `kubectl-pearl` (a stripped
//! copy of the debug binary, to keep the test fast); `tools/release build` makes the real
//! release binary (see plugin-manifest/README.md). The layout test of the other platforms packs
//! a placeholder file as their binary, since they cannot be built here: it checks names,
//! `files`, `bin`, LICENSE and sha256, not the binaries.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use sha2::{Digest, Sha256};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const HOMEPAGE: &str = "https://github.com/kubectl-pearl/kubectl-pearl";
const PLATFORMS: [(&str, &str); 5] =
    [("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64"), ("windows", "amd64")];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tag() -> String {
    format!("v{VERSION}")
}

// ------------------------------------------------------------------------ krew's manifest types

/// krew's `index.Plugin` (pkg/index/types.go). krew decodes leniently; we deny unknown fields so
/// a misspelt key fails here instead of being silently dropped by krew.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Plugin {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    version: String,
    #[serde(default)]
    short_description: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    caveats: String,
    #[serde(default)]
    homepage: String,
    #[serde(default)]
    platforms: Vec<Platform>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Platform {
    #[serde(default)]
    uri: String,
    #[serde(default)]
    sha256: String,
    selector: Option<Selector>,
    files: Option<Vec<FileOperation>>,
    #[serde(default)]
    bin: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Selector {
    match_labels: Option<BTreeMap<String, String>>,
    match_expressions: Option<Vec<Requirement>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirement {
    key: String,
    operator: String,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOperation {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn parse_manifest(path: &Path) -> Plugin {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parse {} as a krew Plugin: {e}", path.display()))
}

// ------------------------------------------------------------------------ krew's rules

const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
const WINDOWS_FORBIDDEN: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
    "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
/// validate-krew-manifest's `allPlatforms()`.
const KREW_PLATFORMS: [(&str, &str); 11] = [
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];
/// validate-krew-manifest's `licenseFiles`.
const LICENSE_NAMES: [&str; 8] = [
    "license",
    "license.txt",
    "license.md",
    "licenses",
    "licenses.txt",
    "licenses.md",
    "copying",
    "copying.txt",
];

/// `IsSafePluginName`: `^[\w-]+$` and not a reserved Windows device name.
fn is_safe_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !WINDOWS_FORBIDDEN.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// krew's `semver.Parse`: a leading `v`, then apimachinery's `ParseSemantic`: exactly three
/// numeric components without leading zeros, then an optional `-pre.release` and `+build`.
fn parse_krew_version(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix('v') else {
        return Err(format!("version string {s:?} not starting with 'v'"));
    };
    let numeric_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let (numbers, extra) = rest.split_at(numeric_end);
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("could not parse {s:?} as version"));
    }
    if parts.len() != 3 {
        return Err(format!("illegal version string {s:?}: semantic versions have three components"));
    }
    if let Some(p) = parts.iter().find(|p| p.len() > 1 && p.starts_with('0')) {
        return Err(format!("illegal zero-prefixed version component {p:?} in {s:?}"));
    }
    let ident_list = |list: &str| {
        !list.is_empty()
            && list
                .split('.')
                .all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    };
    let (pre, build) = match extra.split_once('+') {
        Some((pre, build)) => (pre, Some(build)),
        None => (extra, None),
    };
    let pre_ok = pre.is_empty() || pre.strip_prefix('-').is_some_and(ident_list);
    let build_ok = build.is_none_or(ident_list);
    if !pre_ok || !build_ok {
        return Err(format!("illegal version string {s:?}"));
    }
    Ok(())
}

/// `validateSelector`.
fn validate_selector(sel: Option<&Selector>) -> Result<(), String> {
    let sel = sel.ok_or("nil selector is not supported")?;
    let no_exprs = sel.match_expressions.as_ref().is_none_or(|e| e.is_empty());
    if sel.match_labels.is_none() && no_exprs {
        return Err("empty selector is not supported".into());
    }
    let keys = sel.match_labels.iter().flat_map(|m| m.keys().cloned());
    let keys = keys.chain(sel.match_expressions.iter().flatten().map(|r| r.key.clone()));
    for key in keys.collect::<Vec<_>>() {
        if key != "os" && key != "arch" {
            return Err(format!("key {key:?} not supported"));
        }
    }
    if sel.match_labels.as_ref().is_some_and(|m| m.is_empty()) {
        return Err("`matchLabels` specified but empty".into());
    }
    if sel.match_expressions.as_ref().is_some_and(|e| e.is_empty()) {
        return Err("`matchExpressions` specified but empty".into());
    }
    Ok(())
}

/// `validatePlatform` and `validateFiles`.
fn validate_platform(p: &Platform) -> Result<(), String> {
    if p.uri.is_empty() {
        return Err("`uri` has to be set".into());
    }
    if p.sha256.is_empty() {
        return Err("`sha256` sum has to be set".into());
    }
    if p.sha256.len() != 64 || !p.sha256.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
        return Err(format!("`sha256` value {} is not valid, must match pattern ^[a-f0-9]{{64}}$", p.sha256));
    }
    if p.bin.is_empty() {
        return Err("`bin` has to be set".into());
    }
    if let Some(files) = &p.files {
        if files.is_empty() {
            return Err("`files` is invalid: `files` has to be unspecified or non-empty".into());
        }
        for op in files {
            if op.from.is_empty() {
                return Err("`files` is invalid: `from` field has to be set".into());
            }
            if op.to.is_empty() {
                return Err("`files` is invalid: `to` field has to be set".into());
            }
        }
    }
    validate_selector(p.selector.as_ref()).map_err(|e| format!("invalid platform selector: {e}"))
}

/// `metav1.LabelSelectorAsSelector(sel).Matches({os, arch})`.
fn selector_matches(sel: Option<&Selector>, os: &str, arch: &str) -> bool {
    let Some(sel) = sel else { return false };
    let label = |k: &str| match k {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    let labels_ok = sel.match_labels.iter().flatten().all(|(k, v)| label(k) == Some(v.as_str()));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|r| {
        let v = label(&r.key);
        match r.operator.as_str() {
            "In" => v.is_some_and(|v| r.values.iter().any(|x| x == v)),
            "NotIn" => v.is_none_or(|v| !r.values.iter().any(|x| x == v)),
            "Exists" => v.is_some(),
            "DoesNotExist" => v.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// validate-krew-manifest's `validateLineLength`: lines longer than `max` are allowed only when
/// they are one word.
fn line_length_ok(s: &str, max: usize) -> bool {
    s.split('\n').all(|l| l.len() <= max || !l.trim().contains(' '))
}

/// Everything validate-krew-manifest checks short of installing (what `-skip-install` runs),
/// with its line-length warnings made errors, plus our own limit of 50 characters on the
/// shortDescription.
fn validate_manifest_file(path: &Path) -> Result<Plugin, String> {
    let file_name = path.file_name().and_then(|f| f.to_str()).ok_or("manifest path has no file name")?;
    let Some(name) = file_name.strip_suffix(".yaml") else {
        return Err(format!("expected manifest extension \".yaml\" but found {file_name:?}"));
    };
    let p = parse_manifest(path);
    validate_plugin(name, &p)?;
    Ok(p)
}

/// `ValidatePlugin` plus validate-krew-manifest's platform and length checks.
fn validate_plugin(name: &str, p: &Plugin) -> Result<(), String> {
    if p.api_version != API_VERSION {
        return Err(format!("plugin manifest has apiVersion={:?}, not supported", p.api_version));
    }
    if p.kind != "Plugin" {
        return Err(format!("plugin manifest has kind={:?}, but only \"Plugin\" is supported", p.kind));
    }
    if !is_safe_plugin_name(name) {
        return Err(format!("the plugin name {name:?} is not allowed, must match \"^[\\w-]+$\""));
    }
    if p.metadata.name != name {
        return Err(format!("plugin should be named {name:?}, not {:?}", p.metadata.name));
    }
    let s = &p.spec;
    if s.short_description.is_empty() {
        return Err("should have a short description".into());
    }
    if s.short_description.contains(['\r', '\n']) {
        return Err("should not have line breaks in short description".into());
    }
    if s.platforms.is_empty() {
        return Err("should have a platform specified".into());
    }
    if s.version.is_empty() {
        return Err("should have a version specified".into());
    }
    parse_krew_version(&s.version).map_err(|e| format!("failed to parse plugin version: {e}"))?;
    for (i, pl) in s.platforms.iter().enumerate() {
        validate_platform(pl).map_err(|e| format!("platform {i} is badly constructed: {e}"))?;
    }
    // validate-krew-manifest warns about these; krew-index reviewers ask for them.
    if !line_length_ok(&s.description, 80) {
        return Err("line length in `description` exceeds 80 characters".into());
    }
    if !line_length_ok(&s.short_description, 70) {
        return Err("line length in `shortDescription` exceeds 70 characters".into());
    }
    if !line_length_ok(&s.caveats, 80) {
        return Err("line length in `caveats` exceeds 80 characters".into());
    }
    // Ours: the shortDescription is shown in `kubectl krew search`; keep it short.
    if s.short_description.chars().count() > 50 {
        return Err(format!(
            "shortDescription is {} characters, more than 50",
            s.short_description.chars().count()
        ));
    }
    for (i, pl) in s.platforms.iter().enumerate() {
        if !KREW_PLATFORMS.iter().any(|(os, arch)| selector_matches(pl.selector.as_ref(), os, arch)) {
            return Err(format!("spec.platform[{i}]'s selector doesn't match any supported platforms"));
        }
    }
    for (os, arch) in KREW_PLATFORMS {
        let hits: Vec<usize> = (s.platforms.iter().enumerate())
            .filter(|(_, pl)| selector_matches(pl.selector.as_ref(), os, arch))
            .map(|(i, _)| i)
            .collect();
        if hits.len() > 1 {
            return Err(format!(
                "overlapping platform selectors found: multiple spec.platforms (at indexes {hits:?}) \
                 have overlapping selectors that select os={os}/arch={arch}"
            ));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------ krew's install

/// Go's `filepath.Clean` for relative slash paths.
fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let rooted = p.starts_with('/');
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            ".." if rooted => {}
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `path` (already joined onto `base`) stays inside `base`: `pathutil.IsSubPath`.
fn inside(base: &Path, rel: &str) -> bool {
    let c = clean(rel);
    !c.starts_with('/')
        && c != ".."
        && !c.starts_with("../")
        && !base.join(&c).components().any(|x| matches!(x, std::path::Component::ParentDir))
}

/// `filepath.Match` for one path component with `*` and `?` (our manifests use no classes).
fn glob_match(pat: &[u8], name: &[u8]) -> bool {
    match (pat.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&pat[1..], name) || (!name.is_empty() && glob_match(pat, &name[1..])),
        (Some(b'?'), Some(_)) => glob_match(&pat[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => glob_match(&pat[1..], &name[1..]),
        _ => false,
    }
}

/// `filepath.Glob(dir/pattern)` for a pattern without directories.
fn glob(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    if pattern.contains('/') || pattern.contains('[') {
        return Err(format!(
            "pattern {pattern:?}: this re-implementation handles only `*` and `?` in one component"
        ));
    }
    let mut hits: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .filter(|e| glob_match(pattern.as_bytes(), e.file_name().as_encoded_bytes()))
        .map(|e| e.path())
        .collect();
    hits.sort();
    Ok(hits)
}

/// `findMoveTargets` + `moveFiles` for one file operation, from the unpacked archive `from_dir`
/// into the new installation dir `to_dir`.
fn apply_file_operation(from_dir: &Path, to_dir: &Path, op: &FileOperation) -> Result<(), String> {
    if op.to != clean(&op.to) {
        return Err(format!("the provided path is not clean, {:?} should be {:?}", op.to, clean(&op.to)));
    }
    let mut moves = Vec::new();
    let direct = from_dir.join(clean(&op.from));
    if inside(from_dir, &op.from) && direct.exists() {
        let to = if clean(&op.to) == "." {
            direct.file_name().unwrap().to_string_lossy().into_owned()
        } else {
            op.to.clone()
        };
        if !inside(to_dir, &to) {
            return Err(format!("can't move, move target {to:?} is out of bounds of {}", to_dir.display()));
        }
        moves.push((direct, to_dir.join(clean(&to))));
    } else {
        let hits = glob(from_dir, &op.from)?;
        if hits.is_empty() {
            return Err(format!("no files in the plugin archive matched the glob pattern={}", op.from));
        }
        if !inside(to_dir, &op.to) {
            return Err(format!(
                "can't move, move target {:?} is not a subpath of {}",
                op.to,
                to_dir.display()
            ));
        }
        for h in hits {
            let to = to_dir.join(clean(&op.to)).join(h.file_name().unwrap());
            moves.push((h, to));
        }
    }
    for (from, to) in moves {
        std::fs::create_dir_all(to.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::rename(&from, &to)
            .map_err(|e| format!("move {} to {}: {e}", from.display(), to.display()))?;
    }
    Ok(())
}

/// `kubectl krew install --manifest=M --archive=A` for this platform, into `krew_root`:
/// the first platform whose selector matches (`GetMatchingPlatform`), the archive's sha256
/// verified, unpacked, `files` applied (default `[{from: "*", to: "."}]`) into
/// `store/<name>/<version>`, `bin` checked inside it and linked relatively from
/// `bin/kubectl-<name>`, and (validate-krew-manifest) a LICENSE among the installed files.
/// Returns the link.
fn krew_install(
    p: &Plugin,
    os: &str,
    arch: &str,
    archive: &Path,
    krew_root: &Path,
) -> Result<PathBuf, String> {
    let platform = (p.spec.platforms.iter())
        .find(|pl| selector_matches(pl.selector.as_ref(), os, arch))
        .ok_or_else(|| format!("plugin {:?} does not offer installation for {os}/{arch}", p.metadata.name))?;
    let got = sha256_hex(archive);
    if got != platform.sha256 {
        return Err(format!("checksum does not match, want: {}, got {got}", platform.sha256));
    }
    let staging = tempfile::tempdir().unwrap();
    let out = Command::new("tar").arg("-xzf").arg(archive).arg("-C").arg(staging.path()).output().unwrap();
    if !out.status.success() {
        return Err(format!("failed to unpack the plugin archive: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let default_files = vec![FileOperation { from: "*".into(), to: ".".into() }];
    let files = platform.files.as_ref().unwrap_or(&default_files);
    let install_dir = krew_root.join("store").join(&p.metadata.name).join(&p.spec.version);
    let tmp = tempfile::tempdir().unwrap();
    for op in files {
        apply_file_operation(staging.path(), tmp.path(), op)
            .map_err(|e| format!("failed to move files (from {:?} to {:?}): {e}", op.from, op.to))?;
    }
    std::fs::create_dir_all(install_dir.parent().unwrap()).unwrap();
    copy_tree(tmp.path(), &install_dir);
    if !inside(&install_dir, &platform.bin) {
        return Err(format!("the bin path {:?} does not extend {}", platform.bin, install_dir.display()));
    }
    let binary = install_dir.join(clean(&platform.bin));
    if !binary.exists() {
        return Err(format!(
            "can't create symbolic link, source binary ({}) cannot be found in extracted archive",
            binary.display()
        ));
    }
    let bin_dir = krew_root.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let link_name = format!("kubectl-{}", p.metadata.name.replace('-', "_"));
    let link = bin_dir.join(if os == "windows" { format!("{link_name}.exe") } else { link_name });
    let rel =
        Path::new("..").join("store").join(&p.metadata.name).join(&p.spec.version).join(clean(&platform.bin));
    #[cfg(unix)]
    std::os::unix::fs::symlink(&rel, &link).unwrap();
    let installed = walk_files(&install_dir);
    if !installed.iter().any(|f| LICENSE_NAMES.contains(&f.to_lowercase().as_str())) {
        return Err(format!("could not find license file among [{}]", installed.join(", ")));
    }
    Ok(link)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn walk_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk_files(&e.path()));
        } else if e.file_type().unwrap().is_file() {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

fn sha256_hex(path: &Path) -> String {
    let mut f = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

// ------------------------------------------------------------------------ helpers

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn release() -> Command {
    Command::new(root().join("tools/release"))
}

/// `tools/release package` for one platform; returns the archive path it printed.
fn package(binary: &Path, os: &str, arch: &str, dist: &Path) -> PathBuf {
    let out = run(release()
        .args(["package", "--binary"])
        .arg(binary)
        .args(["--os", os, "--arch", arch, "--out"])
        .arg(dist));
    let path = PathBuf::from(stdout(&out).trim());
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        format!("kubectl-pearl_{}_{os}_{arch}.tar.gz", tag()),
        "archive name"
    );
    assert!(path.is_file(), "{} missing", path.display());
    path
}

/// `tools/release manifest` over `dist`; returns dist/pearl.yaml.
fn fill_manifest(dist: &Path) -> PathBuf {
    let out = run(release().arg("manifest").arg("--out").arg(dist));
    let path = PathBuf::from(stdout(&out).trim());
    assert_eq!(path, dist.join("pearl.yaml"));
    path
}

fn host_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no krew arch for {other}"),
    };
    (std::env::consts::OS, arch)
}

/// Five archives made by tools/release for every platform (placeholder binary) and the
/// manifest filled from them.
fn all_platform_dist() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let placeholder = dir.path().join("placeholder-binary");
    std::fs::write(&placeholder, "#!/bin/sh\necho placeholder\n").unwrap();
    let dist = dir.path().join("dist");
    for (os, arch) in PLATFORMS {
        package(&placeholder, os, arch, &dist);
    }
    let manifest = fill_manifest(&dist);
    (dir, manifest)
}

fn archive_of(manifest: &Path, os: &str, arch: &str) -> PathBuf {
    manifest.with_file_name(format!("kubectl-pearl_{}_{os}_{arch}.tar.gz", tag()))
}

fn tar_list(archive: &Path) -> Vec<String> {
    let out = run(Command::new("tar").arg("-tzf").arg(archive));
    let mut v: Vec<String> = stdout(&out).lines().map(|l| l.trim_start_matches("./").to_string()).collect();
    v.sort();
    v
}

// ------------------------------------------------------------------------ tests

#[test]
fn template_uses_krew_release_bot_placeholders_for_all_five_platforms() {
    let text = std::fs::read_to_string(root().join("plugin-manifest/pearl.yaml")).unwrap();
    assert!(text.contains("\n  version: {{ .TagName }}\n"), "spec.version must be the tag placeholder");
    for (os, arch) in PLATFORMS {
        let line = format!(
            "{{{{addURIAndSha \"{HOMEPAGE}/releases/download/{{{{ .TagName }}}}/kubectl-pearl_{{{{ .TagName }}}}_{os}_{arch}.tar.gz\" .TagName }}}}"
        );
        assert_eq!(text.matches(&line).count(), 1, "the template needs exactly one line\n  {line}");
    }
    assert_eq!(
        text.matches("addURIAndSha").count(),
        PLATFORMS.len(),
        "one uri/sha256 placeholder per platform"
    );
    // Comments must not hold template actions: krew-release-bot renders the whole file.
    for l in text.lines().filter(|l| l.trim_start().starts_with('#')) {
        assert!(!l.contains("{{"), "template action in a comment: {l}");
    }
}

#[test]
fn filled_manifest_for_every_platform_passes_krew_validation_and_installs() {
    let (_dir, manifest) = all_platform_dist();
    let p = validate_manifest_file(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    assert_eq!(p.metadata.name, "pearl");
    assert_eq!(p.spec.version, tag(), "spec.version is Cargo.toml's version with a v");
    assert_eq!(p.spec.homepage, HOMEPAGE);
    assert!(p.spec.short_description.len() <= 50);
    assert!(p.spec.description.lines().count() >= 4, "the description says what it does and how it differs");
    assert_eq!(p.spec.platforms.len(), PLATFORMS.len());
    for (os, arch) in PLATFORMS {
        let archive = archive_of(&manifest, os, arch);
        let pl = (p.spec.platforms.iter())
            .find(|pl| selector_matches(pl.selector.as_ref(), os, arch))
            .unwrap_or_else(|| panic!("no platform selects {os}/{arch}"));
        let name = archive.file_name().unwrap().to_str().unwrap();
        assert_eq!(pl.uri, format!("{HOMEPAGE}/releases/download/{}/{name}", tag()));
        assert_eq!(pl.sha256, sha256_hex(&archive), "{os}/{arch}: manifest sha256 vs the archive's");
        let sidecar = std::fs::read_to_string(archive.with_file_name(format!("{name}.sha256"))).unwrap();
        assert_eq!(sidecar, format!("{}  {name}\n", pl.sha256));
        let exe = if os == "windows" { "kubectl-pearl.exe" } else { "kubectl-pearl" };
        assert_eq!(pl.bin, exe);
        let mut want = vec![exe, "LICENSE"];
        if os != "windows" {
            want.push("kubectl_complete-pearl");
        }
        if root().join("README.md").is_file() {
            want.push("README.md");
        }
        want.sort();
        assert_eq!(tar_list(&archive), want, "{os}/{arch}: archive contents");

        let krew_root = tempfile::tempdir().unwrap();
        let link = krew_install(&p, os, arch, &archive, krew_root.path())
            .unwrap_or_else(|e| panic!("install {os}/{arch}: {e}"));
        let store = krew_root.path().join("store/pearl").join(tag());
        let installed = walk_files(&store);
        let mut want_installed = vec![exe, "LICENSE"];
        if os != "windows" {
            want_installed.push("kubectl_complete-pearl");
        }
        want_installed.sort();
        assert_eq!(installed, want_installed, "{os}/{arch}: files after `files` are applied");
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("../store/pearl").join(tag()).join(exe));
        assert_eq!(
            std::fs::read(store.join("LICENSE")).unwrap(),
            std::fs::read(root().join("LICENSE")).unwrap(),
            "the archive carries the repository's LICENSE"
        );
    }
}

#[test]
fn the_krew_rules_reject_broken_manifests() {
    let (_dir, manifest) = all_platform_dist();
    let good = validate_manifest_file(&manifest).expect("the filled manifest is valid");
    let check = |what: &str, want: &str, edit: &dyn Fn(&mut Plugin)| {
        let mut p = good.clone();
        edit(&mut p);
        match validate_plugin("pearl", &p) {
            Ok(()) => panic!("{what}: accepted, want an error containing {want:?}"),
            Err(e) => assert!(e.contains(want), "{what}: error {e:?} does not contain {want:?}"),
        }
    };
    check("apiVersion", "apiVersion", &|p| {
        p.api_version = "krew.googlecontainertools.github.com/v1alpha1".into()
    });
    check("kind", "kind", &|p| p.kind = "Plugins".into());
    check("name", "should be named", &|p| p.metadata.name = "kubectl-pearl".into());
    check("no v", "not starting with 'v'", &|p| p.spec.version = VERSION.into());
    check("two components", "three components", &|p| p.spec.version = "v0.1".into());
    check("zero prefix", "zero-prefixed", &|p| p.spec.version = "v0.01.0".into());
    check("bad pre-release", "illegal version", &|p| p.spec.version = "v0.1.0-".into());
    check("short description", "short description", &|p| p.spec.short_description.clear());
    check("line break", "line breaks", &|p| p.spec.short_description = "a\nb".into());
    check("50 chars", "more than 50", &|p| p.spec.short_description = "word ".repeat(11).trim().into());
    check("description", "`description` exceeds 80", &|p| p.spec.description = "word ".repeat(17));
    check("no platforms", "platform specified", &|p| p.spec.platforms.clear());
    check("uri", "`uri` has to be set", &|p| p.spec.platforms[0].uri.clear());
    check("sha", "is not valid", &|p| p.spec.platforms[0].sha256 = p.spec.platforms[0].sha256.to_uppercase());
    check("bin", "`bin` has to be set", &|p| p.spec.platforms[1].bin.clear());
    check("files empty", "unspecified or non-empty", &|p| p.spec.platforms[0].files = Some(vec![]));
    check("to", "`to` field", &|p| p.spec.platforms[0].files.as_mut().unwrap()[0].to.clear());
    check("selector key", "not supported", &|p| {
        p.spec.platforms[0]
            .selector
            .as_mut()
            .unwrap()
            .match_labels
            .as_mut()
            .unwrap()
            .insert("distro".into(), "x".into());
    });
    check("no selector", "nil selector", &|p| p.spec.platforms[0].selector = None);
    check("unknown os", "doesn't match any supported platforms", &|p| {
        p.spec.platforms[0]
            .selector
            .as_mut()
            .unwrap()
            .match_labels
            .as_mut()
            .unwrap()
            .insert("os".into(), "plan9".into());
    });
    check("overlap", "overlapping", &|p| {
        p.spec.platforms[1].selector.as_mut().unwrap().match_labels.as_mut().unwrap().remove("arch");
    });
    check("overlap by expression", "overlapping", &|p| {
        p.spec.platforms[4].selector = Some(Selector {
            match_labels: None,
            match_expressions: Some(vec![Requirement {
                key: "os".into(),
                operator: "In".into(),
                values: vec!["windows".into(), "linux".into()],
            }]),
        });
    });

    // Install-time rules, against the real linux/amd64 archive made above.
    let archive = archive_of(&manifest, "linux", "amd64");
    let install_err = |edit: &dyn Fn(&mut Platform)| {
        let mut p = good.clone();
        let pl =
            p.spec.platforms.iter_mut().find(|pl| selector_matches(pl.selector.as_ref(), "linux", "amd64"));
        edit(pl.unwrap());
        let root = tempfile::tempdir().unwrap();
        krew_install(&p, "linux", "amd64", &archive, root.path()).expect_err("install should fail")
    };
    assert!(install_err(&|pl| pl.sha256 = "0".repeat(64)).contains("checksum does not match"));
    assert!(install_err(&|pl| pl.bin = "bin/kubectl-pearl".into()).contains("cannot be found"));
    assert!(install_err(&|pl| pl.bin = "../kubectl-pearl".into()).contains("does not extend"));
    assert!(
        install_err(&|pl| pl.files.as_mut().unwrap().retain(|f| f.from != "LICENSE")).contains("license")
    );
    assert!(install_err(&|pl| pl.files.as_mut().unwrap()[0].to = "./".into()).contains("not clean"));
    assert!(install_err(&|pl| pl.files.as_mut().unwrap()[0].to = "../x".into()).contains("out of bounds"));
    assert!(
        install_err(&|pl| pl.files.as_mut().unwrap()[0].from = "kubectl-perl".into()).contains("no files")
    );
    // And the unchanged platform installs.
    let root = tempfile::tempdir().unwrap();
    krew_install(&good, "linux", "amd64", &archive, root.path()).unwrap();
}

#[test]
fn release_archive_installs_the_krew_way_and_runs_through_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let (os, arch) = host_platform();
    // The test build of the binary, stripped to keep packing fast.
    let binary = dir.path().join("kubectl-pearl");
    let strip = Command::new("strip").arg("-o").arg(&binary).arg(common::pearl_bin()).status();
    if !strip.is_ok_and(|s| s.success()) {
        std::fs::copy(common::pearl_bin(), &binary).unwrap();
    }
    let dist = dir.path().join("dist");
    let archive = package(&binary, os, arch, &dist);
    let manifest = fill_manifest(&dist);
    let p = validate_manifest_file(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    assert_eq!(p.spec.platforms.len(), 1, "dist/pearl.yaml lists only the platforms built");
    assert_eq!(p.spec.platforms[0].sha256, sha256_hex(&archive), "manifest sha256 vs the built archive's");

    let krew_root = dir.path().join("krew");
    let link = krew_install(&p, os, arch, &archive, &krew_root).unwrap_or_else(|e| panic!("install: {e}"));
    assert_eq!(link, krew_root.join("bin/kubectl-pearl"));
    // What the caveats tell users to do for `kubectl pearl <TAB>`.
    let store = krew_root.join("store/pearl").join(tag());
    std::fs::copy(store.join("kubectl_complete-pearl"), krew_root.join("bin/kubectl_complete-pearl"))
        .unwrap();

    // The real kubectl, with the krew bin first on PATH and nothing else that could hold a plugin.
    let kubectl_bin = common::kubectl_bin();
    let kubectl_path = if kubectl_bin.is_absolute() {
        kubectl_bin.clone()
    } else {
        PathBuf::from(
            String::from_utf8(run(Command::new("sh").args(["-c", "command -v kubectl"])).stdout)
                .unwrap()
                .trim(),
        )
    };
    let tools = dir.path().join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&kubectl_path, tools.join("kubectl")).unwrap();
    let path = std::env::join_paths([krew_root.join("bin"), tools.clone(), "/usr/bin".into(), "/bin".into()])
        .unwrap();
    let kubectl = |args: &[&str]| {
        let mut c = Command::new(tools.join("kubectl"));
        c.args(args).env_clear().env("PATH", &path).env("HOME", dir.path()).env("KREW_ROOT", &krew_root);
        c
    };

    let out = run(&mut kubectl(&["pearl", "version", "-o", "json"]));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).expect("version -o json prints JSON");
    assert_eq!(info["version"], tag(), "version -o json: {info}");
    assert!(info["gitCommit"].as_str().is_some_and(|c| !c.is_empty()), "git commit in {info}");

    let line = stdout(&run(&mut kubectl(&["pearl", "version"])));
    assert!(line.contains(&tag()), "`kubectl pearl version` prints {line:?}, want {}", tag());

    let help = stdout(&run(&mut kubectl(&["pearl", "--help"])));
    assert!(help.contains("Usage: kubectl pearl"), "help shows usage as `kubectl pearl`:\n{help}");
    for sub in ["run", "validate", "explain", "version", "completions"] {
        assert!(help.contains(sub), "help lists {sub}:\n{help}");
    }

    let list = stdout(&run(&mut kubectl(&["plugin", "list"])));
    let listed = krew_root.join("bin/kubectl-pearl").display().to_string();
    assert!(list.lines().any(|l| l.trim() == listed), "`kubectl plugin list` shows {listed}:\n{list}");

    // kubectl's plugin completion finds the helper next to the plugin.
    let comp = stdout(&run(&mut kubectl(&["__complete", "pearl", ""])));
    let comps: Vec<&str> = comp.lines().collect();
    for sub in ["run", "validate", "explain", "eval", "version", "completions"] {
        assert!(comps.contains(&sub), "`kubectl pearl <TAB>` offers {sub}: {comps:?}");
    }
}

#[test]
fn krew_check_without_krew_fails_with_a_clear_message() {
    // kubectl on PATH, but no krew plugin: the script must say so and exit 2, not pass.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(common::kubectl_bin(), bin.join("kubectl")).unwrap();
    let path = std::env::join_paths([bin, "/bin".into()]).unwrap();
    let out = Command::new(root().join("tools/krew-check"))
        .arg(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "tools/krew-check without krew: {stderr}");
    assert!(stderr.contains("`kubectl krew` is not on PATH"), "message: {stderr}");
    assert!(stderr.contains("https://krew.sigs.k8s.io"), "message says where to get krew: {stderr}");
}

#[test]
fn release_workflow_builds_every_platform_of_the_template_and_fills_the_manifest() {
    let path = root().join(".github/workflows/release.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let wf: serde_json::Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(wf["on"]["push"]["tags"], serde_json::json!(["v*"]), "runs on v* tags");
    let include = wf["jobs"]["build"]["strategy"]["matrix"]["include"].as_array().expect("a build matrix");
    let mut built: Vec<(String, String)> = include
        .iter()
        .map(|m| (m["os"].as_str().unwrap().to_string(), m["arch"].as_str().unwrap().to_string()))
        .collect();
    built.sort();
    let mut want: Vec<(String, String)> =
        PLATFORMS.iter().map(|(o, a)| (o.to_string(), a.to_string())).collect();
    want.sort();
    assert_eq!(built, want, "the matrix builds exactly the manifest's platforms");
    for m in include {
        let target = m["target"].as_str().unwrap();
        let os = m["os"].as_str().unwrap();
        let want_suffix = match os {
            "linux" => "-unknown-linux-musl",
            "darwin" => "-apple-darwin",
            _ => "-pc-windows-msvc",
        };
        assert!(target.ends_with(want_suffix), "{os}: target {target}");
    }
    let steps = |job: &str| -> String {
        wf["jobs"][job]["steps"].as_array().unwrap().iter().filter_map(|s| s["run"].as_str()).collect()
    };
    assert!(steps("build").contains("tools/release build --target"), "build job packages with tools/release");
    let release = steps("release");
    assert!(release.contains("tools/release manifest --out dist --tag"), "release job fills the manifest");
    assert!(release.contains("tools/krew-check dist"), "release job checks with the real krew");
    assert!(release.contains("dist/pearl.yaml"), "release job attaches the manifest");
}

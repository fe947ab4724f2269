//! Task files: parse, validate, and turn into a [`Plan`] before anything touches the cluster.
//!
//! Every problem is collected (not just the first), each located at `file:line:col`, with a
//! "did you mean" where a known name is close. A plan is only returned when there are none, so a
//! file that fails validation changes nothing.
//!
//! File shapes accepted (YAML or JSON, one or several YAML documents):
//! - a list of tasks (the seed's shape);
//! - a map with `tasks:` and optional defaults `namespace`/`namespaces`/`allNamespaces`/`retry`;
//! - a single task map (handy for multi-document YAML, one task per document).
//!
//! `.rhai` files become one `script` task each, named after the file.

pub mod diag;
pub mod node;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

pub use diag::Diagnostic;
use node::{Located, Node, Pos};

use crate::pool::RetryPolicy;
use crate::tasks::params::{ParamProblem, parse_duration, suggest};
use crate::tasks::{Params, Targets, TaskType, registry};

/// One input named on the command line.
#[derive(Debug, Clone)]
pub struct Input {
    /// As the user wrote it (`-` shows as `<stdin>`).
    pub name: String,
    /// The path, for resolving files a task refers to (`None` for stdin).
    pub path: Option<PathBuf>,
    pub bytes: Vec<u8>,
    /// A Rhai script (a `.rhai` file, or the text of `kubectl pearl eval`), not a task file.
    pub script: bool,
}

impl Input {
    /// Read a path, or stdin for `-`.
    pub fn read(arg: &str) -> Result<Input, Diagnostic> {
        if arg == "-" {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
                .map_err(|e| Diagnostic::new("<stdin>", None, format!("cannot read standard input: {e}")))?;
            return Ok(Input { name: "<stdin>".into(), path: None, bytes, script: false });
        }
        let bytes =
            std::fs::read(arg).map_err(|e| Diagnostic::new(arg, None, format!("cannot read: {e}")))?;
        let path = PathBuf::from(arg);
        let script = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("rhai"));
        Ok(Input { name: arg.to_string(), path: Some(path), bytes, script })
    }

    /// A script given as text (`kubectl pearl eval`), shown in messages as `name`.
    pub fn script_text(name: &str, text: &str) -> Input {
        Input { name: name.to_string(), path: None, bytes: text.as_bytes().to_vec(), script: true }
    }

    fn is_script(&self) -> bool {
        self.script
    }
}

/// Settings from the command line that shape script tasks.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--arg key=value`: the `ARGS` map every script sees.
    pub script_args: BTreeMap<String, String>,
    /// `--script-timeout`.
    pub script_timeout: Option<Duration>,
}

/// Per-task retry settings; unset fields come from the run's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetrySpec {
    pub attempts: Option<u32>,
    pub backoff: Option<Duration>,
    pub max_backoff: Option<Duration>,
}

impl RetrySpec {
    /// This spec over `base` (a task's own settings win over the file's, which win over the run's).
    pub fn over(&self, base: &RetrySpec) -> RetrySpec {
        RetrySpec {
            attempts: self.attempts.or(base.attempts),
            backoff: self.backoff.or(base.backoff),
            max_backoff: self.max_backoff.or(base.max_backoff),
        }
    }

    pub fn policy(&self, default: &RetryPolicy) -> RetryPolicy {
        let base_delay = self.backoff.unwrap_or(default.base_delay);
        RetryPolicy {
            max_attempts: self.attempts.unwrap_or(default.max_attempts).max(1),
            base_delay,
            max_delay: self.max_backoff.unwrap_or(default.max_delay).max(base_delay),
        }
    }
}

/// A validated task, ready to run.
pub struct PlannedTask {
    pub name: String,
    pub kind: &'static dyn TaskType,
    pub params: Params,
    /// `None`: the task names no namespace; the run uses `-n`/`-A` or the context's namespace.
    pub targets: Option<Targets>,
    pub retry: RetrySpec,
    /// Indices into [`Plan::tasks`] of the tasks that must succeed first.
    pub depends_on: Vec<usize>,
    /// Where the task is defined.
    pub file: String,
    pub pos: Pos,
}

impl std::fmt::Debug for PlannedTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedTask")
            .field("name", &self.name)
            .field("type", &self.kind.name())
            .field("params", &self.params)
            .field("targets", &self.targets)
            .field("retry", &self.retry)
            .field("depends_on", &self.depends_on)
            .finish()
    }
}

/// Every task of a run, in file order.
#[derive(Debug, Default)]
pub struct Plan {
    pub tasks: Vec<PlannedTask>,
}

/// Validation failed: every problem found, and the texts to quote them from.
#[derive(Debug)]
pub struct Invalid {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: HashMap<String, String>,
}

impl Invalid {
    /// All problems, rendered with their source lines, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            out.push_str(&d.render(self.sources.get(&d.file).map(String::as_str)));
        }
        let files: std::collections::BTreeSet<&str> =
            self.diagnostics.iter().map(|d| d.file.as_str()).collect();
        let n = self.diagnostics.len();
        out.push_str(&format!(
            "{n} error{} in {} file{}; nothing was sent to the cluster\n",
            if n == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" },
        ));
        out
    }
}

/// Parse and validate every input into one plan.
pub fn load(inputs: &[Input], options: &LoadOptions) -> Result<Plan, Invalid> {
    let mut cx = Loader { options, diags: Vec::new(), sources: HashMap::new(), drafts: Vec::new() };
    for input in inputs {
        cx.input(input);
    }
    cx.link();
    let Loader { diags, sources, drafts, .. } = cx;
    if !diags.is_empty() {
        let mut diagnostics = diags;
        diagnostics.sort_by(|a, b| (a.file.as_str(), a.pos).cmp(&(b.file.as_str(), b.pos)));
        diagnostics.dedup();
        return Err(Invalid { diagnostics, sources });
    }
    let tasks = drafts
        .into_iter()
        .map(|d| PlannedTask {
            name: d.name,
            kind: d.kind.expect("validated"),
            params: d.params.expect("validated"),
            targets: d.targets,
            retry: d.retry,
            depends_on: d.deps,
            file: d.file,
            pos: d.pos,
        })
        .collect();
    Ok(Plan { tasks })
}

/// A task while it is being validated.
struct Draft {
    name: String,
    name_pos: Pos,
    kind: Option<&'static dyn TaskType>,
    params: Option<Params>,
    targets: Option<Targets>,
    retry: RetrySpec,
    depends_raw: Vec<Located<String>>,
    deps: Vec<usize>,
    file: String,
    pos: Pos,
}

/// Defaults a file-level map gives its tasks.
#[derive(Default, Clone)]
struct FileDefaults {
    targets: Option<Targets>,
    retry: RetrySpec,
}

struct Loader<'o> {
    options: &'o LoadOptions,
    diags: Vec<Diagnostic>,
    sources: HashMap<String, String>,
    drafts: Vec<Draft>,
}

const TASK_FIELDS: &[&str] = &[
    "name",
    "type",
    "description",
    "namespace",
    "namespaces",
    "allNamespaces",
    "shipsNamespace",
    "parameters",
    "retry",
    "maxRetries",
    "retryDelay",
    "dependsOn",
];
const FILE_FIELDS: &[&str] = &["tasks", "namespace", "namespaces", "allNamespaces", "retry"];
const RETRY_FIELDS: &[&str] = &["attempts", "backoff", "maxBackoff"];

impl Loader<'_> {
    fn err(&mut self, file: &str, pos: Option<Pos>, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(file, pos, message));
    }

    fn input(&mut self, input: &Input) {
        let file = input.name.as_str();
        let bytes = &input.bytes;
        if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            let at = Pos { line: 0, col: 0, offset: Some(0), len: 0 };
            self.diags.push(
                Diagnostic::new(file, Some(at), "the file starts with a UTF-8 byte order mark (BOM)")
                    .note("save it as UTF-8 without a BOM"),
            );
            return;
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let off = e.valid_up_to();
                let before = &bytes[..off];
                let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
                let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                let col = String::from_utf8_lossy(&before[line_start..]).chars().count() as u64 + 1;
                let pos = Pos { line, col, offset: Some(off as u64), len: 1 };
                self.err(
                    file,
                    Some(pos),
                    format!("the file is not valid UTF-8 (invalid byte at offset {off})"),
                );
                return;
            }
        };
        self.sources.insert(file.to_string(), text.to_string());
        if input.is_script() {
            self.script_file(input, text);
            return;
        }
        if text.trim().is_empty() {
            self.err(file, None, "the file is empty: expected a list of tasks");
            return;
        }
        let docs = match node::parse_documents(text) {
            Ok(docs) => docs,
            Err(e) => {
                self.err(file, e.pos, format!("invalid YAML/JSON: {}", e.message));
                return;
            }
        };
        if docs.is_empty() {
            self.err(file, None, "the file holds no tasks (only comments or empty documents)");
            return;
        }
        let before = self.drafts.len();
        for doc in &docs {
            self.document(input, doc);
        }
        if self.drafts.len() == before && !self.diags.iter().any(|d| d.file == file) {
            self.err(file, Some(docs[0].pos), "the file holds no tasks (the task list is empty)");
        }
    }

    fn document(&mut self, input: &Input, doc: &Located<Node>) {
        let file = input.name.as_str();
        match &doc.value {
            Node::Seq(items) => {
                for item in items {
                    self.task(input, item, &FileDefaults::default());
                }
            }
            Node::Map(entries) if entries.iter().any(|(k, _)| k.value == "tasks") => {
                let mut defaults = FileDefaults::default();
                let mut tasks = None;
                for (k, v) in entries {
                    match k.value.as_str() {
                        "tasks" => tasks = Some(v),
                        "retry" => defaults.retry = self.retry_map(file, v),
                        "namespace" | "namespaces" | "allNamespaces" => {}
                        other => self.unknown_field(file, k, other, FILE_FIELDS, "file"),
                    }
                }
                defaults.targets = self.targets(file, entries);
                let Some(tasks) = tasks else { return };
                match &tasks.value {
                    Node::Seq(items) => {
                        for item in items {
                            self.task(input, item, &defaults);
                        }
                    }
                    other => self.err(
                        file,
                        Some(tasks.pos),
                        format!("`tasks` must be a list of tasks, found {}", other.describe()),
                    ),
                }
            }
            Node::Map(_) => self.task(input, doc, &FileDefaults::default()),
            other => self.err(
                file,
                Some(doc.pos),
                format!("expected a list of tasks (or a map with `tasks:`), found {}", other.describe()),
            ),
        }
    }

    fn unknown_field(&mut self, file: &str, key: &Located<String>, name: &str, known: &[&str], what: &str) {
        let mut d = Diagnostic::new(file, Some(key.pos), format!("unknown {what} field `{name}`"));
        if let Some(s) = suggest(name, known.iter().copied()) {
            d = d.note(format!("did you mean `{s}`?"));
        } else {
            d = d.note(format!("{what} fields: {}", known.join(", ")));
        }
        self.diags.push(d);
    }

    fn string(&mut self, file: &str, v: &Located<Node>, field: &str) -> Option<String> {
        match &v.value {
            Node::Str(s) => Some(s.clone()),
            other => {
                self.err(
                    file,
                    Some(v.pos),
                    format!("`{field}` must be a string, found {}", other.describe()),
                );
                None
            }
        }
    }

    fn duration(&mut self, file: &str, v: &Located<Node>, field: &str) -> Option<Duration> {
        match &v.value {
            Node::Int(n) if *n >= 0 => Some(Duration::from_secs(*n as u64)),
            Node::Str(s) => match parse_duration(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.err(file, Some(v.pos), format!("`{field}`: {e}"));
                    None
                }
            },
            other => {
                self.err(
                    file,
                    Some(v.pos),
                    format!("`{field}` must be a duration such as 500ms or 2s, found {}", other.describe()),
                );
                None
            }
        }
    }

    fn retry_map(&mut self, file: &str, v: &Located<Node>) -> RetrySpec {
        let mut spec = RetrySpec::default();
        let Node::Map(entries) = &v.value else {
            self.err(file, Some(v.pos), format!("`retry` must be a map, found {}", v.value.describe()));
            return spec;
        };
        for (k, v) in entries {
            match k.value.as_str() {
                "attempts" => match v.value {
                    Node::Int(n) if (1..=100).contains(&n) => spec.attempts = Some(n as u32),
                    _ => self.err(file, Some(v.pos), "`attempts` must be an integer from 1 to 100"),
                },
                "backoff" => spec.backoff = self.duration(file, v, "backoff"),
                "maxBackoff" => spec.max_backoff = self.duration(file, v, "maxBackoff"),
                other => self.unknown_field(file, k, other, RETRY_FIELDS, "retry"),
            }
        }
        spec
    }

    /// `namespace`/`shipsNamespace` (one), `namespaces` (a list, `*` for all), `allNamespaces`.
    fn targets(&mut self, file: &str, entries: &[(Located<String>, Located<Node>)]) -> Option<Targets> {
        let fields: Vec<&(Located<String>, Located<Node>)> = entries
            .iter()
            .filter(|(k, _)| {
                matches!(k.value.as_str(), "namespace" | "namespaces" | "allNamespaces" | "shipsNamespace")
            })
            .collect();
        if fields.len() > 1 {
            let names: Vec<&str> = fields.iter().map(|(k, _)| k.value.as_str()).collect();
            self.err(
                file,
                Some(fields[1].0.pos),
                format!(
                    "give only one of {} (found {})",
                    "namespace, namespaces, allNamespaces",
                    names.join(" and ")
                ),
            );
            return None;
        }
        let (key, v) = fields.first()?;
        match key.value.as_str() {
            "allNamespaces" => match v.value {
                Node::Bool(true) => Some(Targets::All),
                Node::Bool(false) => None,
                _ => {
                    self.err(file, Some(v.pos), "`allNamespaces` must be true or false");
                    None
                }
            },
            "namespaces" => {
                let Node::Seq(items) = &v.value else {
                    if let Node::Str(s) = &v.value
                        && s == "*"
                    {
                        return Some(Targets::All);
                    }
                    self.err(file, Some(v.pos), "`namespaces` must be a list of namespace names (or \"*\")");
                    return None;
                };
                if items.is_empty() {
                    self.err(file, Some(v.pos), "`namespaces` is empty: name at least one namespace");
                    return None;
                }
                let mut names = Vec::new();
                for item in items {
                    let name = self.string(file, item, "namespaces")?;
                    if name == "*" {
                        return Some(Targets::All);
                    }
                    self.namespace_name(file, item.pos, &name);
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
                Some(Targets::Namespaces(names))
            }
            field => {
                let name = self.string(file, v, field)?;
                if name == "*" {
                    return Some(Targets::All);
                }
                self.namespace_name(file, v.pos, &name);
                Some(Targets::Namespaces(vec![name]))
            }
        }
    }

    fn namespace_name(&mut self, file: &str, pos: Pos, name: &str) {
        if let Err(why) = check_dns_label(name) {
            self.err(file, Some(pos), format!("`{name}` is not a valid namespace name: {why}"));
        }
    }

    fn task(&mut self, input: &Input, item: &Located<Node>, defaults: &FileDefaults) {
        let file = input.name.as_str();
        let Node::Map(entries) = &item.value else {
            self.err(file, Some(item.pos), format!("a task must be a map, found {}", item.value.describe()));
            return;
        };
        let get = |name: &str| entries.iter().find(|(k, _)| k.value == name);
        for (k, _) in entries {
            if !TASK_FIELDS.contains(&k.value.as_str()) {
                self.unknown_field(file, k, &k.value, TASK_FIELDS, "task");
            }
        }
        let (name, name_pos) = match get("name") {
            Some((_, v)) => match self.string(file, v, "name") {
                Some(n) if n.trim().is_empty() => {
                    self.err(file, Some(v.pos), "`name` is empty");
                    (String::new(), v.pos)
                }
                Some(n) => (n, v.pos),
                None => (String::new(), v.pos),
            },
            None => {
                self.err(file, Some(item.pos), "the task has no `name`");
                (String::new(), item.pos)
            }
        };
        let kind = match get("type") {
            Some((_, v)) => self.string(file, v, "type").and_then(|t| {
                let found = registry().get(&t);
                if found.is_none() {
                    let mut d = Diagnostic::new(file, Some(v.pos), format!("unknown task type `{t}`"));
                    d = match registry().suggest(&t) {
                        Some(s) => d.note(format!("did you mean `{s}`?")),
                        None => d.note("`kubectl pearl explain` lists the task types"),
                    };
                    self.diags.push(d);
                }
                found
            }),
            None => {
                self.err(file, Some(item.pos), "the task has no `type`");
                None
            }
        };
        let targets = self.targets(file, entries).or_else(|| defaults.targets.clone());
        let mut retry = RetrySpec::default();
        if let Some((_, v)) = get("retry") {
            retry = self.retry_map(file, v);
        }
        if let Some((k, v)) = get("maxRetries") {
            if get("retry").is_some() {
                self.err(
                    file,
                    Some(k.pos),
                    "give either `retry` or the seed's `maxRetries`/`retryDelay`, not both",
                );
            }
            match v.value {
                Node::Int(n) if (0..=99).contains(&n) => retry.attempts = Some(n as u32 + 1),
                _ => self.err(file, Some(v.pos), "`maxRetries` must be an integer from 0 to 99"),
            }
        }
        if let Some((_, v)) = get("retryDelay") {
            retry.backoff = self.duration(file, v, "retryDelay");
        }
        let retry = retry.over(&defaults.retry);
        if let Some((_, v)) = get("description") {
            self.string(file, v, "description");
        }
        let mut depends_raw = Vec::new();
        if let Some((_, v)) = get("dependsOn") {
            match &v.value {
                Node::Str(s) => depends_raw.push(Located { value: s.clone(), pos: v.pos }),
                Node::Seq(items) => {
                    for i in items {
                        if let Some(s) = self.string(file, i, "dependsOn") {
                            depends_raw.push(Located { value: s, pos: i.pos });
                        }
                    }
                }
                other => self.err(
                    file,
                    Some(v.pos),
                    format!("`dependsOn` must be a task name or a list of them, found {}", other.describe()),
                ),
            }
        }
        let params = kind.and_then(|kind| self.params(input, kind, &name, item.pos, get("parameters")));
        self.drafts.push(Draft {
            name,
            name_pos,
            kind,
            params,
            targets,
            retry,
            depends_raw,
            deps: Vec::new(),
            file: file.to_string(),
            pos: item.pos,
        });
    }

    fn params(
        &mut self,
        input: &Input,
        kind: &'static dyn TaskType,
        task: &str,
        task_pos: Pos,
        node: Option<&(Located<String>, Located<Node>)>,
    ) -> Option<Params> {
        let file = input.name.as_str();
        let empty = Vec::new();
        let (entries, at) = match node {
            None => (&empty, task_pos),
            Some((k, v)) => match &v.value {
                Node::Map(e) => (e, k.pos),
                Node::Null => (&empty, k.pos),
                other => {
                    self.err(
                        file,
                        Some(v.pos),
                        format!("`parameters` must be a map, found {}", other.describe()),
                    );
                    return None;
                }
            },
        };
        let mut values: Vec<(String, Value)> =
            entries.iter().map(|(k, v)| (k.value.clone(), v.value.to_json())).collect();
        let mut positions: Vec<Pos> = entries.iter().map(|(k, _)| k.pos).collect();
        if kind.name() == "script" {
            self.inline_script(input, task, &mut values, &mut positions);
        }
        let result = Params::validate(kind.params(), values.iter().map(|(k, v)| (k.as_str(), v)));
        let params = match result {
            Ok(p) => p,
            Err(problems) => {
                for p in problems {
                    let pos = p.index().and_then(|i| positions.get(i).copied()).unwrap_or(at);
                    self.param_problem(file, pos, &p);
                }
                return None;
            }
        };
        match kind.check(&params) {
            Ok(()) => Some(params),
            Err(message) => {
                self.check_failure(file, at, &message);
                None
            }
        }
    }

    fn param_problem(&mut self, file: &str, pos: Pos, p: &ParamProblem) {
        let d = match p {
            ParamProblem::Unknown { key, suggestion: Some(s), .. } => {
                Diagnostic::new(file, Some(pos), format!("unknown parameter `{key}`"))
                    .note(format!("did you mean `{s}`?"))
            }
            other => Diagnostic::new(file, Some(pos), other.to_string()),
        };
        self.diags.push(d);
    }

    /// A check message of a script starts with `origin:line:col: `; locate it in the script.
    fn check_failure(&mut self, file: &str, at: Pos, message: &str) {
        for (origin, _) in self.sources.iter() {
            if let Some(rest) = message.strip_prefix(origin.as_str()).and_then(|r| r.strip_prefix(':'))
                && let Some((line, rest)) = rest.split_once(':')
                && let Some((col, msg)) = rest.split_once(": ")
                && let (Ok(line), Ok(col)) = (line.parse(), col.parse())
            {
                let origin = origin.clone();
                // Only the message line: the source line and caret are rendered from `sources`.
                let msg = msg.lines().next().unwrap_or(msg).to_string();
                self.err(&origin, Some(Pos::at(line, col)), msg);
                return;
            }
        }
        self.err(file, Some(at), message.to_string());
    }

    /// `type: script` with `file:` reads the script (relative to the task file) so it is
    /// compiled, and errors located, at validation time; inline `source:` gets an origin name.
    fn inline_script(
        &mut self,
        input: &Input,
        task: &str,
        values: &mut Vec<(String, Value)>,
        positions: &mut Vec<Pos>,
    ) {
        let has = |values: &Vec<(String, Value)>, k: &str| values.iter().any(|(key, _)| key == k);
        if let Some(i) = values.iter().position(|(k, _)| k == "file")
            && let Value::String(rel) = &values[i].1
            && !has(values, "source")
        {
            let base = input.path.as_deref().and_then(Path::parent).unwrap_or(Path::new("."));
            let path = base.join(rel);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let origin = path.display().to_string();
                    self.sources.insert(origin.clone(), text.clone());
                    values[i] = ("source".into(), Value::String(text));
                    if !has(values, "origin") {
                        values.push(("origin".into(), Value::String(origin)));
                        positions.push(positions[i]);
                    }
                }
                Err(e) => {
                    self.err(
                        &input.name,
                        Some(positions[i]),
                        format!("cannot read script {}: {e}", path.display()),
                    );
                    values.remove(i);
                    positions.remove(i);
                    values.push(("source".into(), Value::String(String::new())));
                    positions.push(Pos::default());
                }
            }
        } else if let Some(i) = values.iter().position(|(k, _)| k == "source")
            && !has(values, "origin")
        {
            let origin = format!("{} (task {task})", input.name);
            if let Value::String(text) = &values[i].1 {
                self.sources.insert(origin.clone(), text.clone());
            }
            values.push(("origin".into(), Value::String(origin)));
            positions.push(positions[i]);
        }
        self.script_defaults(values, positions);
    }

    fn script_defaults(&self, values: &mut Vec<(String, Value)>, positions: &mut Vec<Pos>) {
        if !values.iter().any(|(k, _)| k == "timeout")
            && let Some(t) = self.options.script_timeout
        {
            values.push(("timeout".into(), Value::from(t.as_secs().max(1))));
            positions.push(Pos::default());
        }
        if !self.options.script_args.is_empty() {
            let cli: Map<String, Value> =
                self.options.script_args.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
            match values.iter_mut().find(|(k, _)| k == "args") {
                // A task's own args win over --arg.
                Some((_, Value::Object(own))) => {
                    for (k, v) in cli {
                        own.entry(k).or_insert(v);
                    }
                }
                Some(_) => {}
                None => {
                    values.push(("args".into(), Value::Object(cli)));
                    positions.push(Pos::default());
                }
            }
        }
    }

    /// A `.rhai` file on the command line: one `script` task named after the file.
    fn script_file(&mut self, input: &Input, text: &str) {
        let file = input.name.as_str();
        let Some(kind) = registry().get("script") else {
            self.err(file, None, "scripts are not supported by this build");
            return;
        };
        let stem = input.path.as_deref().and_then(Path::file_stem).map(|s| s.to_string_lossy().into_owned());
        let name = match stem {
            Some(s) if !self.drafts.iter().any(|d| d.name == s) => s,
            _ => file.to_string(),
        };
        let mut values = vec![
            ("source".to_string(), Value::String(text.to_string())),
            ("origin".to_string(), Value::String(file.to_string())),
        ];
        let mut positions = vec![Pos::default(); 2];
        self.script_defaults(&mut values, &mut positions);
        let params = match Params::validate(kind.params(), values.iter().map(|(k, v)| (k.as_str(), v))) {
            Ok(p) => match kind.check(&p) {
                Ok(()) => Some(p),
                Err(message) => {
                    self.check_failure(file, Pos::at(1, 1), &message);
                    None
                }
            },
            Err(problems) => {
                for p in problems {
                    self.err(file, None, p.to_string());
                }
                None
            }
        };
        self.drafts.push(Draft {
            name,
            name_pos: Pos::at(1, 1),
            kind: Some(kind),
            params,
            targets: None,
            retry: RetrySpec::default(),
            depends_raw: Vec::new(),
            deps: Vec::new(),
            file: file.to_string(),
            pos: Pos::at(1, 1),
        });
    }

    /// Across all files: unique names, known dependencies, no cycles.
    fn link(&mut self) {
        let mut first: HashMap<String, usize> = HashMap::new();
        for (i, d) in self.drafts.iter().enumerate() {
            if d.name.is_empty() {
                continue;
            }
            if let Some(&j) = first.get(&d.name) {
                let prev = &self.drafts[j];
                let diag =
                    Diagnostic::new(&d.file, Some(d.name_pos), format!("duplicate task name `{}`", d.name))
                        .note(format!("first defined at {}:{}", prev.file, prev.name_pos));
                self.diags.push(diag);
            } else {
                first.insert(d.name.clone(), i);
            }
        }
        let names: Vec<String> = self.drafts.iter().map(|d| d.name.clone()).collect();
        for i in 0..self.drafts.len() {
            let raw = std::mem::take(&mut self.drafts[i].depends_raw);
            let file = self.drafts[i].file.clone();
            let mut deps = Vec::new();
            for dep in &raw {
                match first.get(&dep.value) {
                    Some(&j) if j == i => {
                        self.err(&file, Some(dep.pos), format!("task `{}` depends on itself", dep.value))
                    }
                    Some(&j) => {
                        if !deps.contains(&j) {
                            deps.push(j);
                        }
                    }
                    None => {
                        let mut d = Diagnostic::new(
                            &file,
                            Some(dep.pos),
                            format!("`dependsOn` names an unknown task `{}`", dep.value),
                        );
                        if let Some(s) = suggest(&dep.value, names.iter().map(String::as_str)) {
                            d = d.note(format!("did you mean `{s}`?"));
                        }
                        self.diags.push(d);
                    }
                }
            }
            self.drafts[i].deps = deps;
            self.drafts[i].depends_raw = raw;
        }
        let graph: Vec<Vec<usize>> = self.drafts.iter().map(|d| d.deps.clone()).collect();
        for cycle in find_cycles(&graph) {
            let start = cycle[0];
            let d = &self.drafts[start];
            let next = &self.drafts[cycle[1 % cycle.len()]].name;
            let pos = d.depends_raw.iter().find(|r| &r.value == next).map_or(d.name_pos, |r| r.pos);
            let mut path: Vec<&str> = cycle.iter().map(|&i| self.drafts[i].name.as_str()).collect();
            path.push(&d.name);
            let diag = Diagnostic::new(&d.file, Some(pos), format!("dependency cycle: {}", path.join(" → ")));
            self.diags.push(diag);
        }
    }
}

/// Each elementary cycle once (as found by a depth-first search), starting at its first task.
fn find_cycles(graph: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        n: usize,
        g: &[Vec<usize>],
        mark: &mut [Mark],
        stack: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        mark[n] = Mark::Active;
        stack.push(n);
        for &m in &g[n] {
            match mark[m] {
                Mark::New => visit(m, g, mark, stack, out),
                Mark::Active => {
                    let at = stack.iter().position(|&x| x == m).expect("on stack");
                    let mut cycle = stack[at..].to_vec();
                    // Start at the lowest index so the same cycle is reported the same way.
                    let min = cycle.iter().enumerate().min_by_key(|(_, v)| **v).map_or(0, |(i, _)| i);
                    cycle.rotate_left(min);
                    if !out.contains(&cycle) {
                        out.push(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        mark[n] = Mark::Done;
    }
    let mut mark = vec![Mark::New; graph.len()];
    let mut out = Vec::new();
    for n in 0..graph.len() {
        if mark[n] == Mark::New {
            visit(n, graph, &mut mark, &mut Vec::new(), &mut out);
        }
    }
    out
}

/// RFC 1123 label, as namespace names must be.
pub fn check_dns_label(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() > 63 {
        return Err("it is longer than 63 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err("use only lowercase letters, digits and '-'");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("it must start and end with a letter or digit");
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Script errors as the user sees them: `origin:line:col: message`, then the line of source and a
//! caret under the column. Syntax errors (found when the script is compiled, before anything runs)
//! and runtime errors (including a cluster error inside a binding, whose message already names the
//! operation and the object) share the format.

use rhai::{EvalAltResult, ParseError, Position};

/// Whether the script failed to compile or failed while running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptErrorKind {
    Syntax,
    Runtime,
    /// Stopped by a limit: timeout, operations, cancellation.
    Limit,
}

/// A script error with its position in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub kind: ScriptErrorKind,
    /// File path or a name such as `<inline>`.
    pub origin: String,
    /// 1-based line and column; `None` when the error has no position.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    /// The source line at `line`, for the excerpt.
    pub source_line: Option<String>,
}

impl std::error::Error for ScriptError {}

impl ScriptError {
    /// The first line only: `origin:line:col: message` (or `origin: message`).
    pub fn headline(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}: {}", self.origin, self.message),
            (Some(l), None) => format!("{}:{l}: {}", self.origin, self.message),
            _ => format!("{}: {}", self.origin, self.message),
        }
    }

    fn at(kind: ScriptErrorKind, origin: &str, source: &str, pos: Position, message: String) -> Self {
        let line = pos.line();
        let column = pos.position();
        let source_line = line.and_then(|l| source.lines().nth(l - 1)).map(|s| s.trim_end().to_string());
        Self { kind, origin: origin.to_string(), line, column, message, source_line }
    }

    /// From a compile error.
    pub fn from_parse(err: &ParseError, source: &str, origin: &str) -> Self {
        let message = format!("syntax error: {}", err.0);
        Self::at(ScriptErrorKind::Syntax, origin, source, err.1, message)
    }

    /// From a runtime error. Errors inside called functions are unwrapped to the innermost one,
    /// whose position is where it happened; the function is named in the message.
    pub fn from_eval(err: &EvalAltResult, source: &str, origin: &str) -> Self {
        let mut e = err;
        let mut outer_pos = Position::NONE;
        let mut in_fn: Option<String> = None;
        while let EvalAltResult::ErrorInFunctionCall(name, _, inner, pos) = e {
            if outer_pos.is_none() {
                outer_pos = *pos;
            }
            if in_fn.is_none() && !name.starts_with("anon$") {
                in_fn = Some(name.clone());
            }
            e = inner;
        }
        let pos = if e.position().is_none() { outer_pos } else { e.position() };
        let (kind, mut message) = describe(e);
        if let Some(name) = in_fn {
            message.push_str(&format!(" (in function {name})"));
        }
        Self::at(kind, origin, source, pos, message)
    }
}

/// The message of one error without Rhai's trailing `(line X, position Y)`.
fn describe(e: &EvalAltResult) -> (ScriptErrorKind, String) {
    match e {
        EvalAltResult::ErrorRuntime(d, _) => {
            let text = if d.is_unit() { "runtime error".to_string() } else { d.to_string() };
            (ScriptErrorKind::Runtime, text)
        }
        EvalAltResult::ErrorTerminated(d, _) => {
            let text = if d.is_unit() { "script terminated".to_string() } else { d.to_string() };
            (ScriptErrorKind::Limit, text)
        }
        EvalAltResult::ErrorTooManyOperations(_) => {
            (ScriptErrorKind::Limit, "too many operations: the script hit its operations limit".into())
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            (ScriptErrorKind::Limit, "call depth limit reached (runaway recursion?)".into())
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            (ScriptErrorKind::Limit, format!("{what} exceeds its size limit"))
        }
        other => {
            let text = other.to_string();
            let suffix = format!(" ({})", other.position());
            let text = if other.position().is_none() {
                text.as_str()
            } else {
                text.strip_suffix(&suffix).unwrap_or(&text)
            };
            (ScriptErrorKind::Runtime, text.to_string())
        }
    }
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.headline())?;
        if let (Some(line), Some(text)) = (self.line, &self.source_line) {
            let gutter = line.to_string().len();
            write!(f, "\n {line} | {text}")?;
            if let Some(col) = self.column {
                // Keep tabs so the caret lines up under the same terminal columns.
                let pad: String = text
                    .chars()
                    .take(col.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n {:gutter$} | {pad}^", "")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_has_line_and_caret_under_the_column() {
        let e = ScriptError {
            kind: ScriptErrorKind::Runtime,
            origin: "fix.rhai".into(),
            line: Some(12),
            column: Some(5),
            message: "boom".into(),
            source_line: Some("let x = 1;".into()),
        };
        assert_eq!(e.to_string(), "fix.rhai:12:5: boom\n 12 | let x = 1;\n    |     ^");
    }

    #[test]
    fn no_position_means_origin_only() {
        let e = ScriptError {
            kind: ScriptErrorKind::Limit,
            origin: "<inline>".into(),
            line: None,
            column: None,
            message: "stopped".into(),
            source_line: None,
        };
        assert_eq!(e.to_string(), "<inline>: stopped");
    }

    #[test]
    fn tabs_are_kept_in_the_caret_padding() {
        let e = ScriptError {
            kind: ScriptErrorKind::Syntax,
            origin: "s".into(),
            line: Some(1),
            column: Some(3),
            message: "m".into(),
            source_line: Some("\tx y".into()),
        };
        assert!(e.to_string().ends_with("| \t ^"), "{e}");
    }
}

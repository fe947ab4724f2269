//! Validation errors that point at their source: `file:line:col: message`, the line itself and a
//! caret under the offending token, the way compilers print them.

use std::fmt::Write as _;

use super::node::Pos;

/// One problem in an input file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The file as the user named it (`-` is shown as `<stdin>`).
    pub file: String,
    /// Where in the file; `None` for a whole-file problem without a position.
    pub pos: Option<Pos>,
    pub message: String,
    /// Extra lines: "first defined at ...", a hint.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(file: &str, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Self { file: file.to_string(), pos, message: message.into(), notes: Vec::new() }
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// `file:line:col` (or `file` alone, or `file (byte N)` for a whole-file problem at an offset).
    pub fn location(&self) -> String {
        match self.pos {
            Some(p) if p.line > 0 => format!("{}:{}:{}", self.file, p.line, p.col),
            Some(Pos { offset: Some(off), .. }) => format!("{} (byte {off})", self.file),
            _ => self.file.clone(),
        }
    }

    /// The full text: header, source line with caret (when `source` is given), notes.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = format!("error: {}: {}\n", self.location(), self.message);
        if let (Some(pos), Some(src)) = (self.pos, source)
            && pos.line > 0
            && let Some(line) = src.lines().nth((pos.line - 1) as usize)
        {
            let gutter = pos.line.to_string().len();
            let line = line.replace('\t', " ");
            let col = pos.col.max(1) as usize;
            let width = (pos.len.max(1) as usize).min(line.chars().count().saturating_sub(col - 1).max(1));
            let _ = writeln!(out, "{:gutter$} |", "");
            let _ = writeln!(out, "{} | {}", pos.line, line);
            let _ = writeln!(out, "{:gutter$} | {}{}", "", " ".repeat(col - 1), "^".repeat(width));
        }
        for n in &self.notes {
            let _ = writeln!(out, "  = {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_line_with_a_caret_under_the_token() {
        let d = Diagnostic::new(
            "tasks.yaml",
            Some(Pos { line: 2, col: 5, offset: None, len: 8 }),
            "unknown parameter `lableKey`",
        )
        .note("did you mean `labelKey`?");
        let text = d.render(Some("parameters:\n    lableKey: env\n"));
        assert_eq!(
            text,
            "error: tasks.yaml:2:5: unknown parameter `lableKey`\n  |\n2 |     lableKey: env\n  |     ^^^^^^^^\n  = did you mean `labelKey`?\n"
        );
    }

    #[test]
    fn whole_file_problems_name_the_file_or_the_byte() {
        assert_eq!(Diagnostic::new("a.yaml", None, "empty").location(), "a.yaml");
        let at = Pos { line: 0, col: 0, offset: Some(17), len: 0 };
        assert_eq!(Diagnostic::new("a.yaml", Some(at), "bad").location(), "a.yaml (byte 17)");
    }
}

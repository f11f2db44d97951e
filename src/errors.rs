//! How the CLI prints a scenario's problems: each once, with its source
//! snippet where it has a position, and a hint for YAML structure errors
//! (which are almost always indentation).

use std::fmt;
use std::io::IsTerminal;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use sysdes_scenario::{Problem, ScenarioError};

/// Prints every problem of `error` to stderr, once each.
pub(crate) fn report_scenario_error(error: &ScenarioError) {
    let theme = if std::io::stderr().is_terminal() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme);
    let related: Vec<&dyn Diagnostic> = error.related().into_iter().flatten().collect();
    let mut out = String::new();
    for (i, problem) in error.problems().iter().enumerate() {
        match related.get(i).filter(|d| d.source_code().is_some()) {
            Some(&inner) => {
                let hint = indentation_hint(problem);
                let shown = Hinted { inner, hint };
                if handler.render_report(&mut out, &shown).is_err() {
                    out = format!("error: {problem}\n");
                }
            }
            // No snippet (a `--set` argument, an unreadable file): one line.
            None => out = format!("error: {problem}\n"),
        }
        eprint!("{out}");
        out.clear();
    }
}

/// For a YAML structure error, the line whose indentation is off and what
/// it should match (the file is read again: errors are rare and small).
fn indentation_hint(problem: &Problem) -> Option<String> {
    let structural = [
        "did not find expected",
        "mapping values are not allowed",
        "while parsing a block",
    ];
    if problem.line == 0 || !structural.iter().any(|s| problem.message.contains(s)) {
        return None;
    }
    let text = std::fs::read_to_string(&problem.file).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let significant = |l: &str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    // The error line and the significant line before it.
    let at = problem.line.min(lines.len()).checked_sub(1)?;
    let before = lines[..at].iter().rposition(|l| significant(l))?;
    let (line, prev) = (lines[at], lines[before]);
    let opens_block = prev.trim_end().ends_with(':') || prev.trim_start().starts_with("- ");
    let (bad, good) =
        if indent(line) == indent(prev) || (indent(line) > indent(prev) && opens_block) {
            // This line lines up: the line before it is the odd one out.
            let earlier = lines[..before].iter().rposition(|l| significant(l))?;
            (before, earlier)
        } else {
            (at, before)
        };
    Some(format!(
        "YAML nests by indentation: line {} starts in column {} but line {} starts in column {}; keys of one mapping must start in the same column (spaces, not tabs)",
        bad + 1,
        indent(lines[bad]) + 1,
        good + 1,
        indent(lines[good]) + 1
    ))
}

/// A problem's diagnostic with a hint in place of its help, if there is one.
struct Hinted<'a> {
    inner: &'a dyn Diagnostic,
    hint: Option<String>,
}

impl fmt::Debug for Hinted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for Hinted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for Hinted<'_> {}

impl Diagnostic for Hinted<'_> {
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        match &self.hint {
            Some(h) => Some(Box::new(h)),
            None => self.inner.help(),
        }
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.inner.source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.inner.labels()
    }
}

//! The error a scenario load returns: every problem found, each with its
//! file, line and column (or the `--set` argument at fault), rendered as
//! plain lines by `Display` and with source snippets by `miette`.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};

use crate::node::{Issue, Origin};

/// One problem in a scenario, located in the file or in a `--set` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file's display name, or `--set PATH=VALUE` for a problem in an override.
    pub file: String,
    /// 1-based line; 0 if the problem is not in the file (an override, an I/O error).
    pub line: usize,
    /// 1-based column (in characters); 0 if the problem is not in the file.
    pub column: usize,
    /// What is wrong, naming the key at fault where there is one.
    pub message: String,
    /// How to fix it (often a "did you mean" suggestion), if known.
    pub help: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )?;
        } else {
            write!(f, "{}: {}", self.file, self.message)?;
        }
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// One problem as a `miette` diagnostic with its own source snippet.
#[derive(Debug)]
struct ProblemDiagnostic {
    problem: Problem,
    source: Option<NamedSource<Arc<str>>>,
    span: Option<SourceSpan>,
}

impl fmt::Display for ProblemDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl std::error::Error for ProblemDiagnostic {}

impl Diagnostic for ProblemDiagnostic {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        let label = if self.problem.line > 0 {
            "here"
        } else {
            "in this --set"
        };
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(label.to_owned()),
            span,
        ))))
    }
}

/// Why a scenario could not be loaded: every problem found, not just the
/// first.
///
/// `Display` prints one line per problem, `file:line:column: message (help:
/// ...)`; the `miette` rendering shows each problem with a source snippet.
#[derive(Debug, thiserror::Error)]
#[error("{}", render_lines(.problems))]
pub struct ScenarioError {
    problems: Vec<Problem>,
    diagnostics: Vec<ProblemDiagnostic>,
}

fn render_lines(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

impl ScenarioError {
    /// Every problem found, in file order, then the `--set` problems in argument order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// An error about `file` as a whole, at no position (for example a
    /// `--run-index` beyond the file's sweep).
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        Self::unlocated(file, message.into())
    }

    /// An error that is not about any position (for example an I/O error).
    pub(crate) fn unlocated(file: &str, message: String) -> Self {
        let problem = Problem {
            file: file.to_owned(),
            line: 0,
            column: 0,
            message,
            help: None,
        };
        ScenarioError {
            diagnostics: vec![ProblemDiagnostic {
                problem: problem.clone(),
                source: None,
                span: None,
            }],
            problems: vec![problem],
        }
    }

    /// Builds the error from located issues.
    pub(crate) fn from_issues(
        file: &str,
        source: &str,
        overrides: &[String],
        mut issues: Vec<Issue>,
    ) -> Self {
        let key = |issue: &Issue| match issue.origin {
            Origin::File { line, column, .. } => (0, line, column),
            Origin::Set { index, offset, .. } => (1, index, offset),
        };
        issues.sort_by_key(key);
        issues.dedup_by(|a, b| a.origin == b.origin && a.message == b.message);
        let file_source: Arc<str> = Arc::from(source);
        let mut problems = Vec::with_capacity(issues.len());
        let mut diagnostics = Vec::with_capacity(issues.len());
        for issue in issues {
            let (problem, source, span) = match issue.origin {
                Origin::File {
                    line,
                    column,
                    offset,
                    len,
                } => {
                    let offset = offset.min(source.len());
                    let len = len.min(source.len() - offset);
                    let (snippet, span) = match excerpt(source, offset, len) {
                        Some((text, span)) => (NamedSource::new(file, text), span),
                        None => (
                            NamedSource::new(file, Arc::clone(&file_source)),
                            SourceSpan::new(offset.into(), len),
                        ),
                    };
                    (
                        Problem {
                            file: file.to_owned(),
                            line,
                            column,
                            message: issue.message,
                            help: issue.help,
                        },
                        snippet,
                        span,
                    )
                }
                Origin::Set { index, offset, len } => {
                    let arg = overrides.get(index).map_or("", String::as_str);
                    let label = format!("--set {arg}");
                    (
                        Problem {
                            file: label.clone(),
                            line: 0,
                            column: 0,
                            message: issue.message,
                            help: issue.help,
                        },
                        NamedSource::new("--set", Arc::from(arg)),
                        SourceSpan::new(
                            offset.min(arg.len()).into(),
                            len.min(arg.len().saturating_sub(offset)),
                        ),
                    )
                }
            };
            let mut problem = problem;
            problem.message = shorten(&problem.message);
            problem.help = problem.help.as_deref().map(shorten);
            diagnostics.push(ProblemDiagnostic {
                problem: problem.clone(),
                source: Some(source),
                span: Some(span),
            });
            problems.push(problem);
        }
        ScenarioError {
            problems,
            diagnostics,
        }
    }
}

/// The longest source line shown whole under a problem; `miette` cannot
/// render a label past column 65,535, and nobody reads such a line.
const MAX_SNIPPET_LINE: usize = 1_000;
/// The longest message or help kept whole, in bytes.
const MAX_MESSAGE: usize = 2_000;

/// For a problem on a line longer than [`MAX_SNIPPET_LINE`]: a window of
/// that line around the problem (one line, marked `...` where cut), and the
/// problem's span within it. `None` for an ordinary line.
fn excerpt(source: &str, offset: usize, len: usize) -> Option<(Arc<str>, SourceSpan)> {
    let start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = source[offset..]
        .find('\n')
        .map_or(source.len(), |i| offset + i);
    if end - start <= MAX_SNIPPET_LINE {
        return None;
    }
    let floor = |mut i: usize| {
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let from = floor(offset.saturating_sub(200).max(start));
    let len = len.min(200);
    let to = floor((offset + len + 200).min(end));
    let to = to.max(floor((offset + len).min(end)));
    let prefix = if from > start { "..." } else { "" };
    let suffix = if to < end { "..." } else { "" };
    let text = format!("{prefix}{}{suffix}", &source[from..to]);
    let span = SourceSpan::new((prefix.len() + offset - from).into(), len.min(to - offset));
    Some((Arc::from(text), span))
}

/// `text` cut to [`MAX_MESSAGE`] bytes (at a character boundary) with a
/// note of how much was left out.
fn shorten(text: &str) -> String {
    if text.len() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut cut = MAX_MESSAGE;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} more bytes)", &text[..cut], text.len() - cut)
}

impl Diagnostic for ScenarioError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("sysdes::scenario"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let n = self.problems.len();
        let text = if n == 1 {
            "1 problem; details below".to_owned()
        } else {
            format!("{n} problems; details below")
        };
        Some(Box::new(text))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(
            self.diagnostics.iter().map(|d| d as &dyn Diagnostic),
        ))
    }
}

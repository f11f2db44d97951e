//! Measured iteration times (`llm.iteration: { table: FILE.csv }`, see
//! `docs/llm-serving.md`): a grid of times over the batch's tokens `T` and
//! the decode sequences' summed context `D`, interpolated bilinearly.
//!
//! ```text
//!   # comment lines start with '#'
//!   tokens,context_tokens,time_ms      (context_tokens optional; time_s, time_ms, time_us or time_ns)
//!   1,0,14.2
//!   256,0,15.1
//!   ...
//! ```
//!
//! The rows form a full grid: every `context_tokens` value with the same
//! ascending `tokens` values, rows sorted by `context_tokens` then `tokens`
//! (without `context_tokens`, one row per `tokens` value). Between grid
//! points the time is bilinear (piecewise linear along each axis, so exact
//! at every measured point and linear between neighbours); below the first
//! value of an axis it holds the first value; beyond the last it extends the
//! last segment's slope when the time grows there (compute-bound in tokens,
//! KV reads in context), and holds the last value otherwise, so it never
//! falls below the table's edge. Times are whole nanoseconds (the decimal
//! read exactly, rounded half up) and the interpolation is integer
//! arithmetic (rounded toward zero once per axis), so the same table gives
//! the same bytes everywhere; a lookup is two binary searches and allocates
//! nothing.

use sysdes_kernel::decimal_ns;

use crate::problems::{Problem, Problems};

/// Most rows (grid points) a table may have: enough for a 256 x 256 grid,
/// small enough that a table holds at most 1.5 MiB (three `u64` per row).
pub const MAX_TABLE_ROWS: usize = 65_536;

/// A grid of measured iteration times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IterationTable {
    /// Ascending token counts (`T` axis), at least one.
    tokens: Box<[u64]>,
    /// Ascending context token counts (`D` axis), at least one (`[0]` when
    /// the table has no context column).
    contexts: Box<[u64]>,
    /// Time in nanoseconds of each grid point, `contexts`-major:
    /// `times[c * tokens.len() + t]`.
    times_ns: Box<[u64]>,
}

/// A problem in a table's text: its 1-based line (0 for the whole table),
/// its 1-based column (0 for the whole line) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableProblem {
    /// Line, from 1; 0 for the table as a whole.
    pub line: usize,
    /// Column (character), from 1; 0 for the whole line.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Problem for TableProblem {
    /// `and K more problems`, for the table as a whole.
    fn and_more(count: u64) -> TableProblem {
        TableProblem {
            line: 0,
            column: 0,
            message: format!("and {count} more problems"),
        }
    }
}

/// Nanoseconds per unit of a time column, as a power of ten.
fn time_unit(name: &str) -> Option<u32> {
    match name {
        "time_s" => Some(9),
        "time_ms" => Some(6),
        "time_us" => Some(3),
        "time_ns" => Some(0),
        _ => None,
    }
}

/// Linear interpolation of `v` over ascending `xs` at `x`, with the
/// module's extrapolation rule (hold below; beyond, extend a growing last
/// segment, hold otherwise).
fn lerp(xs: &[u64], x: u64, v: impl Fn(usize) -> i128) -> i128 {
    let n = xs.len();
    if n == 1 || x <= xs[0] {
        return v(0);
    }
    let j = xs.partition_point(|&a| a <= x);
    if j == n {
        let (i, j) = (n - 2, n - 1);
        let (vi, vj) = (v(i), v(j));
        if vj <= vi {
            return vj;
        }
        return vj + (vj - vi) * i128::from(x - xs[j]) / i128::from(xs[j] - xs[i]);
    }
    let i = j - 1;
    let (vi, vj) = (v(i), v(j));
    vi + (vj - vi) * i128::from(x - xs[i]) / i128::from(xs[j] - xs[i])
}

impl IterationTable {
    /// The time of an iteration of `tokens` tokens whose decode sequences
    /// hold `context` context tokens in all, in nanoseconds (module doc).
    pub fn time_ns(&self, tokens: u64, context: u64) -> u64 {
        let nt = self.tokens.len();
        let t = lerp(&self.contexts, context, |c| {
            lerp(&self.tokens, tokens, |k| {
                i128::from(self.times_ns[c * nt + k])
            })
        });
        t.clamp(0, i128::from(u64::MAX / 4)) as u64
    }

    /// Grid points (rows).
    pub fn rows(&self) -> usize {
        self.times_ns.len()
    }

    /// Whether the table has a context axis with more than one value.
    pub fn has_context(&self) -> bool {
        self.contexts.len() > 1
    }

    /// Parses a table's CSV text (module doc); every problem is located,
    /// and past [`crate::MAX_PROBLEMS`] the rest are only counted.
    pub fn parse_csv(text: &str) -> Result<IterationTable, Vec<TableProblem>> {
        let mut problems = Problems::default();
        let problem = |line: usize, column: usize, message: String| TableProblem {
            line,
            column,
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let Some((header_line, header)) = lines.next() else {
            return Err(vec![problem(
                0,
                0,
                "the table is empty: it needs a header such as `tokens,context_tokens,time_ms` and at least one row".into(),
            )]);
        };
        // Columns: (index of tokens, of context, of time, time unit).
        let names: Vec<&str> = header.split(',').map(str::trim).collect();
        let mut tokens_col = None;
        let mut context_col = None;
        let mut time_col = None;
        let mut column = 1;
        for (i, name) in names.iter().enumerate() {
            match *name {
                "tokens" => tokens_col = Some(i),
                "context_tokens" => context_col = Some(i),
                n if time_unit(n).is_some() => {
                    if time_col.is_some() {
                        problems.push(problem(
                            header_line,
                            column,
                            "more than one time column: give exactly one of `time_s`, `time_ms`, `time_us`, `time_ns`".into(),
                        ));
                    }
                    time_col = Some((i, time_unit(n).unwrap_or(0)));
                }
                other => problems.push(problem(
                    header_line,
                    column,
                    format!(
                        "unknown column `{other}`: the columns are `tokens`, `context_tokens` (optional) and one of `time_s`, `time_ms`, `time_us`, `time_ns`"
                    ),
                )),
            }
            column += name.len() + 1;
        }
        if tokens_col.is_none() {
            problems.push(problem(
                header_line,
                0,
                "missing column `tokens` (the batch's tokens)".into(),
            ));
        }
        if time_col.is_none() {
            problems.push(problem(
                header_line,
                0,
                "missing time column: one of `time_s`, `time_ms`, `time_us`, `time_ns`".into(),
            ));
        }
        let (Some(tc), Some((timec, unit))) = (tokens_col, time_col) else {
            return Err(problems.into_list());
        };
        if !problems.is_empty() {
            return Err(problems.into_list());
        }
        // Rows: (line, tokens, context, time ns).
        let mut rows: Vec<(usize, u64, u64, u64)> = Vec::new();
        for (line, text) in lines {
            if rows.len() == MAX_TABLE_ROWS {
                problems.push(problem(
                    line,
                    0,
                    format!("more than {MAX_TABLE_ROWS} rows (the limit, see docs/limits.md)"),
                ));
                break;
            }
            let cells: Vec<&str> = text.split(',').collect();
            if cells.len() != names.len() {
                problems.push(problem(
                    line,
                    0,
                    format!(
                        "{} cells, the header has {} columns",
                        cells.len(),
                        names.len()
                    ),
                ));
                continue;
            }
            let at = |k: usize| 1 + cells[..k].iter().map(|c| c.len() + 1).sum::<usize>();
            let count = |k: usize, what: &str, problems: &mut Problems<TableProblem>| {
                let c = cells[k].trim();
                c.parse::<u64>().map_err(|_| {
                    problems.push(problem(
                        line,
                        at(k),
                        format!("`{what}` must be a whole number of zero or more, found `{c}`"),
                    ));
                })
            };
            let t = count(tc, "tokens", &mut problems);
            let d = context_col.map_or(Ok(0), |k| count(k, "context_tokens", &mut problems));
            let cell = cells[timec].trim();
            let ns = decimal_ns(cell, unit).ok_or_else(|| {
                let what = if cell.starts_with('-') {
                    "a time cannot be negative"
                } else {
                    "expected a time of zero or more"
                };
                problems.push(problem(
                    line,
                    at(timec),
                    format!("`{}`: {what}, found `{cell}`", names[timec]),
                ));
            });
            if let (Ok(t), Ok(d), Ok(ns)) = (t, d, ns) {
                rows.push((line, t, d, ns));
            }
        }
        if !problems.is_empty() {
            return Err(problems.into_list());
        }
        if rows.is_empty() {
            return Err(vec![problem(
                header_line,
                0,
                "the table has a header but no rows".into(),
            )]);
        }
        // Sorted by (context, tokens), strictly.
        for w in rows.windows(2) {
            let ((_, t0, d0, _), (line, t1, d1, _)) = (w[0], w[1]);
            if (d1, t1) <= (d0, t0) {
                let what = if context_col.is_some() {
                    format!(
                        "rows must be sorted by `context_tokens`, then by `tokens`, each pair once: tokens={t1}, context_tokens={d1} comes after tokens={t0}, context_tokens={d0}"
                    )
                } else {
                    format!(
                        "rows must be sorted by `tokens`, each value once: tokens={t1} comes after tokens={t0}"
                    )
                };
                return Err(vec![problem(line, 0, what)]);
            }
        }
        // A full grid: every context with the first context's tokens.
        let first_d = rows[0].2;
        let tokens: Vec<u64> = rows
            .iter()
            .take_while(|r| r.2 == first_d)
            .map(|r| r.1)
            .collect();
        let nt = tokens.len();
        let mut contexts = Vec::new();
        for (k, r) in rows.iter().enumerate() {
            if k % nt == 0 {
                contexts.push(r.2);
            }
            if r.2 != contexts[contexts.len() - 1] || r.1 != tokens[k % nt] {
                return Err(vec![problem(
                    r.0,
                    0,
                    format!(
                        "not a full grid: `context_tokens` {} should list the same `tokens` as {first_d} ({nt} values, expected tokens={} here, found tokens={}, context_tokens={})",
                        contexts[contexts.len() - 1],
                        tokens[k % nt],
                        r.1,
                        r.2
                    ),
                )]);
            }
        }
        if rows.len() % nt != 0 {
            let last = rows[rows.len() - 1];
            return Err(vec![problem(
                last.0,
                0,
                format!(
                    "not a full grid: `context_tokens` {} lists {} of the {nt} `tokens` values",
                    last.2,
                    rows.len() % nt
                ),
            )]);
        }
        Ok(IterationTable {
            tokens: tokens.into(),
            contexts: contexts.into(),
            times_ns: rows.iter().map(|r| r.3).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRID: &str = "# a 3 x 2 grid\ntokens,context_tokens,time_ms\n1,0,10\n101,0,20\n301,0,60\n1,1000,12\n101,1000,22\n301,1000,70\n";

    #[test]
    fn exact_at_grid_points_and_bilinear_between() {
        let t = IterationTable::parse_csv(GRID).unwrap();
        assert_eq!((t.rows(), t.has_context()), (6, true));
        for (tok, ctx, ms) in [
            (1, 0, 10),
            (101, 0, 20),
            (301, 0, 60),
            (1, 1000, 12),
            (101, 1000, 22),
            (301, 1000, 70),
        ] {
            assert_eq!(t.time_ns(tok, ctx), ms * 1_000_000);
        }
        // Halfway along tokens: 10 + 10 / 2 = 15 ms; a quarter: 12.5.
        assert_eq!(t.time_ns(51, 0), 15_000_000);
        assert_eq!(t.time_ns(26, 0), 12_500_000);
        // Second segment: 20 + 40 * 50 / 200 = 30 ms.
        assert_eq!(t.time_ns(151, 0), 30_000_000);
        // Halfway along context at a grid token: (20 + 22) / 2 = 21 ms.
        assert_eq!(t.time_ns(101, 500), 21_000_000);
        // Both halfway: rows 15 and 17 ms, their mean 16 ms.
        assert_eq!(t.time_ns(51, 500), 16_000_000);
    }

    #[test]
    fn extrapolation_holds_below_and_extends_a_growing_slope_beyond() {
        let t = IterationTable::parse_csv(GRID).unwrap();
        // Below the first token count (0 tokens): the first value.
        assert_eq!(t.time_ns(0, 0), 10_000_000);
        // Beyond 301 tokens: slope 40 ms / 200 tokens; 501 tokens = 100 ms.
        assert_eq!(t.time_ns(501, 0), 100_000_000);
        // Beyond 1000 context tokens: slope 2 ms / 1000 at 1 token.
        assert_eq!(t.time_ns(1, 3000), 16_000_000);
        // A falling last segment holds its last value.
        let f = IterationTable::parse_csv("tokens,time_us\n1,50\n10,40\n").unwrap();
        assert_eq!(f.time_ns(1000, 0), 40_000);
        assert!(!f.has_context());
        // One row: constant.
        let one = IterationTable::parse_csv("tokens,time_ns\n8,7\n").unwrap();
        assert_eq!((one.time_ns(1, 0), one.time_ns(1 << 20, 1 << 30)), (7, 7));
    }

    fn problems(text: &str) -> Vec<(usize, usize, String)> {
        IterationTable::parse_csv(text)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.line, p.column, p.message))
            .collect()
    }

    #[test]
    fn bad_tables_are_located() {
        let p = problems("");
        assert_eq!((p[0].0, p[0].1), (0, 0));
        assert!(p[0].2.contains("empty"), "{p:?}");
        let p = problems("# only a comment\ntokens,time_ms\n");
        assert_eq!(p[0].0, 2);
        assert!(p[0].2.contains("no rows"), "{p:?}");
        let p = problems("tokens,context\n1,2\n");
        assert_eq!((p[0].0, p[0].1), (1, 8));
        assert!(p[0].2.contains("unknown column `context`"), "{p:?}");
        assert!(p[1].2.contains("missing time column"), "{p:?}");
        let p = problems("context_tokens,time_ms\n1,2\n");
        assert!(p[0].2.contains("missing column `tokens`"), "{p:?}");
        let p = problems("tokens,time_ms\n1,2\n3,-4\n");
        assert_eq!((p[0].0, p[0].1), (3, 3));
        assert!(p[0].2.contains("cannot be negative"), "{p:?}");
        let p = problems("tokens,time_ms\n1,2\nx,4\n5,1,1\n");
        assert_eq!((p[0].0, p[0].1), (3, 1));
        assert!(p[0].2.contains("whole number"), "{p:?}");
        assert_eq!(
            (p[1].0, p[1].2.as_str()),
            (4, "3 cells, the header has 2 columns")
        );
        let p = problems("tokens,time_ms\n1,2\n8,3\n4,4\n");
        assert_eq!(p[0].0, 4);
        assert!(p[0].2.contains("sorted by `tokens`"), "{p:?}");
        let p = problems("tokens,time_ms\n1,2\n1,3\n");
        assert!(p[0].2.contains("each value once"), "{p:?}");
        let p = problems("tokens,context_tokens,time_ms\n1,0,1\n2,0,2\n1,5,1\n3,5,2\n");
        assert_eq!(p[0].0, 5);
        assert!(p[0].2.contains("not a full grid"), "{p:?}");
        let p = problems("tokens,context_tokens,time_ms\n1,0,1\n2,0,2\n1,5,1\n");
        assert_eq!(p[0].0, 4);
        assert!(p[0].2.contains("lists 1 of the 2"), "{p:?}");
    }

    #[test]
    fn the_row_limit_is_enforced() {
        let mut text = String::from("tokens,time_ns\n");
        for k in 0..=MAX_TABLE_ROWS {
            text.push_str(&format!("{k},1\n"));
        }
        let p = problems(&text);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, MAX_TABLE_ROWS + 2);
        assert!(p[0].2.contains("more than 65536 rows"), "{p:?}");
    }

    /// A table with 25 bad rows reports the first 10 and counts the other
    /// 15, like a trace (regression: it gave one line per bad row).
    #[test]
    fn many_bad_rows_are_capped() {
        let mut text = String::from("tokens,time_ms\n");
        for k in 0..25 {
            text.push_str(&format!("x{k},1\n"));
        }
        let p = problems(&text);
        assert_eq!(p.len(), crate::MAX_PROBLEMS + 1, "{p:?}");
        assert_eq!((p[9].0, p[9].1), (11, 1), "the tenth bad row, line 11");
        assert_eq!(p[10], (0, 0, "and 15 more problems".to_owned()));
    }
}

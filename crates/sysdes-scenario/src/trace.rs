//! The trace format: arrivals and per-request attributes, as CSV or JSONL.
//!
//! A trace is text, one request per record, in time order (see
//! `docs/scenario-format.md`, "Trace replay"). Its fields, the CSV header's
//! column names and the JSONL objects' keys alike:
//!
//! | field | meaning |
//! | --- | --- |
//! | `time_s`, `time_ms`, `time_us` or `time_ns` (exactly one, required) | arrival time from the start of the trace, a decimal number of that unit (exact to the ns) |
//! | `key` | the request's key: a whole number, or any other text, hashed (FNV-1a, 64 bits) |
//! | `op` | `read` or `write` |
//! | `prompt_tokens`, `output_tokens` | whole numbers of tokens |
//! | `class` | priority class, 0 to 255 |
//! | `request_bytes`, `response_bytes` | whole numbers of bytes |
//!
//! An empty CSV cell (or a JSON `null`) leaves a field unset for that
//! record. CSV lines starting with `#` are comments; empty JSONL lines are
//! skipped. This module only parses: it knows nothing of YAML or files,
//! so the browser build parses an inline trace the same way.

use sysdes_kernel::SimDuration;
use sysdes_models::{Problem, TraceRecord};

/// The fields a trace may have, in documentation order.
pub const FIELDS: &[&str] = &[
    "time_s",
    "time_ms",
    "time_us",
    "time_ns",
    "key",
    "op",
    "prompt_tokens",
    "output_tokens",
    "class",
    "request_bytes",
    "response_bytes",
];

/// The most problems reported for one trace before the rest are only
/// counted (the same cap as an iteration table's).
pub use sysdes_models::MAX_PROBLEMS;

/// The most records a trace may hold: 1 GiB of records (the default memory
/// budget, see `docs/limits.md`).
pub const MAX_RECORDS: usize = (1 << 30) / std::mem::size_of::<TraceRecord>();

/// A problem in a trace, at a line (1-based) and field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceProblem {
    /// The line of the trace text (1-based; 0 for the whole trace).
    pub line: u64,
    /// The field (column or key) at fault, if any.
    pub field: Option<String>,
    /// What is wrong, and what was expected.
    pub message: String,
}

/// A field's parsed value before it is stored in a record.
enum Value<'a> {
    Text(&'a str),
    Number(String),
}

impl TraceProblem {
    /// A problem at `line` (0: the whole trace) in `field`, if any.
    fn at(line: u64, field: Option<&str>, message: String) -> TraceProblem {
        TraceProblem {
            line,
            field: field.map(str::to_owned),
            message,
        }
    }
}

impl Problem for TraceProblem {
    /// `and K more problems`, for the trace as a whole.
    fn and_more(count: u64) -> TraceProblem {
        TraceProblem::at(0, None, format!("and {count} more problems"))
    }
}

/// A trace's problems, at most [`MAX_PROBLEMS`] kept.
type Problems = sysdes_models::Problems<TraceProblem>;

/// The time unit of a time field, as ns per unit's power of ten.
fn time_unit(field: &str) -> Option<u32> {
    match field {
        "time_s" => Some(9),
        "time_ms" => Some(6),
        "time_us" => Some(3),
        "time_ns" => Some(0),
        _ => None,
    }
}

/// The known field closest to `name`, for a suggestion.
fn suggest(name: &str) -> String {
    match crate::de::suggest(name, FIELDS.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("the fields are {}", FIELDS.join(", ")),
    }
}

/// Checks a header (CSV) or a record's keys (JSONL): every name known or
/// ignored, exactly one time field. Returns the time field's unit.
fn check_fields<'a>(
    names: impl Iterator<Item = &'a str>,
    ignore: &[String],
    line: u64,
    problems: &mut Problems,
) -> Option<u32> {
    let mut unit = None;
    let mut times = 0;
    for name in names {
        if let Some(u) = time_unit(name) {
            unit = Some(u);
            times += 1;
        } else if !FIELDS.contains(&name) && !ignore.iter().any(|i| i == name) {
            problems.push(TraceProblem::at(
                line,
                Some(name),
                format!(
                    "unknown field `{name}` ({}; or list it under `ignore_columns`)",
                    suggest(name)
                ),
            ));
        }
    }
    match times {
        1 => unit,
        0 => {
            problems.push(TraceProblem::at(
                line,
                None,
                "no arrival time: a trace needs one of `time_s`, `time_ms`, `time_us`, `time_ns`"
                    .to_owned(),
            ));
            None
        }
        _ => {
            problems.push(TraceProblem::at(
                line,
                None,
                "more than one time field: give exactly one of `time_s`, `time_ms`, `time_us`, `time_ns`"
                    .to_owned(),
            ));
            None
        }
    }
}

pub use sysdes_kernel::decimal_ns;

/// FNV-1a, 64 bits: the key of a non-numeric key text.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Stores `value` of field `name` in `record`, or records why not.
fn set_field(
    record: &mut TraceRecord,
    name: &str,
    value: Value<'_>,
    line: u64,
    problems: &mut Problems,
) {
    let text = match &value {
        Value::Text(t) => t.trim(),
        Value::Number(n) => n.as_str(),
    };
    if text.is_empty() {
        return;
    }
    let whole = |max: u64, what: &str, problems: &mut Problems| -> Option<u64> {
        match text.parse::<u64>() {
            Ok(v) if v <= max => Some(v),
            _ => {
                problems.push(TraceProblem::at(
                    line,
                    Some(name),
                    format!("expected {what}, found `{text}`"),
                ));
                None
            }
        }
    };
    match name {
        "key" => {
            record.key = Some(text.parse::<u64>().unwrap_or_else(|_| fnv1a(text)));
        }
        "op" => match text {
            "read" => record.write = Some(false),
            "write" => record.write = Some(true),
            _ => problems.push(TraceProblem::at(
                line,
                Some(name),
                format!("expected `read` or `write`, found `{text}`"),
            )),
        },
        "prompt_tokens" | "output_tokens" => {
            let v =
                whole(u64::from(u32::MAX), "a whole number of tokens", problems).map(|v| v as u32);
            if name == "prompt_tokens" {
                record.prompt_tokens = v;
            } else {
                record.output_tokens = v;
            }
        }
        "class" => record.class = whole(255, "a class from 0 to 255", problems).map(|v| v as u8),
        "request_bytes" => {
            record.request_bytes = whole(u64::MAX, "a whole number of bytes", problems)
        }
        "response_bytes" => {
            record.response_bytes = whole(u64::MAX, "a whole number of bytes", problems);
        }
        _ => {
            if let Some(unit) = time_unit(name) {
                match decimal_ns(text, unit) {
                    Some(ns) if ns <= crate::budget::MAX_DURATION_NS => {
                        record.at = SimDuration::from_nanos(ns);
                    }
                    _ => problems.push(TraceProblem::at(
                        line,
                        Some(name),
                        format!(
                            "expected a time of zero or more (a decimal number of {}), found `{text}`",
                            &name[5..]
                        ),
                    )),
                }
            }
        }
    }
}

/// Checks order and count as records are added.
fn push_record(
    records: &mut Vec<TraceRecord>,
    record: TraceRecord,
    line: u64,
    problems: &mut Problems,
) -> bool {
    if let Some(last) = records.last() {
        if record.at < last.at {
            problems.push(TraceProblem::at(
                line,
                None,
                format!(
                    "the records must be in time order: this one arrives at {} ns, before the previous one at {} ns",
                    record.at.as_nanos(),
                    last.at.as_nanos()
                ),
            ));
        }
    }
    if records.len() >= MAX_RECORDS {
        problems.push(TraceProblem::at(
            line,
            None,
            format!("a trace may hold at most {MAX_RECORDS} records (see docs/limits.md)"),
        ));
        return false;
    }
    records.push(record);
    true
}

/// Parses a CSV trace (a header row, then one record per line); fields
/// named in `ignore` are skipped.
pub fn parse_csv(text: &str, ignore: &[String]) -> Result<Vec<TraceRecord>, Vec<TraceProblem>> {
    let mut problems = Problems::default();
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let (header, header_line): (Vec<String>, u64) = match reader.headers() {
        Ok(h) => (
            h.iter().map(str::to_owned).collect(),
            h.position().map_or(1, csv::Position::line),
        ),
        Err(e) => {
            problems.push(TraceProblem::at(
                1,
                None,
                format!("cannot read the header row: {e}"),
            ));
            return problems.finish(Vec::new());
        }
    };
    if header.iter().all(String::is_empty) {
        problems.push(TraceProblem::at(
            1,
            None,
            "the trace is empty: a CSV trace starts with a header row such as `time_s,key`"
                .to_owned(),
        ));
        return problems.finish(Vec::new());
    }
    if check_fields(
        header.iter().map(String::as_str),
        ignore,
        header_line,
        &mut problems,
    )
    .is_none()
    {
        return problems.finish(Vec::new());
    }
    let mut records = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                problems.push(TraceProblem::at(
                    line,
                    None,
                    format!("not a valid CSV record: {e}"),
                ));
                break;
            }
        }
        let line = row.position().map_or(line, |p| p.line());
        let before = problems.count();
        let mut record = TraceRecord::default();
        let mut has_time = false;
        for (name, value) in header.iter().zip(row.iter()) {
            if ignore.iter().any(|i| i == name) {
                continue;
            }
            if time_unit(name).is_some() {
                has_time = !value.trim().is_empty();
            }
            set_field(&mut record, name, Value::Text(value), line, &mut problems);
        }
        if !has_time {
            problems.push(TraceProblem::at(
                line,
                None,
                "the record has no arrival time".to_owned(),
            ));
        }
        if problems.count() > before {
            continue;
        }
        if !push_record(&mut records, record, line, &mut problems) {
            break;
        }
    }
    problems.finish(records)
}

/// Parses a JSONL trace (one JSON object per line); keys named in
/// `ignore` are skipped.
pub fn parse_jsonl(text: &str, ignore: &[String]) -> Result<Vec<TraceRecord>, Vec<TraceProblem>> {
    let mut problems = Problems::default();
    let mut records = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(o)) => o,
            Ok(other) => {
                problems.push(TraceProblem::at(
                    line,
                    None,
                    format!("expected a JSON object such as {{\"time_s\": 0.5}}, found {other}"),
                ));
                continue;
            }
            Err(e) => {
                problems.push(TraceProblem::at(line, None, format!("not valid JSON: {e}")));
                continue;
            }
        };
        let before = problems.count();
        if check_fields(
            object.keys().map(String::as_str),
            ignore,
            line,
            &mut problems,
        )
        .is_none()
        {
            continue;
        }
        let mut record = TraceRecord::default();
        for (name, value) in &object {
            if ignore.iter().any(|i| i == name) {
                continue;
            }
            let value = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => Value::Text(s),
                serde_json::Value::Number(n) => Value::Number(n.to_string()),
                other => {
                    problems.push(TraceProblem::at(
                        line,
                        Some(name),
                        format!("expected a number or a string, found {other}"),
                    ));
                    continue;
                }
            };
            set_field(&mut record, name, value, line, &mut problems);
        }
        if problems.count() > before {
            continue;
        }
        if !push_record(&mut records, record, line, &mut problems) {
            break;
        }
    }
    if records.is_empty() && problems.is_empty() {
        problems.push(TraceProblem::at(
            0,
            None,
            "the trace has no records".to_owned(),
        ));
    }
    problems.finish(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/limits.md and docs/scenario-format.md quote this count.
    #[test]
    fn the_record_limit_is_the_documented_one() {
        assert_eq!(std::mem::size_of::<TraceRecord>(), 80);
        assert_eq!(MAX_RECORDS, 13_421_772);
    }

    #[test]
    fn decimal_times_are_exact_to_the_nanosecond() {
        assert_eq!(decimal_ns("0.1", 9), Some(100_000_000));
        assert_eq!(decimal_ns("1.5", 6), Some(1_500_000));
        assert_eq!(decimal_ns("2", 3), Some(2_000));
        assert_eq!(decimal_ns("1e-5", 9), Some(10_000));
        assert_eq!(decimal_ns("3.0000000005", 9), Some(3_000_000_001));
        assert_eq!(decimal_ns("86400.000000001", 9), Some(86_400_000_000_001));
        assert_eq!(decimal_ns("0", 0), Some(0));
        assert_eq!(decimal_ns(".5", 9), Some(500_000_000));
        for bad in ["-1", "abc", "", ".", "1.2.3", "1e999", "NaN"] {
            assert_eq!(decimal_ns(bad, 9), None, "{bad}");
        }
    }

    #[test]
    fn a_csv_trace_reads_every_field() {
        let text = "# captured 2026-12-01\ntime_ms,key,op,prompt_tokens,output_tokens,class,request_bytes,response_bytes\n\
                    0,7,read,100,20,1,512,4096\n1.5,user-42,write,,,,,\n1.5,,,,,,,\n";
        let r = parse_csv(text, &[]).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[0],
            TraceRecord {
                at: SimDuration::ZERO,
                key: Some(7),
                write: Some(false),
                prompt_tokens: Some(100),
                output_tokens: Some(20),
                class: Some(1),
                request_bytes: Some(512),
                response_bytes: Some(4096),
            }
        );
        assert_eq!(r[1].at, SimDuration::from_nanos(1_500_000));
        assert_eq!(r[1].key, Some(fnv1a("user-42")));
        assert_eq!(r[1].write, Some(true));
        assert_eq!(r[2].key, None);
    }

    #[test]
    fn a_jsonl_trace_reads_like_the_csv() {
        let text = "{\"time_s\": 0.25, \"key\": 3, \"op\": \"write\", \"prompt_tokens\": 10}\n\n{\"time_s\": 1e-3, \"key\": null, \"extra\": 1}\n";
        let err = parse_jsonl(text, &[]).unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert_eq!(err[0].line, 3);
        assert_eq!(err[0].field.as_deref(), Some("extra"));
        let err = parse_jsonl("{\"time_s\": 2}\n{\"time_s\": 1}\n", &[]).unwrap_err();
        assert_eq!(err[0].line, 2);
        assert!(err[0].message.contains("time order"), "{err:?}");
        let text = "{\"time_s\": 0.25, \"key\": 3, \"op\": \"write\", \"prompt_tokens\": 10}\n{\"time_s\": 1, \"extra\": 1}\n";
        let r = parse_jsonl(text, &["extra".to_owned()]).unwrap();
        assert_eq!(r[0].at, SimDuration::from_nanos(250_000_000));
        assert_eq!(
            (r[0].key, r[0].write, r[0].prompt_tokens),
            (Some(3), Some(true), Some(10))
        );
        assert_eq!(r[1].at, SimDuration::from_secs(1));
    }

    #[test]
    fn bad_traces_are_located_by_line_and_field() {
        let err = parse_csv("time_s,kye\n1,2\n", &[]).unwrap_err();
        assert_eq!(err[0].line, 1);
        assert!(err[0].message.contains("did you mean `key`?"), "{err:?}");
        let err = parse_csv("key\n1\n", &[]).unwrap_err();
        assert!(err[0].message.contains("no arrival time"), "{err:?}");
        let err =
            parse_csv("time_s,op,class\n1,read,0\n2,delete,0\nx,read,300\n", &[]).unwrap_err();
        let got: Vec<(u64, Option<&str>)> =
            err.iter().map(|p| (p.line, p.field.as_deref())).collect();
        assert_eq!(
            got,
            [(3, Some("op")), (4, Some("time_s")), (4, Some("class"))]
        );
        let many: String = std::iter::once("time_s\n".to_owned())
            .chain((0..20).map(|_| "bad\n".to_owned()))
            .collect();
        let err = parse_csv(&many, &[]).unwrap_err();
        assert_eq!(err.len(), MAX_PROBLEMS + 1);
        assert!(err[MAX_PROBLEMS].message.contains("more problems"));
        assert!(parse_csv("", &[]).is_err());
        assert!(parse_jsonl("\n\n", &[]).is_err());
    }

    /// A class is a whole number 0 to 255; an empty one is no class (the
    /// workload's `priority` applies); anything else is located.
    #[test]
    fn a_class_must_be_a_whole_number_up_to_255() {
        let r = parse_csv("time_s,class\n0,7\n1,\n2,255\n", &[]).unwrap();
        let classes: Vec<Option<u8>> = r.iter().map(|r| r.class).collect();
        assert_eq!(classes, [Some(7), None, Some(255)]);
        let err = parse_csv("time_s,class\n0,high\n1,1.5\n2,-1\n3,256\n", &[]).unwrap_err();
        let got: Vec<(u64, Option<&str>)> =
            err.iter().map(|p| (p.line, p.field.as_deref())).collect();
        assert_eq!(
            got,
            [
                (2, Some("class")),
                (3, Some("class")),
                (4, Some("class")),
                (5, Some("class"))
            ]
        );
        assert!(
            err[0]
                .message
                .contains("expected a class from 0 to 255, found `high`"),
            "{err:?}"
        );
    }
}

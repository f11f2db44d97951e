//! Every command a reader may paste works: the shell blocks of README.md
//! and docs/, the commands in each scenario's header comment, and the
//! examples of every `--help`. Each runs as written (full length: the whole
//! set takes seconds), in a scratch directory that sees `scenarios/`, with
//! `sysdes` on PATH. A command may fail only as documented: exit 1 for an
//! unstable system (retry-storm), which still writes its results.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::root;

/// Blocks not run, and why: they need a cluster, or they are benchmarks
/// that run for minutes (docs/performance.md says how long).
const NOT_RUN: &[(&str, &str)] = &[
    ("#SBATCH", "a Slurm batch script"),
    ("sbatch", "submits to Slurm"),
    ("kubectl", "needs a Kubernetes cluster"),
    ("S=$1", "a script taking arguments, shown with its output"),
    (
        "sysdes playground",
        "starts a server that runs until stopped (tests/suite/playground.rs and .ci/web check it)",
    ),
    (
        "-- playground",
        "builds and starts the playground's server (tests/suite/playground.rs and .ci/web check it)",
    ),
];

/// Files whose commands are benchmarks, minutes long.
const BENCHMARK_DOCS: &[&str] = &["performance.md"];

/// One script to run and where it came from.
pub(crate) struct Script {
    pub(crate) origin: String,
    pub(crate) text: String,
}

/// A synopsis line (`sysdes run FILE [--set PATH=VALUE]...`), not a command.
fn is_synopsis(line: &str) -> bool {
    ["FILE", " DIR", "PATH=VALUE", "[--", "...", "SWEEP_DIR"]
        .iter()
        .any(|p| line.contains(p))
}

/// The shell blocks of a markdown file that run `sysdes`.
pub(crate) fn markdown_scripts(path: &Path) -> Vec<Script> {
    let text = std::fs::read_to_string(path).expect("readable doc");
    let mut scripts = Vec::new();
    let mut block: Option<(usize, String, Vec<String>)> = None;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut block, fence) {
            (None, Some(lang)) => block = Some((i + 1, lang.trim().to_string(), Vec::new())),
            (Some((start, lang, lines)), Some(_)) => {
                let runnable = matches!(lang.as_str(), "" | "sh" | "bash" | "shell" | "console");
                let body = lines.join("\n");
                let skipped = NOT_RUN.iter().any(|(p, _)| body.contains(p));
                let commands: Vec<String> = lines
                    .iter()
                    .map(|l| l.strip_prefix("$ ").unwrap_or(l).to_string())
                    .filter(|l| !is_synopsis(l))
                    .collect();
                let runs_sysdes = commands.iter().any(|l| {
                    let t = l.trim_start();
                    t.starts_with("sysdes ") || t.starts_with("cargo run") || t.starts_with("for ")
                });
                if runnable && !skipped && runs_sysdes {
                    scripts.push(Script {
                        origin: format!("{}:{start}", path.display()),
                        text: commands.join("\n"),
                    });
                }
                block = None;
            }
            (Some((_, _, lines)), None) => lines.push(line.to_string()),
            (None, None) => {}
        }
    }
    scripts
}

/// The commands in a scenario's header comment (loops included).
fn header_script(path: &Path) -> Option<Script> {
    let text = std::fs::read_to_string(path).expect("readable scenario");
    let header: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with('#') || l.trim().is_empty())
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    let mut lines = Vec::new();
    let mut continued = false;
    for &body in &header {
        let is_loop = body.starts_with("for ") && body.contains(" in ") && body.ends_with("do");
        let starts = body.starts_with("sysdes ") || is_loop || body == "done";
        if (starts || continued) && !is_synopsis(body) {
            lines.push(body.to_string());
            continued = body.ends_with('\\') || body.ends_with("do");
        }
    }
    // Commands quoted in the prose: `sysdes run ...`.
    let prose = header.join(" ");
    for (i, span) in prose.split('`').enumerate() {
        // `sysdes run` alone names the command; it is not one to paste.
        let mention = span.split_whitespace().count() <= 2;
        if i % 2 == 1 && span.starts_with("sysdes ") && !mention && !is_synopsis(span) {
            lines.push(span.to_string());
        }
    }
    (!lines.is_empty()).then(|| Script {
        origin: path.display().to_string(),
        text: lines.join("\n"),
    })
}

/// The `Examples:` of `sysdes --help` and of each subcommand's help.
fn help_scripts() -> Vec<Script> {
    let mut scripts = Vec::new();
    for sub in [
        "", "run", "estimate", "sweep", "merge", "plot", "validate", "schema",
    ] {
        let mut args = vec![sub, "--help"];
        args.retain(|a| !a.is_empty());
        let out = crate::sysdes(&args);
        let help = String::from_utf8_lossy(&out.stdout).to_string();
        let examples: Vec<String> = help
            .lines()
            .skip_while(|l| !l.starts_with("Examples:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_string())
            .collect();
        if !examples.is_empty() {
            scripts.push(Script {
                origin: format!("sysdes {} --help", sub),
                text: examples.join("\n"),
            });
        }
    }
    scripts
}

/// A scratch directory with `scenarios/` and a `sysdes` that records every
/// failure in `failures` (exit 1 of an unstable system excepted).
fn scratch(name: &str) -> PathBuf {
    let dir = crate::fresh_dir(&format!("commands-{name}"));
    std::fs::create_dir_all(dir.join("bin")).expect("scratch dir");
    std::os::unix::fs::symlink(root().join("scenarios"), dir.join("scenarios")).expect("link");
    let wrapper = format!(
        "#!/bin/sh\n\"{bin}\" \"$@\" 2>\"{d}/stderr\"\nrc=$?\ncat \"{d}/stderr\" >&2\nif [ $rc -ne 0 ] && ! {{ [ $rc -eq 1 ] && grep -q 'system is unstable' \"{d}/stderr\"; }}; then echo \"exit $rc: sysdes $*\" >> \"{d}/failures\"; fi\nexit 0\n",
        bin = env!("CARGO_BIN_EXE_sysdes"),
        d = dir.display()
    );
    let path = dir.join("bin/sysdes");
    std::fs::write(&path, wrapper).expect("wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// Runs every script in its own scratch directory; returns the failures.
pub(crate) fn run_all(scripts: &[Script]) -> Vec<String> {
    // Scratch directories are numbered across every caller in this
    // process (tests run in parallel: course_pages.rs calls this too).
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut failed = Vec::new();
    for s in scripts {
        let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = scratch(&i.to_string());
        let text = s.text.replace("cargo run --release -- ", "sysdes ");
        let out = Command::new("sh")
            .arg("-c")
            .arg(&text)
            .current_dir(&dir)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    dir.join("bin").display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .expect("sh runs");
        let failures = std::fs::read_to_string(dir.join("failures")).unwrap_or_default();
        if !failures.is_empty() || !out.status.success() {
            failed.push(format!(
                "{}:\n{text}\n{failures}{}",
                s.origin,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    failed
}

#[test]
fn every_documented_command_works_when_pasted() {
    let mut scripts = markdown_scripts(&root().join("README.md"));
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| !BENCHMARK_DOCS.iter().any(|b| p.ends_with(b)))
        .collect();
    docs.sort();
    for doc in docs {
        scripts.extend(markdown_scripts(&doc));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    scripts.extend(files.iter().filter_map(|f| header_script(f)));
    scripts.extend(help_scripts());
    // The README's own commands are among them.
    assert!(scripts.iter().any(|s| {
        s.origin
            .starts_with(&root().join("README.md").display().to_string())
    }));
    assert!(scripts.len() >= 20, "found only {} scripts", scripts.len());
    let failed = run_all(&scripts);
    assert!(
        failed.is_empty(),
        "{} of {} scripts failed:\n\n{}",
        failed.len(),
        scripts.len(),
        failed.join("\n\n")
    );
}

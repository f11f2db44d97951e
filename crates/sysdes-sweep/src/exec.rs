//! Running a sweep (or a shard of one) in parallel, journaling each run as
//! it finishes, resuming after a crash, and merging shard directories.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde_json::Value;
use sysdes_models::RunLimits;

use crate::SweepError;
use crate::output::{
    Line, MANIFEST, RUNS_JSONL, Shard, finalize, manifest, manifest_text, read_journal,
    write_atomic,
};
use crate::plan::SweepPlan;
use crate::record::execute;

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    /// The output directory.
    pub out: PathBuf,
    /// Continue the sweep already in `out`, skipping finished runs.
    pub resume: bool,
    /// Run only this slice of the runs.
    pub shard: Option<Shard>,
    /// Find each run's warm-up with MSER-5 on a pilot run first.
    pub auto_warmup: bool,
    /// The version written into the manifest.
    pub tool_version: String,
    /// Guards for each run.
    pub limits: RunLimits,
}

/// What a sweep did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepSummary {
    /// Runs in this shard (all runs when not sharded).
    pub runs: u64,
    /// Runs found finished in the journal and skipped.
    pub skipped: u64,
    /// Runs simulated now.
    pub executed: u64,
    /// Runs that ended with an error (recorded with empty metrics).
    pub failed: u64,
}

/// The runs this invocation is responsible for.
fn shard_runs(plan: &SweepPlan, shard: Option<Shard>) -> Vec<u64> {
    (0..plan.run_count())
        .filter(|&i| shard.is_none_or(|s| s.contains(i)))
        .collect()
}

/// Runs the sweep into `options.out`.
///
/// The manifest is written first; each finished run is appended to
/// `runs.jsonl` as one line (a single `write` of the whole line); at the end
/// the journal is sorted and the CSV files written. `progress` is called
/// once with the number of runs to do and then after every finished run.
pub fn run_sweep(
    plan: &SweepPlan,
    options: &SweepOptions,
    progress: &(dyn Fn(ProgressEvent) + Sync),
) -> Result<SweepSummary, SweepError> {
    let dir = &options.out;
    std::fs::create_dir_all(dir).map_err(|e| SweepError::io(dir, e))?;
    let _lock = crate::lock::DirLock::acquire(dir)?;
    let result = run_locked(plan, options, progress);
    if result.is_err() {
        crate::lock::remove_temporaries(dir);
    }
    result
}

fn run_locked(
    plan: &SweepPlan,
    options: &SweepOptions,
    progress: &(dyn Fn(ProgressEvent) + Sync),
) -> Result<SweepSummary, SweepError> {
    let dir = &options.out;
    let mut manifest = manifest(
        plan,
        &options.tool_version,
        options.auto_warmup,
        options.shard,
    );
    // Every option that changes results is in the manifest, so that a
    // resume with another value is refused rather than mixed.
    if let Some(m) = manifest.as_object_mut() {
        m.insert(
            "limits".into(),
            serde_json::json!({
                "max_in_flight": options.limits.max_in_flight,
                "max_events": options.limits.max_events,
            }),
        );
    }
    let manifest_text = manifest_text(&manifest);
    let journal = dir.join(RUNS_JSONL);
    let existing_manifest = std::fs::read_to_string(dir.join(MANIFEST)).ok();
    let mine = shard_runs(plan, options.shard);
    let total = plan.run_count();
    let in_shard = |i: u64| i < total && options.shard.is_none_or(|s| s.contains(i));
    let has_runs = std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0);
    let done: Vec<Line> = if options.resume {
        match &existing_manifest {
            Some(old) if *old != manifest_text => {
                return Err(SweepError::Mismatch {
                    dir: dir.clone(),
                    detail: format!(
                        "its manifest.json describes a different sweep: {}",
                        crate::lock::differences(old, &manifest)
                    ),
                });
            }
            None if has_runs => {
                return Err(SweepError::Mismatch {
                    dir: dir.clone(),
                    detail: "it holds a runs.jsonl but no manifest.json, so nothing says which sweep its runs belong to; choose another --out".to_owned(),
                });
            }
            _ => {}
        }
        read_journal(&journal, in_shard)?
    } else {
        if has_runs {
            return Err(SweepError::Mismatch {
                dir: dir.clone(),
                detail: "it already holds a sweep's runs.jsonl; pass --resume to continue it, or choose another --out".to_owned(),
            });
        }
        Vec::new()
    };
    write_atomic(dir, MANIFEST, &manifest_text)?;
    // Rewrite the journal with only its complete lines, so appending after a
    // line torn by a crash cannot glue two records together.
    let mut clean = String::new();
    for l in &done {
        clean.push_str(&l.text);
        clean.push('\n');
    }
    write_atomic(dir, RUNS_JSONL, &clean)?;
    let finished: std::collections::BTreeSet<u64> = done.iter().map(|l| l.run_index).collect();
    let todo: Vec<u64> = mine
        .iter()
        .copied()
        .filter(|i| !finished.contains(i))
        .collect();
    progress(ProgressEvent::Start {
        todo: todo.len() as u64,
    });
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&journal)
        .map_err(|e| SweepError::io(&journal, e))?;
    let file = Mutex::new(file);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .map_err(|e| SweepError::Threads(e.to_string()))?;
    // Set at the first failed write: every run not yet started is skipped,
    // so a full disk stops the sweep at once with a resumable journal.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let results: Vec<Result<bool, SweepError>> = pool.install(|| {
        todo.par_iter()
            .map(|&i| {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return Ok(false);
                }
                let (Some(run), Some(spec)) =
                    (plan.run(i), plan.run(i).and_then(|r| plan.spec(&r)))
                else {
                    return Ok(false);
                };
                let no_cost = sysdes_cost::CostSpec::default();
                let record = execute(
                    &spec,
                    plan.costs.get(run.point).unwrap_or(&no_cost),
                    plan.targets.get(run.point).map_or(&[], Vec::as_slice),
                    &run,
                    &plan.params(run.point),
                    options.auto_warmup,
                    options.limits,
                );
                let failed = record.get("error").is_some();
                let mut line = record.to_string();
                line.push('\n');
                {
                    let mut f = file
                        .lock()
                        .map_err(|_| SweepError::Threads("a worker panicked".to_owned()))?;
                    if let Err(e) = f.write_all(line.as_bytes()).and_then(|()| f.flush()) {
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                        return Err(SweepError::io(&journal, e));
                    }
                }
                progress(ProgressEvent::Finished { run_index: i });
                Ok(failed)
            })
            .collect()
    });
    let mut failed = 0;
    for r in results {
        if r? {
            failed += 1;
        }
    }
    drop(file);
    let lines = read_journal(&journal, in_shard)?;
    finalize(dir, &manifest, lines)?;
    Ok(SweepSummary {
        runs: mine.len() as u64,
        skipped: finished.len() as u64,
        executed: todo.len() as u64,
        failed,
    })
}

/// Progress reports from [`run_sweep`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The sweep starts; `todo` runs remain.
    Start {
        /// Runs to simulate now.
        todo: u64,
    },
    /// Run `run_index` finished and is journaled.
    Finished {
        /// The run.
        run_index: u64,
    },
}

/// What [`merge`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeSummary {
    /// Runs the sweep has.
    pub runs: u64,
    /// Runs found in the inputs.
    pub found: u64,
    /// Indices of the runs no input had (the first few).
    pub missing: Vec<u64>,
}

/// Combines shard directories into `out`: the same files an unsharded sweep
/// writes (the manifest without its `shard` key). Every input must hold the
/// same sweep; a run present in several inputs is taken once.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<MergeSummary, SweepError> {
    let mut manifest: Option<Value> = None;
    let mut lines = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for dir in inputs {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| SweepError::io(&path, e))?;
        let mut m: Value = serde_json::from_str(&text).map_err(|e| SweepError::Mismatch {
            dir: dir.clone(),
            detail: format!("its manifest.json is not valid JSON: {e}"),
        })?;
        if let Some(o) = m.as_object_mut() {
            o.shift_remove("shard");
        }
        match &manifest {
            None => manifest = Some(m),
            Some(first) if *first != m => {
                return Err(SweepError::Mismatch {
                    dir: dir.clone(),
                    detail: "its manifest.json describes a different sweep from the first input's"
                        .to_owned(),
                });
            }
            Some(_) => {}
        }
        for line in read_journal(&dir.join(RUNS_JSONL), |_| true)? {
            if seen.insert(line.run_index) {
                lines.push(line);
            }
        }
    }
    let Some(manifest) = manifest else {
        return Err(SweepError::NoInputs);
    };
    let runs = manifest.get("runs").and_then(Value::as_u64).unwrap_or(0);
    lines.retain(|l| l.run_index < runs);
    let found = lines.len() as u64;
    let missing: Vec<u64> = (0..runs).filter(|i| !seen.contains(i)).take(20).collect();
    std::fs::create_dir_all(out).map_err(|e| SweepError::io(out, e))?;
    finalize(out, &manifest, lines)?;
    Ok(MergeSummary {
        runs,
        found,
        missing,
    })
}

//! Ownership of a sweep directory: a lock file naming the writer (pid and
//! host) so that a second sweep into the same `--out` is refused instead of
//! mixing its runs in, the differences reported when a resume is refused,
//! and the removal of temporary files after a failure.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::SweepError;

/// The lock file's name inside a sweep directory.
pub const LOCK: &str = ".sysdes-sweep.lock";

/// A held lock on a sweep directory; removed when dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    path: PathBuf,
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// Whether process `pid` is alive on this host (where `/proc` says so;
/// elsewhere a lock is taken to be live).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

impl DirLock {
    /// Takes the lock on `dir`, or says who holds it. A lock left by a
    /// process of this host that no longer runs (a SIGKILL) is taken over,
    /// so that `--resume` after a crash works.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, SweepError> {
        let path = dir.join(LOCK);
        let me = format!("{} {}\n", std::process::id(), host());
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(me.as_bytes())
                        .map_err(|e| SweepError::io(&path, e))?;
                    return Ok(DirLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = std::fs::read_to_string(&path).unwrap_or_default();
                    let mut parts = held.split_whitespace();
                    let pid = parts.next().and_then(|p| p.parse::<u32>().ok());
                    let their_host = parts.next().unwrap_or("").to_owned();
                    let stale = their_host == host() && pid.is_some_and(|p| !alive(p));
                    if !stale {
                        return Err(SweepError::Mismatch {
                            dir: dir.to_owned(),
                            detail: format!(
                                "another sweep writes here (pid {} on host {}, see {LOCK}); wait for it, or choose another --out (remove the lock file only if that process is gone)",
                                pid.map_or_else(|| "?".to_owned(), |p| p.to_string()),
                                if their_host.is_empty() {
                                    "?"
                                } else {
                                    &their_host
                                }
                            ),
                        });
                    }
                    std::fs::remove_file(&path).map_err(|e| SweepError::io(&path, e))?;
                }
                Err(e) => return Err(SweepError::io(&path, e)),
            }
        }
        Err(SweepError::Mismatch {
            dir: dir.to_owned(),
            detail: format!("cannot take the lock {LOCK}: another process keeps taking it"),
        })
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Removes the `.NAME.tmp` files an interrupted atomic write left in `dir`.
pub(crate) fn remove_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The top-level keys in which manifest text `old` and manifest `new`
/// differ, each with both values (cut to 120 characters).
pub(crate) fn differences(old: &str, new: &Value) -> String {
    let Ok(old) = serde_json::from_str::<Value>(old) else {
        return "the existing manifest.json is not valid JSON".to_owned();
    };
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return "the existing manifest.json is not a JSON object".to_owned();
    };
    let cut = |v: Option<&Value>| {
        let text = v.map_or_else(|| "(absent)".to_owned(), Value::to_string);
        if text.chars().count() > 120 {
            format!("{}...", text.chars().take(120).collect::<String>())
        } else {
            text
        }
    };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.dedup();
    let mut seen = std::collections::BTreeSet::new();
    let diffs: Vec<String> = keys
        .into_iter()
        .filter(|k| seen.insert(*k))
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| {
            format!(
                "`{k}` was {} and is now {}",
                cut(old.get(k)),
                cut(new.get(k))
            )
        })
        .collect();
    if diffs.is_empty() {
        "the manifests differ only in layout".to_owned()
    } else {
        diffs.join("; ")
    }
}

//! What a new user meets in the first hour: each problem printed once with
//! a hint for YAML indentation, and no panic when the output is piped into
//! `head`.

use std::process::{Command, Stdio};

use crate::{root, sysdes, temp_scenario};

/// Regression: every diagnostic was printed twice, after a
/// `sysdes::scenario` line.
#[test]
fn each_problem_is_printed_once() {
    let file = temp_scenario(
        "typo.yaml",
        "name: x\nduration: 10s\nworkloads:\n  - { name: u, target: s, arrival: { poisson: 1/s } }\ncomponents:\n  s:\n    type: server\n    service_tme: 1ms\n",
    );
    let out = sysdes(&["run", file.to_str().expect("utf-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr.matches("unknown key").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("did you mean").count(), 1, "{stderr}");
    assert!(!stderr.contains("sysdes::scenario"), "{stderr}");
    assert!(stderr.contains(":8:5"), "{stderr}");
}

/// A key indented one column short of its siblings: the error names the
/// line and both columns.
#[test]
fn a_yaml_indentation_error_gets_a_hint_at_the_right_line() {
    let file = temp_scenario(
        "indent.yaml",
        "name: x\nduration: 10s\nworkloads:\n  - name: u\n    target: s\n   arrival: { poisson: 1/s }\ncomponents:\n  s: { type: server, service_time: 1ms }\n",
    );
    let out = sysdes(&["validate", file.to_str().expect("utf-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("line 6 starts in column 4 but line 5 starts in column 5"),
        "{stderr}"
    );
}

/// Runs `sysdes ARGS` with its output pipe closed before it writes, as
/// `| head -1` leaves it once head has its line (closing first makes every
/// write fail, whatever the pipe's buffer size); the command must end
/// without a panic.
fn closed_pipe(args: &[&str]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sysdes"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sysdes starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("sysdes ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

/// Regression: `sysdes schema | head -1` panicked (exit 101).
#[test]
fn a_closed_pipe_is_no_panic() {
    closed_pipe(&["schema"]);
    closed_pipe(&[
        "run",
        "scenarios/hockey-stick.yaml",
        "--set",
        "duration=100s",
    ]);
    closed_pipe(&[
        "run",
        "scenarios/hockey-stick.yaml",
        "--set",
        "duration=100s",
        "--format",
        "csv",
    ]);
    closed_pipe(&["estimate", "scenarios/ride-hailing-eta.yaml", "--explain"]);
    closed_pipe(&["validate", "scenarios/mm1.yaml", "scenarios/mmc.yaml"]);
    // A sweep reports on stderr; it must not trip over a closed stdout either.
    let out = crate::fresh_dir("pipe-sweep");
    closed_pipe(&[
        "sweep",
        "scenarios/hockey-stick-sweep.yaml",
        "--set",
        "duration=20s",
        "--set",
        "warmup=1s",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let _ = std::fs::remove_dir_all(&out);
}

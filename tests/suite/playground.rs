//! The playground's native side: `topology.svg` beside a run's other files,
//! and `sysdes playground` serving the embedded web app (or, in a build
//! without `web/dist`, saying how to build it). The browser side is checked
//! by `web/tests/*.mjs` (see `.ci/web`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::{root, sysdes_out};

/// `run --out` writes `topology.svg`: one box per component and workload,
/// an arrow per flow (lb to each of its three backends, the workload to lb),
/// and the box the verdict blames outlined.
#[test]
fn run_out_writes_the_topology_diagram() {
    let dir = sysdes_out("topology", &["run", "scenarios/fault-crash.yaml"]);
    let svg = std::fs::read_to_string(dir.join("topology.svg")).expect("topology.svg written");
    let doc = roxmltree::Document::parse(&svg).expect("topology.svg is well-formed XML");
    let boxes: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("data-component"))
        .collect();
    assert_eq!(boxes.len(), 5, "clients, lb, app-1..3: {boxes:?}");
    for name in ["clients", "lb", "app-1", "app-2", "app-3"] {
        assert!(boxes.contains(&name), "no box for {name}");
    }
    let arrows = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("edge"))
        .count();
    assert_eq!(arrows, 4, "clients -> lb and lb -> each of three servers");
    // Nothing is saturated in fault-crash and no queue is bounded, so no
    // box is flagged ("the busiest is app-2" names it without blame).
    assert!(!svg.contains("data-flagged"), "{svg}");
}

/// The verdict's "X is saturated" outlines X: one M/M/1 at rho = 245/250 = 0.98.
#[test]
fn a_saturated_component_is_flagged_in_the_diagram() {
    let dir = sysdes_out(
        "topology-sat",
        &[
            "run",
            "scenarios/hockey-stick.yaml",
            "--set",
            "workloads.users.arrival.poisson=245/s",
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).expect("read"))
            .expect("JSON");
    let verdict = json["verdict"].as_str().expect("a verdict");
    let svg = std::fs::read_to_string(dir.join("topology.svg")).expect("topology.svg written");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed");
    let flagged: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("data-flagged") == Some("true"))
        .filter_map(|n| n.attribute("data-component"))
        .collect();
    assert!(
        verdict.starts_with("api is saturated"),
        "the scenario's verdict changed: {verdict}"
    );
    assert_eq!(flagged, ["api"]);
}

/// `sysdes playground --port 0` serves the embedded app, or (in a build
/// made before `web/dist` existed) exits 2 saying how to build it.
#[test]
fn playground_serves_the_app_or_says_how_to_build_it() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sysdes"))
        .args(["playground", "--port", "0"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sysdes runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read stdout");
    if line.is_empty() {
        let status = child.wait().expect("exits");
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read stderr");
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains("node build.mjs"), "{err}");
        return;
    }
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the URL is printed");
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let get = |path: &str| {
        let mut stream = TcpStream::connect(address).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read");
        String::from_utf8_lossy(&response).into_owned()
    };
    let index = get("/");
    let wasm = get("/sysdes_wasm_bg.wasm");
    let missing = get("/no-such-file");
    child.kill().expect("stop the server");
    let _ = child.wait();
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("sysdes playground"), "{index}");
    assert!(
        wasm.starts_with("HTTP/1.1 200"),
        "{}",
        &wasm[..200.min(wasm.len())]
    );
    assert!(
        wasm.to_ascii_lowercase()
            .contains("content-type: application/wasm")
    );
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

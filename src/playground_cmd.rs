//! `sysdes playground`: serves the web playground (the engine compiled to
//! WebAssembly, see `web/` and `docs/playground.md`) on localhost, from
//! files embedded in the binary at build time, so an installed `sysdes` is a
//! self-contained playground. Nothing is read from disk at run time.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

mod assets {
    include!(concat!(env!("OUT_DIR"), "/playground_assets.rs"));
}

/// What to type to build the assets (printed when the binary has none).
const HOW_TO_BUILD: &str = "\
this sysdes was built without the playground's web assets (web/dist did not exist).
Build them, then rebuild sysdes (needs node, npm and wasm-bindgen-cli; see docs/playground.md):
  rustup target add wasm32-unknown-unknown
  cargo install wasm-bindgen-cli --version 0.2.130 --locked
  (cd web && npm ci && node build.mjs)
  cargo build --release";

/// Arguments of `sysdes playground`.
#[derive(clap::Args, Debug)]
pub struct PlaygroundArgs {
    /// Port to listen on (on 127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 7878)]
    port: u16,
    /// Open the playground in the default browser.
    #[arg(long)]
    open: bool,
}

/// Serves the playground until interrupted (exit 2 without assets or when
/// the port is taken; 1 if the server fails).
pub fn playground(args: PlaygroundArgs) -> ExitCode {
    if find("index.html").is_none() {
        eprintln!("error: {HOW_TO_BUILD}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the server: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
        let listener = match tokio::net::TcpListener::bind(address).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "error: cannot listen on {address}: {e} (help: choose another port with --port N, or --port 0 for any free one)"
                );
                return ExitCode::from(2);
            }
        };
        let url = match listener.local_addr() {
            Ok(a) => format!("http://{a}/"),
            Err(_) => format!("http://{address}/"),
        };
        println!("sysdes playground at {url} (Ctrl+C to stop)");
        if args.open {
            open_browser(&url);
        }
        let app = Router::new().fallback(serve);
        match axum::serve(listener, app).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: the server stopped: {e}");
                ExitCode::from(1)
            }
        }
    })
}

/// The embedded file named `name`, if any.
fn find(name: &str) -> Option<&'static [u8]> {
    assets::ASSETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

/// Answers `GET /NAME` with the embedded file (`/` is `index.html`).
async fn serve(uri: Uri) -> Response {
    let name = match uri.path().trim_start_matches('/') {
        "" => "index.html",
        other => other,
    };
    match find(name) {
        Some(bytes) => ([(header::CONTENT_TYPE, content_type(name))], bytes).into_response(),
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

/// The MIME type of a playground file (WebAssembly must be
/// `application/wasm` for streaming compilation).
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Asks the desktop to open `url`; prints it again if that fails.
fn open_browser(url: &str) {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(target_os = "windows") {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    if std::process::Command::new(program)
        .args(&args)
        .spawn()
        .is_err()
    {
        eprintln!("could not open a browser; open {url} yourself");
    }
}

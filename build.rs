//! Embeds the web playground (`web/dist`, built by `node web/build.mjs`)
//! into the binary for `sysdes playground`. Without `web/dist` the binary
//! still builds, with no assets; the command then says how to build them.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let dist = web.join("dist");
    // A missing path would rerun this script (and rebuild the crate) on
    // every build; without web/dist, watch web/, where it will appear.
    let watched = if dist.is_dir() { &dist } else { &web };
    println!("cargo:rerun-if-changed={}", watched.display());
    let mut files: Vec<_> = std::fs::read_dir(&dist)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = String::from(
        "/// The playground's files: (name, bytes).\npub static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let _ = writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("playground_assets.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}

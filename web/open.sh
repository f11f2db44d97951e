#!/usr/bin/env bash
# Builds the playground from source and opens it: the one command in the
# README. Needs rustup, cargo, node (20 or later) and npm; installs the
# wasm32 target and wasm-bindgen-cli (the version in Cargo.lock) if missing.
# Extra arguments go to `sysdes playground` (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown
version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
  cargo install wasm-bindgen-cli --version "$version" --locked \
    || cargo install wasm-bindgen-cli --version "$version"
fi
(cd web && npm ci --no-audit --no-fund --loglevel=error)
node web/build.mjs
cargo run --locked --release -- playground --open "$@"

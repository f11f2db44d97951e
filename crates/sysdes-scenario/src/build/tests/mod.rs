//! The loader's tests by concern; each kind's own reader tests sit beside
//! it (`build/KIND.rs`), the whole loader's in `src/tests.rs`.

mod arrivals;
mod client;
mod deploy;
mod disciplines;
mod keys;
mod net;
mod store;

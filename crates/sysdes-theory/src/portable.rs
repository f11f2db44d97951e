//! Transcendental functions that give the same bits on every target.
//!
//! `f64::exp`, `ln` and `powf` call the platform's math library (glibc
//! natively, Rust's own port of musl's libm on wasm32), and the two may
//! differ in the last bit. The theory column is part of the result JSON,
//! which must be the same bytes in the browser as from the CLI, so every
//! prediction uses the `libm` crate (a port of musl's libm, pure Rust)
//! instead. `sqrt` and `powi` need no such care: `sqrt` is correctly rounded
//! everywhere and `powi` is the same multiplication loop on every target.

/// The `libm` versions of the `f64` methods the theory uses, with the same
/// meaning and names prefixed `libm_` (an inherent method of the same name
/// would take precedence over a trait's).
pub(crate) trait Portable {
    /// `e^self`.
    fn libm_exp(self) -> f64;
    /// `e^self - 1`, accurate near 0.
    fn libm_exp_m1(self) -> f64;
    /// The natural logarithm.
    fn libm_ln(self) -> f64;
    /// The base-10 logarithm.
    fn libm_log10(self) -> f64;
    /// `self^e`.
    fn libm_powf(self, e: f64) -> f64;
}

impl Portable for f64 {
    fn libm_exp(self) -> f64 {
        libm::exp(self)
    }
    fn libm_exp_m1(self) -> f64 {
        libm::expm1(self)
    }
    fn libm_ln(self) -> f64 {
        libm::log(self)
    }
    fn libm_log10(self) -> f64 {
        libm::log10(self)
    }
    fn libm_powf(self, e: f64) -> f64 {
        libm::pow(self, e)
    }
}

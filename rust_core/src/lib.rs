//! wisetrader core: everything that runs per frame or per price level.
//!
//! The crate compiles and tests as plain Rust; the PyO3 bindings live in [`python`] behind the
//! `python` feature, which maturin turns on.

pub mod book;
pub mod bots;
pub mod decode;
pub mod fixed;
pub mod market;
pub mod sync;

#[cfg(feature = "python")]
mod python;

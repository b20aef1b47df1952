//! PyO3 bindings: the only place that knows about Python.

use pyo3::prelude::*;

mod bots;
mod market;
mod paper;
mod recording;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    bots::register(m)?;
    market::register(m)?;
    paper::register(m)?;
    recording::register(m)?;
    Ok(())
}

//! `wisetrader._core.split_recording_lines`: recording lines for Python readers, by the same
//! rules `MarketData.feed_lines` uses (`crate::recording`).

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::recording;

/// `(recv_ns, payloads, bad_lines)` of a chunk of whole recording lines.
#[pyfunction]
fn split_recording_lines<'py>(
    py: Python<'py>,
    chunk: &[u8],
) -> (Vec<i64>, Vec<Bound<'py, PyBytes>>, u64) {
    let (mut times, mut payloads, mut bad) = (Vec::new(), Vec::new(), 0);
    for line in recording::lines(chunk) {
        match line {
            Ok((recv_ns, payload)) => {
                times.push(recv_ns);
                payloads.push(PyBytes::new(py, payload));
            }
            Err(()) => bad += 1,
        }
    }
    (times, payloads, bad)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(split_recording_lines, m)?)
}

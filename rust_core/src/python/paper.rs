//! The core's paper matcher on its own, as a venue behind the engine's router: orders come in
//! after the risk gate (ticks and lots), order updates and fills go back out.

use super::bots::{fills_to_py, instrument, paper_config, serde_plain, side};
use crate::bots::paper::{PaperEvent, PaperMatcher};
use crate::bots::{Action, Fill, Intent, OrderType, Reason};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// Order updates as `[(client_id, status)]` and fills as dicts (as the bot engine's fills).
type Events<'py> = (Bound<'py, PyList>, Bound<'py, PyList>);

fn events_to_py<'py>(py: Python<'py>, events: &[PaperEvent]) -> PyResult<Events<'py>> {
    let updates = PyList::empty(py);
    let mut fills: Vec<Fill> = Vec::new();
    for e in events {
        match e {
            PaperEvent::Update(u) => {
                let d = PyDict::new(py);
                d.set_item("client_id", &u.client_id)?;
                d.set_item("status", serde_plain(&u.status))?;
                d.set_item("ts_ns", u.ts_ns)?;
                updates.append(d)?;
            }
            PaperEvent::Fill(f) => fills.push(f.clone()),
        }
    }
    Ok((updates, fills_to_py(py, &fills)?))
}

/// A paper venue for one symbol.
#[pyclass(module = "wisetrader._core")]
pub struct PaperVenue {
    inner: PaperMatcher,
}

#[pymethods]
impl PaperVenue {
    /// `paper_json` as for `PaperSession`.
    #[new]
    #[pyo3(signature = (instrument_json, paper_json = None))]
    fn new(instrument_json: &str, paper_json: Option<&str>) -> PyResult<Self> {
        let inst = instrument(instrument_json)?;
        let cfg = paper_config(paper_json)?;
        Ok(PaperVenue {
            inner: PaperMatcher::new(inst, cfg),
        })
    }

    fn __len__(&self) -> usize {
        self.inner.resting_count()
    }

    /// Place a limit (`price_ticks`) or market (`price_ticks` None) order against the book
    /// `bid`/`ask`; `levels` are the opposite side's levels from the best outward.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (client_id, side_, price_ticks, qty_lots, bid, ask, ts_ns, levels = Vec::new()))]
    fn place<'py>(
        &mut self,
        py: Python<'py>,
        client_id: &str,
        side_: &str,
        price_ticks: Option<i64>,
        qty_lots: i64,
        bid: i64,
        ask: i64,
        ts_ns: i64,
        levels: Vec<(i64, i64)>,
    ) -> PyResult<Events<'py>> {
        let intent = Intent {
            action: Action::Place,
            bot: 0,
            client_id: client_id.to_string(),
            replaces: None,
            side: side(side_)?,
            order_type: if price_ticks.is_some() {
                OrderType::Limit
            } else {
                OrderType::Market
            },
            price_ticks: price_ticks.unwrap_or(0),
            qty_lots,
            // The matcher does not look at the reason; the router's intent keeps the real one.
            reason: Reason::GridStart,
        };
        let mut out = Vec::new();
        self.inner
            .submit(&intent, bid, ask, &levels, ts_ns, &mut out);
        events_to_py(py, &out)
    }

    fn cancel<'py>(
        &mut self,
        py: Python<'py>,
        client_id: &str,
        ts_ns: i64,
    ) -> PyResult<Events<'py>> {
        let intent = Intent {
            action: Action::Cancel,
            bot: 0,
            client_id: client_id.to_string(),
            replaces: None,
            side: crate::bots::Side::Buy,
            order_type: OrderType::Limit,
            price_ticks: 0,
            qty_lots: 0,
            reason: Reason::GridStart,
        };
        let mut out = Vec::new();
        self.inner.submit(&intent, 0, 0, &[], ts_ns, &mut out);
        events_to_py(py, &out)
    }

    /// A new top of book: resting orders it trades through fill (maker fee).
    fn on_top<'py>(
        &mut self,
        py: Python<'py>,
        bid: i64,
        ask: i64,
        ts_ns: i64,
    ) -> PyResult<Events<'py>> {
        let mut out = Vec::new();
        self.inner.on_top(bid, ask, ts_ns, &mut out);
        events_to_py(py, &out)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PaperVenue>()?;
    Ok(())
}

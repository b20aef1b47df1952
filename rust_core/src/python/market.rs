//! `wisetrader._core.MarketData` and `Changes`: the market-data core seen from Python.
//!
//! A frame crosses once, as `bytes`; the GIL is released while the core works; what comes back
//! is one `Changes` object whose lists are built only when read. Prices and quantities are
//! integers (ticks, lots) in the hot lists and exact decimal strings in the `*_rows`/book reads.

use std::sync::Arc;

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::book::{Level, Top};
use crate::fixed::{format_decimal, Grid};
use crate::market::{Changes, Instrument, Market, Venue, DEFAULT_BUFFER_LIMIT};

/// Symbol names and grids, shared with every `Changes` so they can format without the market.
struct Meta {
    symbol: Py<PyString>,
    px: Grid,
    qty: Grid,
}

type Side4 = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);
type SideStr4 = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn ints(top: &Top) -> Side4 {
    (
        top.bid.map(|l| l.px),
        top.bid.map(|l| l.qty),
        top.ask.map(|l| l.px),
        top.ask.map(|l| l.qty),
    )
}

fn strs(top: &Top, m: &Meta) -> SideStr4 {
    (
        top.bid.map(|l| m.px.format(l.px)),
        top.bid.map(|l| m.qty.format(l.qty)),
        top.ask.map(|l| m.px.format(l.px)),
        top.ask.map(|l| m.qty.format(l.qty)),
    )
}

fn level_strs(levels: &[Level], inst: &Instrument) -> StrLevels {
    levels
        .iter()
        .map(|l| (inst.px.format(l.px), inst.qty.format(l.qty)))
        .collect()
}

/// What changed during one `feed*` call.
#[pyclass(module = "wisetrader._core", name = "Changes", frozen)]
pub struct PyChanges {
    inner: Changes,
    meta: Arc<Vec<Meta>>,
}

impl PyChanges {
    fn symbol(&self, py: Python<'_>, i: u32) -> Py<PyString> {
        match self.meta.get(i as usize) {
            Some(m) => m.symbol.clone_ref(py),
            None => PyString::new(py, "?").unbind(),
        }
    }
}

type TradeRow = (i64, Py<PyString>, String, i64, i64, bool, i64);
type StrLevels = Vec<(String, String)>;
type TickLevels = Vec<(i64, i64)>;
type TopRow = (
    i64,
    Py<PyString>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);
type TopStrRow = (
    i64,
    Py<PyString>,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[pymethods]
impl PyChanges {
    #[getter]
    fn frames(&self) -> u64 {
        self.inner.frames
    }

    #[getter]
    fn tops(&self, py: Python<'_>) -> Vec<TopRow> {
        self.inner
            .tops
            .iter()
            .map(|t| {
                let (a, b, c, d) = ints(&t.top);
                (
                    t.recv_ns,
                    self.symbol(py, t.instrument),
                    t.update_id,
                    a,
                    b,
                    c,
                    d,
                )
            })
            .collect()
    }

    fn top_rows(&self, py: Python<'_>) -> Vec<TopStrRow> {
        self.inner
            .tops
            .iter()
            .filter_map(|t| {
                let m = self.meta.get(t.instrument as usize)?;
                let (a, b, c, d) = strs(&t.top, m);
                Some((t.recv_ns, m.symbol.clone_ref(py), t.update_id, a, b, c, d))
            })
            .collect()
    }

    #[getter]
    fn tickers(&self, py: Python<'_>) -> Vec<TopRow> {
        self.inner
            .tickers
            .iter()
            .map(|t| {
                let (a, b, c, d) = ints(&t.top);
                (
                    t.recv_ns,
                    self.symbol(py, t.instrument),
                    t.update_id,
                    a,
                    b,
                    c,
                    d,
                )
            })
            .collect()
    }

    #[getter]
    fn trades(&self, py: Python<'_>) -> Vec<TradeRow> {
        self.inner
            .trades
            .iter()
            .map(|t| {
                let sym = self.symbol(py, t.instrument);
                (
                    t.recv_ns,
                    sym,
                    t.trade_id.clone(),
                    t.px,
                    t.qty,
                    t.taker_buy,
                    t.exch_ns,
                )
            })
            .collect()
    }

    #[getter]
    fn states(
        &self,
        py: Python<'_>,
    ) -> Vec<(i64, Py<PyString>, &'static str, Option<&'static str>)> {
        self.inner
            .states
            .iter()
            .map(|s| {
                let reason = s.state.reason().map(|r| r.as_str());
                (
                    s.recv_ns,
                    self.symbol(py, s.instrument),
                    s.state.name(),
                    reason,
                )
            })
            .collect()
    }

    #[getter]
    fn requests(&self, py: Python<'_>) -> Vec<(i64, Py<PyString>, &'static str, &'static str)> {
        self.inner
            .requests
            .iter()
            .map(|r| {
                (
                    r.recv_ns,
                    self.symbol(py, r.instrument),
                    r.request.as_str(),
                    r.reason,
                )
            })
            .collect()
    }

    #[getter]
    fn controls(&self) -> Vec<(i64, &'static str, String)> {
        self.inner
            .controls
            .iter()
            .map(|c| (c.recv_ns, c.kind.as_str(), c.detail.clone()))
            .collect()
    }

    #[getter]
    fn errors(&self) -> Vec<(i64, &'static str)> {
        self.inner
            .errors
            .iter()
            .map(|e| (e.recv_ns, e.reason))
            .collect()
    }

    fn count(&self, kind: &str) -> PyResult<usize> {
        let c = &self.inner;
        Ok(match kind {
            "tops" => c.tops.len(),
            "tickers" => c.tickers.len(),
            "trades" => c.trades.len(),
            "states" => c.states.len(),
            "requests" => c.requests.len(),
            "controls" => c.controls.len(),
            "errors" => c.errors.len(),
            other => return Err(PyValueError::new_err(format!("unknown kind {other:?}"))),
        })
    }

    fn __bool__(&self) -> bool {
        let c = &self.inner;
        !(c.tops.is_empty()
            && c.tickers.is_empty()
            && c.trades.is_empty()
            && c.states.is_empty()
            && c.requests.is_empty()
            && c.controls.is_empty()
            && c.errors.is_empty())
    }

    fn __repr__(&self) -> String {
        let c = &self.inner;
        format!(
            "Changes(frames={}, tops={}, tickers={}, trades={}, states={}, requests={}, controls={}, errors={})",
            c.frames,
            c.tops.len(),
            c.tickers.len(),
            c.trades.len(),
            c.states.len(),
            c.requests.len(),
            c.controls.len(),
            c.errors.len()
        )
    }
}

/// Market data of one venue connection.
#[pyclass(module = "wisetrader._core", name = "MarketData")]
pub struct PyMarketData {
    inner: Market,
    meta: Arc<Vec<Meta>>,
}

impl PyMarketData {
    fn inst(&self, symbol: &str) -> PyResult<&Instrument> {
        self.inner
            .instrument(symbol)
            .ok_or_else(|| PyKeyError::new_err(format!("unknown symbol {symbol:?}")))
    }

    fn wrap(&mut self) -> PyChanges {
        PyChanges {
            inner: self.inner.take_changes(),
            meta: Arc::clone(&self.meta),
        }
    }
}

#[pymethods]
impl PyMarketData {
    #[new]
    #[pyo3(signature = (venue, *, buffer_limit = DEFAULT_BUFFER_LIMIT))]
    fn new(venue: &str, buffer_limit: usize) -> PyResult<Self> {
        let v = Venue::parse(venue).ok_or_else(|| {
            let names: Vec<&str> = Venue::ALL.iter().map(|v| v.name()).collect();
            PyValueError::new_err(format!(
                "unknown venue {venue:?}; expected one of {names:?}"
            ))
        })?;
        Ok(PyMarketData {
            inner: Market::new(v, buffer_limit),
            meta: Arc::new(Vec::new()),
        })
    }

    #[getter]
    fn venue(&self) -> &'static str {
        self.inner.venue().name()
    }

    #[getter]
    fn symbols(&self) -> Vec<String> {
        self.inner
            .instruments()
            .iter()
            .map(|i| i.symbol.to_string())
            .collect()
    }

    fn add_instrument(
        &mut self,
        py: Python<'_>,
        symbol: &str,
        tick_size: &str,
        lot_step: &str,
    ) -> PyResult<()> {
        self.inner
            .add_instrument(symbol, tick_size, lot_step)
            .map_err(|e| PyValueError::new_err(format!("{symbol}: {e}")))?;
        let meta = self
            .inner
            .instruments()
            .iter()
            .map(|i| Meta {
                symbol: PyString::new(py, &i.symbol).unbind(),
                px: i.px,
                qty: i.qty,
            })
            .collect();
        self.meta = Arc::new(meta);
        Ok(())
    }

    fn set_snapshot_symbol(&mut self, symbol: &str) -> PyResult<()> {
        if self.inner.set_snapshot_symbol(symbol) {
            Ok(())
        } else {
            Err(PyKeyError::new_err(format!("unknown symbol {symbol:?}")))
        }
    }

    fn feed(&mut self, py: Python<'_>, frame: &Bound<'_, PyBytes>, recv_ns: i64) -> PyChanges {
        let bytes = frame.as_bytes();
        let market = &mut self.inner;
        py.detach(|| market.feed(bytes, recv_ns));
        self.wrap()
    }

    fn feed_batch(
        &mut self,
        py: Python<'_>,
        frames: Vec<Bound<'_, PyBytes>>,
        recv_ns: Vec<i64>,
    ) -> PyResult<PyChanges> {
        if frames.len() != recv_ns.len() {
            return Err(PyValueError::new_err(format!(
                "{} frames but {} receive times",
                frames.len(),
                recv_ns.len()
            )));
        }
        let slices: Vec<&[u8]> = frames.iter().map(|f| f.as_bytes()).collect();
        let market = &mut self.inner;
        py.detach(|| {
            for (f, &t) in slices.iter().zip(&recv_ns) {
                market.feed(f, t);
            }
        });
        Ok(self.wrap())
    }

    fn feed_snapshot(
        &mut self,
        py: Python<'_>,
        symbol: &str,
        body: &Bound<'_, PyBytes>,
        recv_ns: i64,
    ) -> PyChanges {
        let bytes = body.as_bytes();
        let market = &mut self.inner;
        py.detach(|| market.feed_snapshot(symbol, bytes, recv_ns));
        self.wrap()
    }

    fn reset(&mut self, symbol: &str) -> PyResult<PyChanges> {
        if !self.inner.reset(symbol) {
            return Err(PyKeyError::new_err(format!("unknown symbol {symbol:?}")));
        }
        Ok(self.wrap())
    }

    fn state(&self, symbol: &str) -> PyResult<(&'static str, Option<&'static str>)> {
        let s = self.inst(symbol)?.state();
        Ok((s.name(), s.reason().map(|r| r.as_str())))
    }

    fn update_id(&self, symbol: &str) -> PyResult<i64> {
        Ok(self.inst(symbol)?.book.update_id)
    }

    fn best(&self, symbol: &str) -> PyResult<Option<Side4>> {
        let i = self.inst(symbol)?;
        Ok(i.is_synced().then(|| ints(&i.book.top())))
    }

    fn best_bid(&self, symbol: &str) -> PyResult<Option<(String, String)>> {
        let i = self.inst(symbol)?;
        let l = i.book.best_bid().filter(|_| i.is_synced());
        Ok(l.map(|l| (i.px.format(l.px), i.qty.format(l.qty))))
    }

    fn best_ask(&self, symbol: &str) -> PyResult<Option<(String, String)>> {
        let i = self.inst(symbol)?;
        let l = i.book.best_ask().filter(|_| i.is_synced());
        Ok(l.map(|l| (i.px.format(l.px), i.qty.format(l.qty))))
    }

    #[pyo3(signature = (symbol, depth = 10))]
    fn top(&self, symbol: &str, depth: usize) -> PyResult<(StrLevels, StrLevels)> {
        let i = self.inst(symbol)?;
        if !i.is_synced() {
            return Ok((Vec::new(), Vec::new()));
        }
        let (b, a) = i.book.top_n(depth);
        Ok((level_strs(&b, i), level_strs(&a, i)))
    }

    #[pyo3(signature = (symbol, depth = 10))]
    fn top_ticks(&self, symbol: &str, depth: usize) -> PyResult<(TickLevels, TickLevels)> {
        let i = self.inst(symbol)?;
        if !i.is_synced() {
            return Ok((Vec::new(), Vec::new()));
        }
        let (b, a) = i.book.top_n(depth);
        let pairs = |v: Vec<Level>| v.into_iter().map(|l| (l.px, l.qty)).collect();
        Ok((pairs(b), pairs(a)))
    }

    fn book(&self, symbol: &str) -> PyResult<(i64, StrLevels, StrLevels)> {
        let i = self.inst(symbol)?;
        let (b, a) = i.book.snapshot();
        Ok((i.book.update_id, level_strs(&b, i), level_strs(&a, i)))
    }

    fn mid(&self, symbol: &str) -> PyResult<Option<String>> {
        let i = self.inst(symbol)?;
        Ok(i.book
            .mid_half_ticks()
            .filter(|_| i.is_synced())
            .map(|half| {
                // mid = half * step / 2 = half * mantissa * 5 at one more decimal: exact.
                let mut out = String::new();
                format_decimal(
                    i128::from(half) * i128::from(i.px.mantissa()) * 5,
                    i.px.scale() + 1,
                    &mut out,
                );
                out
            }))
    }

    fn spread(&self, symbol: &str) -> PyResult<Option<String>> {
        let i = self.inst(symbol)?;
        Ok(i.book
            .spread_ticks()
            .filter(|_| i.is_synced())
            .map(|s| i.px.format(s)))
    }

    fn price_to_ticks(&self, symbol: &str, price: &str) -> PyResult<i64> {
        let i = self.inst(symbol)?;
        i.px.steps(price.as_bytes())
            .map_err(|e| PyValueError::new_err(format!("{price:?}: {e}")))
    }

    fn qty_to_lots(&self, symbol: &str, qty: &str) -> PyResult<i64> {
        let i = self.inst(symbol)?;
        i.qty
            .steps(qty.as_bytes())
            .map_err(|e| PyValueError::new_err(format!("{qty:?}: {e}")))
    }

    fn format_price(&self, symbol: &str, ticks: i64) -> PyResult<String> {
        Ok(self.inst(symbol)?.px.format(ticks))
    }

    fn format_qty(&self, symbol: &str, lots: i64) -> PyResult<String> {
        Ok(self.inst(symbol)?.qty.format(lots))
    }

    fn counters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.inner.counters().items() {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "MarketData(venue={:?}, symbols={})",
            self.inner.venue().name(),
            self.inner.instruments().len()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMarketData>()?;
    m.add_class::<PyChanges>()?;
    Ok(())
}

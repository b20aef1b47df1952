//! Python bindings of the bots: plans, a per-symbol bot engine for live use, and a paper
//! session (engine + paper matcher). Definitions and states cross as JSON with decimal strings;
//! intents and fills as small dicts in integer ticks and lots.

use crate::bots::dca::{self, DcaSpec};
use crate::bots::engine::{BotSpec, FillOutcome, SymbolEngine};
use crate::bots::grid::{self, GridSpec};
use crate::bots::paper::{PaperConfig, PaperMatcher};
use crate::bots::session::PaperSession as RustSession;
use crate::bots::{
    Command, Fill, Instrument, InstrumentSpec, Intent, OrderStatus, OrderUpdate, Side,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rust_decimal::Decimal;

/// The paper venue's settings from optional JSON (defaults when absent).
pub(super) fn paper_config(json: Option<&str>) -> PyResult<PaperConfig> {
    json.map_or(Ok(PaperConfig::default()), |j| {
        serde_json::from_str(j).map_err(|e| PyValueError::new_err(format!("paper config: {e}")))
    })
}

pub(super) fn instrument(json: &str) -> PyResult<Instrument> {
    let spec: InstrumentSpec = serde_json::from_str(json)
        .map_err(|e| PyValueError::new_err(format!("instrument: {e}")))?;
    Instrument::from_spec(&spec).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn bot_spec(kind: &str, json: &str) -> PyResult<BotSpec> {
    let err = |e: serde_json::Error| PyValueError::new_err(format!("{kind} bot: {e}"));
    match kind {
        "grid" => Ok(BotSpec::Grid(
            serde_json::from_str::<GridSpec>(json).map_err(err)?,
        )),
        "dca" => Ok(BotSpec::Dca(
            serde_json::from_str::<DcaSpec>(json).map_err(err)?,
        )),
        _ => Err(PyValueError::new_err(format!(
            "kind must be 'grid' or 'dca', got {kind:?}"
        ))),
    }
}

/// The plan of a bot (what it will do and need, with warnings and errors) as JSON.
#[pyfunction]
fn plan_bot(kind: &str, instrument_json: &str, spec_json: &str) -> PyResult<String> {
    let inst = instrument(instrument_json)?;
    let out = match bot_spec(kind, spec_json)? {
        BotSpec::Grid(s) => serde_json::to_string(&grid::plan(&s, &inst)),
        BotSpec::Dca(s) => serde_json::to_string(&dca::plan(&s, &inst)),
    };
    out.map_err(|e| PyValueError::new_err(e.to_string()))
}

fn intents_to_py<'py>(py: Python<'py>, intents: &[Intent]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for it in intents {
        let d = PyDict::new(py);
        d.set_item("action", serde_plain(&it.action))?;
        d.set_item("bot", it.bot)?;
        d.set_item("client_id", &it.client_id)?;
        d.set_item("replaces", it.replaces.as_deref())?;
        d.set_item("side", it.side.as_str())?;
        d.set_item("order_type", it.order_type.as_str())?;
        d.set_item("price_ticks", it.price_ticks)?;
        d.set_item("qty_lots", it.qty_lots)?;
        d.set_item("reason", it.reason.as_str())?;
        list.append(d)?;
    }
    Ok(list)
}

pub(super) fn fills_to_py<'py>(py: Python<'py>, fills: &[Fill]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for f in fills {
        let d = PyDict::new(py);
        d.set_item("fill_id", &f.fill_id)?;
        d.set_item("client_id", &f.client_id)?;
        d.set_item("side", f.side.as_str())?;
        d.set_item("price_ticks", f.price_ticks)?;
        d.set_item("qty_lots", f.qty_lots)?;
        d.set_item("fee", f.fee.to_string())?;
        d.set_item("fee_asset", &f.fee_asset)?;
        d.set_item("ts_ns", f.ts_ns)?;
        list.append(d)?;
    }
    Ok(list)
}

/// Serde's name of a unit enum variant ("place", "cancel", ...).
pub(super) fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|x| x.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub(super) fn side(s: &str) -> PyResult<Side> {
    match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(PyValueError::new_err(format!(
            "side must be 'buy' or 'sell', got {s:?}"
        ))),
    }
}

fn status(s: &str) -> PyResult<OrderStatus> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
        PyValueError::new_err(format!(
            "status must be accepted, rejected, cancelled, partially_filled or filled; got {s:?}"
        ))
    })
}

fn outcome(o: FillOutcome) -> &'static str {
    match o {
        FillOutcome::Applied => "applied",
        FillOutcome::Duplicate => "duplicate",
        FillOutcome::Unknown => "unknown",
    }
}

fn add(engine: &mut SymbolEngine, bot_id: u32, kind: &str, spec_json: &str) -> PyResult<()> {
    let spec = bot_spec(kind, spec_json)?;
    engine
        .add_bot(bot_id, spec)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A bot id and a command from Python, or a ValueError naming what is wrong.
fn command_args(engine: &SymbolEngine, bot_id: i64, command: &str) -> PyResult<(u32, Command)> {
    let cmd: Command = command.parse().map_err(PyValueError::new_err)?;
    match u32::try_from(bot_id) {
        Ok(id) if engine.bot(id).is_some() => Ok((id, cmd)),
        _ => Err(PyValueError::new_err(format!(
            "no bot {bot_id} on this symbol"
        ))),
    }
}

fn open_orders<'py>(
    py: Python<'py>,
    engine: &SymbolEngine,
    bot_id: i64,
) -> PyResult<Bound<'py, PyList>> {
    let orders = u32::try_from(bot_id)
        .ok()
        .and_then(|id| engine.open_orders(id))
        .ok_or_else(|| PyValueError::new_err(format!("no bot {bot_id} on this symbol")))?;
    let list = PyList::empty(py);
    for (id, o) in orders {
        let d = PyDict::new(py);
        d.set_item("client_id", id)?;
        d.set_item("side", o.side.as_str())?;
        d.set_item("order_type", o.order_type.as_str())?;
        d.set_item("price_ticks", o.price_ticks)?;
        d.set_item("qty_lots", o.qty_lots)?;
        d.set_item("filled_lots", o.filled_lots)?;
        d.set_item("reason", o.reason.map(|r| r.as_str()))?;
        d.set_item("cancelling", o.cancelling)?;
        list.append(d)?;
    }
    Ok(list)
}

fn summary(engine: &SymbolEngine, bot_id: u32) -> PyResult<String> {
    engine
        .summary(bot_id)
        .map(|v| v.to_string())
        .ok_or_else(|| PyValueError::new_err(format!("no bot {bot_id}")))
}

/// All bots of one symbol (live use: intents go to an executor, fills come back).
#[pyclass(module = "wisetrader._core")]
pub struct BotEngine {
    inner: SymbolEngine,
}

#[pymethods]
impl BotEngine {
    #[new]
    fn new(instrument_json: &str) -> PyResult<Self> {
        Ok(BotEngine {
            inner: SymbolEngine::new(instrument(instrument_json)?),
        })
    }

    /// Validate and attach a bot; ValueError lists every problem.
    fn add_bot(&mut self, bot_id: u32, kind: &str, spec_json: &str) -> PyResult<()> {
        add(&mut self.inner, bot_id, kind, spec_json)
    }

    fn remove_bot(&mut self, bot_id: u32) -> bool {
        self.inner.remove_bot(bot_id).is_some()
    }

    /// External start signal for a DCA bot.
    fn signal(&mut self, bot_id: u32) -> bool {
        self.inner.signal(bot_id)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// New best bid/ask in ticks: the intents of every bot whose trigger it crosses.
    fn on_top<'py>(
        &mut self,
        py: Python<'py>,
        bid: i64,
        ask: i64,
        ts_ns: i64,
    ) -> PyResult<Bound<'py, PyList>> {
        let inner = &mut self.inner;
        let out = py.detach(|| {
            let mut out = Vec::new();
            inner.on_top(bid, ask, ts_ns, &mut out);
            out
        });
        intents_to_py(py, &out)
    }

    /// Apply a fill; returns ("applied" | "duplicate" | "unknown", intents).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (fill_id, client_id, side, price_ticks, qty_lots, fee, fee_asset, ts_ns))]
    fn on_fill<'py>(
        &mut self,
        py: Python<'py>,
        fill_id: &str,
        client_id: &str,
        side: &str,
        price_ticks: i64,
        qty_lots: i64,
        fee: &str,
        fee_asset: &str,
        ts_ns: i64,
    ) -> PyResult<(&'static str, Bound<'py, PyList>)> {
        let fee: Decimal = fee
            .parse()
            .map_err(|e| PyValueError::new_err(format!("fee {fee:?}: {e}")))?;
        let fill = Fill {
            fill_id: fill_id.to_string(),
            client_id: client_id.to_string(),
            side: self::side(side)?,
            price_ticks,
            qty_lots,
            fee,
            fee_asset: fee_asset.to_string(),
            ts_ns,
        };
        let mut out = Vec::new();
        let o = self.inner.on_fill(&fill, &mut out);
        Ok((outcome(o), intents_to_py(py, &out)?))
    }

    /// Apply an order update; returns (known, intents).
    fn on_update<'py>(
        &mut self,
        py: Python<'py>,
        client_id: &str,
        status: &str,
        ts_ns: i64,
    ) -> PyResult<(bool, Bound<'py, PyList>)> {
        let u = OrderUpdate {
            client_id: client_id.to_string(),
            status: self::status(status)?,
            ts_ns,
        };
        let mut out = Vec::new();
        let known = self.inner.on_update(&u, &mut out);
        Ok((known, intents_to_py(py, &out)?))
    }

    /// A bot's state summary as JSON (decimal strings).
    fn state(&self, bot_id: u32) -> PyResult<String> {
        summary(&self.inner, bot_id)
    }

    /// A user command ("pause", "resume", "stop", "close") at the last top of book; returns
    /// its intents. ValueError for an unknown bot or command, or one the bot's state refuses.
    fn command<'py>(
        &mut self,
        py: Python<'py>,
        bot_id: i64,
        command: &str,
        ts_ns: i64,
    ) -> PyResult<Bound<'py, PyList>> {
        let (id, cmd) = command_args(&self.inner, bot_id, command)?;
        let mut out = Vec::new();
        self.inner
            .command(id, cmd, ts_ns, &mut out)
            .map_err(PyValueError::new_err)?;
        intents_to_py(py, &out)
    }

    /// The orders the bot believes are live or in flight (``cancelling``: a cancel was asked).
    fn open_orders<'py>(&self, py: Python<'py>, bot_id: i64) -> PyResult<Bound<'py, PyList>> {
        open_orders(py, &self.inner, bot_id)
    }

    /// The whole engine state as JSON, restorable exactly with `import_state`.
    fn export_state(&self) -> PyResult<String> {
        self.inner.export_state().map_err(PyValueError::new_err)
    }

    #[staticmethod]
    fn import_state(state_json: &str) -> PyResult<BotEngine> {
        Ok(BotEngine {
            inner: SymbolEngine::import_state(state_json).map_err(PyValueError::new_err)?,
        })
    }
}

/// Bots plus a paper venue for one symbol (paper trading and replays).
#[pyclass(module = "wisetrader._core")]
pub struct PaperSession {
    inner: RustSession,
}

#[pymethods]
impl PaperSession {
    /// `paper_json`: {"fill_model": "strict"|"touch", "maker_fee": "0.001", "taker_fee": "0.001",
    /// "fee_in": "quote"|"received"}.
    #[new]
    #[pyo3(signature = (instrument_json, paper_json = None))]
    fn new(instrument_json: &str, paper_json: Option<&str>) -> PyResult<Self> {
        let inst = instrument(instrument_json)?;
        let cfg = paper_config(paper_json)?;
        Ok(PaperSession {
            inner: RustSession::new(
                SymbolEngine::new(inst.clone()),
                PaperMatcher::new(inst, cfg),
            ),
        })
    }

    fn add_bot(&mut self, bot_id: u32, kind: &str, spec_json: &str) -> PyResult<()> {
        add(&mut self.inner.engine, bot_id, kind, spec_json)
    }

    fn signal(&mut self, bot_id: u32) -> bool {
        self.inner.engine.signal(bot_id)
    }

    /// New top of book (ticks) with optional opposite levels for market orders
    /// (`asks`/`bids`: [(price_ticks, qty_lots)] from the best outward). Returns
    /// (intents, fills) of this step.
    #[pyo3(signature = (bid, ask, ts_ns, asks = Vec::new(), bids = Vec::new()))]
    #[allow(clippy::type_complexity)]
    fn on_top<'py>(
        &mut self,
        py: Python<'py>,
        bid: i64,
        ask: i64,
        ts_ns: i64,
        asks: Vec<(i64, i64)>,
        bids: Vec<(i64, i64)>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let inner = &mut self.inner;
        let step = py.detach(|| inner.on_top(bid, ask, ts_ns, &asks, &bids));
        Ok((
            intents_to_py(py, &step.intents)?,
            fills_to_py(py, &step.fills)?,
        ))
    }

    fn state(&self, bot_id: u32) -> PyResult<String> {
        summary(&self.inner.engine, bot_id)
    }

    /// A user command executed on the paper venue; returns (intents, fills) like ``on_top``.
    #[allow(clippy::type_complexity)]
    fn command<'py>(
        &mut self,
        py: Python<'py>,
        bot_id: i64,
        command: &str,
        ts_ns: i64,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let (id, cmd) = command_args(&self.inner.engine, bot_id, command)?;
        let step = self
            .inner
            .command(id, cmd, ts_ns)
            .map_err(PyValueError::new_err)?;
        Ok((
            intents_to_py(py, &step.intents)?,
            fills_to_py(py, &step.fills)?,
        ))
    }

    fn open_orders<'py>(&self, py: Python<'py>, bot_id: i64) -> PyResult<Bound<'py, PyList>> {
        open_orders(py, &self.inner.engine, bot_id)
    }

    fn export_state(&self) -> PyResult<String> {
        self.inner
            .engine
            .export_state()
            .map_err(PyValueError::new_err)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(plan_bot, m)?)?;
    m.add_class::<BotEngine>()?;
    m.add_class::<PaperSession>()?;
    Ok(())
}

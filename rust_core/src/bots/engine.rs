//! All bots of one symbol, the trigger index that decides which of them a top-of-book change
//! concerns, and routing of fills and order updates by client order id.

use super::dca::{DcaBot, DcaSpec};
use super::desk::Desk;
use super::grid::{GridBot, GridSpec};
use super::triggers::{Trigger, TriggerIndex};
use super::{
    parse_client_id, BotError, BotErrors, Command, Control, Fill, Instrument, InstrumentSpec,
    Intent, OpenOrder, OrderUpdate,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A bot definition of either kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum BotSpec {
    Grid(GridSpec),
    Dca(DcaSpec),
}

/// A running bot of either kind (its whole state, exported and imported exactly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[allow(clippy::large_enum_variant)]
pub enum Bot {
    Grid(GridBot),
    Dca(DcaBot),
}

/// What happened to a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FillOutcome {
    Applied,
    /// Same fill id seen before: not applied twice.
    Duplicate,
    /// Not an order of ours (unknown bot, unknown order, or inconsistent side/quantity).
    Unknown,
}

impl Bot {
    fn triggers(&self, inst: &Instrument, out: &mut Vec<Trigger>) -> bool {
        match self {
            Bot::Grid(b) => b.triggers(inst, out),
            Bot::Dca(b) => b.triggers(inst, out),
        }
    }

    fn on_top(&mut self, inst: &Instrument, bid: i64, ask: i64, now: i64, out: &mut Vec<Intent>) {
        match self {
            Bot::Grid(b) => b.on_top(inst, bid, ask, out),
            Bot::Dca(b) => b.on_top(inst, bid, ask, now, out),
        }
    }

    pub fn desk(&self) -> &Desk {
        match self {
            Bot::Grid(b) => &b.desk,
            Bot::Dca(b) => &b.desk,
        }
    }

    fn desk_mut(&mut self) -> &mut Desk {
        match self {
            Bot::Grid(b) => &mut b.desk,
            Bot::Dca(b) => &mut b.desk,
        }
    }

    pub fn control(&self) -> Control {
        self.desk().control
    }
}

/// Counters of one engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStats {
    pub tops: u64,
    pub bad_tops: u64,
    pub bot_evaluations: u64,
    pub fills_applied: u64,
    pub duplicate_fills: u64,
    pub unknown_fills: u64,
    pub unknown_updates: u64,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    instrument: InstrumentSpec,
    bots: BTreeMap<u32, Bot>,
    stats: EngineStats,
}

/// Every bot on one symbol.
#[derive(Debug, Clone)]
pub struct SymbolEngine {
    inst: Instrument,
    bots: BTreeMap<u32, Bot>,
    index: TriggerIndex,
    registered: BTreeMap<u32, Vec<Trigger>>,
    every_top: BTreeSet<u32>,
    scratch: Vec<u32>,
    trig_buf: Vec<Trigger>,
    /// Last valid best bid/ask (ticks): the current price for commands.
    last_top: (i64, i64),
    pub stats: EngineStats,
}

impl SymbolEngine {
    pub fn new(inst: Instrument) -> SymbolEngine {
        SymbolEngine {
            inst,
            bots: BTreeMap::new(),
            index: TriggerIndex::new(),
            registered: BTreeMap::new(),
            every_top: BTreeSet::new(),
            scratch: Vec::new(),
            trig_buf: Vec::new(),
            last_top: (0, 0),
            stats: EngineStats::default(),
        }
    }

    pub fn instrument(&self) -> &Instrument {
        &self.inst
    }

    pub fn len(&self) -> usize {
        self.bots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bots.is_empty()
    }

    pub fn trigger_count(&self) -> usize {
        self.index.len()
    }

    pub fn bot(&self, id: u32) -> Option<&Bot> {
        self.bots.get(&id)
    }

    pub fn bot_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.bots.keys().copied()
    }

    /// Validate and attach a bot. One error per problem.
    pub fn add_bot(&mut self, id: u32, spec: BotSpec) -> Result<(), BotErrors> {
        if self.bots.contains_key(&id) {
            return Err(BotErrors(vec![BotError::new(
                "id",
                format!("bot {id} already exists on this symbol"),
            )]));
        }
        let bot = match spec {
            BotSpec::Grid(s) => Bot::Grid(GridBot::new(id, s, &self.inst)?),
            BotSpec::Dca(s) => Bot::Dca(DcaBot::new(id, s, &self.inst)?),
        };
        self.bots.insert(id, bot);
        self.reindex(id);
        Ok(())
    }

    pub fn remove_bot(&mut self, id: u32) -> Option<Bot> {
        self.unindex(id);
        self.bots.remove(&id)
    }

    /// Send an external start signal to a DCA bot. `false` if there is no such DCA bot.
    pub fn signal(&mut self, id: u32) -> bool {
        let ok = match self.bots.get_mut(&id) {
            Some(Bot::Dca(b)) => {
                b.signal();
                true
            }
            _ => false,
        };
        if ok {
            self.reindex(id);
        }
        ok
    }

    fn unindex(&mut self, id: u32) {
        if let Some(old) = self.registered.remove(&id) {
            for t in old {
                self.index.remove(id, t);
            }
        }
        self.every_top.remove(&id);
    }

    /// Re-register a bot's wake-up conditions after its state changed.
    fn reindex(&mut self, id: u32) {
        let Some(bot) = self.bots.get(&id) else {
            self.unindex(id);
            return;
        };
        self.trig_buf.clear();
        let indexed = bot.triggers(&self.inst, &mut self.trig_buf);
        self.trig_buf.sort_unstable();
        self.trig_buf.dedup();
        if indexed {
            self.every_top.remove(&id);
        } else {
            self.every_top.insert(id);
        }
        if self
            .registered
            .get(&id)
            .is_some_and(|old| *old == self.trig_buf)
        {
            return;
        }
        if let Some(old) = self.registered.remove(&id) {
            for t in old {
                self.index.remove(id, t);
            }
        }
        for t in &self.trig_buf {
            self.index.insert(id, *t);
        }
        self.registered.insert(id, self.trig_buf.clone());
    }

    /// A new best bid/ask (ticks) at `now_ns`: evaluate the bots whose triggers it crosses and
    /// append their intents to `out`. Cost O(log n + k); O(1) when nothing is crossed.
    pub fn on_top(&mut self, bid: i64, ask: i64, now_ns: i64, out: &mut Vec<Intent>) {
        self.stats.tops += 1;
        if bid <= 0 || ask <= 0 || bid >= ask {
            // A crossed or empty top is not a price any bot may act on.
            self.stats.bad_tops += 1;
            return;
        }
        self.last_top = (bid, ask);
        self.scratch.clear();
        self.index.collect(bid, ask, now_ns, &mut self.scratch);
        if self.scratch.is_empty() && self.every_top.is_empty() {
            return;
        }
        self.scratch.extend(self.every_top.iter().copied());
        // Bot-id order: the same inputs always give the same intents in the same order.
        self.scratch.sort_unstable();
        self.scratch.dedup();
        let fired = std::mem::take(&mut self.scratch);
        for &id in &fired {
            if let Some(bot) = self.bots.get_mut(&id) {
                bot.on_top(&self.inst, bid, ask, now_ns, out);
                self.stats.bot_evaluations += 1;
            }
            self.reindex(id);
        }
        self.scratch = fired;
    }

    /// A user command to bot `id` at `now_ns`, at the last top of book seen (see
    /// [`Control`]); its intents go to `out`. An error (unknown bot, command not allowed in the
    /// bot's state) changes nothing.
    pub fn command(
        &mut self,
        id: u32,
        cmd: Command,
        now_ns: i64,
        out: &mut Vec<Intent>,
    ) -> Result<(), String> {
        let bot = self
            .bots
            .get_mut(&id)
            .ok_or_else(|| format!("no bot {id} on this symbol"))?;
        let (bid, ask) = self.last_top;
        let desk = bot.desk_mut();
        let seen = (desk.last_bid, desk.last_ask);
        if bid > 0 && ask > bid {
            (desk.last_bid, desk.last_ask) = (bid, ask);
        }
        let done = match bot {
            Bot::Grid(b) => b.command(&self.inst, cmd, out),
            Bot::Dca(b) => b.command(&self.inst, cmd, now_ns, out),
        };
        if done.is_err() {
            // Refused before any change: leave the state exactly as it was.
            let desk = bot.desk_mut();
            (desk.last_bid, desk.last_ask) = seen;
            return done;
        }
        self.reindex(id);
        Ok(())
    }

    /// The orders bot `id` believes are live or in flight, by client id (`None`: no such bot).
    pub fn open_orders(&self, id: u32) -> Option<&BTreeMap<String, OpenOrder>> {
        self.bots.get(&id).map(|b| &b.desk().orders)
    }

    /// Apply a fill (routed by client order id); intents it causes go to `out`.
    pub fn on_fill(&mut self, fill: &Fill, out: &mut Vec<Intent>) -> FillOutcome {
        let id = parse_client_id(&fill.client_id).map(|p| p.0);
        let outcome = match id.and_then(|id| self.bots.get_mut(&id)) {
            None => FillOutcome::Unknown,
            Some(Bot::Grid(b)) => b.on_fill(&self.inst, fill, out),
            Some(Bot::Dca(b)) => b.on_fill(&self.inst, fill, out),
        };
        match outcome {
            FillOutcome::Applied => self.stats.fills_applied += 1,
            FillOutcome::Duplicate => self.stats.duplicate_fills += 1,
            FillOutcome::Unknown => self.stats.unknown_fills += 1,
        }
        if let (Some(id), FillOutcome::Applied) = (id, outcome) {
            self.reindex(id);
        }
        outcome
    }

    /// Apply an order update; `false` for an order that is not ours.
    pub fn on_update(&mut self, update: &OrderUpdate, out: &mut Vec<Intent>) -> bool {
        let id = parse_client_id(&update.client_id).map(|p| p.0);
        let known = match id.and_then(|id| self.bots.get_mut(&id)) {
            None => false,
            Some(Bot::Grid(b)) => b.on_update(&self.inst, update, out),
            Some(Bot::Dca(b)) => b.on_update(&self.inst, update, out),
        };
        if !known {
            self.stats.unknown_updates += 1;
        }
        if let (Some(id), true) = (id, known) {
            self.reindex(id);
        }
        known
    }

    /// The whole state as JSON (decimal strings), for a restart.
    pub fn export_state(&self) -> Result<String, String> {
        let snap = Snapshot {
            instrument: self.inst.spec.clone(),
            bots: self.bots.clone(),
            stats: self.stats.clone(),
        };
        serde_json::to_string(&snap).map_err(|e| e.to_string())
    }

    /// Rebuild an engine from [`SymbolEngine::export_state`] output.
    pub fn import_state(json: &str) -> Result<SymbolEngine, String> {
        let snap: Snapshot =
            serde_json::from_str(json).map_err(|e| format!("bad bot state: {e}"))?;
        let inst = Instrument::from_spec(&snap.instrument).map_err(|e| e.to_string())?;
        for (id, bot) in &snap.bots {
            let consistent = match bot {
                Bot::Grid(b) => {
                    b.desk.bot == *id
                        && b.buy.len() == b.sell.len()
                        && (b.slots.is_empty() || b.slots.len() + 1 == b.buy.len())
                }
                Bot::Dca(b) => b.desk.bot == *id && b.next_so <= b.ladder.len(),
            };
            if !consistent {
                return Err(format!("bad bot state: bot {id} is inconsistent"));
            }
        }
        let mut eng = SymbolEngine::new(inst);
        eng.bots = snap.bots;
        eng.stats = snap.stats;
        let ids: Vec<u32> = eng.bots.keys().copied().collect();
        for id in ids {
            eng.reindex(id);
        }
        Ok(eng)
    }

    /// A readable summary of one bot (decimal strings), at the mark price `mark_ticks`.
    pub fn summary(&self, id: u32) -> Option<serde_json::Value> {
        let inst = &self.inst;
        let bot = self.bots.get(&id)?;
        let fees = |l: &super::Ledger| -> BTreeMap<String, String> {
            l.fees
                .iter()
                .map(|(k, v)| (k.clone(), v.normalize().to_string()))
                .collect()
        };
        let s = |d: Decimal| d.normalize().to_string();
        Some(match bot {
            Bot::Grid(b) => {
                let mark = (b.desk.last_bid + b.desk.last_ask) / 2;
                let floating = b.floating_pnl(inst, mark);
                serde_json::json!({
                    "kind": "grid",
                    "status": status(b.desk.control, &b.status),
                    "control": b.desk.control,
                    "realized_pnl": s(b.desk.ledger.realized_pnl),
                    "grid_profit": s(b.grid_profit),
                    "floating_pnl": s(floating),
                    "total_pnl": s(b.desk.ledger.realized_pnl + floating),
                    "quote_balance": s(b.quote),
                    "base_balance": s(b.base),
                    "matched_trades": b.matched_trades,
                    "trailing_shifts": b.trailing_shifts,
                    "open_orders": b.desk.orders.len(),
                    "fees": fees(&b.desk.ledger),
                    "fills_applied": b.desk.ledger.fills_applied,
                    "duplicate_fills": b.desk.ledger.duplicate_fills,
                    "unknown_fills": b.desk.ledger.unknown_fills,
                    "unplaceable": b.desk.unplaceable,
                    "stop_reason": b.stop_reason,
                    "levels": b.buy.iter().map(|t| inst.fmt_price(*t)).collect::<Vec<_>>(),
                })
            }
            Bot::Dca(b) => serde_json::json!({
                "kind": "dca",
                "status": status(b.desk.control, &b.status),
                "control": b.desk.control,
                "deal_status": b.status,
                "deal": b.deal,
                "deals_closed": b.deals_closed,
                "realized_pnl": s(b.desk.ledger.realized_pnl),
                "position": s(b.position),
                "cost": s(b.cost),
                "avg_entry": s(b.avg_entry().round_dp(12)),
                "safety_orders_filled": b.safety_filled,
                "take_profit_orders": b.tp_orders,
                "open_orders": b.desk.orders.len(),
                "fees": fees(&b.desk.ledger),
                "fills_applied": b.desk.ledger.fills_applied,
                "duplicate_fills": b.desk.ledger.duplicate_fills,
                "unknown_fills": b.desk.ledger.unknown_fills,
                "unplaceable": b.desk.unplaceable,
                "trailing_armed": b.trailing_armed,
            }),
        })
    }
}

/// A bot's status for people: what the user told it when that overrides its own state machine
/// (paused, stopped, closing), else the state machine's status.
fn status<S: Serialize>(control: Control, own: &S) -> serde_json::Value {
    match control {
        Control::Running => serde_json::to_value(own).unwrap_or_default(),
        c => serde_json::Value::String(c.as_str().to_string()),
    }
}

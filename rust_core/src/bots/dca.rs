//! DCA (safety-order) bot: definition, validation, ladder plan (exact decimal) and the runtime
//! deal state machine (integer ticks and lots, P&L exact per fill).
//!
//! Semantics ("% from base order"): safety order n sits at the cumulative deviation
//! `d_n = D·(S^n − 1)/(S − 1)` (`n·D` when S = 1) from the base order's fill price, sized
//! `SO·V^(n−1)` (quote or base). Take profit is from the average entry (`total`) or a profit of
//! tp × base order (`base`). Long buys then sells; short sells then buys back.

use super::desk::{Checked, Desk, Execution};
use super::triggers::Trigger;
use super::{
    pct, BotError, BotErrors, Command, Control, Fill, Instrument, Intent, Leg, OrderStatus,
    OrderType, OrderUpdate, Placement, Reason, Side,
};
use crate::bots::engine::FillOutcome;
use rust_decimal::{Decimal, MathematicalOps};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Long,
    Short,
}

/// An order size in quote or in base (exactly one of the two).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSize {
    #[serde(default)]
    pub quote: Option<Decimal>,
    #[serde(default)]
    pub base: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TakeProfitType {
    /// % from the average entry of the whole deal.
    #[default]
    Total,
    /// A profit of tp × the base order's quote value.
    Base,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeProfitStep {
    pub amount_pct: Decimal,
    pub profit_pct: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DealStart {
    /// Start a deal as soon as possible (after the cooldown).
    #[default]
    Asap,
    /// Start when the price reaches `start_trigger_price` (long: ask at or below; short: bid at
    /// or above).
    Price,
    /// Start on an external signal.
    Signal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartOrderType {
    #[default]
    Market,
    Limit,
}

/// A DCA bot as the user defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DcaSpec {
    #[serde(default)]
    pub side: Direction,
    pub base_order: OrderSize,
    pub safety_order: OrderSize,
    pub price_deviation_pct: Decimal,
    #[serde(default = "one")]
    pub step_scale: Decimal,
    #[serde(default = "one")]
    pub volume_scale: Decimal,
    pub max_safety_orders: u32,
    #[serde(default)]
    pub max_active_safety_orders: Option<u32>,
    pub take_profit_pct: Decimal,
    #[serde(default)]
    pub take_profit_type: TakeProfitType,
    #[serde(default)]
    pub take_profit_steps: Vec<TakeProfitStep>,
    #[serde(default)]
    pub trailing_deviation_pct: Option<Decimal>,
    #[serde(default)]
    pub stop_loss_pct: Option<Decimal>,
    #[serde(default)]
    pub sl_to_breakeven: bool,
    #[serde(default)]
    pub cooldown_seconds: u64,
    #[serde(default)]
    pub start: DealStart,
    #[serde(default)]
    pub start_trigger_price: Option<Decimal>,
    #[serde(default)]
    pub start_order_type: StartOrderType,
    /// Stop after this many deals (none: run forever).
    #[serde(default)]
    pub max_deals: Option<u32>,
    /// Quote available to the bot; the plan errors when the ladder needs more.
    #[serde(default)]
    pub budget: Option<Decimal>,
    pub fee_rate: Decimal,
    #[serde(default)]
    pub placement: Placement,
    /// The base order's fill price used by the plan.
    #[serde(default)]
    pub start_price: Option<Decimal>,
}

fn one() -> Decimal {
    Decimal::ONE
}

/// One rung of a ladder in ticks and lots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    pub price_ticks: i64,
    pub qty_lots: i64,
    /// Cumulative deviation from the base price (fraction), exact.
    pub deviation: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcaPlanOrder {
    /// 0 = base order, n = safety order n.
    pub number: u32,
    pub kind: String,
    pub deviation_pct: String,
    pub price: String,
    pub qty: String,
    pub quote: String,
    pub cum_quote: String,
    pub avg_entry: String,
    pub take_profit: String,
    /// The take-profit order's price on the tick grid (sell up / buy down).
    pub take_profit_price: String,
    /// Move needed from this order's price to the take profit.
    pub bounce_pct: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcaPlan {
    pub kind: String,
    pub side: Direction,
    pub start_price: String,
    pub orders: Vec<DcaPlanOrder>,
    pub max_funds: String,
    pub max_deviation_pct: String,
    pub last_order_price: String,
    pub warnings: Vec<String>,
    pub errors: Vec<BotError>,
}

const SCALE_MIN: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
const SCALE_MAX: Decimal = Decimal::from_parts(10, 0, 0, false, 0);
const MAX_SAFETY_ORDERS: u32 = 200;
/// A safety order's client-id level is `generation · SO_GEN_STRIDE + n`: safety orders placed
/// again after a pause get fresh ids (a cancelled id is never sent twice).
const SO_GEN_STRIDE: u32 = 1000;
const MAX_SO_GEN: u32 = super::ids::MAX_LEVEL / SO_GEN_STRIDE - 1;

/// Ladder position (1-based safety order number) of a safety order's id level.
fn rung_of(level: u32) -> usize {
    (level % SO_GEN_STRIDE) as usize
}

fn hundred() -> Decimal {
    Decimal::ONE_HUNDRED
}

/// Cumulative deviation of safety order `n` (fraction); S = 1 in closed form.
pub fn deviation(spec: &DcaSpec, n: u32) -> Decimal {
    let d = spec.price_deviation_pct / hundred();
    if spec.step_scale == Decimal::ONE {
        d * Decimal::from(n)
    } else {
        d * (spec.step_scale.powu(n as u64) - Decimal::ONE) / (spec.step_scale - Decimal::ONE)
    }
}

/// Size multiplier of safety order `n`: V^(n−1) (1 when V = 1).
fn volume_factor(spec: &DcaSpec, n: u32) -> Decimal {
    if spec.volume_scale == Decimal::ONE || n <= 1 {
        Decimal::ONE
    } else {
        spec.volume_scale.powu((n - 1) as u64)
    }
}

fn entry_side(spec: &DcaSpec) -> Side {
    match spec.side {
        Direction::Long => Side::Buy,
        Direction::Short => Side::Sell,
    }
}

fn size_lots(inst: &Instrument, size: &OrderSize, factor: Decimal, price: Decimal) -> Option<i64> {
    match (size.quote, size.base) {
        (Some(q), None) => inst.qty_lots((q * factor).checked_div(price)?),
        (None, Some(b)) => inst.qty_lots(b * factor),
        _ => None,
    }
}

/// Problems in the definition that do not depend on prices.
fn check_static(spec: &DcaSpec) -> Vec<BotError> {
    let mut e = Vec::new();
    for (field, v) in [
        ("base_order.quote", spec.base_order.quote),
        ("base_order.base", spec.base_order.base),
        ("safety_order.quote", spec.safety_order.quote),
        ("safety_order.base", spec.safety_order.base),
        ("start_trigger_price", spec.start_trigger_price),
        ("budget", spec.budget),
        ("start_price", spec.start_price),
        ("take_profit_pct", Some(spec.take_profit_pct)),
    ] {
        if let Some(v) = v {
            super::check_bounds(field, v, &mut e);
        }
    }
    for s in &spec.take_profit_steps {
        super::check_bounds("take_profit_steps", s.amount_pct, &mut e);
        super::check_bounds("take_profit_steps", s.profit_pct, &mut e);
    }
    if !e.is_empty() {
        return e;
    }
    for (field, s) in [
        ("base_order", &spec.base_order),
        ("safety_order", &spec.safety_order),
    ] {
        match (s.quote, s.base) {
            (Some(v), None) | (None, Some(v)) if v > Decimal::ZERO => {}
            (Some(_), Some(_)) => {
                e.push(BotError::new(field, "give either quote or base, not both"))
            }
            (None, None) => e.push(BotError::new(field, "give quote or base")),
            (Some(v), None) | (None, Some(v)) => e.push(BotError::new(
                field,
                format!("size must be positive, got {v}"),
            )),
        }
    }
    if spec.price_deviation_pct <= Decimal::ZERO || spec.price_deviation_pct >= hundred() {
        e.push(BotError::new(
            "price_deviation_pct",
            format!("must be in (0, 100), got {}", spec.price_deviation_pct),
        ));
    }
    for (field, v) in [
        ("step_scale", spec.step_scale),
        ("volume_scale", spec.volume_scale),
    ] {
        if v < SCALE_MIN || v > SCALE_MAX {
            e.push(BotError::new(
                field,
                format!("must be in [0.1, 10], got {v}"),
            ));
        }
    }
    let n = spec.max_safety_orders.min(MAX_SAFETY_ORDERS) as u64;
    for (field, v) in [
        ("step_scale", spec.step_scale),
        ("volume_scale", spec.volume_scale),
    ] {
        let ok = v >= SCALE_MIN && v <= SCALE_MAX;
        if ok && v.checked_powu(n).is_none_or(|x| x > super::MAX_INPUT) {
            e.push(BotError::new(
                field,
                format!(
                    "{v} to the power max_safety_orders ({n}) is out of range; lower one of them"
                ),
            ));
        }
    }
    if spec.max_safety_orders > MAX_SAFETY_ORDERS {
        e.push(BotError::new(
            "max_safety_orders",
            format!(
                "must be at most {MAX_SAFETY_ORDERS}, got {}",
                spec.max_safety_orders
            ),
        ));
    }
    if let Some(a) = spec.max_active_safety_orders {
        if spec.max_safety_orders > 0 && (a == 0 || a > spec.max_safety_orders) {
            e.push(BotError::new(
                "max_active_safety_orders",
                format!(
                    "must be between 1 and max_safety_orders ({}), got {a}",
                    spec.max_safety_orders
                ),
            ));
        }
    }
    if spec.take_profit_steps.is_empty() {
        if spec.take_profit_pct <= Decimal::ZERO {
            e.push(BotError::new(
                "take_profit_pct",
                format!("must be positive, got {}", spec.take_profit_pct),
            ));
        }
    } else {
        if spec.take_profit_steps.len() > 4 {
            e.push(BotError::new(
                "take_profit_steps",
                format!("at most 4 targets, got {}", spec.take_profit_steps.len()),
            ));
        }
        let total = spec
            .take_profit_steps
            .iter()
            .fold(Decimal::ZERO, |a, s| a + s.amount_pct);
        if total != hundred() {
            e.push(BotError::new(
                "take_profit_steps",
                format!("amount_pct must add up to 100, got {total}"),
            ));
        }
        if spec
            .take_profit_steps
            .iter()
            .any(|s| s.profit_pct <= Decimal::ZERO || s.amount_pct <= Decimal::ZERO)
        {
            e.push(BotError::new(
                "take_profit_steps",
                "every amount_pct and profit_pct must be positive",
            ));
        }
        if spec.trailing_deviation_pct.is_some() {
            e.push(BotError::new(
                "trailing_deviation_pct",
                "trailing take profit cannot be combined with take_profit_steps",
            ));
        }
    }
    if let Some(t) = spec.trailing_deviation_pct {
        if t <= Decimal::ZERO || t >= hundred() {
            e.push(BotError::new(
                "trailing_deviation_pct",
                format!("must be in (0, 100), got {t}"),
            ));
        }
    }
    if let Some(sl) = spec.stop_loss_pct {
        if sl <= Decimal::ZERO || sl >= hundred() {
            e.push(BotError::new(
                "stop_loss_pct",
                format!("must be in (0, 100), got {sl}"),
            ));
        }
    }
    if spec.start == DealStart::Price && spec.start_trigger_price.is_none_or(|p| p <= Decimal::ZERO)
    {
        e.push(BotError::new(
            "start_trigger_price",
            "a positive price is required when start is 'price'",
        ));
    }
    if spec.fee_rate < Decimal::ZERO || spec.fee_rate >= Decimal::new(1, 1) {
        e.push(BotError::new(
            "fee_rate",
            format!("must be in [0, 0.1), got {}", spec.fee_rate),
        ));
    }
    e
}

/// The safety-order ladder from a base price `p0` (exact), rounded with the exchange rules.
pub fn ladder(spec: &DcaSpec, inst: &Instrument, p0: Decimal) -> Result<Vec<Rung>, BotErrors> {
    let (rungs, errs) = ladder_checked(spec, inst, p0);
    if errs.is_empty() {
        Ok(rungs)
    } else {
        Err(BotErrors(errs))
    }
}

/// The ladder and every problem with it (unplaceable rungs are kept, so budgets still add up).
fn ladder_checked(spec: &DcaSpec, inst: &Instrument, p0: Decimal) -> (Vec<Rung>, Vec<BotError>) {
    let mut errs = Vec::new();
    let mut out = Vec::with_capacity(spec.max_safety_orders as usize);
    let side = entry_side(spec);
    for n in 1..=spec.max_safety_orders {
        let d = deviation(spec, n);
        let raw = match spec.side {
            Direction::Long => p0 * (Decimal::ONE - d),
            Direction::Short => p0 * (Decimal::ONE + d),
        };
        let price = inst.price_ticks(raw, side).filter(|p| *p > 0);
        let Some(price) = price else {
            errs.push(BotError::new(
                "price_deviation_pct",
                format!(
                    "safety order {n} at cumulative deviation {} % from {p0} has no positive price; lower price_deviation_pct, step_scale or max_safety_orders",
                    pct(d)
                ),
            ));
            break;
        };
        let qty = size_lots(
            inst,
            &spec.safety_order,
            volume_factor(spec, n),
            inst.price(price),
        )
        .unwrap_or(0);
        if !inst.placeable(price, qty) {
            errs.push(BotError::new(
                "safety_order",
                format!(
                    "safety order {n} ({} × {} = {}) is below the venue minimum (min qty {}, min notional {})",
                    inst.fmt_qty(qty),
                    inst.fmt_price(price),
                    inst.notional(price, qty).normalize(),
                    inst.fmt_qty(inst.min_qty_lots),
                    inst.min_notional
                ),
            ));
        }
        out.push(Rung {
            price_ticks: price,
            qty_lots: qty,
            deviation: d,
        });
    }
    (out, errs)
}

/// Base order quantity at `price`.
fn base_lots(spec: &DcaSpec, inst: &Instrument, price: Decimal) -> i64 {
    size_lots(inst, &spec.base_order, Decimal::ONE, price).unwrap_or(0)
}

/// Take-profit price (exact) for cost `c`, quantity `q` and base-order quote `bo`.
fn tp_exact(spec: &DcaSpec, tp: Decimal, c: Decimal, q: Decimal, bo: Decimal) -> Decimal {
    if q <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    match (spec.take_profit_type, spec.side) {
        (TakeProfitType::Total, Direction::Long) => c / q * (Decimal::ONE + tp),
        (TakeProfitType::Total, Direction::Short) => c / q * (Decimal::ONE - tp),
        (TakeProfitType::Base, Direction::Long) => (c + tp * bo) / q,
        (TakeProfitType::Base, Direction::Short) => (c - tp * bo) / q,
    }
}

/// The plan: every order of the ladder with the running average and take profit.
pub fn plan(spec: &DcaSpec, inst: &Instrument) -> DcaPlan {
    let mut errors = check_static(spec);
    let mut warnings = Vec::new();
    let p0 = spec.start_price.unwrap_or_default();
    if p0 <= Decimal::ZERO {
        errors.push(BotError::new(
            "start_price",
            "a positive start_price (the base order's fill price) is needed for the plan; there is no live price offline",
        ));
    }
    let mut plan = DcaPlan {
        kind: "dca".into(),
        side: spec.side,
        start_price: p0.to_string(),
        orders: vec![],
        max_funds: "0".into(),
        max_deviation_pct: "0".into(),
        last_order_price: "0".into(),
        warnings: vec![],
        errors: vec![],
    };
    if !errors.is_empty() {
        plan.errors = errors;
        return plan;
    }
    let side = entry_side(spec);
    let exit = side.opposite();
    let tp = spec.take_profit_pct / hundred();
    let p0_ticks = inst.price_ticks(p0, side).unwrap_or(0);
    let bo_lots = base_lots(spec, inst, p0);
    if !inst.placeable(p0_ticks, bo_lots) {
        errors.push(BotError::new(
            "base_order",
            format!(
                "base order ({} × {} = {}) is below the venue minimum (min qty {}, min notional {})",
                inst.fmt_qty(bo_lots),
                p0,
                (inst.qty(bo_lots) * p0).normalize(),
                inst.fmt_qty(inst.min_qty_lots),
                inst.min_notional
            ),
        ));
    }
    let (rungs, ladder_errors) = ladder_checked(spec, inst, p0);
    errors.extend(ladder_errors);
    let bo_quote = inst.qty(bo_lots) * p0;
    let (mut c, mut q) = (bo_quote, inst.qty(bo_lots));
    let scale = inst.tick.scale() as u32;
    let mut push = |number: u32,
                    kind: &str,
                    dev: Decimal,
                    price: Decimal,
                    lots: i64,
                    c: Decimal,
                    q: Decimal| {
        let t = tp_exact(spec, tp, c, q, bo_quote);
        let bounce = if price > Decimal::ZERO {
            (t / price - Decimal::ONE).abs()
        } else {
            Decimal::ZERO
        };
        plan.orders.push(DcaPlanOrder {
            number,
            kind: kind.into(),
            deviation_pct: pct(dev),
            price: match inst.price_ticks(price, side) {
                // On the tick grid, printed with the tick's decimals.
                Some(t) if inst.price(t) == price => inst.fmt_price(t),
                _ => price.normalize().to_string(),
            },
            qty: inst.fmt_qty(lots),
            quote: (inst.qty(lots) * price).normalize().to_string(),
            cum_quote: c.normalize().to_string(),
            avg_entry: if q > Decimal::ZERO {
                (c / q).round_dp(scale + 4).normalize().to_string()
            } else {
                "0".into()
            },
            take_profit: t.round_dp(scale + 4).normalize().to_string(),
            take_profit_price: inst
                .price_ticks(t, exit)
                .map(|p| inst.fmt_price(p))
                .unwrap_or_default(),
            bounce_pct: pct(bounce),
        });
    };
    push(0, "base", Decimal::ZERO, p0, bo_lots, c, q);
    for (i, r) in rungs.iter().enumerate() {
        let price = inst.price(r.price_ticks);
        c += inst.notional(r.price_ticks, r.qty_lots);
        q += inst.qty(r.qty_lots);
        push(i as u32 + 1, "safety", r.deviation, price, r.qty_lots, c, q);
    }
    plan.max_funds = c.normalize().to_string();
    plan.max_deviation_pct = pct(deviation(spec, spec.max_safety_orders));
    plan.last_order_price = plan
        .orders
        .last()
        .map(|o| o.price.clone())
        .unwrap_or_default();
    if let Some(b) = spec.budget {
        if b < c {
            errors.push(BotError::new(
                "budget",
                format!(
                    "{b} is too small for the ladder: max funds are {}",
                    c.round_dp(8).normalize()
                ),
            ));
        }
    }
    if let Some(t) = spec.trailing_deviation_pct {
        if t >= spec.take_profit_pct {
            warnings.push(format!(
                "trailing_deviation_pct {t} >= take_profit_pct {}: a trailing exit can land below break-even",
                spec.take_profit_pct
            ));
        }
    }
    if spec.take_profit_pct <= spec.fee_rate * Decimal::TWO * hundred()
        && spec.take_profit_steps.is_empty()
    {
        warnings.push(format!(
            "take_profit_pct {} does not cover two fees of {} %",
            spec.take_profit_pct,
            pct(spec.fee_rate)
        ));
    }
    plan.warnings = warnings;
    plan.errors = errors;
    plan
}

// ---------------------------------------------------------------------------------------------
// Runtime

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    /// No deal; waiting for the start condition (and the cooldown).
    Idle,
    /// Base order in flight.
    Opening,
    /// Position open; safety orders and take profit active.
    Open,
    /// Exit market order in flight (stop loss or trailing take profit).
    Closing,
    /// `max_deals` reached.
    Finished,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcaBot {
    pub spec: DcaSpec,
    pub desk: Desk,
    pub status: DealStatus,
    /// Deal number (cycle of every client id of the deal).
    pub deal: u32,
    pub deals_closed: u32,
    pub cooldown_until_ns: i64,
    pub signal_pending: bool,
    /// The deal's ladder (computed when the base order is done) and the next one to place.
    pub ladder: Vec<Rung>,
    pub next_so: usize,
    pub safety_filled: u32,
    /// Position (base, net of base fees) and its cost (quote) — proceeds for a short.
    pub position: Decimal,
    pub cost: Decimal,
    /// Base order quote value (for take_profit_type base) and its exact fill price.
    pub base_quote: Decimal,
    pub base_qty: Decimal,
    /// Live take-profit orders (one per target) and the version counter of their ids.
    pub tp_orders: Vec<String>,
    pub tp_version: u32,
    pub tp_steps_filled: u32,
    pub breakeven: bool,
    /// Trailing take profit: armed and the best price seen since.
    pub trailing_armed: bool,
    pub trailing_best: i64,
    pub now_ns: i64,
    pub deal_pnl: Decimal,
    /// Pauses so far (the generation part of safety-order ids).
    #[serde(default)]
    pub so_gen: u32,
}

impl DcaBot {
    pub fn new(id: u32, spec: DcaSpec, inst: &Instrument) -> Result<DcaBot, BotErrors> {
        let errs = check_static(&spec);
        if !errs.is_empty() {
            return Err(BotErrors(errs));
        }
        // Validate the whole ladder at the plan price when one is given.
        if spec.start_price.is_some() {
            let p = plan(&spec, inst);
            if !p.errors.is_empty() {
                return Err(BotErrors(p.errors));
            }
        }
        Ok(DcaBot {
            spec,
            desk: Desk::new(id),
            status: DealStatus::Idle,
            deal: 0,
            deals_closed: 0,
            cooldown_until_ns: i64::MIN,
            signal_pending: false,
            ladder: vec![],
            next_so: 0,
            safety_filled: 0,
            position: Decimal::ZERO,
            cost: Decimal::ZERO,
            base_quote: Decimal::ZERO,
            base_qty: Decimal::ZERO,
            tp_orders: vec![],
            tp_version: 0,
            tp_steps_filled: 0,
            breakeven: false,
            trailing_armed: false,
            trailing_best: 0,
            now_ns: 0,
            deal_pnl: Decimal::ZERO,
            so_gen: 0,
        })
    }

    fn long(&self) -> bool {
        self.spec.side == Direction::Long
    }

    pub fn signal(&mut self) {
        self.signal_pending = true;
    }

    pub fn avg_entry(&self) -> Decimal {
        if self.position > Decimal::ZERO {
            self.cost / self.position
        } else {
            Decimal::ZERO
        }
    }

    fn exit_side(&self) -> Side {
        entry_side(&self.spec).opposite()
    }

    /// Take-profit price (ticks) for a target with `profit_pct`.
    fn tp_ticks(&self, inst: &Instrument, profit_pct: Decimal) -> Option<i64> {
        let t = tp_exact(
            &self.spec,
            profit_pct / hundred(),
            self.cost,
            self.position,
            self.base_quote,
        );
        inst.price_ticks(t, self.exit_side()).filter(|p| *p > 0)
    }

    fn sl_ticks(&self, inst: &Instrument) -> Option<i64> {
        let a = self.avg_entry();
        if self.breakeven {
            return inst.price_ticks(a, self.exit_side());
        }
        let sl = self.spec.stop_loss_pct? / hundred();
        match self.spec.side {
            Direction::Long => inst.price_ticks(a * (Decimal::ONE - sl), Side::Buy),
            Direction::Short => inst.price_ticks(a * (Decimal::ONE + sl), Side::Sell),
        }
    }

    fn trailing_exit(&self, inst: &Instrument) -> Option<i64> {
        let dev = self.spec.trailing_deviation_pct? / hundred();
        let best = inst.price(self.trailing_best);
        match self.spec.side {
            Direction::Long => inst.price_ticks(best * (Decimal::ONE - dev), Side::Buy),
            Direction::Short => inst.price_ticks(best * (Decimal::ONE + dev), Side::Sell),
        }
    }

    /// Wake-up conditions; `false` = evaluate at every top.
    pub fn triggers(&self, inst: &Instrument, out: &mut Vec<Trigger>) -> bool {
        if !self.desk.active() {
            return true;
        }
        let long = self.long();
        match self.status {
            DealStatus::Finished | DealStatus::Opening | DealStatus::Closing => true,
            DealStatus::Idle => {
                if self.now_ns < self.cooldown_until_ns {
                    out.push(Trigger::TimeAtOrAfter(self.cooldown_until_ns));
                    return true;
                }
                match self.spec.start {
                    DealStart::Asap => false,
                    DealStart::Signal => !self.signal_pending,
                    DealStart::Price => {
                        if let Some(t) = self.spec.start_trigger_price {
                            if long {
                                if let Some(p) = inst.price_ticks(t, Side::Buy) {
                                    out.push(Trigger::AskAtOrBelow(p));
                                }
                            } else if let Some(p) = inst.price_ticks(t, Side::Sell) {
                                out.push(Trigger::BidAtOrAbove(p));
                            }
                        }
                        true
                    }
                }
            }
            DealStatus::Open => {
                // Exit-side price the bot watches: bid for a long, ask for a short.
                let exit_at_or_below = |p: i64| {
                    if long {
                        Trigger::BidAtOrBelow(p)
                    } else {
                        Trigger::AskAtOrAbove(p)
                    }
                };
                let exit_at_or_above = |p: i64| {
                    if long {
                        Trigger::BidAtOrAbove(p)
                    } else {
                        Trigger::AskAtOrBelow(p)
                    }
                };
                if let Some(sl) = self.sl_ticks(inst) {
                    if self.spec.stop_loss_pct.is_some() || self.breakeven {
                        out.push(exit_at_or_below(sl));
                    }
                }
                if self.spec.trailing_deviation_pct.is_some() {
                    if self.trailing_armed {
                        let next = if long {
                            self.trailing_best + 1
                        } else {
                            self.trailing_best - 1
                        };
                        out.push(exit_at_or_above(next));
                        if let Some(x) = self.trailing_exit(inst) {
                            out.push(exit_at_or_below(x));
                        }
                    } else if let Some(t) = self.tp_ticks(inst, self.spec.take_profit_pct) {
                        out.push(exit_at_or_above(t));
                    }
                } else if self.spec.placement == Placement::Virtual {
                    if let Some(t) = self.tp_ticks(inst, self.first_open_target_pct()) {
                        out.push(exit_at_or_above(t));
                    }
                }
                if self.spec.placement == Placement::Virtual && self.desk.orders.is_empty() {
                    if let Some(r) = self.ladder.get(self.next_so) {
                        out.push(if long {
                            Trigger::AskAtOrBelow(r.price_ticks)
                        } else {
                            Trigger::BidAtOrAbove(r.price_ticks)
                        });
                    }
                }
                true
            }
        }
    }

    fn first_open_target_pct(&self) -> Decimal {
        self.spec
            .take_profit_steps
            .get(self.tp_steps_filled as usize)
            .map(|s| s.profit_pct)
            .unwrap_or(self.spec.take_profit_pct)
    }

    pub fn on_top(
        &mut self,
        inst: &Instrument,
        bid: i64,
        ask: i64,
        now_ns: i64,
        out: &mut Vec<Intent>,
    ) {
        self.desk.last_bid = bid;
        self.desk.last_ask = ask;
        self.now_ns = now_ns;
        if !self.desk.active() {
            return;
        }
        let long = self.long();
        // The price the exit trades at, and the one the entry trades at.
        let (exit_px, entry_px) = if long { (bid, ask) } else { (ask, bid) };
        let beyond = |a: i64, b: i64| if long { a >= b } else { a <= b };
        match self.status {
            DealStatus::Finished | DealStatus::Opening | DealStatus::Closing => {}
            DealStatus::Idle => {
                if now_ns < self.cooldown_until_ns {
                    return;
                }
                let go = match self.spec.start {
                    DealStart::Asap => true,
                    DealStart::Signal => self.signal_pending,
                    DealStart::Price => self.spec.start_trigger_price.is_some_and(|t| {
                        if long {
                            inst.price_ticks(t, Side::Buy).is_some_and(|p| ask <= p)
                        } else {
                            inst.price_ticks(t, Side::Sell).is_some_and(|p| bid >= p)
                        }
                    }),
                };
                if go {
                    self.open_deal(inst, bid, ask, out);
                }
            }
            DealStatus::Open => {
                if let Some(sl) = self.sl_ticks(inst) {
                    if (self.spec.stop_loss_pct.is_some() || self.breakeven) && beyond(sl, exit_px)
                    {
                        return self.close_at_market(inst, Reason::StopLoss, out);
                    }
                }
                if self.spec.trailing_deviation_pct.is_some() {
                    if !self.trailing_armed {
                        if let Some(t) = self.tp_ticks(inst, self.spec.take_profit_pct) {
                            if beyond(exit_px, t) {
                                self.trailing_armed = true;
                                self.trailing_best = exit_px;
                            }
                        }
                    } else if beyond(exit_px, self.trailing_best) {
                        self.trailing_best = exit_px;
                    }
                    if self.trailing_armed {
                        if let Some(x) = self.trailing_exit(inst) {
                            if beyond(x, exit_px) {
                                return self.close_at_market(inst, Reason::TrailingTakeProfit, out);
                            }
                        }
                    }
                } else if self.spec.placement == Placement::Virtual && self.tp_orders.is_empty() {
                    if let Some(t) = self.tp_ticks(inst, self.first_open_target_pct()) {
                        if beyond(exit_px, t) {
                            self.place_targets(inst, OrderType::LimitIoc, None, out);
                        }
                    }
                }
                if self.spec.placement == Placement::Virtual && self.desk.orders.is_empty() {
                    if let Some(r) = self.ladder.get(self.next_so).copied() {
                        if beyond(r.price_ticks, entry_px) {
                            self.place_safety(inst, OrderType::LimitIoc, out);
                        }
                    }
                }
            }
        }
    }

    fn open_deal(&mut self, inst: &Instrument, bid: i64, ask: i64, out: &mut Vec<Intent>) {
        if !self.desk.active() {
            return;
        }
        let side = entry_side(&self.spec);
        let ref_px = if side == Side::Buy { ask } else { bid };
        let lots = base_lots(&self.spec, inst, inst.price(ref_px));
        let (ot, px) = match (self.spec.start_order_type, self.spec.placement) {
            (StartOrderType::Limit, Placement::Resting) => {
                (OrderType::Limit, if side == Side::Buy { bid } else { ask })
            }
            _ => (OrderType::Market, 0),
        };
        self.signal_pending = false;
        let placed = self.desk.place(
            inst,
            out,
            (Leg::BaseOrder, 0, self.deal),
            side,
            ot,
            px,
            lots,
            Reason::DealStart,
        );
        if placed.is_some() {
            self.status = DealStatus::Opening;
            self.position = Decimal::ZERO;
            self.cost = Decimal::ZERO;
            self.base_quote = Decimal::ZERO;
            self.base_qty = Decimal::ZERO;
            self.deal_pnl = Decimal::ZERO;
        }
    }

    /// Place safety orders until `max_active` are live (resting) or the next one (virtual).
    fn place_safety(&mut self, inst: &Instrument, ot: OrderType, out: &mut Vec<Intent>) {
        if !self.desk.active() {
            return;
        }
        let max_active = self
            .spec
            .max_active_safety_orders
            .unwrap_or(self.spec.max_safety_orders) as usize;
        let live = self
            .desk
            .orders
            .values()
            .filter(|o| o.leg == Leg::SafetyOrder && !o.cancelling)
            .count();
        let want = if ot == OrderType::LimitIoc {
            1
        } else {
            max_active.saturating_sub(live)
        };
        let side = entry_side(&self.spec);
        for _ in 0..want {
            let Some(r) = self.ladder.get(self.next_so).copied() else {
                return;
            };
            let n = self.next_so as u32 + 1;
            let level = self.so_gen.saturating_mul(SO_GEN_STRIDE).saturating_add(n);
            let placed = self.desk.place(
                inst,
                out,
                (Leg::SafetyOrder, level, self.deal),
                side,
                ot,
                r.price_ticks,
                r.qty_lots,
                Reason::SafetyOrder,
            );
            if placed.is_none() {
                return;
            }
            self.next_so += 1;
        }
    }

    /// (Re)place the take-profit orders for the current position; `replace` gives the reason
    /// when existing ones are being resized.
    fn place_targets(
        &mut self,
        inst: &Instrument,
        ot: OrderType,
        resize: Option<Reason>,
        out: &mut Vec<Intent>,
    ) {
        if !self.desk.active() {
            return;
        }
        let old = std::mem::take(&mut self.tp_orders);
        let total = inst.qty_lots(self.position).unwrap_or(0);
        let steps: Vec<(Decimal, Decimal)> = if self.spec.take_profit_steps.is_empty() {
            vec![(hundred(), self.spec.take_profit_pct)]
        } else {
            let filled = self.tp_steps_filled as usize;
            let rest =
                &self.spec.take_profit_steps[filled.min(self.spec.take_profit_steps.len())..];
            let left = rest.iter().fold(Decimal::ZERO, |a, s| a + s.amount_pct);
            rest.iter()
                .map(|s| {
                    (
                        if left > Decimal::ZERO {
                            s.amount_pct * hundred() / left
                        } else {
                            hundred()
                        },
                        s.profit_pct,
                    )
                })
                .collect()
        };
        self.tp_version = self.tp_version.saturating_add(1);
        let mut allotted = 0i64;
        let exit = self.exit_side();
        let base_step = self.tp_steps_filled;
        for (j, (amount, profit)) in steps.iter().enumerate() {
            let lots = if j + 1 == steps.len() {
                total - allotted
            } else {
                inst.qty_lots(inst.qty(total) * *amount / hundred())
                    .unwrap_or(0)
            };
            allotted += lots;
            let Some(px) = self.tp_ticks(inst, *profit) else {
                continue;
            };
            let level = self
                .tp_version
                .saturating_mul(8)
                .saturating_add(base_step + j as u32);
            let replaces = old.get(j).cloned();
            let reason = resize.unwrap_or(Reason::TakeProfit);
            if let Some(id) = self.desk.place_or_replace(
                inst,
                out,
                (Leg::TakeProfit, level, self.deal),
                exit,
                ot,
                px,
                lots,
                reason,
                replaces,
            ) {
                self.tp_orders.push(id);
            }
        }
        for id in old.iter().skip(steps.len()) {
            self.desk.cancel(out, id, Reason::TakeProfitResize);
        }
    }

    fn close_at_market(&mut self, inst: &Instrument, reason: Reason, out: &mut Vec<Intent>) {
        let ids: Vec<String> = self.desk.orders.keys().cloned().collect();
        for id in &ids {
            self.desk.cancel(out, id, reason);
        }
        self.tp_orders.clear();
        let lots = inst.qty_lots(self.position).unwrap_or(0);
        let exit = self.exit_side();
        let n = self.desk.exits.saturating_add(1);
        let placed = self.desk.place(
            inst,
            out,
            (Leg::Exit, n, self.deal),
            exit,
            OrderType::Market,
            0,
            lots,
            reason,
        );
        if placed.is_some() {
            self.desk.exits = n;
            self.status = DealStatus::Closing;
        } else {
            // Dust below the minimum: the deal is over.
            self.finish_deal(out);
        }
    }

    /// A user command (see [`Control`]) at `now_ns`, the desk's last top being the current one.
    /// Repeating one re-sends what is still outstanding.
    pub fn command(
        &mut self,
        inst: &Instrument,
        cmd: Command,
        now_ns: i64,
        out: &mut Vec<Intent>,
    ) -> Result<(), String> {
        self.desk
            .check_command(cmd, self.status == DealStatus::Finished)?;
        let was = self.desk.control;
        match cmd {
            Command::Pause => {
                self.desk.cancel_resting(out, Reason::ManualCancel);
                if was == Control::Running {
                    self.desk.control = Control::Paused;
                    self.roll_back_safety();
                }
            }
            Command::Resume => {
                if was != Control::Paused {
                    return Ok(());
                }
                self.desk.control = Control::Running;
                match self.status {
                    DealStatus::Open if self.spec.placement == Placement::Resting => {
                        if self.spec.trailing_deviation_pct.is_none() {
                            // Take profits whose cancel is not confirmed yet are replaced.
                            self.place_targets(inst, OrderType::Limit, None, out);
                        }
                        self.place_safety(inst, OrderType::Limit, out);
                    }
                    DealStatus::Idle => {
                        let (bid, ask) = (self.desk.last_bid, self.desk.last_ask);
                        if bid > 0 && ask > bid {
                            self.on_top(inst, bid, ask, now_ns.max(self.now_ns), out);
                        }
                    }
                    _ => {}
                }
            }
            Command::Stop => {
                self.desk.control = Control::Stopped;
                self.desk.cancel_resting(out, Reason::ManualCancel);
            }
            Command::Close => {
                self.desk.cancel_resting(out, Reason::ManualClose);
                if was == Control::Closing {
                    let exits: Vec<String> = self
                        .desk
                        .orders
                        .iter()
                        .filter(|(_, o)| o.leg == Leg::Exit)
                        .map(|(id, _)| id.clone())
                        .collect();
                    for id in &exits {
                        self.desk.resend(out, id);
                    }
                } else {
                    self.desk.control = Control::Closing;
                    self.tp_orders.clear();
                    self.trailing_armed = false;
                }
                self.drive_close(inst, out);
            }
        }
        Ok(())
    }

    /// Safety orders a pause cancels before any fill are placed again on resume: move the next
    /// rung back over the unfilled tail of the ladder, and start a new id generation.
    fn roll_back_safety(&mut self) {
        let unfilled = |desk: &Desk, n: usize| {
            desk.orders.values().any(|o| {
                o.leg == Leg::SafetyOrder
                    && o.order_type == OrderType::Limit
                    && o.filled_lots == 0
                    && rung_of(o.level) == n
            })
        };
        while self.next_so > 0 && unfilled(&self.desk, self.next_so) {
            self.next_so -= 1;
        }
        self.so_gen = self.so_gen.saturating_add(1).min(MAX_SO_GEN);
    }

    /// Emergency close: once none of the bot's orders is left on the venue, flatten the
    /// position at market; stopped when nothing tradeable is left. A refused exit waits for
    /// the user to retry `close`.
    fn drive_close(&mut self, inst: &Instrument, out: &mut Vec<Intent>) {
        if self.desk.control != Control::Closing || !self.desk.orders.is_empty() {
            return;
        }
        let lots = inst.qty_lots(self.position).unwrap_or(0);
        if lots > 0 {
            let cycle = self.desk.exits.saturating_add(1);
            let exit = self.exit_side();
            let placed = self.desk.place(
                inst,
                out,
                (Leg::Exit, cycle, self.deal),
                exit,
                OrderType::Market,
                0,
                lots,
                Reason::ManualClose,
            );
            if placed.is_some() {
                self.desk.exits = cycle;
                self.status = DealStatus::Closing;
                return;
            }
        }
        if matches!(
            self.status,
            DealStatus::Open | DealStatus::Opening | DealStatus::Closing
        ) {
            self.finish_deal(out);
        }
        self.desk.control = Control::Stopped;
    }

    pub fn on_fill(
        &mut self,
        inst: &Instrument,
        fill: &Fill,
        out: &mut Vec<Intent>,
    ) -> FillOutcome {
        let (order, ex) = match self.desk.check_fill(inst, fill) {
            Checked::Duplicate => return FillOutcome::Duplicate,
            Checked::Unknown => return FillOutcome::Unknown,
            Checked::New(o, e) => (o, e),
        };
        let done = order.filled_lots >= order.qty_lots;
        if ex.side == entry_side(&self.spec) {
            self.add_entry(&ex);
            if order.leg == Leg::BaseOrder {
                self.base_quote += ex.notional;
                self.base_qty += ex.qty;
            }
        } else {
            self.reduce(&ex);
        }
        if done {
            self.desk.close(&fill.client_id);
        }
        match order.leg {
            Leg::BaseOrder if done => self.base_done(inst, out),
            Leg::SafetyOrder => {
                // A safety order rolled back by a pause filled in a race with its cancel: it
                // is not placed again.
                self.next_so = self
                    .next_so
                    .max(rung_of(order.level).min(self.ladder.len()));
                if done {
                    self.safety_filled += 1;
                }
                if self.status == DealStatus::Open {
                    if self.spec.trailing_deviation_pct.is_none()
                        && self.spec.placement == Placement::Resting
                    {
                        // Every fill, partial ones too, re-sizes and re-prices the take profit.
                        self.place_targets(
                            inst,
                            OrderType::Limit,
                            Some(Reason::TakeProfitResize),
                            out,
                        );
                    }
                    if done && self.spec.placement == Placement::Resting {
                        self.place_safety(inst, OrderType::Limit, out);
                    }
                }
            }
            Leg::TakeProfit => {
                if done {
                    self.tp_orders.retain(|id| id != &fill.client_id);
                    self.tp_steps_filled += 1;
                    if self.spec.sl_to_breakeven {
                        self.breakeven = true;
                    }
                }
                if inst.qty_lots(self.position).unwrap_or(0) == 0
                    || (done && self.tp_orders.is_empty())
                {
                    let ids: Vec<String> = self.desk.orders.keys().cloned().collect();
                    for id in &ids {
                        self.desk.cancel(out, id, Reason::DealClosed);
                    }
                    self.finish_deal(out);
                }
            }
            // A manual close ends in `drive_close`, once nothing is left on the venue.
            Leg::Exit if done && self.desk.control != Control::Closing => self.finish_deal(out),
            _ => {}
        }
        self.drive_close(inst, out);
        FillOutcome::Applied
    }

    fn add_entry(&mut self, ex: &Execution) {
        if self.long() {
            self.position += ex.qty - ex.fee_base;
            self.cost += ex.notional + ex.fee_quote;
        } else {
            self.position += ex.qty + ex.fee_base;
            self.cost += ex.notional - ex.fee_quote;
        }
    }

    fn reduce(&mut self, ex: &Execution) {
        let x = if self.long() {
            ex.qty + ex.fee_base
        } else {
            ex.qty - ex.fee_base
        };
        let basis = if self.position <= Decimal::ZERO {
            Decimal::ZERO
        } else if x >= self.position {
            self.cost
        } else {
            self.cost * x / self.position
        };
        self.position -= x;
        self.cost -= basis;
        let pnl = if self.long() {
            ex.notional - ex.fee_quote - basis
        } else {
            basis - ex.notional - ex.fee_quote
        };
        self.desk.ledger.realized_pnl += pnl;
        self.deal_pnl += pnl;
    }

    fn base_done(&mut self, inst: &Instrument, out: &mut Vec<Intent>) {
        if self.position <= Decimal::ZERO || self.base_qty <= Decimal::ZERO {
            self.status = DealStatus::Idle;
            return;
        }
        let p0 = self.base_quote / self.base_qty;
        self.ladder = ladder(&self.spec, inst, p0).unwrap_or_else(|_| {
            // Some rungs are unplaceable at this price: keep the placeable prefix.
            let mut v = Vec::new();
            for n in 1..=self.spec.max_safety_orders {
                let one = DcaSpec {
                    max_safety_orders: n,
                    ..self.spec.clone()
                };
                match ladder(&one, inst, p0) {
                    Ok(r) => v = r,
                    Err(_) => break,
                }
            }
            v
        });
        self.next_so = 0;
        self.safety_filled = 0;
        self.tp_steps_filled = 0;
        self.breakeven = false;
        self.trailing_armed = false;
        self.status = DealStatus::Open;
        if self.spec.placement == Placement::Resting {
            if self.spec.trailing_deviation_pct.is_none() {
                self.place_targets(inst, OrderType::Limit, None, out);
            }
            self.place_safety(inst, OrderType::Limit, out);
        }
    }

    fn finish_deal(&mut self, _out: &mut [Intent]) {
        self.status = DealStatus::Idle;
        self.deal = self.deal.saturating_add(1);
        self.deals_closed += 1;
        self.tp_orders.clear();
        self.ladder.clear();
        self.next_so = 0;
        self.trailing_armed = false;
        self.breakeven = false;
        // Dust below one lot stays in the position and is carried into the next deal.
        self.cooldown_until_ns = self
            .now_ns
            .saturating_add((self.spec.cooldown_seconds as i64).saturating_mul(1_000_000_000));
        if self.spec.max_deals.is_some_and(|m| self.deals_closed >= m) {
            self.status = DealStatus::Finished;
        }
    }

    pub fn on_update(&mut self, inst: &Instrument, u: &OrderUpdate, out: &mut Vec<Intent>) -> bool {
        let Some(order) = self.desk.orders.get(&u.client_id).cloned() else {
            return false;
        };
        self.now_ns = self.now_ns.max(u.ts_ns);
        if !matches!(u.status, OrderStatus::Cancelled | OrderStatus::Rejected) {
            return true;
        }
        self.desk.close(&u.client_id);
        match order.leg {
            Leg::BaseOrder => self.base_done(inst, out),
            Leg::SafetyOrder => {
                // A cancelled IOC safety order is retried at the next trigger.
                if order.order_type == OrderType::LimitIoc && order.filled_lots == 0 {
                    self.next_so = self.next_so.saturating_sub(1);
                } else if order.filled_lots > 0 {
                    self.safety_filled += 1;
                }
            }
            Leg::TakeProfit => {
                let was_live = self.tp_orders.iter().any(|id| id == &u.client_id);
                self.tp_orders.retain(|id| id != &u.client_id);
                if was_live
                    && self.spec.placement == Placement::Resting
                    && self.status == DealStatus::Open
                    && u.status == OrderStatus::Cancelled
                {
                    // Cancelled by someone else: put the exit back.
                    self.place_targets(inst, OrderType::Limit, None, out);
                }
            }
            Leg::Exit => {
                // A refused exit is not re-sent in a loop: a stop loss fires again at the next
                // top, a manual close waits for the user's retry.
                if self.status == DealStatus::Closing {
                    self.status = DealStatus::Open;
                }
                return true;
            }
            _ => {}
        }
        self.drive_close(inst, out);
        true
    }
}

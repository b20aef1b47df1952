//! Grid bot: definition, validation and plan (exact decimal), and the runtime state machine
//! (integer ticks and lots).
//!
//! Levels `p_0 < … < p_N`; slot `i` is the gap between levels `i` and `i+1`. A slot either wants
//! to buy at `p_i` or holds the base it bought and wants to sell it at `p_{i+1}`: a buy at level
//! i is followed by a sell at level i+1, and that sell by a buy at level i again (one cycle).
//! At start the level nearest the price is left empty: slots below it buy, slots above it sell
//! the base bought by one market order at start.

use super::desk::{sum, Checked, Desk, Execution};
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
pub enum Spacing {
    #[default]
    Arithmetic,
    Geometric,
}

/// How much each slot trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sizing {
    /// The same base quantity at every level (classic spot grid).
    #[default]
    EqualBase,
    /// The same quote value at every level (trailing-up grids).
    EqualQuote,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Investment {
    pub quote: Decimal,
    #[serde(default)]
    pub base: Decimal,
}

/// A grid bot as the user defines it (decimal prices).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpec {
    pub lower: Decimal,
    pub upper: Decimal,
    pub grids: u32,
    #[serde(default)]
    pub spacing: Spacing,
    pub investment: Investment,
    #[serde(default)]
    pub sizing: Sizing,
    pub fee_rate: Decimal,
    /// Start when the price reaches this level (from whichever side it is on at attach time).
    #[serde(default)]
    pub trigger_price: Option<Decimal>,
    /// Stop the bot when the best bid reaches this price or higher.
    #[serde(default)]
    pub take_profit_price: Option<Decimal>,
    /// Stop the bot when the best bid reaches this price or lower.
    #[serde(default)]
    pub stop_loss_price: Option<Decimal>,
    /// On stop, market-sell the base the grid holds.
    #[serde(default)]
    pub sell_base_on_stop: bool,
    /// Shift the grid up one level when the price leaves the top by a full gap.
    #[serde(default)]
    pub trailing_up: bool,
    /// Never shift the top level above this price.
    #[serde(default)]
    pub trailing_up_limit: Option<Decimal>,
    #[serde(default)]
    pub placement: Placement,
    /// Price used for the plan (default: middle of the range).
    #[serde(default)]
    pub start_price: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinMax {
    pub min: String,
    pub max: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridPlanLevel {
    pub index: u32,
    /// Exact level price (before rounding to the tick).
    pub price: String,
    pub buy_price: String,
    pub sell_price: String,
    /// Quantity of the slot above this level (empty for the top level).
    pub qty: String,
    /// What rests at this level at start: buy, sell or empty.
    pub at_start: String,
}

/// What a grid will do and need; numbers as decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridPlan {
    pub kind: String,
    pub start_price: String,
    /// Level prices, ascending (tick-rounded to nearest).
    pub levels: Vec<String>,
    pub level_detail: Vec<GridPlanLevel>,
    /// Equal-base sizing: the quantity of every level.
    pub qty_per_level: Option<String>,
    pub gross_profit_per_grid_pct: MinMax,
    pub net_profit_per_grid_pct: MinMax,
    pub min_investment: String,
    pub investment: String,
    /// Quote needed by this plan at the start price (≤ investment when valid).
    pub investment_needed: String,
    /// Base bought at market at start for the sells above the price.
    pub initial_buy_qty: String,
    pub price_range: MinMax,
    pub range_pct: String,
    pub warnings: Vec<String>,
    pub errors: Vec<BotError>,
}

/// Levels of a grid, exact and on the tick grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub exact: Vec<Decimal>,
    pub buy: Vec<i64>,
    pub sell: Vec<i64>,
    /// Geometric ratio or arithmetic gap (exact), for trailing.
    pub step: Decimal,
}

/// How many lots each slot trades and what that costs, at a start price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    /// Index of the empty level nearest the price; slots `< k` buy, slots `>= k` sell.
    pub k: usize,
    pub qty: Vec<i64>,
    pub needed: Decimal,
    pub initial_buy: i64,
}

const MAX_GRIDS: u32 = 1000;

/// Exact levels and their tick prices, or every problem found.
pub fn layout(spec: &GridSpec, inst: &Instrument) -> Result<Layout, BotErrors> {
    let mut errs = Vec::new();
    for (field, v) in [
        ("lower", Some(spec.lower)),
        ("upper", Some(spec.upper)),
        ("investment.quote", Some(spec.investment.quote)),
        ("investment.base", Some(spec.investment.base)),
        ("trigger_price", spec.trigger_price),
        ("take_profit_price", spec.take_profit_price),
        ("stop_loss_price", spec.stop_loss_price),
        ("trailing_up_limit", spec.trailing_up_limit),
        ("start_price", spec.start_price),
    ] {
        if let Some(v) = v {
            super::check_bounds(field, v, &mut errs);
        }
    }
    if spec.investment.quote < Decimal::ZERO || spec.investment.base < Decimal::ZERO {
        errs.push(BotError::new("investment", "amounts must not be negative"));
    }
    if spec.start_price.is_some_and(|p| p <= Decimal::ZERO) {
        errs.push(BotError::new("start_price", "must be positive"));
    }
    if !errs.is_empty() {
        return Err(BotErrors(errs));
    }
    if spec.lower <= Decimal::ZERO {
        errs.push(BotError::new(
            "lower",
            format!("must be positive, got {}", spec.lower),
        ));
    }
    if spec.upper <= spec.lower {
        errs.push(BotError::new(
            "upper",
            format!("must be above lower ({}), got {}", spec.lower, spec.upper),
        ));
    }
    if !(2..=MAX_GRIDS).contains(&spec.grids) {
        errs.push(BotError::new(
            "grids",
            format!("must be between 2 and {MAX_GRIDS}, got {}", spec.grids),
        ));
    }
    if spec.fee_rate < Decimal::ZERO || spec.fee_rate >= Decimal::new(1, 1) {
        errs.push(BotError::new(
            "fee_rate",
            format!("must be in [0, 0.1), got {}", spec.fee_rate),
        ));
    }
    if !errs.is_empty() {
        return Err(BotErrors(errs));
    }
    let n = spec.grids as usize;
    let (l, u) = (spec.lower, spec.upper);
    let nd = Decimal::from(spec.grids);
    let step = match spec.spacing {
        Spacing::Arithmetic => (u - l) / nd,
        Spacing::Geometric => (u / l).powd(Decimal::ONE / nd),
    };
    let mut exact = Vec::with_capacity(n + 1);
    for i in 0..=n {
        let p = if i == n {
            u
        } else {
            match spec.spacing {
                Spacing::Arithmetic => l + step * Decimal::from(i as u64),
                Spacing::Geometric => l * step.powu(i as u64),
            }
        };
        exact.push(p);
    }
    let mut buy = Vec::with_capacity(n + 1);
    let mut sell = Vec::with_capacity(n + 1);
    for (i, p) in exact.iter().enumerate() {
        match (
            inst.price_ticks(*p, Side::Buy),
            inst.price_ticks(*p, Side::Sell),
        ) {
            (Some(b), Some(s)) if b > 0 => {
                buy.push(b);
                sell.push(s);
            }
            _ => errs.push(BotError::new(
                "lower",
                format!(
                    "level {i} price {p} is not a positive price on tick {}",
                    inst.spec.tick_size
                ),
            )),
        }
    }
    for i in 1..buy.len() {
        if buy[i] <= sell[i - 1] {
            errs.push(BotError::new(
                "grids",
                format!(
                    "levels {} and {i} ({} and {}) are less than one tick ({}) apart after rounding; use fewer grids",
                    i - 1,
                    exact[i - 1].round_dp(8),
                    exact[i].round_dp(8),
                    inst.spec.tick_size
                ),
            ));
            break;
        }
    }
    if errs.is_empty() {
        Ok(Layout {
            exact,
            buy,
            sell,
            step,
        })
    } else {
        Err(BotErrors(errs))
    }
}

fn nearest_level(exact: &[Decimal], price: Decimal) -> usize {
    let mut best = 0;
    for (i, p) in exact.iter().enumerate() {
        let (d, db) = ((*p - price).abs(), (exact[best] - price).abs());
        if d < db {
            best = i;
        }
    }
    best
}

/// Slot quantities for a scale `u` (lots for equal base; quote units for equal quote).
fn slot_qty(spec: &GridSpec, inst: &Instrument, lay: &Layout, u: i64) -> Vec<i64> {
    let n = lay.buy.len().saturating_sub(1);
    match spec.sizing {
        Sizing::EqualBase => vec![u; n],
        Sizing::EqualQuote => {
            let quote = quote_unit(inst) * Decimal::from(u);
            lay.buy[..n]
                .iter()
                .map(|b| {
                    inst.price(*b)
                        .checked_div_opt(quote)
                        .and_then(|q| inst.qty_lots(q))
                        .unwrap_or(0)
                })
                .collect()
        }
    }
}

trait DivOpt {
    fn checked_div_opt(self, num: Decimal) -> Option<Decimal>;
}
impl DivOpt for Decimal {
    /// `num / self`.
    fn checked_div_opt(self, num: Decimal) -> Option<Decimal> {
        num.checked_div(self)
    }
}

/// Smallest quote amount an equal-quote grid is sized in: one lot at one tick.
fn quote_unit(inst: &Instrument) -> Decimal {
    inst.notional(1, 1)
}

/// Quote needed for slot quantities `qty` starting at `price` with empty level `k`: the buys
/// below, plus the base for the sells above bought at market, plus one fee on all of it.
fn needed(
    spec: &GridSpec,
    inst: &Instrument,
    lay: &Layout,
    qty: &[i64],
    k: usize,
    price: Decimal,
) -> (Decimal, i64) {
    let buys = sum(qty
        .iter()
        .zip(&lay.buy)
        .take(k)
        .map(|(q, b)| inst.notional(*b, *q)));
    // Saturating: the sizing search probes scales up to 2^60 lots per slot.
    let sell_lots = qty.iter().skip(k).fold(0i64, |a, q| a.saturating_add(*q));
    let have = inst.qty_lots(spec.investment.base).unwrap_or(0);
    let init = sell_lots.saturating_sub(have).max(0);
    let cost = (buys + inst.qty(init) * price) * (Decimal::ONE + spec.fee_rate);
    (cost, init)
}

/// Size the grid for its investment at `price`.
pub fn size(spec: &GridSpec, inst: &Instrument, lay: &Layout, price: Decimal) -> Sizes {
    let k = nearest_level(&lay.exact, price);
    let fits = |u: i64| {
        let q = slot_qty(spec, inst, lay, u);
        needed(spec, inst, lay, &q, k, price).0 <= spec.investment.quote
    };
    // Largest u that fits: exponential then binary search (config time only).
    let (mut lo, mut hi) = (0i64, 1i64);
    while hi < (1i64 << 60) && fits(hi) {
        lo = hi;
        hi *= 2;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let qty = slot_qty(spec, inst, lay, lo);
    let (needed, initial_buy) = needed(spec, inst, lay, &qty, k, price);
    Sizes {
        k,
        qty,
        needed,
        initial_buy,
    }
}

/// Smallest scale at which every order of the grid is placeable, and what it costs.
fn min_investment(
    spec: &GridSpec,
    inst: &Instrument,
    lay: &Layout,
    k: usize,
    price: Decimal,
) -> Decimal {
    let n = lay.buy.len().saturating_sub(1);
    let u = match spec.sizing {
        Sizing::EqualBase => (0..n)
            .filter_map(|i| {
                Some(
                    inst.min_lots_at(lay.buy[i])?
                        .max(inst.min_lots_at(lay.sell[i + 1])?),
                )
            })
            .max()
            .unwrap_or(0),
        Sizing::EqualQuote => {
            let unit = quote_unit(inst);
            (0..n)
                .filter_map(|i| {
                    let lots = inst.min_lots_at(lay.buy[i])?;
                    let q = inst.notional(lay.buy[i], lots).checked_div(unit)?;
                    i64::try_from(q.ceil().mantissa()).ok()
                })
                .max()
                .unwrap_or(0)
        }
    };
    let qty = slot_qty(spec, inst, lay, u);
    let mut probe = spec.clone();
    probe.investment.base = Decimal::ZERO;
    needed(&probe, inst, lay, &qty, k, price).0
}

/// The full plan with every warning and error; `errors` empty means the grid is valid.
pub fn plan(spec: &GridSpec, inst: &Instrument) -> GridPlan {
    let lay = match layout(spec, inst) {
        Ok(l) => l,
        Err(e) => return empty_plan(spec, e.0),
    };
    let price = spec
        .start_price
        .unwrap_or((spec.lower + spec.upper) / Decimal::TWO);
    let sizes = size(spec, inst, &lay, price);
    let f = spec.fee_rate;
    let keep = (Decimal::ONE - f) * (Decimal::ONE - f);
    let n = lay.buy.len() - 1;
    let mut gross = Vec::with_capacity(n);
    let mut net = Vec::with_capacity(n);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for i in 0..n {
        let r = lay.exact[i + 1] / lay.exact[i];
        gross.push(r - Decimal::ONE);
        net.push(keep * r - Decimal::ONE);
        // What actually trades: buy rounded down, sell rounded up.
        let r_ticks = inst.price(lay.sell[i + 1]) / inst.price(lay.buy[i]);
        let net_ticks = keep * r_ticks - Decimal::ONE;
        if net_ticks <= Decimal::ZERO || keep * r - Decimal::ONE <= Decimal::ZERO {
            errors.push(BotError::new(
                "grids",
                format!(
                    "profit per grid between levels {i} and {} is {} % net of fees (gross {} % must exceed two fees of {} %); use fewer grids or a wider range",
                    i + 1,
                    pct(net_ticks.min(keep * r - Decimal::ONE)),
                    pct(r - Decimal::ONE),
                    pct(f)
                ),
            ));
        }
    }
    let min_inv = min_investment(spec, inst, &lay, sizes.k, price);
    if spec.investment.quote < min_inv {
        errors.push(BotError::new(
            "investment.quote",
            format!(
                "{} is below the minimum investment {} for this grid at start price {} (every order must meet min qty {} and min notional {})",
                spec.investment.quote,
                min_inv.round_dp(2),
                price,
                inst.fmt_qty(inst.min_qty_lots),
                inst.min_notional
            ),
        ));
    } else {
        for i in 0..n {
            let q = sizes.qty.get(i).copied().unwrap_or(0);
            for (what, px) in [("buy", lay.buy[i]), ("sell", lay.sell[i + 1])] {
                if !inst.placeable(px, q) {
                    errors.push(BotError::new(
                        "investment.quote",
                        format!(
                            "the {what} at level {} ({} × {} = {}) is below the venue minimum (min qty {}, min notional {})",
                            if what == "buy" { i } else { i + 1 },
                            inst.fmt_qty(q),
                            inst.fmt_price(px),
                            inst.notional(px, q),
                            inst.fmt_qty(inst.min_qty_lots),
                            inst.min_notional
                        ),
                    ));
                }
            }
        }
    }
    check_stops(spec, &mut errors);
    if spec.trailing_up && spec.sizing == Sizing::EqualBase {
        warnings.push(
            "trailing_up with equal_base sizing: each shift re-sizes the new top buy to the quote freed at the bottom"
                .to_string(),
        );
    }
    if price < spec.lower || price > spec.upper {
        warnings.push(format!(
            "start price {price} is outside the range [{}, {}]",
            spec.lower, spec.upper
        ));
    }
    let fmt_pct = |v: &[Decimal], max: bool| {
        let x = v
            .iter()
            .copied()
            .reduce(|a, b| if (b > a) == max { b } else { a });
        pct(x.unwrap_or_default())
    };
    let equal = spec.sizing == Sizing::EqualBase;
    let scale = inst.tick.scale() as u32;
    GridPlan {
        kind: "grid".into(),
        start_price: price.to_string(),
        levels: lay
            .exact
            .iter()
            .map(|p| {
                let mut x = p.round_dp(scale);
                x.rescale(scale);
                x.to_string()
            })
            .collect(),
        level_detail: (0..=n)
            .map(|i| GridPlanLevel {
                index: i as u32,
                price: lay.exact[i].round_dp(10).normalize().to_string(),
                buy_price: inst.fmt_price(lay.buy[i]),
                sell_price: inst.fmt_price(lay.sell[i]),
                qty: sizes
                    .qty
                    .get(i)
                    .map(|q| inst.fmt_qty(*q))
                    .unwrap_or_default(),
                at_start: if i < sizes.k {
                    "buy"
                } else if i > sizes.k {
                    "sell"
                } else {
                    "empty"
                }
                .into(),
            })
            .collect(),
        qty_per_level: if equal {
            sizes.qty.first().map(|q| inst.fmt_qty(*q))
        } else {
            None
        },
        gross_profit_per_grid_pct: MinMax {
            min: fmt_pct(&gross, false),
            max: fmt_pct(&gross, true),
        },
        net_profit_per_grid_pct: MinMax {
            min: fmt_pct(&net, false),
            max: fmt_pct(&net, true),
        },
        min_investment: min_inv.round_dp(8).normalize().to_string(),
        investment: spec.investment.quote.to_string(),
        investment_needed: sizes.needed.round_dp(8).normalize().to_string(),
        initial_buy_qty: inst.fmt_qty(sizes.initial_buy),
        price_range: MinMax {
            min: spec.lower.to_string(),
            max: spec.upper.to_string(),
        },
        range_pct: pct((spec.upper - spec.lower) / spec.lower),
        warnings,
        errors,
    }
}

fn check_stops(spec: &GridSpec, errors: &mut Vec<BotError>) {
    if let (Some(tp), Some(sl)) = (spec.take_profit_price, spec.stop_loss_price) {
        if sl >= tp {
            errors.push(BotError::new(
                "stop_loss_price",
                format!("{sl} must be below take_profit_price {tp}"),
            ));
        }
    }
    for (field, v) in [
        ("take_profit_price", spec.take_profit_price),
        ("stop_loss_price", spec.stop_loss_price),
        ("trigger_price", spec.trigger_price),
    ] {
        if let Some(v) = v {
            if v <= Decimal::ZERO {
                errors.push(BotError::new(field, format!("must be positive, got {v}")));
            }
        }
    }
    if let Some(lim) = spec.trailing_up_limit {
        if lim <= spec.upper {
            errors.push(BotError::new(
                "trailing_up_limit",
                format!("{lim} must be above upper {}", spec.upper),
            ));
        }
    }
}

fn empty_plan(spec: &GridSpec, errors: Vec<BotError>) -> GridPlan {
    let zero = MinMax {
        min: "0".into(),
        max: "0".into(),
    };
    GridPlan {
        kind: "grid".into(),
        start_price: spec.start_price.unwrap_or_default().to_string(),
        levels: vec![],
        level_detail: vec![],
        qty_per_level: None,
        gross_profit_per_grid_pct: zero.clone(),
        net_profit_per_grid_pct: zero.clone(),
        min_investment: "0".into(),
        investment: spec.investment.quote.to_string(),
        investment_needed: "0".into(),
        initial_buy_qty: "0".into(),
        price_range: MinMax {
            min: spec.lower.to_string(),
            max: spec.upper.to_string(),
        },
        range_pct: "0".into(),
        warnings: vec![],
        errors,
    }
}

// ---------------------------------------------------------------------------------------------
// Runtime

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridStatus {
    /// Waiting for the first top of book (or for the trigger price).
    Waiting,
    /// Initial market buy in flight; sells above the price are placed when it is done.
    Starting,
    Running,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// What the slot does next: buy at its lower level or sell at its upper level.
    pub want: Side,
    /// Buy quantity of this slot.
    pub qty: i64,
    /// Live order of this slot, if any.
    pub order: Option<String>,
    /// Base held by this slot (net of base fees) and its quote cost (incl. quote fees).
    pub base: Decimal,
    pub cost: Decimal,
    /// The holding came from a grid buy at this slot's lower level (a matched pair when sold).
    pub matched: bool,
    /// Completed cycles; part of the client order id.
    pub cycle: u32,
    /// The venue refused this slot's order: wait for a restart instead of spamming it.
    pub blocked: bool,
    /// A pause cancelled this slot's order: resume places it again.
    #[serde(default)]
    pub paused: bool,
}

/// One runtime grid bot. Everything is exported/imported exactly with serde.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridBot {
    pub spec: GridSpec,
    pub desk: Desk,
    pub status: GridStatus,
    /// Buy/sell tick price per level of the current window, and the exact top level.
    pub buy: Vec<i64>,
    pub sell: Vec<i64>,
    pub exact_top: Decimal,
    pub step: Decimal,
    /// Absolute index of level 0 of the window (grows with trailing up).
    pub first_level: u32,
    pub slots: Vec<Slot>,
    /// Trigger direction chosen at the first top: true = wait for the bid to rise to it.
    pub trigger_from_below: Option<bool>,
    /// Quote and base balances of the bot (investment minus what it spent plus what it got).
    pub quote: Decimal,
    pub base: Decimal,
    /// Base bought by the initial market buy, not yet handed to slots, and its cost.
    pub pool_base: Decimal,
    pub pool_cost: Decimal,
    pub grid_profit: Decimal,
    pub matched_trades: u64,
    pub trailing_shifts: u32,
    pub trailing_stopped: bool,
    pub stop_reason: Option<Reason>,
    pub init_order: Option<String>,
    pub exit_order: Option<String>,
}

impl GridBot {
    pub fn new(id: u32, spec: GridSpec, inst: &Instrument) -> Result<GridBot, BotErrors> {
        let p = plan(&spec, inst);
        if !p.errors.is_empty() {
            return Err(BotErrors(p.errors));
        }
        let lay = layout(&spec, inst)?;
        Ok(GridBot {
            desk: Desk::new(id),
            status: GridStatus::Waiting,
            exact_top: lay.exact.last().copied().unwrap_or_default(),
            step: lay.step,
            buy: lay.buy,
            sell: lay.sell,
            first_level: 0,
            slots: Vec::new(),
            trigger_from_below: None,
            quote: spec.investment.quote,
            base: spec.investment.base,
            pool_base: spec.investment.base,
            pool_cost: Decimal::ZERO,
            grid_profit: Decimal::ZERO,
            matched_trades: 0,
            trailing_shifts: 0,
            trailing_stopped: false,
            stop_reason: None,
            init_order: None,
            exit_order: None,
            spec,
        })
    }

    fn id(&self, leg: Leg, slot: usize, cycle: u32) -> (Leg, u32, u32) {
        (leg, self.first_level.saturating_add(slot as u32), cycle)
    }

    /// Wake-up conditions for the trigger index. `None` = evaluate at every top.
    pub fn triggers(&self, inst: &Instrument, out: &mut Vec<Trigger>) -> bool {
        if !self.desk.active() {
            return true;
        }
        match self.status {
            GridStatus::Stopped => return true,
            GridStatus::Waiting => {
                let Some(t) = self.spec.trigger_price else {
                    return false;
                };
                let Some(from_below) = self.trigger_from_below else {
                    return false;
                };
                if from_below {
                    if let Some(p) = inst.price_ticks(t, Side::Sell) {
                        out.push(Trigger::BidAtOrAbove(p));
                    }
                } else if let Some(p) = inst.price_ticks(t, Side::Buy) {
                    out.push(Trigger::AskAtOrBelow(p));
                }
                return true;
            }
            GridStatus::Starting | GridStatus::Running => {}
        }
        if let Some(p) = self
            .spec
            .take_profit_price
            .and_then(|v| inst.price_ticks(v, Side::Sell))
        {
            out.push(Trigger::BidAtOrAbove(p));
        }
        if let Some(p) = self
            .spec
            .stop_loss_price
            .and_then(|v| inst.price_ticks(v, Side::Buy))
        {
            out.push(Trigger::BidAtOrBelow(p));
        }
        if self.status != GridStatus::Running {
            return true;
        }
        if self.spec.trailing_up && !self.trailing_stopped {
            if let Some(t) = self.trail_trigger() {
                out.push(Trigger::BidAtOrAbove(t));
            }
        }
        if self.spec.placement == Placement::Virtual {
            let idle = |s: &&Slot| s.order.is_none() && !s.blocked;
            let max_buy = (0..self.slots.len())
                .filter(|i| self.slots[*i].want == Side::Buy && idle(&&self.slots[*i]))
                .map(|i| self.buy[i])
                .max();
            let min_sell = (0..self.slots.len())
                .filter(|i| self.slots[*i].want == Side::Sell && idle(&&self.slots[*i]))
                .map(|i| self.sell[i + 1])
                .min();
            if let Some(p) = max_buy {
                out.push(Trigger::AskAtOrBelow(p));
            }
            if let Some(p) = min_sell {
                out.push(Trigger::BidAtOrAbove(p));
            }
        }
        true
    }

    /// Trailing up fires when the bid is a full gap above the top level.
    fn trail_trigger(&self) -> Option<i64> {
        let n = self.sell.len();
        let top = *self.sell.last()?;
        let below = *self.sell.get(n.checked_sub(2)?)?;
        Some(top + (top - below))
    }

    pub fn on_top(&mut self, inst: &Instrument, bid: i64, ask: i64, out: &mut Vec<Intent>) {
        self.desk.last_bid = bid;
        self.desk.last_ask = ask;
        if !self.desk.active() {
            return;
        }
        match self.status {
            GridStatus::Stopped => return,
            GridStatus::Waiting => {
                if !self.trigger_reached(inst, bid, ask) {
                    return;
                }
                self.start(inst, ask, out);
                if self.status == GridStatus::Waiting {
                    return;
                }
            }
            GridStatus::Starting | GridStatus::Running => {}
        }
        if let Some(tp) = self
            .spec
            .take_profit_price
            .and_then(|v| inst.price_ticks(v, Side::Sell))
        {
            if bid >= tp {
                return self.stop(inst, Reason::TakeProfitPrice, out);
            }
        }
        if let Some(sl) = self
            .spec
            .stop_loss_price
            .and_then(|v| inst.price_ticks(v, Side::Buy))
        {
            if bid <= sl {
                return self.stop(inst, Reason::StopLossPrice, out);
            }
        }
        if self.status != GridStatus::Running {
            return;
        }
        if self.spec.trailing_up {
            self.trail(inst, bid, out);
        }
        if self.spec.placement == Placement::Virtual {
            for i in 0..self.slots.len() {
                let s = &self.slots[i];
                if s.order.is_some() || s.blocked {
                    continue;
                }
                match s.want {
                    Side::Buy if ask <= self.buy[i] => self.place_slot(inst, i, out),
                    Side::Sell if bid >= self.sell[i + 1] => self.place_slot(inst, i, out),
                    _ => {}
                }
            }
        }
    }

    fn trigger_reached(&mut self, inst: &Instrument, bid: i64, ask: i64) -> bool {
        let Some(t) = self.spec.trigger_price else {
            return true;
        };
        let (Some(up), Some(down)) = (
            inst.price_ticks(t, Side::Sell),
            inst.price_ticks(t, Side::Buy),
        ) else {
            return false;
        };
        match self.trigger_from_below {
            None => {
                let from_below = bid < up;
                self.trigger_from_below = Some(from_below);
                if from_below {
                    bid >= up
                } else {
                    ask <= down
                }
            }
            Some(true) => bid >= up,
            Some(false) => ask <= down,
        }
    }

    /// Size the slots at the current price and emit the opening orders.
    fn start(&mut self, inst: &Instrument, ask: i64, out: &mut Vec<Intent>) {
        let Ok(lay) = layout(&self.spec, inst) else {
            self.status = GridStatus::Stopped;
            return;
        };
        // The base for the upper slots is bought at the ask: size everything at that price.
        let sizes = size(&self.spec, inst, &lay, inst.price(ask));
        // Re-check the filters at the real start price: never start a grid that cannot trade.
        let n = lay.buy.len() - 1;
        let ok = (0..n).all(|i| {
            let q = sizes.qty.get(i).copied().unwrap_or(0);
            inst.placeable(lay.buy[i], q) && inst.placeable(lay.sell[i + 1], q)
        });
        if !ok {
            self.desk.unplaceable += 1;
            self.status = GridStatus::Stopped;
            self.stop_reason = Some(Reason::GridStart);
            return;
        }
        self.slots = (0..n)
            .map(|i| Slot {
                want: if i < sizes.k { Side::Buy } else { Side::Sell },
                qty: sizes.qty[i],
                order: None,
                base: Decimal::ZERO,
                cost: Decimal::ZERO,
                matched: false,
                cycle: 0,
                blocked: false,
                paused: false,
            })
            .collect();
        if sizes.initial_buy > 0 {
            self.init_order = self.desk.place(
                inst,
                out,
                (Leg::GridInit, self.first_level, 0),
                Side::Buy,
                OrderType::Market,
                0,
                sizes.initial_buy,
                Reason::GridInitialBuy,
            );
            if self.init_order.is_none() {
                self.status = GridStatus::Stopped;
                self.stop_reason = Some(Reason::GridStart);
                return;
            }
            self.status = GridStatus::Starting;
        } else {
            self.status = GridStatus::Running;
            self.hand_out_pool(inst);
        }
        for i in 0..self.slots.len() {
            if self.slots[i].want == Side::Buy && self.spec.placement == Placement::Resting {
                self.place_slot(inst, i, out);
            }
        }
        if self.status == GridStatus::Running {
            self.place_sells(inst, out);
        }
    }

    /// Give the base of the pool (initial buy or base investment) to the selling slots.
    fn hand_out_pool(&mut self, inst: &Instrument) {
        let lot = inst.qty(1);
        for s in self.slots.iter_mut().filter(|s| s.want == Side::Sell) {
            let want = inst.qty(s.qty);
            let take = want.min(self.pool_base);
            let take = (take / lot).floor() * lot;
            if take <= Decimal::ZERO {
                s.blocked = true;
                continue;
            }
            let cost = if self.pool_base > Decimal::ZERO {
                self.pool_cost * take / self.pool_base
            } else {
                Decimal::ZERO
            };
            s.base = take;
            s.cost = cost;
            s.matched = false;
            self.pool_base -= take;
            self.pool_cost -= cost;
        }
    }

    fn place_sells(&mut self, inst: &Instrument, out: &mut Vec<Intent>) {
        if self.spec.placement != Placement::Resting {
            return;
        }
        for i in 0..self.slots.len() {
            if self.slots[i].want == Side::Sell {
                self.place_slot(inst, i, out);
            }
        }
    }

    /// Place the order a slot wants (limit in resting mode, IOC in virtual mode).
    fn place_slot(&mut self, inst: &Instrument, i: usize, out: &mut Vec<Intent>) {
        let Some(s) = self.slots.get(i) else { return };
        let live =
            matches!(self.status, GridStatus::Starting | GridStatus::Running) && self.desk.active();
        if s.order.is_some() || s.blocked || !live {
            return;
        }
        let ot = match self.spec.placement {
            Placement::Resting => OrderType::Limit,
            Placement::Virtual => OrderType::LimitIoc,
        };
        let (leg, side, px, qty, reason) = match s.want {
            Side::Buy => {
                // Never commit more quote than the bot holds (fee included).
                let cost = inst.notional(self.buy[i], s.qty) * (Decimal::ONE + self.spec.fee_rate);
                if cost > self.free_quote(inst) {
                    self.desk.unplaceable += 1;
                    return;
                }
                (
                    Leg::GridBuy,
                    Side::Buy,
                    self.buy[i],
                    s.qty,
                    Reason::GridLevelBuy,
                )
            }
            Side::Sell => {
                let lots = inst.qty_lots(s.base).unwrap_or(0);
                if !inst.placeable(self.sell[i + 1], lots) && s.matched {
                    // What is left of a grid buy (partial fills, base fees) is below the venue
                    // minimum: keep it in the pool (still in floating P&L) and buy again.
                    self.recycle_dust(i);
                    return self.place_slot(inst, i, out);
                }
                (
                    Leg::GridSell,
                    Side::Sell,
                    self.sell[i + 1],
                    lots,
                    Reason::GridLevelSell,
                )
            }
        };
        let cycle = s.cycle;
        let id = self.id(leg, i, cycle);
        let placed = self.desk.place(inst, out, id, side, ot, px, qty, reason);
        if let Some(s) = self.slots.get_mut(i) {
            if placed.is_none() {
                s.blocked = true;
            }
            s.order = placed;
        }
    }

    /// Move a slot's unsellable remainder to the pool and re-arm its buy (next cycle).
    fn recycle_dust(&mut self, i: usize) {
        let Some(s) = self.slots.get_mut(i) else {
            return;
        };
        self.pool_base += s.base;
        self.pool_cost += s.cost;
        s.base = Decimal::ZERO;
        s.cost = Decimal::ZERO;
        s.matched = false;
        s.want = Side::Buy;
        s.cycle = s.cycle.saturating_add(1);
    }

    /// Resting buys that could not be funded are retried whenever quote comes back.
    fn retry_idle_buys(&mut self, inst: &Instrument, out: &mut Vec<Intent>) {
        if self.spec.placement != Placement::Resting {
            return;
        }
        for i in 0..self.slots.len() {
            let s = &self.slots[i];
            if s.want == Side::Buy && s.order.is_none() && !s.blocked {
                self.place_slot(inst, i, out);
            }
        }
    }

    /// Quote not committed to live buy orders.
    fn free_quote(&self, inst: &Instrument) -> Decimal {
        let committed = sum(self
            .desk
            .orders
            .values()
            .filter(|o| o.side == Side::Buy)
            .map(|o| {
                let px = if o.order_type == OrderType::Market {
                    self.desk.last_ask
                } else {
                    o.price_ticks
                };
                inst.notional(px, o.remaining()) * (Decimal::ONE + self.spec.fee_rate)
            }));
        self.quote - committed
    }

    fn trail(&mut self, inst: &Instrument, bid: i64, out: &mut Vec<Intent>) {
        for _ in 0..self.slots.len() {
            if self.trailing_stopped {
                return;
            }
            let Some(t) = self.trail_trigger() else {
                return;
            };
            if bid < t {
                return;
            }
            let Some(first) = self.slots.first() else {
                return;
            };
            if first.want != Side::Buy || first.base > Decimal::ZERO {
                return;
            }
            let (first_qty, first_order) = (first.qty, first.order.clone());
            let new_exact = match self.spec.spacing {
                Spacing::Arithmetic => self.exact_top + self.step,
                Spacing::Geometric => self.exact_top * self.step,
            };
            if self
                .spec
                .trailing_up_limit
                .is_some_and(|lim| new_exact > lim)
            {
                self.trailing_stopped = true;
                return;
            }
            let (Some(nb), Some(ns), Some(&old_top)) = (
                inst.price_ticks(new_exact, Side::Buy),
                inst.price_ticks(new_exact, Side::Sell),
                self.buy.last(),
            ) else {
                self.trailing_stopped = true;
                return;
            };
            // The quote freed at the bottom buys at the old top.
            let freed = inst.notional(self.buy[0], first_qty);
            let qty = inst.qty_lots(freed / inst.price(old_top)).unwrap_or(0);
            if !inst.placeable(old_top, qty) || !inst.placeable(ns, qty) {
                self.desk.unplaceable += 1;
                self.trailing_stopped = true;
                return;
            }
            if let Some(id) = first_order {
                self.desk.cancel(out, &id, Reason::GridTrailingUp);
                // Cancelled orders stay known until confirmed; a late fill is pooled.
            }
            self.slots.remove(0);
            self.buy.remove(0);
            self.sell.remove(0);
            self.buy.push(nb);
            self.sell.push(ns);
            self.exact_top = new_exact;
            self.first_level = self.first_level.saturating_add(1);
            self.trailing_shifts += 1;
            self.slots.push(Slot {
                want: Side::Buy,
                qty,
                order: None,
                base: Decimal::ZERO,
                cost: Decimal::ZERO,
                matched: false,
                cycle: 0,
                blocked: false,
                paused: false,
            });
            let last = self.slots.len() - 1;
            if self.spec.placement == Placement::Resting {
                self.place_slot(inst, last, out);
            }
        }
    }

    fn stop(&mut self, inst: &Instrument, reason: Reason, out: &mut Vec<Intent>) {
        self.status = GridStatus::Stopped;
        self.stop_reason = Some(reason);
        let ids: Vec<String> = self.desk.orders.keys().cloned().collect();
        for id in &ids {
            self.desk.cancel(out, id, reason);
        }
        self.pool_slots();
        if self.spec.sell_base_on_stop {
            let lots = inst.qty_lots(self.base.min(self.pool_base)).unwrap_or(0);
            if lots > 0 {
                self.exit_order = self.desk.place(
                    inst,
                    out,
                    (Leg::Exit, self.first_level, 0),
                    Side::Sell,
                    OrderType::Market,
                    0,
                    lots,
                    reason,
                );
            }
        }
    }

    /// Pool every holding so an exit sale realizes against the whole cost; orders still known
    /// are detached from their slots, so a fill that races their cancel is pooled too.
    fn pool_slots(&mut self) {
        for s in self.slots.iter_mut() {
            self.pool_base += s.base;
            self.pool_cost += s.cost;
            s.base = Decimal::ZERO;
            s.cost = Decimal::ZERO;
            s.order = None;
        }
    }

    /// A user command (see [`Control`]). Repeating one re-sends what is still outstanding.
    pub fn command(
        &mut self,
        inst: &Instrument,
        cmd: Command,
        out: &mut Vec<Intent>,
    ) -> Result<(), String> {
        self.desk
            .check_command(cmd, self.status == GridStatus::Stopped)?;
        let was = self.desk.control;
        match cmd {
            Command::Pause => {
                self.desk.cancel_resting(out, Reason::ManualCancel);
                if was == Control::Running {
                    self.desk.control = Control::Paused;
                    // The cancel's confirmation gives the slot a new cycle (a fresh client id).
                    for s in self.slots.iter_mut().filter(|s| s.order.is_some()) {
                        s.paused = true;
                    }
                }
            }
            Command::Resume => {
                if was != Control::Paused {
                    return Ok(());
                }
                self.desk.control = Control::Running;
                // Exactly what rested before the pause (a buy that filled in a race sells
                // instead), plus the sells of a start that completed meanwhile. An idle buy
                // stays idle as before: it is retried when a sell brings quote back. Slots whose
                // cancel is not confirmed yet keep their order; the confirmation places them
                // again (`on_update`).
                if self.spec.placement == Placement::Resting {
                    let running = self.status == GridStatus::Running;
                    for i in 0..self.slots.len() {
                        let s = &mut self.slots[i];
                        let due =
                            std::mem::take(&mut s.paused) || (running && s.want == Side::Sell);
                        if due {
                            self.place_slot(inst, i, out);
                        }
                    }
                }
                for s in self.slots.iter_mut() {
                    s.paused = false;
                }
            }
            Command::Stop => {
                self.desk.control = Control::Stopped;
                self.desk.cancel_resting(out, Reason::ManualCancel);
            }
            Command::Close => {
                self.desk.cancel_resting(out, Reason::ManualClose);
                if was == Control::Closing {
                    if let Some(id) = &self.exit_order {
                        self.desk.resend(out, id);
                    }
                } else {
                    self.desk.control = Control::Closing;
                    self.status = GridStatus::Stopped;
                    self.stop_reason = Some(Reason::ManualClose);
                    self.pool_slots();
                }
                self.drive_close(inst, out);
            }
        }
        Ok(())
    }

    /// Emergency close: once none of the bot's orders is left on the venue (so no base is
    /// locked in a sell and no buy can still add to it), sell what it holds at market; stopped
    /// when nothing sellable is left. A refused exit waits for the user to retry `close`.
    fn drive_close(&mut self, inst: &Instrument, out: &mut Vec<Intent>) {
        if self.desk.control != Control::Closing || !self.desk.orders.is_empty() {
            return;
        }
        let lots = inst.qty_lots(self.base.min(self.pool_base)).unwrap_or(0);
        if lots > 0 {
            let cycle = self.desk.exits.saturating_add(1);
            let placed = self.desk.place(
                inst,
                out,
                (Leg::Exit, self.first_level, cycle),
                Side::Sell,
                OrderType::Market,
                0,
                lots,
                Reason::ManualClose,
            );
            if placed.is_some() {
                self.desk.exits = cycle;
                self.exit_order = placed;
                return;
            }
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
        self.apply_balances(&ex);
        let done = order.filled_lots >= order.qty_lots;
        let slot = self.slot_of(&fill.client_id);
        match (order.leg, slot) {
            (Leg::GridInit, _) => {
                self.pool_base += ex.qty - ex.fee_base;
                self.pool_cost += ex.notional + ex.fee_quote;
                if done {
                    self.desk.close(&fill.client_id);
                    self.finish_start(inst, out);
                }
            }
            (Leg::GridBuy, Some(i)) => {
                let s = &mut self.slots[i];
                s.base += ex.qty - ex.fee_base;
                s.cost += ex.notional + ex.fee_quote;
                s.matched = true;
                if done {
                    self.desk.close(&fill.client_id);
                    self.buy_done(inst, i, out);
                }
            }
            (Leg::GridSell, Some(i)) => {
                self.realize_from_slot(i, &ex);
                if done {
                    self.desk.close(&fill.client_id);
                    self.sell_done(inst, i, out);
                }
            }
            (_, _) => {
                // Exit sale, or a fill for an order whose slot moved (trailing, stop): pool it.
                match ex.side {
                    Side::Buy => {
                        self.pool_base += ex.qty - ex.fee_base;
                        self.pool_cost += ex.notional + ex.fee_quote;
                    }
                    Side::Sell => {
                        let basis = share(self.pool_cost, self.pool_base, ex.qty);
                        self.pool_cost -= basis;
                        self.pool_base -= ex.qty + ex.fee_base;
                        self.desk.ledger.realized_pnl += ex.notional - ex.fee_quote - basis;
                    }
                }
                if done {
                    self.desk.close(&fill.client_id);
                    if self.exit_order.as_deref() == Some(fill.client_id.as_str()) {
                        self.exit_order = None;
                    }
                }
            }
        }
        self.drive_close(inst, out);
        FillOutcome::Applied
    }

    fn apply_balances(&mut self, ex: &Execution) {
        match ex.side {
            Side::Buy => {
                self.base += ex.qty - ex.fee_base;
                self.quote -= ex.notional + ex.fee_quote;
            }
            Side::Sell => {
                self.base -= ex.qty + ex.fee_base;
                self.quote += ex.notional - ex.fee_quote;
            }
        }
    }

    fn realize_from_slot(&mut self, i: usize, ex: &Execution) {
        let s = &mut self.slots[i];
        let basis = share(s.cost, s.base, ex.qty);
        s.cost -= basis;
        s.base -= ex.qty + ex.fee_base;
        let pnl = ex.notional - ex.fee_quote - basis;
        self.desk.ledger.realized_pnl += pnl;
        if s.matched {
            self.grid_profit += pnl;
        }
    }

    fn finish_start(&mut self, inst: &Instrument, out: &mut Vec<Intent>) {
        self.init_order = None;
        if self.status == GridStatus::Starting {
            self.status = GridStatus::Running;
            self.hand_out_pool(inst);
            self.place_sells(inst, out);
        }
    }

    fn buy_done(&mut self, inst: &Instrument, i: usize, out: &mut Vec<Intent>) {
        let s = &mut self.slots[i];
        s.order = None;
        if s.base > Decimal::ZERO {
            s.want = Side::Sell;
        }
        if self.spec.placement == Placement::Resting {
            self.place_slot(inst, i, out);
        }
    }

    fn sell_done(&mut self, inst: &Instrument, i: usize, out: &mut Vec<Intent>) {
        let s = &mut self.slots[i];
        s.order = None;
        // The id of an order that had fills is never sent again (see `Ledger::recent_fills`).
        s.cycle = s.cycle.saturating_add(1);
        if inst.qty_lots(s.base).unwrap_or(0) == 0 {
            // Sold out: dust below one lot goes to the pool; the pair is complete.
            self.pool_base += s.base;
            self.pool_cost += s.cost;
            s.base = Decimal::ZERO;
            s.cost = Decimal::ZERO;
            if s.matched {
                self.matched_trades += 1;
            }
            s.matched = false;
            s.want = Side::Buy;
        }
        if self.spec.placement == Placement::Resting {
            self.place_slot(inst, i, out);
        }
        self.retry_idle_buys(inst, out);
    }

    fn slot_of(&self, client_id: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.order.as_deref() == Some(client_id))
    }

    pub fn on_update(&mut self, inst: &Instrument, u: &OrderUpdate, out: &mut Vec<Intent>) -> bool {
        if !self.desk.orders.contains_key(&u.client_id) {
            return false;
        }
        match u.status {
            OrderStatus::Accepted | OrderStatus::PartiallyFilled | OrderStatus::Filled => {}
            OrderStatus::Cancelled | OrderStatus::Rejected => {
                let rejected = u.status == OrderStatus::Rejected;
                self.desk.close(&u.client_id);
                if self.init_order.as_deref() == Some(u.client_id.as_str()) {
                    self.finish_start(inst, out);
                } else if self.exit_order.as_deref() == Some(u.client_id.as_str()) {
                    // A refused exit is not re-sent in a loop: the user retries `close`.
                    self.exit_order = None;
                    return true;
                } else if let Some(i) = self.slot_of(&u.client_id) {
                    let s = &mut self.slots[i];
                    s.order = None;
                    // Placed again under a new id: a cancelled order may have had fills.
                    s.cycle = s.cycle.saturating_add(1);
                    // A partly filled buy keeps what it got and sells it; a refused order is
                    // not re-sent in a loop (resting) but waits for a new trigger (virtual).
                    if s.want == Side::Buy && s.base > Decimal::ZERO {
                        s.want = Side::Sell;
                    }
                    if rejected && self.spec.placement == Placement::Resting {
                        s.blocked = true;
                    } else if self.spec.placement == Placement::Resting {
                        self.place_slot(inst, i, out);
                    }
                }
            }
        }
        self.drive_close(inst, out);
        true
    }

    /// Quote value of what the grid holds at `mark`, minus its cost.
    pub fn floating_pnl(&self, inst: &Instrument, mark: i64) -> Decimal {
        let held = sum(self.slots.iter().map(|s| s.base)) + self.pool_base;
        let cost = sum(self.slots.iter().map(|s| s.cost)) + self.pool_cost;
        held * inst.price(mark) - cost
    }
}

/// Cost basis of `part` out of a holding of `total` costing `cost`.
fn share(cost: Decimal, total: Decimal, part: Decimal) -> Decimal {
    if total <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    if part >= total {
        return cost;
    }
    cost * part / total
}

//! Grid and DCA bots: definitions, validation, plans, state machines, the per-symbol trigger
//! index and the paper matcher.
//!
//! Config-time maths (geometric ratios, deviations, budgets) is exact decimal (`rust_decimal`)
//! and is rounded onto the instrument's tick and lot grids with the exchange rules: quantity
//! down to the lot step, a buy price down and a sell price up to the tick. From then on the hot
//! path (top-of-book evaluation) compares integer ticks only; P&L and fees are kept as exact
//! decimals per fill.

pub mod dca;
mod desk;
pub mod engine;
pub mod grid;
pub mod ids;
pub mod instrument;
pub mod paper;
pub mod session;
pub mod triggers;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub use engine::{Bot, BotSpec, FillOutcome, SymbolEngine};
pub use ids::{client_id, parse_client_id, Leg};
pub use instrument::{Instrument, InstrumentSpec};

/// Order side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// How an order executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Rests on the book until filled or cancelled.
    Limit,
    /// Takes what is available up to the limit price; the rest is cancelled (virtual mode).
    LimitIoc,
    /// Walks the book; `price_ticks` is 0.
    Market,
}

impl OrderType {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Limit => "limit",
            OrderType::LimitIoc => "limit_ioc",
            OrderType::Market => "market",
        }
    }
}

/// Where a bot's orders live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// Limit orders rest on the venue; the core decides what should rest and reacts to fills.
    #[default]
    Resting,
    /// Nothing rests; the core emits an immediate-or-cancel order when the book crosses a level.
    Virtual,
}

/// What an intent asks the executor to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Place,
    Cancel,
    /// Cancel `replaces` and place this order in its stead.
    Replace,
}

/// Why an intent was emitted (stable names, used in logs and counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    GridStart,
    GridInitialBuy,
    GridLevelBuy,
    GridLevelSell,
    GridTrailingUp,
    TakeProfitPrice,
    StopLossPrice,
    DealStart,
    SafetyOrder,
    TakeProfit,
    TakeProfitResize,
    TrailingTakeProfit,
    StopLoss,
    DealClosed,
    /// A user command (pause or stop) cancelled the order.
    ManualCancel,
    /// A user's emergency close: its cancels and its flattening market order.
    ManualClose,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::GridStart => "grid_start",
            Reason::GridInitialBuy => "grid_initial_buy",
            Reason::GridLevelBuy => "grid_level_buy",
            Reason::GridLevelSell => "grid_level_sell",
            Reason::GridTrailingUp => "grid_trailing_up",
            Reason::TakeProfitPrice => "take_profit_price",
            Reason::StopLossPrice => "stop_loss_price",
            Reason::DealStart => "deal_start",
            Reason::SafetyOrder => "safety_order",
            Reason::TakeProfit => "take_profit",
            Reason::TakeProfitResize => "take_profit_resize",
            Reason::TrailingTakeProfit => "trailing_take_profit",
            Reason::StopLoss => "stop_loss",
            Reason::DealClosed => "deal_closed",
            Reason::ManualCancel => "manual_cancel",
            Reason::ManualClose => "manual_close",
        }
    }
}

/// What the user last told a bot, above its own state machine (which keeps running underneath:
/// fills that race a pause or a stop are still applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Trading as its definition says.
    #[default]
    Running,
    /// Resting orders cancelled, nothing new placed; `resume` places what its state calls for.
    Paused,
    /// Final: nothing is ever placed again except by `close`.
    Stopped,
    /// Emergency close under way: waiting for its cancels, then flattening at market; ends
    /// `Stopped`.
    Closing,
}

impl Control {
    pub fn as_str(self) -> &'static str {
        match self {
            Control::Running => "running",
            Control::Paused => "paused",
            Control::Stopped => "stopped",
            Control::Closing => "closing",
        }
    }
}

/// A user command to a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Pause,
    Resume,
    Stop,
    Close,
}

impl std::str::FromStr for Command {
    type Err = String;
    fn from_str(s: &str) -> Result<Command, String> {
        match s {
            "pause" => Ok(Command::Pause),
            "resume" => Ok(Command::Resume),
            "stop" => Ok(Command::Stop),
            "close" => Ok(Command::Close),
            _ => Err(format!(
                "unknown command {s:?}: expected pause, resume, stop or close"
            )),
        }
    }
}

/// One order intent, in integer ticks and lots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub action: Action,
    pub bot: u32,
    pub client_id: String,
    /// For `Replace`: the client id of the order being replaced.
    pub replaces: Option<String>,
    pub side: Side,
    pub order_type: OrderType,
    pub price_ticks: i64,
    pub qty_lots: i64,
    pub reason: Reason,
}

/// Which asset a fee was charged in, relative to the instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeeAsset {
    Base,
    Quote,
    Other(String),
}

/// One execution of one of our orders (partial or final).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// Venue trade id (or the paper matcher's); duplicates are detected by it.
    pub fill_id: String,
    pub client_id: String,
    pub side: Side,
    pub price_ticks: i64,
    pub qty_lots: i64,
    /// Fee amount, positive when paid; a rebate is negative.
    pub fee: Decimal,
    /// Asset code of the fee (e.g. "USDT", "BTC", "BNB").
    pub fee_asset: String,
    pub ts_ns: i64,
}

/// Order lifecycle updates other than executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Accepted,
    Rejected,
    Cancelled,
    PartiallyFilled,
    Filled,
}

/// An order update from paper or live execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderUpdate {
    pub client_id: String,
    pub status: OrderStatus,
    pub ts_ns: i64,
}

/// One problem with a bot definition: the field and a message with the numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotError {
    pub field: String,
    pub message: String,
}

impl BotError {
    pub fn new(field: &str, message: impl Into<String>) -> BotError {
        BotError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for BotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A list of problems (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotErrors(pub Vec<BotError>);

impl fmt::Display for BotErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BotErrors {}

/// An order a bot believes is live (or in flight) on the venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenOrder {
    pub leg: Leg,
    pub level: u32,
    pub side: Side,
    pub order_type: OrderType,
    pub price_ticks: i64,
    pub qty_lots: i64,
    pub filled_lots: i64,
    /// Why it was placed (absent in states exported before it was kept).
    #[serde(default)]
    pub reason: Option<Reason>,
    /// A cancel (or replace) was requested; the order stays known until the venue confirms,
    /// so a fill that races the cancel is still applied.
    #[serde(default)]
    pub cancelling: bool,
    /// Ids of the fills applied to this order (duplicate detection while it lives).
    #[serde(default)]
    pub fill_ids: Vec<String>,
}

impl OpenOrder {
    pub fn remaining(&self) -> i64 {
        (self.qty_lots - self.filled_lots).max(0)
    }
}

/// Fill ids of finished orders remembered for late replays (see [`Ledger::recent_fills`]).
pub const RECENT_FILLS: usize = 1024;

/// Realized results kept per bot; fees per asset in the fee's own currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Realized P&L in quote, net of quote fees.
    pub realized_pnl: Decimal,
    /// Fees paid, keyed by asset code.
    pub fees: BTreeMap<String, Decimal>,
    /// Fill ids of the last finished orders, oldest first, at most [`RECENT_FILLS`].
    ///
    /// Duplicate fills are refused without keeping every fill id forever: a live order keeps
    /// the ids of its own fills (`OpenOrder::fill_ids`), and when it finishes they move here.
    /// A replay older than this window names an order that is no longer live, so it is refused
    /// as unknown: the bots never place again a client id that has had fills (a grid slot
    /// takes a new cycle after a cancel or a partial sale, take profits are versioned, exits
    /// and safety orders after a pause are counted), and the ids they do re-use (a base or
    /// safety order that was cancelled before any fill) have no fill to replay.
    #[serde(default)]
    pub recent_fills: std::collections::VecDeque<String>,
    pub fills_applied: u64,
    pub duplicate_fills: u64,
    pub unknown_fills: u64,
}

impl Ledger {
    /// Remember the fill ids of a finished order, forgetting the oldest beyond the window.
    pub fn retire(&mut self, fill_ids: Vec<String>) {
        self.recent_fills.extend(fill_ids);
        while self.recent_fills.len() > RECENT_FILLS {
            self.recent_fills.pop_front();
        }
    }

    pub fn add_fee(&mut self, asset: &str, fee: Decimal) {
        *self.fees.entry(asset.to_string()).or_default() += fee;
    }
}

/// Largest magnitude accepted for any price, size or percentage of a bot definition; keeps every
/// exact-decimal product and sum far from `Decimal`'s range, so config maths cannot overflow.
pub(crate) const MAX_INPUT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0); // 1e12

/// One error if `v` is out of the accepted magnitude.
pub(crate) fn check_bounds(field: &str, v: Decimal, errs: &mut Vec<BotError>) {
    if v.abs() > MAX_INPUT {
        errs.push(BotError::new(
            field,
            format!("{v} is out of range (at most {MAX_INPUT})"),
        ));
    }
}

/// Percent string helper for messages: `0.0165` -> `"1.65"`.
pub(crate) fn pct(x: Decimal) -> String {
    (x * Decimal::ONE_HUNDRED)
        .round_dp(4)
        .normalize()
        .to_string()
}

#[cfg(test)]
mod command_tests;
#[cfg(test)]
mod dedup_tests;
#[cfg(test)]
mod tests;

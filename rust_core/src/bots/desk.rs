//! What every bot shares: its open orders, its ledger, and the one place intents are made, so
//! that no intent can ever violate the instrument's filters.

use super::{
    client_id, Action, Command, Control, Fill, Instrument, Intent, Ledger, Leg, OpenOrder,
    OrderType, Reason, Side,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A fill's effect in the bot's two assets (fees in other assets only reach the ledger).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Execution {
    pub side: Side,
    pub qty_lots: i64,
    pub price_ticks: i64,
    /// Quote value of the fill, exact.
    pub notional: Decimal,
    /// Base quantity, exact.
    pub qty: Decimal,
    pub fee_base: Decimal,
    pub fee_quote: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desk {
    pub bot: u32,
    pub orders: BTreeMap<String, OpenOrder>,
    pub ledger: Ledger,
    /// Orders the bot wanted but could not place within the filters (surfaced, never silent).
    pub unplaceable: u64,
    pub last_bid: i64,
    pub last_ask: i64,
    /// What the user last told the bot.
    #[serde(default)]
    pub control: Control,
    /// Exit orders placed so far (part of their client ids: an exit placed again after a
    /// refusal never re-uses an id that may have had fills).
    #[serde(default)]
    pub exits: u32,
}

/// Outcome of checking a fill against the desk.
pub enum Checked {
    Duplicate,
    Unknown,
    /// The order the fill belongs to (after the fill) and the fill's asset effects.
    New(OpenOrder, Execution),
}

impl Desk {
    pub fn new(bot: u32) -> Desk {
        Desk {
            bot,
            ..Desk::default()
        }
    }

    /// Emit a place intent if it passes every filter; `None` (and counted) otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn place(
        &mut self,
        inst: &Instrument,
        out: &mut Vec<Intent>,
        (leg, level, cycle): (Leg, u32, u32),
        side: Side,
        order_type: OrderType,
        price_ticks: i64,
        qty_lots: i64,
        reason: Reason,
    ) -> Option<String> {
        self.place_or_replace(
            inst,
            out,
            (leg, level, cycle),
            side,
            order_type,
            price_ticks,
            qty_lots,
            reason,
            None,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn place_or_replace(
        &mut self,
        inst: &Instrument,
        out: &mut Vec<Intent>,
        (leg, level, cycle): (Leg, u32, u32),
        side: Side,
        order_type: OrderType,
        price_ticks: i64,
        qty_lots: i64,
        reason: Reason,
        replaces: Option<String>,
    ) -> Option<String> {
        // A market order is checked at the price it will meet: the opposite best.
        let check_price = match (order_type, side) {
            (OrderType::Market, Side::Buy) => self.last_ask,
            (OrderType::Market, Side::Sell) => self.last_bid,
            _ => price_ticks,
        };
        if !inst.placeable(check_price, qty_lots) {
            self.unplaceable += 1;
            if let Some(old) = replaces {
                self.cancel(out, &old, reason);
            }
            return None;
        }
        let id = client_id(self.bot, leg, level, cycle);
        if self.orders.contains_key(&id) {
            // Same (bot, leg, level, cycle) already live: the id is the idempotency key.
            self.unplaceable += 1;
            return None;
        }
        let price_ticks = if order_type == OrderType::Market {
            0
        } else {
            price_ticks
        };
        let action = if replaces.is_some() {
            Action::Replace
        } else {
            Action::Place
        };
        // A replaced order stays known until the venue confirms its cancel, so a fill that
        // races the replace is still applied.
        if let Some(old) = replaces.as_deref().and_then(|r| self.orders.get_mut(r)) {
            old.cancelling = true;
        }
        self.orders.insert(
            id.clone(),
            OpenOrder {
                leg,
                level,
                side,
                order_type,
                price_ticks,
                qty_lots,
                filled_lots: 0,
                reason: Some(reason),
                cancelling: false,
                fill_ids: Vec::new(),
            },
        );
        out.push(Intent {
            action,
            bot: self.bot,
            client_id: id.clone(),
            replaces,
            side,
            order_type,
            price_ticks,
            qty_lots,
            reason,
        });
        Some(id)
    }

    /// Ask the venue to cancel `id`; the order stays known until the venue confirms, so a
    /// fill that races the cancel is still applied.
    pub fn cancel(&mut self, out: &mut Vec<Intent>, id: &str, reason: Reason) {
        if let Some(o) = self.orders.get_mut(id) {
            o.cancelling = true;
            out.push(Intent {
                action: Action::Cancel,
                bot: self.bot,
                client_id: id.to_string(),
                replaces: None,
                side: o.side,
                order_type: o.order_type,
                price_ticks: o.price_ticks,
                qty_lots: o.remaining(),
                reason,
            });
        }
    }

    /// Cancel every order that rests on the venue (limit orders). Market and immediate-or-cancel
    /// orders are in flight and end by themselves. Orders already being cancelled are asked
    /// again, so a repeated command (a retry after a restart) re-sends what is outstanding.
    pub fn cancel_resting(&mut self, out: &mut Vec<Intent>, reason: Reason) {
        let ids: Vec<String> = self
            .orders
            .iter()
            .filter(|(_, o)| o.order_type == OrderType::Limit)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ids {
            self.cancel(out, id, reason);
        }
    }

    /// Re-send the place intent of a known order under its own client id (the venue dedupes).
    pub fn resend(&self, out: &mut Vec<Intent>, id: &str) {
        if let Some(o) = self.orders.get(id) {
            out.push(Intent {
                action: Action::Place,
                bot: self.bot,
                client_id: id.to_string(),
                replaces: None,
                side: o.side,
                order_type: o.order_type,
                price_ticks: o.price_ticks,
                qty_lots: o.remaining(),
                reason: o.reason.unwrap_or(Reason::ManualClose),
            });
        }
    }

    /// The bot may place new orders (not paused, stopped or closing).
    pub fn active(&self) -> bool {
        self.control == Control::Running
    }

    /// Whether `cmd` is allowed now; `finished` is the bot's own final state (a grid stopped by
    /// its price limits, a DCA bot past `max_deals`), which only `close` may follow.
    pub fn check_command(&self, cmd: Command, finished: bool) -> Result<(), String> {
        let bot = self.bot;
        match (self.control, cmd) {
            (_, Command::Close) => Ok(()),
            (Control::Closing, _) => Err(format!(
                "bot {bot} is closing; only close (a retry) is accepted"
            )),
            (Control::Stopped, _) => Err(format!("bot {bot} is stopped; only close is accepted")),
            _ if finished => Err(format!(
                "bot {bot} has finished by itself; only close is accepted"
            )),
            _ => Ok(()),
        }
    }

    /// Duplicate/unknown detection, order fill accounting and fee recording.
    pub fn check_fill(&mut self, inst: &Instrument, fill: &Fill) -> Checked {
        let live_dup = self
            .orders
            .get(&fill.client_id)
            .is_some_and(|o| o.fill_ids.contains(&fill.fill_id));
        if live_dup || self.ledger.recent_fills.contains(&fill.fill_id) {
            self.ledger.duplicate_fills += 1;
            return Checked::Duplicate;
        }
        // A fill must be for a live order of ours, on its side, within what is left of it, at a
        // sane price; anything else is refused rather than allowed to corrupt the state.
        let valid = fill.qty_lots > 0
            && fill.price_ticks > 0
            && inst.price(fill.price_ticks) <= super::MAX_INPUT
            && fill.fee.abs() <= super::MAX_INPUT;
        let Some(order) = self
            .orders
            .get_mut(&fill.client_id)
            .filter(|o| valid && o.side == fill.side && fill.qty_lots <= o.remaining())
        else {
            self.ledger.unknown_fills += 1;
            return Checked::Unknown;
        };
        self.ledger.fills_applied += 1;
        order.filled_lots += fill.qty_lots;
        order.fill_ids.push(fill.fill_id.clone());
        let order = order.clone();
        self.ledger.add_fee(&fill.fee_asset, fill.fee);
        let (mut fee_base, mut fee_quote) = (Decimal::ZERO, Decimal::ZERO);
        if fill.fee_asset == inst.quote_asset {
            fee_quote = fill.fee;
        } else if fill.fee_asset == inst.base_asset {
            fee_base = fill.fee;
        }
        let exec = Execution {
            side: fill.side,
            qty_lots: fill.qty_lots,
            price_ticks: fill.price_ticks,
            notional: inst.notional(fill.price_ticks, fill.qty_lots),
            qty: inst.qty(fill.qty_lots),
            fee_base,
            fee_quote,
        };
        Checked::New(order, exec)
    }

    /// Forget an order that is done (filled, cancelled or rejected); its fill ids go to the
    /// ledger's window of recent ones.
    pub fn close(&mut self, id: &str) {
        if let Some(o) = self.orders.remove(id) {
            self.ledger.retire(o.fill_ids);
        }
    }
}

/// Sum of `v` over an iterator (Decimal has no `Sum` for references in all versions).
pub fn sum<I: Iterator<Item = Decimal>>(it: I) -> Decimal {
    it.fold(Decimal::ZERO, |a, b| a + b)
}

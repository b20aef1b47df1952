//! Paper execution against the live book: resting limit orders fill when the opposite best
//! trades through them (strict cross by default, touch as an option); market and crossing orders
//! walk the opposite levels. Fees are charged per fill.

use super::{Action, Fill, Instrument, Intent, OrderStatus, OrderType, OrderUpdate, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FillModel {
    /// A resting buy at p fills when the best ask goes below p (a sell: best bid above p).
    #[default]
    Strict,
    /// ... when the best ask reaches p (a sell: best bid reaches p).
    Touch,
}

/// Which asset fees are charged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeeIn {
    /// Always the quote asset.
    #[default]
    Quote,
    /// The asset received (buy: base, sell: quote), as Binance spot without BNB.
    Received,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaperConfig {
    pub fill_model: FillModel,
    pub maker_fee: Decimal,
    pub taker_fee: Decimal,
    pub fee_in: FeeIn,
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            fill_model: FillModel::Strict,
            maker_fee: Decimal::new(1, 3),
            taker_fee: Decimal::new(1, 3),
            fee_in: FeeIn::Quote,
        }
    }
}

/// An event the paper venue reports back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum PaperEvent {
    Update(OrderUpdate),
    Fill(Fill),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Resting {
    side: Side,
    price: i64,
    remaining: i64,
    seq: u64,
}

/// A paper venue for one symbol.
#[derive(Debug, Clone)]
pub struct PaperMatcher {
    inst: Instrument,
    pub cfg: PaperConfig,
    orders: BTreeMap<String, Resting>,
    /// Price-time queues: buys by (price, seq), sells by (price, seq).
    buys: BTreeMap<(i64, u64), String>,
    sells: BTreeMap<(i64, u64), String>,
    seq: u64,
    fill_seq: u64,
}

impl PaperMatcher {
    pub fn new(inst: Instrument, cfg: PaperConfig) -> PaperMatcher {
        PaperMatcher {
            inst,
            cfg,
            orders: BTreeMap::new(),
            buys: BTreeMap::new(),
            sells: BTreeMap::new(),
            seq: 0,
            fill_seq: 0,
        }
    }

    pub fn resting_count(&self) -> usize {
        self.orders.len()
    }

    /// Execute one intent against the book. `levels` are the opposite side's levels
    /// `(price_ticks, qty_lots)` from the best outward; empty means "only the top is known",
    /// and then the opposite best (`bid`/`ask`) is taken as deep enough.
    pub fn submit(
        &mut self,
        intent: &Intent,
        bid: i64,
        ask: i64,
        levels: &[(i64, i64)],
        now_ns: i64,
        out: &mut Vec<PaperEvent>,
    ) {
        match intent.action {
            Action::Cancel => self.cancel(&intent.client_id, now_ns, out),
            Action::Replace => {
                if let Some(old) = &intent.replaces {
                    self.cancel(old, now_ns, out);
                }
                self.place(intent, bid, ask, levels, now_ns, out);
            }
            Action::Place => self.place(intent, bid, ask, levels, now_ns, out),
        }
    }

    fn update(&self, id: &str, status: OrderStatus, now_ns: i64, out: &mut Vec<PaperEvent>) {
        out.push(PaperEvent::Update(OrderUpdate {
            client_id: id.to_string(),
            status,
            ts_ns: now_ns,
        }));
    }

    fn cancel(&mut self, id: &str, now_ns: i64, out: &mut Vec<PaperEvent>) {
        if let Some(r) = self.orders.remove(id) {
            match r.side {
                Side::Buy => self.buys.remove(&(r.price, r.seq)),
                Side::Sell => self.sells.remove(&(r.price, r.seq)),
            };
            self.update(id, OrderStatus::Cancelled, now_ns, out);
        }
    }

    fn place(
        &mut self,
        it: &Intent,
        bid: i64,
        ask: i64,
        levels: &[(i64, i64)],
        now_ns: i64,
        out: &mut Vec<PaperEvent>,
    ) {
        let valid = it.qty_lots > 0 && (it.order_type == OrderType::Market || it.price_ticks > 0);
        if !valid || self.orders.contains_key(&it.client_id) {
            self.update(&it.client_id, OrderStatus::Rejected, now_ns, out);
            return;
        }
        self.update(&it.client_id, OrderStatus::Accepted, now_ns, out);
        let top = match it.side {
            Side::Buy => (ask, i64::MAX),
            Side::Sell => (bid, i64::MAX),
        };
        let book: &[(i64, i64)] = if levels.is_empty() {
            std::slice::from_ref(&top)
        } else {
            levels
        };
        let limit = match it.order_type {
            OrderType::Market => None,
            _ => Some(it.price_ticks),
        };
        // Take liquidity while the level is within the limit.
        let mut left = it.qty_lots;
        for &(px, qty) in book {
            if left == 0 || px <= 0 || qty <= 0 {
                continue;
            }
            let within = match (limit, it.side) {
                (None, _) => true,
                (Some(l), Side::Buy) => px <= l,
                (Some(l), Side::Sell) => px >= l,
            };
            if !within {
                break;
            }
            let take = left.min(qty);
            left -= take;
            self.fill(
                &it.client_id,
                it.side,
                px,
                take,
                self.cfg.taker_fee,
                now_ns,
                out,
            );
        }
        if left == 0 {
            self.update(&it.client_id, OrderStatus::Filled, now_ns, out);
            return;
        }
        if it.order_type == OrderType::Limit {
            if left < it.qty_lots {
                self.update(&it.client_id, OrderStatus::PartiallyFilled, now_ns, out);
            }
            self.seq += 1;
            let r = Resting {
                side: it.side,
                price: it.price_ticks,
                remaining: left,
                seq: self.seq,
            };
            match it.side {
                Side::Buy => self.buys.insert((r.price, r.seq), it.client_id.clone()),
                Side::Sell => self.sells.insert((r.price, r.seq), it.client_id.clone()),
            };
            self.orders.insert(it.client_id.clone(), r);
        } else {
            self.update(&it.client_id, OrderStatus::Cancelled, now_ns, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fill(
        &mut self,
        id: &str,
        side: Side,
        px: i64,
        lots: i64,
        rate: Decimal,
        now_ns: i64,
        out: &mut Vec<PaperEvent>,
    ) {
        self.fill_seq += 1;
        let (fee, asset) = match (self.cfg.fee_in, side) {
            (FeeIn::Received, Side::Buy) => {
                (self.inst.qty(lots) * rate, self.inst.base_asset.clone())
            }
            _ => (
                self.inst.notional(px, lots) * rate,
                self.inst.quote_asset.clone(),
            ),
        };
        out.push(PaperEvent::Fill(Fill {
            fill_id: format!("P{}", self.fill_seq),
            client_id: id.to_string(),
            side,
            price_ticks: px,
            qty_lots: lots,
            fee: fee.normalize(),
            fee_asset: asset,
            ts_ns: now_ns,
        }));
    }

    /// A new top of book: fill every resting order the opposite best trades through, in
    /// price-time priority, at its own limit price (maker).
    pub fn on_top(&mut self, bid: i64, ask: i64, now_ns: i64, out: &mut Vec<PaperEvent>) {
        let touch = self.cfg.fill_model == FillModel::Touch;
        // Buys priced above the ask (or at it, with touch), best price first.
        let buy_from = if touch { ask } else { ask.saturating_add(1) };
        let hit_buys: Vec<(i64, u64)> = self
            .buys
            .range((buy_from, 0)..)
            .rev()
            .map(|(k, _)| *k)
            .collect();
        let sell_to = if touch { bid } else { bid.saturating_sub(1) };
        let hit_sells: Vec<(i64, u64)> = self
            .sells
            .range(..=(sell_to, u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for (book, keys) in [(Side::Buy, hit_buys), (Side::Sell, hit_sells)] {
            for key in keys {
                let id = match book {
                    Side::Buy => self.buys.remove(&key),
                    Side::Sell => self.sells.remove(&key),
                };
                let Some(id) = id else { continue };
                let Some(r) = self.orders.remove(&id) else {
                    continue;
                };
                self.fill(
                    &id,
                    r.side,
                    r.price,
                    r.remaining,
                    self.cfg.maker_fee,
                    now_ns,
                    out,
                );
                self.update(&id, OrderStatus::Filled, now_ns, out);
            }
        }
    }
}

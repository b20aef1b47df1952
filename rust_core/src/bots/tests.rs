//! Tests of the bots against the worked examples of the reference, and their state machines
//! driven through the paper matcher.

use super::dca::{self, DcaSpec};
use super::engine::{Bot, BotSpec, FillOutcome, SymbolEngine};
use super::grid::{self, GridSpec};
use super::paper::{FeeIn, FillModel, PaperConfig, PaperEvent, PaperMatcher};
use super::session::PaperSession;
use super::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

pub(super) fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub(super) fn inst(tick: &str, lot: &str, min_qty: &str, min_notional: &str) -> Instrument {
    Instrument::from_spec(&InstrumentSpec {
        tick_size: tick.into(),
        lot_step: lot.into(),
        min_qty: Some(min_qty.into()),
        min_notional: Some(min_notional.into()),
        base_asset: "BTC".into(),
        quote_asset: "USDT".into(),
    })
    .unwrap()
}

pub(super) fn btc() -> Instrument {
    inst("0.01", "0.00001", "0.00001", "5")
}

pub(super) fn dca_spec(json: &str) -> DcaSpec {
    let base = serde_json::json!({
        "side": "long", "base_order": {"quote": "10"}, "safety_order": {"quote": "20"},
        "price_deviation_pct": "1", "step_scale": "1.5", "volume_scale": "2",
        "max_safety_orders": 5, "max_active_safety_orders": 5, "take_profit_pct": "1.5",
        "take_profit_type": "total", "fee_rate": "0.001", "start_price": "100"
    });
    let mut v = base;
    let over: serde_json::Value = serde_json::from_str(json).unwrap();
    for (k, x) in over.as_object().unwrap() {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap()
}

pub(super) fn grid_spec(json: &str) -> GridSpec {
    let mut v = serde_json::json!({
        "lower": "90", "upper": "110", "grids": 10, "spacing": "arithmetic",
        "investment": {"quote": "1000"}, "fee_rate": "0.001", "start_price": "100"
    });
    let over: serde_json::Value = serde_json::from_str(json).unwrap();
    for (k, x) in over.as_object().unwrap() {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap()
}

fn cents(s: &str) -> String {
    let mut x =
        d(s).round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    x.rescale(2);
    x.to_string()
}

// --- worked examples ---------------------------------------------------------------------------

#[test]
fn dca_ladder_matches_the_reference_table_to_the_cent() {
    let p = dca::plan(&dca_spec("{}"), &btc());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    // SO: cum dev %, price, size (quote), cum quote, avg entry, TP(total), bounce %.
    let table = [
        ("1", "99.00", "20", "30", "99.33", "100.82", "1.84"),
        ("2.5", "97.50", "40", "70", "98.28", "99.75", "2.31"),
        ("4.75", "95.25", "80", "150", "96.64", "98.09", "2.98"),
        ("8.125", "91.87", "160", "310", "94.12", "95.53", "3.98"),
        ("13.1875", "86.81", "320", "630", "90.26", "91.61", "5.53"),
    ];
    assert_eq!(p.orders.len(), 6);
    assert_eq!(p.orders[0].price, "100.00");
    assert_eq!(p.orders[0].qty, "0.10000");
    for (row, o) in table.iter().zip(&p.orders[1..]) {
        assert_eq!(d(&o.deviation_pct), d(row.0), "deviation {o:?}");
        assert_eq!(cents(&o.price), row.1, "price {o:?}");
        // Sizes are rounded down to the lot, so the quote value is within one lot of the target.
        assert_eq!(cents(&o.quote), cents(row.2), "size {o:?}");
        assert_eq!(cents(&o.cum_quote), cents(row.3), "cum quote {o:?}");
        assert_eq!(cents(&o.avg_entry), row.4, "avg entry {o:?}");
        assert_eq!(cents(&o.take_profit), row.5, "take profit {o:?}");
        assert_eq!(cents(&o.bounce_pct), row.6, "bounce {o:?}");
    }
    assert_eq!(cents(&p.max_funds), "630.00");
    assert_eq!(d(&p.max_deviation_pct), d("13.1875"));
    // The take-profit order itself is on the tick grid, rounded up for a sell.
    assert_eq!(p.orders[1].take_profit_price, "100.83");
}

#[test]
fn dca_take_profit_type_base_matches_the_reference() {
    let p = dca::plan(&dca_spec(r#"{"take_profit_type": "base"}"#), &btc());
    let want = ["99.83", "98.49", "96.74", "94.16", "90.28"];
    for (w, o) in want.iter().zip(&p.orders[1..]) {
        assert_eq!(cents(&o.take_profit), *w, "{o:?}");
    }
    // The reference's 94.17 for SO 4 uses the unrounded price 91.875; on a 0.001 tick with a
    // fine lot, where 91.875 is a real price, the engine gives the same cent.
    let fine = inst("0.001", "0.00000001", "0.00000001", "5");
    let p = dca::plan(&dca_spec(r#"{"take_profit_type": "base"}"#), &fine);
    assert_eq!(p.orders[4].price, "91.875");
    assert_eq!(cents(&p.orders[4].take_profit), "94.17");
}

#[test]
fn dca_scales_of_one_use_the_closed_form() {
    let p = dca::plan(
        &dca_spec(
            r#"{"step_scale": "1", "volume_scale": "1", "max_safety_orders": 4, "max_active_safety_orders": 2}"#,
        ),
        &btc(),
    );
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let devs: Vec<Decimal> = p.orders[1..].iter().map(|o| d(&o.deviation_pct)).collect();
    assert_eq!(devs, vec![d("1"), d("2"), d("3"), d("4")]);
    let prices: Vec<&str> = p.orders[1..].iter().map(|o| o.price.as_str()).collect();
    assert_eq!(prices, vec!["99.00", "98.00", "97.00", "96.00"]);
    // C_n = BO + n·SO with every SO 20 quote (within one lot of rounding).
    for (n, o) in p.orders.iter().enumerate() {
        assert_eq!(cents(&o.cum_quote), cents(&(10 + 20 * n).to_string()));
        if n > 0 {
            assert_eq!(cents(&o.quote), "20.00");
        }
    }
    assert_eq!(d(&p.max_deviation_pct), d("4"));
}

#[test]
fn dca_errors_name_the_field_and_numbers() {
    let p = dca::plan(
        &dca_spec(r#"{"safety_order": {"quote": "4"}, "budget": "100", "step_scale": "20"}"#),
        &btc(),
    );
    let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"step_scale"), "{:?}", p.errors);
    let p = dca::plan(
        &dca_spec(r#"{"safety_order": {"quote": "4"}, "budget": "50"}"#),
        &btc(),
    );
    let so = p
        .errors
        .iter()
        .find(|e| e.field == "safety_order")
        .expect("safety order error");
    assert!(
        so.message.contains("safety order 1") && so.message.contains("min notional 5"),
        "{so}"
    );
    let b = p
        .errors
        .iter()
        .find(|e| e.field == "budget")
        .expect("budget error");
    assert!(
        b.message.contains("50") && b.message.contains("max funds"),
        "{b}"
    );
    let p = dca::plan(
        &dca_spec(r#"{"price_deviation_pct": "30", "step_scale": "2"}"#),
        &btc(),
    );
    assert!(
        p.errors.iter().any(|e| e.field == "price_deviation_pct"),
        "{:?}",
        p.errors
    );
}

#[test]
fn grid_profit_per_grid_matches_the_reference() {
    let p = grid::plan(&grid_spec("{}"), &btc());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.levels.len(), 11);
    assert_eq!(p.levels[1], "92.00");
    assert_eq!(cents(&p.gross_profit_per_grid_pct.min), "1.85");
    assert_eq!(cents(&p.gross_profit_per_grid_pct.max), "2.22");
    assert_eq!(cents(&p.net_profit_per_grid_pct.min), "1.65");
    assert_eq!(cents(&p.net_profit_per_grid_pct.max), "2.02");
    let g = grid::plan(&grid_spec(r#"{"spacing": "geometric"}"#), &btc());
    assert!(g.errors.is_empty(), "{:?}", g.errors);
    assert_eq!(cents(&g.gross_profit_per_grid_pct.min), "2.03");
    assert_eq!(cents(&g.net_profit_per_grid_pct.min), "1.82");
    assert_eq!(cents(&g.net_profit_per_grid_pct.max), "1.82");
    assert_eq!(g.levels[10], "110.00");
}

#[test]
fn grid_minimum_investment_matches_the_reference() {
    let p = grid::plan(&grid_spec("{}"), &btc());
    // q_min = 5/90 rounded up to the lot = 0.05556; 5 buys (90..98) + 5 sells bought at 100:
    // 0.05556 × 970 = 53.8932, plus one fee of 0.1 % on all of it = 53.9471 (≈ 53.9).
    assert_eq!(cents(&p.min_investment), "53.95");
    assert_eq!(d(&p.min_investment), d("53.8932") * d("1.001"));
    assert_eq!(p.level_detail[5].at_start, "empty");
    // With 1000 quote, equal base: q = floor(1000 / (970 × 1.001)) = floor(1.029898…) on the lot grid.
    assert_eq!(p.qty_per_level.as_deref(), Some("1.02989"));
    assert!(d(&p.investment_needed) <= d("1000"));
    let small = grid::plan(&grid_spec(r#"{"investment": {"quote": "50"}}"#), &btc());
    let e = small
        .errors
        .iter()
        .find(|e| e.field == "investment.quote")
        .expect("error");
    assert!(
        e.message.contains("50") && e.message.contains("53.95"),
        "{e}"
    );
}

#[test]
fn fee_negative_grid_is_refused() {
    let p = grid::plan(
        &grid_spec(r#"{"grids": 200, "lower": "99", "upper": "101", "fee_rate": "0.001"}"#),
        &btc(),
    );
    let e = p
        .errors
        .iter()
        .find(|e| e.field == "grids")
        .expect("fee error");
    assert!(e.message.contains("net of fees"), "{e}");
    let p = grid::plan(&grid_spec(r#"{"lower": "110", "upper": "90"}"#), &btc());
    assert_eq!(p.errors[0].field, "upper");
}

// --- runtime through the paper matcher ----------------------------------------------------------

pub(super) fn engine_with(inst: &Instrument, specs: Vec<BotSpec>) -> SymbolEngine {
    let mut e = SymbolEngine::new(inst.clone());
    for (i, s) in specs.into_iter().enumerate() {
        e.add_bot(i as u32 + 1, s).unwrap();
    }
    e
}

pub(super) fn session(inst: &Instrument, specs: Vec<BotSpec>) -> PaperSession {
    PaperSession::new(
        engine_with(inst, specs),
        PaperMatcher::new(inst.clone(), PaperConfig::default()),
    )
}

pub(super) fn px(p: &str) -> i64 {
    btc().price_ticks(d(p), Side::Buy).unwrap()
}

#[test]
fn dca_partial_fills_resize_the_take_profit() {
    let i = btc();
    let mut e = engine_with(
        &i,
        vec![BotSpec::Dca(dca_spec(r#"{"max_active_safety_orders": 1}"#))],
    );
    let mut out = Vec::new();
    e.on_top(px("99.99"), px("100"), 1, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].order_type, out[0].qty_lots, out[0].reason),
        (OrderType::Market, 10_000, Reason::DealStart)
    );
    let fill = |id: &str, cid: &str, side, p: &str, lots| Fill {
        fill_id: id.into(),
        client_id: cid.into(),
        side,
        price_ticks: px(p),
        qty_lots: lots,
        fee: Decimal::ZERO,
        fee_asset: "USDT".into(),
        ts_ns: 2,
    };
    let bo = out[0].client_id.clone();
    out.clear();
    assert_eq!(
        e.on_fill(&fill("f1", &bo, Side::Buy, "100", 10_000), &mut out),
        FillOutcome::Applied
    );
    // Take profit at 100 × 1.015 for the whole position, and SO 1 at 99.00.
    let tp = out
        .iter()
        .find(|x| x.reason == Reason::TakeProfit)
        .unwrap()
        .clone();
    assert_eq!(
        (tp.price_ticks, tp.qty_lots, tp.side),
        (px("101.5"), 10_000, Side::Sell)
    );
    let so = out
        .iter()
        .find(|x| x.reason == Reason::SafetyOrder)
        .unwrap()
        .clone();
    assert_eq!((so.price_ticks, so.qty_lots), (px("99"), 20_202));
    out.clear();
    // Half of SO 1 fills: the take profit is replaced with the new size and average.
    e.on_fill(
        &fill("f2", &so.client_id, Side::Buy, "99", 10_000),
        &mut out,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    let r = &out[0];
    assert_eq!(
        (r.action, r.reason, r.qty_lots),
        (Action::Replace, Reason::TakeProfitResize, 20_000)
    );
    assert_eq!(r.replaces.as_deref(), Some(tp.client_id.as_str()));
    // avg = (1000 + 990) / 0.2 = 99.5; × 1.015 = 100.9925 -> 100.10 rounded up for a sell.
    assert_eq!(r.price_ticks, px("100.9925") + 1);
    // The duplicate of that fill changes nothing.
    let before = e.export_state().unwrap();
    let mut dup = Vec::new();
    assert_eq!(
        e.on_fill(
            &fill("f2", &so.client_id, Side::Buy, "99", 10_000),
            &mut dup
        ),
        FillOutcome::Duplicate
    );
    assert!(dup.is_empty());
    let after = e.export_state().unwrap();
    assert_eq!(
        before.replace("\"duplicate_fills\":0", ""),
        before.replace("\"duplicate_fills\":0", "")
    );
    assert_ne!(before, after, "the duplicate is counted");
    match e.bot(1) {
        Some(Bot::Dca(b)) => {
            assert_eq!(b.position, d("0.2"));
            assert_eq!(b.desk.ledger.duplicate_fills, 1);
        }
        _ => panic!("dca bot"),
    }
    // An unknown fill is refused.
    assert_eq!(
        e.on_fill(&fill("f9", "W1D9C9", Side::Buy, "99", 1), &mut dup),
        FillOutcome::Unknown
    );
    assert_eq!(
        e.on_fill(&fill("f9", "nope", Side::Buy, "99", 1), &mut dup),
        FillOutcome::Unknown
    );
    // The rest of SO 1 fills: TP resized again and SO 2 placed.
    out.clear();
    e.on_fill(
        &fill("f3", &so.client_id, Side::Buy, "99", 10_202),
        &mut out,
    );
    let reasons: Vec<Reason> = out.iter().map(|x| x.reason).collect();
    assert_eq!(reasons, vec![Reason::TakeProfitResize, Reason::SafetyOrder]);
    assert_eq!(out[0].qty_lots, 30_202);
    assert_eq!(out[1].price_ticks, px("97.5"));
}

/// Drive a session along a price path (one tick spread), returning every intent and fill.
pub(super) fn run(s: &mut PaperSession, path: &[i64], t0: i64) -> (Vec<Intent>, Vec<Fill>) {
    let (mut intents, mut fills) = (Vec::new(), Vec::new());
    for (k, &p) in path.iter().enumerate() {
        let step = s.on_top(p, p + 1, t0 + k as i64 * 1_000_000_000, &[], &[]);
        intents.extend(step.intents);
        fills.extend(step.fills);
    }
    (intents, fills)
}

pub(super) fn wave(lo: i64, hi: i64, step: i64, cycles: usize) -> Vec<i64> {
    let mut v = Vec::new();
    for _ in 0..cycles {
        let mut p = hi;
        while p > lo {
            v.push(p);
            p -= step;
        }
        while p < hi {
            v.push(p);
            p += step;
        }
    }
    v
}

#[test]
fn grid_pairs_every_sell_with_a_buy_one_level_below() {
    let i = btc();
    let mut s = session(&i, vec![BotSpec::Grid(grid_spec("{}"))]);
    let mut path = vec![px("100")];
    path.extend(wave(px("88"), px("112"), 37, 3));
    let (intents, fills) = run(&mut s, &path, 0);
    assert!(intents.iter().any(|x| x.reason == Reason::GridInitialBuy));
    let Some(Bot::Grid(g)) = s.engine.bot(1) else {
        panic!()
    };
    let mut buys_at: std::collections::BTreeMap<u32, i64> = Default::default();
    let mut matched = 0;
    for f in &fills {
        let (_, leg, level, _) = parse_client_id(&f.client_id).unwrap();
        match leg {
            Leg::GridBuy => *buys_at.entry(level).or_default() += f.qty_lots,
            Leg::GridSell => {
                // A sell at level l+1 sells base bought at level l (or at start).
                let below = buys_at.entry(level).or_default();
                if *below >= f.qty_lots {
                    *below -= f.qty_lots;
                    matched += 1;
                }
                assert_eq!(
                    f.price_ticks,
                    g.sell[level as usize + 1],
                    "sell one level above its slot"
                );
            }
            _ => {}
        }
    }
    assert!(matched > 10, "only {matched} matched sells");
    assert_eq!(g.matched_trades as usize, matched);
    // Grid profit per matched trade is net of both fees: qty·(p_{i+1} − p_i) − fees.
    assert!(g.grid_profit > Decimal::ZERO);
    // Realized P&L adds up to the fills: quote balance change + cost of what is still held.
    let held_cost = g.slots.iter().fold(Decimal::ZERO, |a, s| a + s.cost) + g.pool_cost;
    assert_eq!(
        g.quote + held_cost - g.spec.investment.quote,
        g.desk.ledger.realized_pnl
    );
    let fees = fills.iter().fold(Decimal::ZERO, |a, f| a + f.fee);
    assert_eq!(
        g.desk.ledger.fees.get("USDT").copied().unwrap_or_default(),
        fees
    );
}

#[test]
fn grid_virtual_mode_emits_ioc_orders_only_when_crossed() {
    let i = btc();
    let mut s = session(
        &i,
        vec![BotSpec::Grid(grid_spec(r#"{"placement": "virtual"}"#))],
    );
    let (intents, fills) = run(
        &mut s,
        &[
            px("100"),
            px("99"),
            px("97.9"),
            px("97"),
            px("98.5"),
            px("100.1"),
        ],
        0,
    );
    assert_eq!(
        s.matcher.resting_count(),
        0,
        "nothing rests in virtual mode"
    );
    let levels: Vec<(Reason, i64)> = intents
        .iter()
        .filter(|x| x.order_type == OrderType::LimitIoc)
        .map(|x| (x.reason, x.price_ticks))
        .collect();
    assert_eq!(
        levels,
        vec![
            (Reason::GridLevelBuy, px("98")),
            (Reason::GridLevelSell, px("100"))
        ]
    );
    assert_eq!(fills.len(), 3);
}

#[test]
fn grid_stops_at_stop_loss_price_and_sells_base() {
    let i = btc();
    let spec = grid_spec(
        r#"{"stop_loss_price": "93", "take_profit_price": "115", "sell_base_on_stop": true}"#,
    );
    let mut s = session(&i, vec![BotSpec::Grid(spec)]);
    let (intents, _) = run(&mut s, &[px("100"), px("97"), px("92.5")], 0);
    assert!(intents
        .iter()
        .any(|x| x.reason == Reason::StopLossPrice && x.action == Action::Cancel));
    let exit = intents
        .iter()
        .find(|x| x.reason == Reason::StopLossPrice && x.action == Action::Place)
        .unwrap();
    assert_eq!(
        (exit.side, exit.order_type),
        (Side::Sell, OrderType::Market)
    );
    let Some(Bot::Grid(g)) = s.engine.bot(1) else {
        panic!()
    };
    assert_eq!(g.status, grid::GridStatus::Stopped);
    assert!(g.base < i.qty(1), "base left: {}", g.base);
    assert!(
        g.desk.ledger.realized_pnl < Decimal::ZERO,
        "sold below cost"
    );
    assert_eq!(s.matcher.resting_count(), 0);
}

#[test]
fn grid_trailing_up_shifts_the_range() {
    let i = btc();
    let spec =
        grid_spec(r#"{"trailing_up": true, "sizing": "equal_quote", "trailing_up_limit": "120"}"#);
    let mut s = session(&i, vec![BotSpec::Grid(spec)]);
    let (intents, _) = run(
        &mut s,
        &[px("100"), px("105"), px("110.5"), px("114.5"), px("130")],
        0,
    );
    let shifts: Vec<&Intent> = intents
        .iter()
        .filter(|x| x.reason == Reason::GridTrailingUp)
        .collect();
    assert!(!shifts.is_empty());
    let Some(Bot::Grid(g)) = s.engine.bot(1) else {
        panic!()
    };
    // Limit 120: the top can go to 112, 114, ... up to 120 and no further.
    assert_eq!(g.trailing_shifts, 5);
    assert_eq!(*g.buy.last().unwrap(), px("120"));
    assert!(g.trailing_stopped);
    assert!(g.quote >= Decimal::ZERO);
}

#[test]
fn dca_deal_cycle_with_trailing_take_profit_and_cooldown() {
    let i = btc();
    let spec = dca_spec(
        r#"{"trailing_deviation_pct": "0.5", "cooldown_seconds": 10, "max_safety_orders": 2, "max_active_safety_orders": 2}"#,
    );
    let mut s = session(&i, vec![BotSpec::Dca(spec)]);
    let path = [
        px("100"),
        px("99.5"),
        px("98.9"),
        px("99.5"),
        px("100.5"),
        px("101"),
        px("102"),
        px("101.4"),
        px("101"),
        px("100"),
    ];
    let (intents, fills) = run(&mut s, &path, 0);
    let exit = intents
        .iter()
        .find(|x| x.reason == Reason::TrailingTakeProfit && x.action == Action::Place)
        .expect("trailing exit");
    assert_eq!(exit.order_type, OrderType::Market);
    let Some(Bot::Dca(b)) = s.engine.bot(1) else {
        panic!()
    };
    assert_eq!(b.deals_closed, 1);
    // Cooldown: no new deal started within 10 s of the close.
    assert_eq!(
        intents
            .iter()
            .filter(|x| x.reason == Reason::DealStart)
            .count(),
        1
    );
    // Realized P&L adds up to the fills: sells − buys − fees (position flat).
    let mut cash = Decimal::ZERO;
    for f in &fills {
        let n = i.notional(f.price_ticks, f.qty_lots);
        cash += if f.side == Side::Sell { n } else { -n };
        cash -= f.fee;
    }
    assert_eq!(b.position, Decimal::ZERO);
    assert_eq!(b.desk.ledger.realized_pnl, cash);
    assert!(cash > Decimal::ZERO);
    // After the cooldown a new deal starts.
    let (intents, _) = run(&mut s, &[px("100"); 3], 100_000_000_000);
    assert_eq!(
        intents
            .iter()
            .filter(|x| x.reason == Reason::DealStart)
            .count(),
        1
    );
}

#[test]
fn dca_stop_loss_and_short_side() {
    let i = btc();
    let long = dca_spec(
        r#"{"stop_loss_pct": "5", "max_safety_orders": 1, "max_active_safety_orders": 1}"#,
    );
    let short = dca_spec(
        r#"{"side": "short", "base_order": {"base": "0.1"}, "safety_order": {"base": "0.2"}, "max_safety_orders": 1, "max_active_safety_orders": 1}"#,
    );
    let mut s = session(&i, vec![BotSpec::Dca(long), BotSpec::Dca(short)]);
    let (intents, _) = run(&mut s, &[px("100"), px("99"), px("94"), px("93")], 0);
    assert!(intents
        .iter()
        .any(|x| x.bot == 1 && x.reason == Reason::StopLoss && x.order_type == OrderType::Market));
    // The short sold 0.1 at 100; its entry net of the 0.1 % fee is 99.90, and it buys back
    // at 99.90 × (1 − 1.5 %) = 98.4015, rounded down for a buy.
    let tp = intents
        .iter()
        .find(|x| x.bot == 2 && x.reason == Reason::TakeProfit)
        .unwrap();
    assert_eq!(
        (tp.side, tp.price_ticks, tp.qty_lots),
        (Side::Buy, px("98.40"), 10_000)
    );
    let Some(Bot::Dca(b)) = s.engine.bot(2) else {
        panic!()
    };
    assert_eq!(b.deals_closed, 1, "short took profit on the way down");
    assert!(b.desk.ledger.realized_pnl > Decimal::ZERO);
    let Some(Bot::Dca(l)) = s.engine.bot(1) else {
        panic!()
    };
    assert!(l.desk.ledger.realized_pnl < Decimal::ZERO);
}

#[test]
fn restart_from_exported_state_gives_identical_intents() {
    let i = btc();
    let specs = vec![
        BotSpec::Grid(grid_spec("{}")),
        BotSpec::Dca(dca_spec(r#"{"cooldown_seconds": 5}"#)),
        BotSpec::Grid(grid_spec(
            r#"{"placement": "virtual", "spacing": "geometric"}"#,
        )),
    ];
    let path = wave(px("85"), px("115"), 53, 4);
    let (first, rest) = path.split_at(path.len() / 2);
    let mut a = session(&i, specs);
    run(&mut a, first, 0);
    let state = a.engine.export_state().unwrap();
    let restored = SymbolEngine::import_state(&state).unwrap();
    assert_eq!(
        restored.export_state().unwrap(),
        state,
        "export/import is exact"
    );
    let mut b = PaperSession::new(restored, a.matcher.clone());
    let t1 = first.len() as i64 * 1_000_000_000;
    let (ia, fa) = run(&mut a, rest, t1);
    let (ib, fb) = run(&mut b, rest, t1);
    assert!(!ia.is_empty());
    assert_eq!(ia, ib);
    assert_eq!(fa, fb);
    assert_eq!(
        a.engine.export_state().unwrap(),
        b.engine.export_state().unwrap()
    );
}

#[test]
fn paper_matcher_strict_touch_and_walking() {
    let i = btc();
    let mut m = PaperMatcher::new(i.clone(), PaperConfig::default());
    let place = |cid: &str, side, ot, p: i64, q| Intent {
        action: Action::Place,
        bot: 1,
        client_id: cid.into(),
        replaces: None,
        side,
        order_type: ot,
        price_ticks: p,
        qty_lots: q,
        reason: Reason::GridLevelBuy,
    };
    let mut ev = Vec::new();
    m.submit(
        &place("a", Side::Buy, OrderType::Limit, 100, 5),
        101,
        102,
        &[],
        0,
        &mut ev,
    );
    m.on_top(99, 100, 0, &mut ev);
    assert!(
        !ev.iter().any(|e| matches!(e, PaperEvent::Fill(_))),
        "strict: touching does not fill"
    );
    m.on_top(98, 99, 0, &mut ev);
    let fills: Vec<&Fill> = ev
        .iter()
        .filter_map(|e| {
            if let PaperEvent::Fill(f) = e {
                Some(f)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        (fills.len(), fills[0].price_ticks, fills[0].qty_lots),
        (1, 100, 5)
    );
    let mut t = PaperMatcher::new(
        i.clone(),
        PaperConfig {
            fill_model: FillModel::Touch,
            ..PaperConfig::default()
        },
    );
    let mut ev = Vec::new();
    t.submit(
        &place("b", Side::Sell, OrderType::Limit, 105, 5),
        101,
        102,
        &[],
        0,
        &mut ev,
    );
    t.on_top(105, 106, 0, &mut ev);
    assert!(
        ev.iter().any(|e| matches!(e, PaperEvent::Fill(_))),
        "touch fills at the price"
    );
    // A market buy walks the asks; a crossing IOC stops at its limit.
    let mut ev = Vec::new();
    let asks = [(102, 3), (103, 4), (105, 10)];
    m.submit(
        &place("c", Side::Buy, OrderType::Market, 0, 5),
        101,
        102,
        &asks,
        0,
        &mut ev,
    );
    let got: Vec<(i64, i64)> = ev
        .iter()
        .filter_map(|e| {
            if let PaperEvent::Fill(f) = e {
                Some((f.price_ticks, f.qty_lots))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(got, vec![(102, 3), (103, 2)]);
    let mut ev = Vec::new();
    m.submit(
        &place("d", Side::Buy, OrderType::LimitIoc, 103, 20),
        101,
        102,
        &asks,
        0,
        &mut ev,
    );
    let got: Vec<(i64, i64)> = ev
        .iter()
        .filter_map(|e| {
            if let PaperEvent::Fill(f) = e {
                Some((f.price_ticks, f.qty_lots))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(got, vec![(102, 3), (103, 4)]);
    assert!(matches!(ev.last(), Some(PaperEvent::Update(u)) if u.status == OrderStatus::Cancelled));
    // Fees per fill, in the received asset when asked.
    let mut r = PaperMatcher::new(
        i.clone(),
        PaperConfig {
            fee_in: FeeIn::Received,
            ..PaperConfig::default()
        },
    );
    let mut ev = Vec::new();
    r.submit(
        &place("e", Side::Buy, OrderType::Market, 0, 100_000),
        10_000,
        10_001,
        &[],
        0,
        &mut ev,
    );
    let f = ev
        .iter()
        .find_map(|e| {
            if let PaperEvent::Fill(f) = e {
                Some(f.clone())
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!((f.fee, f.fee_asset.as_str()), (d("0.001"), "BTC"));
}

#[test]
fn trigger_index_skips_bots_that_are_not_crossed() {
    let i = btc();
    let mut e = SymbolEngine::new(i.clone());
    for id in 0..100u32 {
        let mut g = grid_spec(r#"{"placement": "virtual"}"#);
        g.take_profit_price = Some(d("200") + Decimal::from(id));
        e.add_bot(id, BotSpec::Grid(g)).unwrap();
    }
    let mut out = Vec::new();
    e.on_top(px("100"), px("100.01"), 0, &mut out); // first top: every bot starts
    assert_eq!(e.stats.bot_evaluations, 100);
    out.clear();
    e.on_top(px("100.5"), px("100.51"), 1, &mut out); // nothing crossed
    assert_eq!(e.stats.bot_evaluations, 100);
    assert!(out.is_empty());
    // Six take-profit prices crossed (the grids wait for their initial buys, so nothing else).
    e.on_top(px("205.5"), px("205.51"), 2, &mut out);
    assert_eq!(e.stats.bot_evaluations, 106);
    let stops = out
        .iter()
        .filter(|x| x.reason == Reason::TakeProfitPrice)
        .map(|x| x.bot)
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(stops, (0..=5).collect());
}

// --- properties -----------------------------------------------------------------------------

pub(super) fn arb_instrument() -> impl Strategy<Value = Instrument> {
    (
        prop::sample::select(vec!["0.01", "0.05", "0.1", "1"]),
        prop::sample::select(vec!["0.00001", "0.001", "0.1"]),
        prop::sample::select(vec!["1", "5", "10"]),
    )
        .prop_map(|(t, l, n)| inst(t, l, l, n))
}

pub(super) fn check_intents(
    i: &Instrument,
    intents: &[Intent],
    bid: i64,
    ask: i64,
) -> Result<(), TestCaseError> {
    for x in intents {
        prop_assert!(
            x.client_id.len() <= 32 && x.client_id.bytes().all(|c| c.is_ascii_alphanumeric())
        );
        if x.action == Action::Cancel {
            continue;
        }
        prop_assert!(x.qty_lots >= i.min_qty_lots, "{x:?}");
        if x.order_type == OrderType::Market {
            // A market order meets the opposite best; it must pass the filters there.
            let at = if x.side == Side::Buy { ask } else { bid };
            prop_assert!(i.placeable(at, x.qty_lots), "{x:?}");
        } else {
            prop_assert!(i.placeable(x.price_ticks, x.qty_lots), "{x:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// No intent ever violates the instrument's filters, and a grid never holds more than its
    /// investment (its quote and base never go negative and its buys are always funded).
    #[test]
    fn intents_respect_filters_and_grids_stay_funded(
        i in arb_instrument(),
        investment in 200u32..5000,
        grids in 2u32..30,
        geometric in any::<bool>(),
        virtual_ in any::<bool>(),
        fee_in_base in any::<bool>(),
        moves in prop::collection::vec(-300i64..300, 1..120),
    ) {
        let g = grid_spec(&format!(
            r#"{{"investment": {{"quote": "{investment}"}}, "grids": {grids}, "spacing": "{}", "placement": "{}"}}"#,
            if geometric { "geometric" } else { "arithmetic" },
            if virtual_ { "virtual" } else { "resting" },
        ));
        let mut specs = Vec::new();
        if grid::plan(&g, &i).errors.is_empty() {
            specs.push(BotSpec::Grid(g));
        }
        let dspec = dca_spec(r#"{"max_safety_orders": 3, "max_active_safety_orders": 2}"#);
        if dca::plan(&dspec, &i).errors.is_empty() {
            specs.push(BotSpec::Dca(dspec));
        }
        prop_assume!(!specs.is_empty());
        let cfg = PaperConfig { fee_in: if fee_in_base { FeeIn::Received } else { FeeIn::Quote }, ..PaperConfig::default() };
        let mut s = PaperSession::new(engine_with(&i, specs), PaperMatcher::new(i.clone(), cfg));
        let unit = i.price_ticks(d("0.05"), Side::Sell).unwrap().max(1);
        let mut p = i.price_ticks(d("100"), Side::Buy).unwrap();
        for (k, m) in moves.iter().enumerate() {
            p = (p + m * unit).max(10 * unit);
            let step = s.on_top(p, p + 1, k as i64, &[], &[]);
            check_intents(&i, &step.intents, p, p + 1)?;
            if let Some(Bot::Grid(g)) = s.engine.bot(1) {
                prop_assert!(g.quote >= Decimal::ZERO, "quote {}", g.quote);
                prop_assert!(g.base >= Decimal::ZERO, "base {}", g.base);
                let committed = g.desk.orders.values().filter(|o| o.side == Side::Buy && o.order_type != OrderType::Market)
                    .fold(Decimal::ZERO, |a, o| a + i.notional(o.price_ticks, o.remaining()));
                prop_assert!(committed <= g.quote, "buys {committed} > quote {}", g.quote);
                let selling = g.desk.orders.values().filter(|o| o.side == Side::Sell)
                    .fold(0i64, |a, o| a + o.remaining());
                prop_assert!(i.qty(selling) <= g.base, "sells {selling} > base {}", g.base);
            }
        }
    }
}

#[test]
fn dca_multi_target_take_profit_moves_stop_to_breakeven() {
    let i = btc();
    let spec = dca_spec(
        r#"{"max_safety_orders": 1, "max_active_safety_orders": 1, "take_profit_pct": "0",
            "take_profit_steps": [{"amount_pct": "50", "profit_pct": "1"}, {"amount_pct": "50", "profit_pct": "3"}],
            "stop_loss_pct": "10", "sl_to_breakeven": true, "base_order": {"quote": "100"}}"#,
    );
    let mut s = session(&i, vec![BotSpec::Dca(spec)]);
    let (intents, _) = run(&mut s, &[px("100")], 0);
    let tps: Vec<(i64, i64)> = intents
        .iter()
        .filter(|x| x.reason == Reason::TakeProfit)
        .map(|x| (x.price_ticks, x.qty_lots))
        .collect();
    // Entry 100.01 incl. the fee (bought at the ask 100.01): targets +1 % and +3 %, half each.
    assert_eq!(tps.len(), 2, "{intents:?}");
    assert_eq!(tps[0].1 + tps[1].1, 99_990);
    assert!(tps[0].0 < tps[1].0);
    // The first target fills; the stop moves to break-even and fires on the way back.
    let (intents, _) = run(&mut s, &[px("101.5"), px("100.2"), px("100")], 10);
    let Some(Bot::Dca(b)) = s.engine.bot(1) else {
        panic!()
    };
    assert_eq!(b.deals_closed, 1, "{intents:?}");
    assert!(intents
        .iter()
        .any(|x| x.reason == Reason::StopLoss && x.action == Action::Place));
    assert!(
        b.desk.ledger.realized_pnl > Decimal::ZERO,
        "break-even exit after a profit"
    );
}

#[test]
fn dca_starts_on_price_or_signal() {
    let i = btc();
    let by_price = dca_spec(r#"{"start": "price", "start_trigger_price": "95"}"#);
    let by_signal = dca_spec(r#"{"start": "signal"}"#);
    let mut e = engine_with(&i, vec![BotSpec::Dca(by_price), BotSpec::Dca(by_signal)]);
    let mut out = Vec::new();
    e.on_top(px("99"), px("99.01"), 0, &mut out);
    assert!(out.is_empty());
    e.on_top(px("94.99"), px("95"), 1, &mut out);
    assert_eq!(out.iter().map(|x| x.bot).collect::<Vec<_>>(), vec![1]);
    out.clear();
    assert!(e.signal(2));
    assert!(!e.signal(99));
    e.on_top(px("94.99"), px("95"), 2, &mut out);
    assert_eq!(
        out.iter().map(|x| (x.bot, x.reason)).collect::<Vec<_>>(),
        vec![(2, Reason::DealStart)]
    );
}

fn arb_decimal() -> impl Strategy<Value = String> {
    prop_oneof![
        (-5i64..1_000_000, 0u32..6).prop_map(|(m, sc)| Decimal::new(m, sc).to_string()),
        Just("79228162514264337593543950335".to_string()),
        Just("0.0000000000000000000000000001".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Any definition gets a plan or errors, never a panic; valid ones run without panicking
    /// on arbitrary tops, fills and a corrupted state.
    #[test]
    fn bad_input_never_panics(
        a in arb_decimal(), b in arb_decimal(), c in arb_decimal(), e in arb_decimal(),
        n in 0u32..300, tops in prop::collection::vec((any::<i64>(), 0i64..1000), 0..20),
        fills in prop::collection::vec((0u32..5, any::<i64>(), any::<i64>(), any::<bool>()), 0..20),
        cut in any::<prop::sample::Index>(),
    ) {
        let i = btc();
        let g = serde_json::json!({"lower": a, "upper": b, "grids": n, "investment": {"quote": c},
            "fee_rate": "0.001", "start_price": e, "take_profit_price": b});
        let dc = serde_json::json!({"base_order": {"quote": a}, "safety_order": {"base": c},
            "price_deviation_pct": e, "step_scale": b, "volume_scale": b, "max_safety_orders": n,
            "take_profit_pct": a, "fee_rate": "0.001", "start_price": c, "side": if n % 2 == 0 { "long" } else { "short" }});
        let mut eng = SymbolEngine::new(i.clone());
        if let Ok(spec) = serde_json::from_value::<GridSpec>(g) {
            let _ = grid::plan(&spec, &i);
            let _ = eng.add_bot(1, BotSpec::Grid(spec));
        }
        if let Ok(spec) = serde_json::from_value::<DcaSpec>(dc) {
            let _ = dca::plan(&spec, &i);
            let _ = eng.add_bot(2, BotSpec::Dca(spec));
        }
        let mut out = Vec::new();
        for (k, (bid, spread)) in tops.iter().enumerate() {
            eng.on_top(*bid, bid.saturating_add(*spread), k as i64, &mut out);
        }
        let ids: Vec<String> = out.iter().map(|x| x.client_id.clone()).collect();
        for (k, (which, price, qty, buy)) in fills.iter().enumerate() {
            let cid = ids.get(*which as usize).cloned().unwrap_or_else(|| "W1B0C0".into());
            let f = Fill { fill_id: format!("f{k}"), client_id: cid, side: if *buy { Side::Buy } else { Side::Sell },
                price_ticks: *price, qty_lots: *qty, fee: Decimal::ONE, fee_asset: "BTC".into(), ts_ns: 0 };
            eng.on_fill(&f, &mut out);
        }
        let state = eng.export_state().unwrap();
        let at = cut.index(state.len().max(1));
        let _ = SymbolEngine::import_state(state.get(..at).unwrap_or(""));
        let _ = SymbolEngine::import_state(&state.replace("\"slots\":[", "\"slots\":[{},"));
        prop_assert!(SymbolEngine::import_state(&state).is_ok());
    }
}

#[test]
fn grid_with_base_investment_and_equal_quote_sizing() {
    let i = btc();
    // 6 base already held covers the five sells above 100: no market buy at start.
    let spec = grid_spec(r#"{"investment": {"quote": "500", "base": "6"}}"#);
    let p = grid::plan(&spec, &i);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.initial_buy_qty, "0.00000");
    let mut s = session(&i, vec![BotSpec::Grid(spec)]);
    let (intents, _) = run(&mut s, &[px("100")], 0);
    assert!(!intents.iter().any(|x| x.reason == Reason::GridInitialBuy));
    let sells = intents
        .iter()
        .filter(|x| x.reason == Reason::GridLevelSell)
        .count();
    let buys = intents
        .iter()
        .filter(|x| x.reason == Reason::GridLevelBuy)
        .count();
    assert_eq!((buys, sells), (5, 5));
    // Equal quote: every level trades about the same quote value, so quantities fall with price.
    let q = grid::plan(&grid_spec(r#"{"sizing": "equal_quote"}"#), &i);
    let qty: Vec<Decimal> = q.level_detail[..10].iter().map(|l| d(&l.qty)).collect();
    assert!(qty.windows(2).all(|w| w[0] > w[1]), "{qty:?}");
    let values: Vec<Decimal> = q.level_detail[..10]
        .iter()
        .map(|l| d(&l.qty) * d(&l.buy_price))
        .collect();
    let (lo, hi) = (values.iter().min().unwrap(), values.iter().max().unwrap());
    assert!(*hi - *lo <= d("0.00001") * d("110"), "{values:?}");
    assert!(q.qty_per_level.is_none());
}

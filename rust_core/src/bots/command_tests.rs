//! User commands (pause, resume, stop, close) on grid and DCA bots, on their own and through
//! the paper matcher.

use super::dca::DealStatus;
use super::engine::{Bot, BotSpec, FillOutcome, SymbolEngine};
use super::grid::GridStatus;
use super::paper::{FeeIn, PaperConfig, PaperMatcher};
use super::session::PaperSession;
use super::tests::{
    arb_instrument, btc, check_intents, d, dca_spec, engine_with, grid_spec, px, run, session,
};
use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

type OrderKey = (Side, i64, i64);

/// What a bot has resting on the venue (not being cancelled), as (side, price, remaining).
fn resting(e: &SymbolEngine, id: u32) -> BTreeSet<OrderKey> {
    e.open_orders(id)
        .map(|m| {
            m.values()
                .filter(|o| o.order_type == OrderType::Limit && !o.cancelling)
                .map(|o| (o.side, o.price_ticks, o.remaining()))
                .collect()
        })
        .unwrap_or_default()
}

/// The limit orders a batch of intents of bot `id` places.
fn placed(intents: &[Intent], id: u32) -> BTreeSet<OrderKey> {
    intents
        .iter()
        .filter(|x| x.bot == id && x.action != Action::Cancel && x.order_type == OrderType::Limit)
        .map(|x| (x.side, x.price_ticks, x.qty_lots))
        .collect()
}

fn cmd(s: &mut PaperSession, id: u32, c: Command) -> super::session::Step {
    s.command(id, c, 0).unwrap()
}

fn status(e: &SymbolEngine, id: u32) -> String {
    e.summary(id).unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn grid_of(e: &SymbolEngine, id: u32) -> &grid::GridBot {
    match e.bot(id) {
        Some(Bot::Grid(g)) => g,
        _ => panic!("grid bot {id}"),
    }
}

fn dca_of(e: &SymbolEngine, id: u32) -> &dca::DcaBot {
    match e.bot(id) {
        Some(Bot::Dca(b)) => b,
        _ => panic!("dca bot {id}"),
    }
}

#[test]
fn grid_pause_cancels_everything_and_resume_places_the_same_orders() {
    let i = btc();
    let mut s = session(&i, vec![BotSpec::Grid(grid_spec("{}"))]);
    run(&mut s, &[px("100"), px("98.5"), px("101")], 0);
    let before = resting(&s.engine, 1);
    assert_eq!(before.len(), 10, "{before:?}");
    let step = cmd(&mut s, 1, Command::Pause);
    assert_eq!(step.intents.len(), 10);
    assert!(step
        .intents
        .iter()
        .all(|x| x.action == Action::Cancel && x.reason == Reason::ManualCancel));
    assert_eq!(s.matcher.resting_count(), 0);
    assert!(s.engine.open_orders(1).unwrap().is_empty());
    assert_eq!(status(&s.engine, 1), "paused");
    // While paused the bot places nothing, whatever the price does.
    let (intents, fills) = run(&mut s, &[px("95"), px("105"), px("100")], 10);
    assert!(intents.is_empty() && fills.is_empty(), "{intents:?}");
    // Pausing again only re-sends outstanding cancels (none).
    assert!(cmd(&mut s, 1, Command::Pause).intents.is_empty());
    let step = cmd(&mut s, 1, Command::Resume);
    assert_eq!(placed(&step.intents, 1), before);
    assert_eq!(resting(&s.engine, 1), before);
    assert_eq!(status(&s.engine, 1), "running");
    // Resumed orders have fresh client ids: a cancelled id is never sent again.
    let ids: BTreeSet<&str> = step.intents.iter().map(|x| x.client_id.as_str()).collect();
    assert_eq!(ids.len(), 10);
    // And the grid trades on.
    let (_, fills) = run(&mut s, &[px("97.5"), px("100.5")], 20);
    assert!(!fills.is_empty());
}

#[test]
fn dca_pause_and_resume_give_back_take_profit_and_safety_orders() {
    let i = btc();
    let mut s = session(
        &i,
        vec![BotSpec::Dca(dca_spec(r#"{"max_active_safety_orders": 2}"#))],
    );
    // Base order at 100, SO 1 (99) fills: TP resized, SOs 2 and 3 rest.
    run(&mut s, &[px("100"), px("98.9"), px("99.2")], 0);
    let b = dca_of(&s.engine, 1);
    assert_eq!((b.status, b.safety_filled), (DealStatus::Open, 1));
    let before = resting(&s.engine, 1);
    assert_eq!(before.len(), 3, "TP + 2 SOs: {before:?}");
    let step = cmd(&mut s, 1, Command::Pause);
    assert_eq!(step.intents.len(), 3);
    assert_eq!(s.matcher.resting_count(), 0);
    assert_eq!(status(&s.engine, 1), "paused");
    let pos = dca_of(&s.engine, 1).position;
    // A drop that would fill both SOs changes nothing while paused.
    let (intents, _) = run(&mut s, &[px("94"), px("99.2")], 10);
    assert!(intents.is_empty());
    let step = cmd(&mut s, 1, Command::Resume);
    assert_eq!(placed(&step.intents, 1), before);
    assert_eq!(dca_of(&s.engine, 1).position, pos, "position kept");
    // Then the deal takes profit as usual.
    run(&mut s, &[px("96"), px("103")], 20);
    assert_eq!(dca_of(&s.engine, 1).deals_closed, 1);
}

#[test]
fn fills_racing_a_pause_are_applied_and_nothing_new_is_placed() {
    let i = btc();
    let mut e = engine_with(
        &i,
        vec![BotSpec::Grid(grid_spec(
            r#"{"investment": {"quote": "500", "base": "6"}}"#,
        ))],
    );
    let mut out = Vec::new();
    e.on_top(px("99.99"), px("100"), 0, &mut out);
    let buy = out
        .iter()
        .find(|x| x.side == Side::Buy && x.price_ticks == px("98"))
        .unwrap()
        .clone();
    out.clear();
    e.command(1, Command::Pause, 1, &mut out).unwrap();
    assert_eq!(out.len(), 10);
    // The buy at 98 filled before the venue got the cancel.
    let mut more = Vec::new();
    let f = Fill {
        fill_id: "t1".into(),
        client_id: buy.client_id.clone(),
        side: Side::Buy,
        price_ticks: buy.price_ticks,
        qty_lots: buy.qty_lots,
        fee: Decimal::ZERO,
        fee_asset: "USDT".into(),
        ts_ns: 2,
    };
    assert_eq!(e.on_fill(&f, &mut more), FillOutcome::Applied);
    assert!(more.is_empty(), "paused: no sell placed: {more:?}");
    let g = grid_of(&e, 1);
    assert_eq!(g.base, d("6") + i.qty(buy.qty_lots), "accounted");
    // Cancels confirmed; the filled slot now wants to sell, and resume places that sell.
    for x in &out {
        e.on_update(
            &OrderUpdate {
                client_id: x.client_id.clone(),
                status: OrderStatus::Cancelled,
                ts_ns: 3,
            },
            &mut more,
        );
    }
    assert!(more.is_empty());
    assert!(e.open_orders(1).unwrap().is_empty());
    e.command(1, Command::Resume, 4, &mut more).unwrap();
    assert!(more.iter().any(|x| x.side == Side::Sell
        && x.price_ticks == px("100")
        && x.reason == Reason::GridLevelSell));
    assert!(!more
        .iter()
        .any(|x| x.side == Side::Buy && x.price_ticks == px("98")));
}

#[test]
fn resume_before_cancels_are_confirmed_places_them_on_confirmation() {
    let i = btc();
    let mut e = engine_with(
        &i,
        vec![BotSpec::Grid(grid_spec(
            r#"{"investment": {"quote": "500", "base": "6"}}"#,
        ))],
    );
    let mut out = Vec::new();
    e.on_top(px("99.99"), px("100"), 0, &mut out);
    let before = resting(&e, 1);
    out.clear();
    e.command(1, Command::Pause, 1, &mut out).unwrap();
    let cancels = std::mem::take(&mut out);
    e.command(1, Command::Resume, 2, &mut out).unwrap();
    assert!(
        out.is_empty(),
        "orders still known wait for their cancel: {out:?}"
    );
    for x in &cancels {
        e.on_update(
            &OrderUpdate {
                client_id: x.client_id.clone(),
                status: OrderStatus::Cancelled,
                ts_ns: 3,
            },
            &mut out,
        );
    }
    assert_eq!(placed(&out, 1), before);
    assert_eq!(resting(&e, 1), before);
}

#[test]
fn stop_is_final_except_for_close() {
    let i = btc();
    let mut s = session(
        &i,
        vec![BotSpec::Grid(grid_spec("{}")), BotSpec::Dca(dca_spec("{}"))],
    );
    run(&mut s, &[px("100")], 0);
    for id in [1, 2] {
        let base_before = match s.engine.bot(id).unwrap() {
            Bot::Grid(g) => g.base,
            Bot::Dca(b) => b.position,
        };
        let step = cmd(&mut s, id, Command::Stop);
        assert!(!step.intents.is_empty());
        assert!(step.intents.iter().all(|x| x.action == Action::Cancel));
        assert_eq!(status(&s.engine, id), "stopped");
        for c in [Command::Pause, Command::Resume, Command::Stop] {
            let err = s.command(id, c, 1).unwrap_err();
            assert!(err.contains("stopped"), "{err}");
        }
        let after = match s.engine.bot(id).unwrap() {
            Bot::Grid(g) => g.base,
            Bot::Dca(b) => b.position,
        };
        assert_eq!(base_before, after, "position kept");
        assert!(s.engine.open_orders(id).unwrap().is_empty());
    }
    assert_eq!(s.matcher.resting_count(), 0);
    let (intents, _) = run(&mut s, &[px("95"), px("105")], 10);
    assert!(intents.is_empty());
    // Close still flattens a stopped bot.
    let step = cmd(&mut s, 1, Command::Close);
    assert_eq!(step.intents.len(), 1);
    assert_eq!(grid_of(&s.engine, 1).desk.control, Control::Stopped);
    assert!(i.qty_lots(grid_of(&s.engine, 1).base).unwrap() == 0);
}

#[test]
fn unknown_bots_and_commands_are_clear_errors() {
    let i = btc();
    let mut e = engine_with(&i, vec![BotSpec::Grid(grid_spec("{}"))]);
    let mut out = Vec::new();
    let err = e.command(9, Command::Pause, 0, &mut out).unwrap_err();
    assert_eq!(err, "no bot 9 on this symbol");
    let err = "halt".parse::<Command>().unwrap_err();
    assert!(err.contains("halt") && err.contains("pause, resume, stop or close"));
    // Resume of a running bot changes nothing.
    e.command(1, Command::Resume, 0, &mut out).unwrap();
    assert!(out.is_empty());
}

#[test]
fn grid_close_sells_what_it_holds_and_realizes_the_result() {
    let i = btc();
    let mut s = session(&i, vec![BotSpec::Grid(grid_spec("{}"))]);
    run(&mut s, &[px("100"), px("97.5"), px("99")], 0);
    let g = grid_of(&s.engine, 1);
    let held = i.qty_lots(g.base).unwrap();
    assert!(held > 0);
    let step = cmd(&mut s, 1, Command::Close);
    let exit: Vec<&Intent> = step
        .intents
        .iter()
        .filter(|x| x.action == Action::Place)
        .collect();
    assert_eq!(exit.len(), 1, "{:?}", step.intents);
    assert_eq!(
        (
            exit[0].side,
            exit[0].order_type,
            exit[0].qty_lots,
            exit[0].reason
        ),
        (Side::Sell, OrderType::Market, held, Reason::ManualClose)
    );
    assert!(step
        .intents
        .iter()
        .filter(|x| x.action == Action::Cancel)
        .all(|x| x.reason == Reason::ManualClose));
    let g = grid_of(&s.engine, 1);
    assert_eq!(g.desk.control, Control::Stopped);
    assert_eq!(status(&s.engine, 1), "stopped");
    assert_eq!(i.qty_lots(g.base), Some(0));
    assert_eq!(s.matcher.resting_count(), 0);
    // Everything held was sold: realized P&L is the whole change of the quote balance.
    assert_eq!(
        g.quote - g.spec.investment.quote,
        g.desk.ledger.realized_pnl
    );
}

#[test]
fn dca_close_flattens_long_and_short_deals() {
    let i = btc();
    for side in ["long", "short"] {
        let mut s = session(
            &i,
            vec![BotSpec::Dca(dca_spec(&format!(r#"{{"side": "{side}"}}"#)))],
        );
        let path = if side == "long" {
            [px("100"), px("98.9"), px("98")]
        } else {
            [px("100"), px("101.1"), px("102")]
        };
        run(&mut s, &path, 0);
        let b = dca_of(&s.engine, 1);
        assert_eq!(b.status, DealStatus::Open);
        let held = i.qty_lots(b.position).unwrap();
        assert!(b.safety_filled >= 1);
        let step = cmd(&mut s, 1, Command::Close);
        let exit = step
            .intents
            .iter()
            .find(|x| x.action == Action::Place)
            .unwrap();
        let want = if side == "long" {
            Side::Sell
        } else {
            Side::Buy
        };
        assert_eq!(
            (exit.side, exit.order_type, exit.qty_lots),
            (want, OrderType::Market, held)
        );
        let b = dca_of(&s.engine, 1);
        assert_eq!(b.position, Decimal::ZERO, "{side}");
        assert_eq!(b.desk.control, Control::Stopped);
        assert_eq!(b.deals_closed, 1);
        assert!(
            b.desk.ledger.realized_pnl < Decimal::ZERO,
            "closed at a loss"
        );
        assert_eq!(s.matcher.resting_count(), 0);
        let (intents, _) = run(&mut s, &[px("100")], 10);
        assert!(intents.is_empty(), "a closed bot starts no new deal");
    }
}

#[test]
fn close_retried_after_a_restart_re_sends_the_same_ids() {
    let i = btc();
    let mut e = engine_with(&i, vec![BotSpec::Dca(dca_spec("{}"))]);
    let mut out = Vec::new();
    e.on_top(px("99.99"), px("100"), 0, &mut out);
    let bo = out[0].clone();
    out.clear();
    let fill = Fill {
        fill_id: "t1".into(),
        client_id: bo.client_id.clone(),
        side: Side::Buy,
        price_ticks: px("100"),
        qty_lots: bo.qty_lots,
        fee: Decimal::ZERO,
        fee_asset: "USDT".into(),
        ts_ns: 1,
    };
    e.on_fill(&fill, &mut out);
    out.clear();
    e.command(1, Command::Close, 2, &mut out).unwrap();
    // First the cancels; the market exit waits until they are confirmed.
    assert!(out.iter().all(|x| x.action == Action::Cancel));
    let cancels = std::mem::take(&mut out);
    let mut e = SymbolEngine::import_state(&e.export_state().unwrap()).unwrap();
    assert_eq!(status(&e, 1), "closing");
    e.command(1, Command::Close, 3, &mut out).unwrap();
    assert_eq!(out, cancels, "the retry re-sends the same cancels");
    out.clear();
    for x in &cancels {
        e.on_update(
            &OrderUpdate {
                client_id: x.client_id.clone(),
                status: OrderStatus::Cancelled,
                ts_ns: 4,
            },
            &mut out,
        );
    }
    assert_eq!(out.len(), 1);
    let exit = out[0].clone();
    assert_eq!(
        (exit.order_type, exit.qty_lots),
        (OrderType::Market, bo.qty_lots)
    );
    let mut e = SymbolEngine::import_state(&e.export_state().unwrap()).unwrap();
    out.clear();
    e.command(1, Command::Close, 5, &mut out).unwrap();
    assert_eq!(out, vec![exit.clone()], "the retried exit has the same id");
    out.clear();
    let f = Fill {
        fill_id: "t2".into(),
        client_id: exit.client_id.clone(),
        side: Side::Sell,
        price_ticks: px("99"),
        qty_lots: exit.qty_lots,
        ..fill.clone()
    };
    assert_eq!(e.on_fill(&f, &mut out), FillOutcome::Applied);
    assert!(out.is_empty());
    let b = dca_of(&e, 1);
    assert_eq!(
        (b.position, b.desk.control),
        (Decimal::ZERO, Control::Stopped)
    );
    assert_eq!(b.desk.ledger.realized_pnl, d("-0.1"));
    // A refused exit is not re-sent by itself; the user's retry places a new one.
    let mut e2 = engine_with(&i, vec![BotSpec::Dca(dca_spec("{}"))]);
    e2.on_top(px("99.99"), px("100"), 0, &mut out);
    e2.on_fill(
        &Fill {
            fill_id: "t1".into(),
            ..fill.clone()
        },
        &mut out,
    );
    out.clear();
    e2.command(1, Command::Close, 2, &mut out).unwrap();
    for x in std::mem::take(&mut out) {
        let u = OrderUpdate {
            client_id: x.client_id,
            status: OrderStatus::Cancelled,
            ts_ns: 3,
        };
        e2.on_update(&u, &mut out);
    }
    let first = out.pop().unwrap();
    let u = OrderUpdate {
        client_id: first.client_id.clone(),
        status: OrderStatus::Rejected,
        ts_ns: 4,
    };
    e2.on_update(&u, &mut out);
    assert!(out.is_empty());
    assert_eq!(status(&e2, 1), "closing");
    e2.command(1, Command::Close, 5, &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_ne!(out[0].client_id, first.client_id);
    assert_eq!(out[0].qty_lots, first.qty_lots);
}

#[test]
fn export_and_import_keep_paused_and_stopped() {
    let i = btc();
    let mut s = session(
        &i,
        vec![BotSpec::Grid(grid_spec("{}")), BotSpec::Dca(dca_spec("{}"))],
    );
    run(&mut s, &[px("100")], 0);
    cmd(&mut s, 1, Command::Pause);
    cmd(&mut s, 2, Command::Stop);
    let e = SymbolEngine::import_state(&s.engine.export_state().unwrap()).unwrap();
    assert_eq!(status(&e, 1), "paused");
    assert_eq!(status(&e, 2), "stopped");
    assert_eq!(e.summary(2).unwrap()["control"], "stopped");
    assert_eq!(e.summary(2).unwrap()["deal_status"], "open");
}

// --- properties -----------------------------------------------------------------------------

fn both_bots(i: &Instrument, grids: u32, virtual_: bool) -> Vec<BotSpec> {
    let g = grid_spec(&format!(
        r#"{{"investment": {{"quote": "3000"}}, "grids": {grids}, "placement": "{}"}}"#,
        if virtual_ { "virtual" } else { "resting" },
    ));
    let mut specs = Vec::new();
    if grid::plan(&g, i).errors.is_empty() {
        specs.push(BotSpec::Grid(g));
    }
    let dspec = dca_spec(
        r#"{"max_safety_orders": 3, "max_active_safety_orders": 2, "cooldown_seconds": 1000}"#,
    );
    if dca::plan(&dspec, i).errors.is_empty() {
        specs.push(BotSpec::Dca(dspec));
    }
    specs
}

/// Base (grid) or position (DCA) in lots.
fn held_lots(i: &Instrument, b: &Bot) -> i64 {
    match b {
        Bot::Grid(g) => i.qty_lots(g.base).unwrap_or(0),
        Bot::Dca(b) => i.qty_lots(b.position.abs()).unwrap_or(0),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Pause then resume gives back the same open orders (side, price, quantity) as before the
    /// pause, whatever the price did meanwhile; close always ends flat and stopped.
    #[test]
    fn pause_resume_restores_orders_and_close_ends_flat(
        i in arb_instrument(),
        grids in 2u32..20,
        fee_in_base in any::<bool>(),
        moves in prop::collection::vec(-300i64..300, 1..60),
        paused in prop::collection::vec(-300i64..300, 0..10),
        at in any::<prop::sample::Index>(),
    ) {
        let specs = both_bots(&i, grids, false);
        prop_assume!(!specs.is_empty());
        let n = specs.len() as u32;
        let cfg = PaperConfig { fee_in: if fee_in_base { FeeIn::Received } else { FeeIn::Quote }, ..PaperConfig::default() };
        let mut s = PaperSession::new(engine_with(&i, specs), PaperMatcher::new(i.clone(), cfg));
        let unit = i.price_ticks(d("0.05"), Side::Sell).unwrap().max(1);
        let mut p = i.price_ticks(d("100"), Side::Buy).unwrap();
        let cut = at.index(moves.len());
        let mut t = 0;
        for m in &moves[..cut] {
            p = (p + m * unit).max(10 * unit);
            t += 1;
            s.on_top(p, p + 1, t, &[], &[]);
        }
        let mut before = Vec::new();
        for id in 1..=n {
            before.push(resting(&s.engine, id));
            let step = s.command(id, Command::Pause, t).unwrap();
            check_intents(&i, &step.intents, p, p + 1)?;
            prop_assert!(resting(&s.engine, id).is_empty());
            prop_assert!(s.engine.open_orders(id).unwrap().values().all(|o| o.order_type != OrderType::Limit));
        }
        prop_assert_eq!(s.matcher.resting_count(), 0);
        for m in &paused {
            p = (p + m * unit).max(10 * unit);
            t += 1;
            let step = s.on_top(p, p + 1, t, &[], &[]);
            prop_assert!(step.intents.is_empty(), "{:?}", step.intents);
        }
        for id in 1..=n {
            // A DCA bot without a deal starts one on resume: only a deal in progress compares.
            let compare = match s.engine.bot(id).unwrap() {
                Bot::Dca(b) => b.status == DealStatus::Open,
                Bot::Grid(g) => g.status == GridStatus::Running,
            };
            // The command's own intents; what they cause on the venue comes after.
            let mut out = Vec::new();
            s.engine.command(id, Command::Resume, t, &mut out).unwrap();
            check_intents(&i, &out, p, p + 1)?;
            if compare {
                prop_assert_eq!(&placed(&out, id), &before[id as usize - 1]);
            }
            s.execute(out, t, &[], &[], &mut Default::default());
        }
        for m in &moves[cut..] {
            p = (p + m * unit).max(10 * unit);
            t += 1;
            let step = s.on_top(p, p + 1, t, &[], &[]);
            check_intents(&i, &step.intents, p, p + 1)?;
        }
        for id in 1..=n {
            let step = s.command(id, Command::Close, t).unwrap();
            check_intents(&i, &step.intents, p, p + 1)?;
            let b = s.engine.bot(id).unwrap();
            prop_assert_eq!(b.control(), Control::Stopped);
            prop_assert!(b.desk().orders.is_empty());
            // Flat, unless what is left is below the venue minimum (then it cannot be sold).
            let lots = held_lots(&i, b);
            prop_assert!(lots == 0 || !i.placeable(p, lots), "{} lots left", lots);
            if let (Bot::Dca(d), false, 0) = (b, fee_in_base, lots) {
                prop_assert_eq!(d.position, Decimal::ZERO);
            }
        }
        prop_assert_eq!(s.matcher.resting_count(), 0);
    }

    /// No command panics in any state, in any order, mixed with tops, fills and updates in any
    /// order; every intent passes the filters and the state always survives export/import.
    #[test]
    fn commands_never_panic(
        i in arb_instrument(),
        grids in 2u32..12,
        virtual_ in any::<bool>(),
        ops in prop::collection::vec((0u8..8, -300i64..300, 0u32..4, any::<prop::sample::Index>()), 1..80),
    ) {
        let specs = both_bots(&i, grids, virtual_);
        prop_assume!(!specs.is_empty());
        let mut e = engine_with(&i, specs);
        let unit = i.price_ticks(d("0.05"), Side::Sell).unwrap().max(1);
        let mut p = i.price_ticks(d("100"), Side::Buy).unwrap();
        let mut sent: Vec<Intent> = Vec::new();
        for (k, (op, m, id, pick)) in ops.iter().enumerate() {
            let mut out = Vec::new();
            let t = k as i64;
            match op {
                0 | 1 => {
                    p = (p + m * unit).max(10 * unit);
                    e.on_top(p, p + 1, t, &mut out);
                }
                2..=5 => {
                    let c = [Command::Pause, Command::Resume, Command::Stop, Command::Close][*op as usize - 2];
                    let before = e.export_state().unwrap();
                    if e.command(*id, c, t, &mut out).is_err() {
                        prop_assert_eq!(e.export_state().unwrap(), before, "a refused command changes nothing");
                    }
                }
                6 if !sent.is_empty() => {
                    let x = &sent[pick.index(sent.len())];
                    let f = Fill { fill_id: format!("f{k}"), client_id: x.client_id.clone(), side: x.side,
                        price_ticks: if x.price_ticks > 0 { x.price_ticks } else { p }, qty_lots: x.qty_lots,
                        fee: Decimal::ZERO, fee_asset: "USDT".into(), ts_ns: t };
                    e.on_fill(&f, &mut out);
                }
                7 if !sent.is_empty() => {
                    let x = &sent[pick.index(sent.len())];
                    let status = if m % 2 == 0 { OrderStatus::Cancelled } else { OrderStatus::Rejected };
                    e.on_update(&OrderUpdate { client_id: x.client_id.clone(), status, ts_ns: t }, &mut out);
                }
                _ => {}
            }
            // Market orders are checked at the top the bot last saw, which may be older here.
            let limits: Vec<Intent> = out.iter().filter(|x| x.order_type != OrderType::Market).cloned().collect();
            check_intents(&i, &limits, p, p + 1)?;
            sent.extend(out);
        }
        let state = e.export_state().unwrap();
        let back = SymbolEngine::import_state(&state).unwrap();
        prop_assert_eq!(back.export_state().unwrap(), state);
    }
}

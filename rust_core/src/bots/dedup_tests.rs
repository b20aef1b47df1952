//! Duplicate fills stay refused however long a bot runs, with bounded memory.

use super::engine::{Bot, BotSpec, FillOutcome, SymbolEngine};
use super::tests::{btc, engine_with, grid_spec, px};
use super::*;
use proptest::prelude::*;

fn fill(id: String, x: &Intent) -> Fill {
    Fill {
        fill_id: id,
        client_id: x.client_id.clone(),
        side: x.side,
        price_ticks: x.price_ticks,
        qty_lots: x.qty_lots,
        fee: Decimal::ZERO,
        fee_asset: "USDT".into(),
        ts_ns: 0,
    }
}

/// A grid whose lowest slot trades round trip after round trip, every fill applied directly.
struct Cycler {
    e: SymbolEngine,
    buy: Intent,
    fills: Vec<Fill>,
}

impl Cycler {
    fn new() -> Cycler {
        let mut e = engine_with(
            &btc(),
            vec![BotSpec::Grid(grid_spec(
                r#"{"investment": {"quote": "500", "base": "6"}}"#,
            ))],
        );
        let mut out = Vec::new();
        e.on_top(px("99.99"), px("100"), 0, &mut out);
        let buy = out
            .iter()
            .find(|x| x.price_ticks == px("90"))
            .unwrap()
            .clone();
        Cycler {
            e,
            buy,
            fills: Vec::new(),
        }
    }

    /// One round trip: the buy at 90 fills, then its sell at 92, which re-arms the buy.
    fn cycle(&mut self, k: usize) {
        let mut out = Vec::new();
        let f = fill(format!("b{k}"), &self.buy);
        assert_eq!(self.e.on_fill(&f, &mut out), FillOutcome::Applied);
        self.fills.push(f);
        let sell = out.pop().unwrap();
        assert_eq!((sell.side, sell.price_ticks), (Side::Sell, px("92")));
        let f = fill(format!("s{k}"), &sell);
        out.clear();
        assert_eq!(self.e.on_fill(&f, &mut out), FillOutcome::Applied);
        self.fills.push(f);
        self.buy = out.pop().unwrap();
        assert_eq!((self.buy.side, self.buy.price_ticks), (Side::Buy, px("90")));
    }

    fn desk(&self) -> &desk::Desk {
        self.e.bot(1).unwrap().desk()
    }
}

/// The state without the counters a refused fill may bump.
fn accounting(e: &SymbolEngine) -> String {
    let Some(Bot::Grid(g)) = e.bot(1) else {
        panic!()
    };
    let mut g = g.clone();
    g.desk.ledger.duplicate_fills = 0;
    g.desk.ledger.unknown_fills = 0;
    serde_json::to_string(&g).unwrap()
}

#[test]
fn fill_ids_stay_bounded_over_100k_cycles() {
    let mut c = Cycler::new();
    for k in 0..100_000 {
        c.cycle(k);
        if k % 10_000 == 0 {
            c.fills.clear(); // keep only the test's own memory small
        }
    }
    let d = c.desk();
    assert_eq!(d.ledger.fills_applied, 200_000);
    assert_eq!(d.ledger.recent_fills.len(), RECENT_FILLS);
    let live: usize = d.orders.values().map(|o| o.fill_ids.len()).sum();
    assert_eq!(live, 0, "resting orders have no fills yet");
    // The last fill is still refused, the oldest ones name orders long gone.
    let last = c.fills.last().unwrap().clone();
    let mut out = Vec::new();
    assert_eq!(c.e.on_fill(&last, &mut out), FillOutcome::Duplicate);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]

    /// Replaying any fill, however many cycles later, is refused (duplicate or unknown) and
    /// changes nothing but the counters.
    #[test]
    fn replayed_fills_are_refused_after_any_number_of_cycles(
        cycles in 1usize..1500,
        replays in prop::collection::vec(any::<prop::sample::Index>(), 1..40),
    ) {
        let mut c = Cycler::new();
        for k in 0..cycles {
            c.cycle(k);
        }
        let before = accounting(&c.e);
        let mut out = Vec::new();
        for r in &replays {
            let f = c.fills[r.index(c.fills.len())].clone();
            let o = c.e.on_fill(&f, &mut out);
            prop_assert!(o != FillOutcome::Applied, "{:?} applied twice", f);
        }
        prop_assert!(out.is_empty());
        prop_assert_eq!(accounting(&c.e), before);
        // And the bot trades on.
        c.cycle(cycles);
    }
}

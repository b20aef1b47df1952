//! Cost of one top-of-book evaluation with 1, 1,000 and 100,000 bots on a symbol when nothing
//! is crossed (the common case): the trigger index answers from its cached extremes.
//!
//! Run: `cargo bench --manifest-path rust_core/Cargo.toml --bench bots`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use wisetrader_core::bots::dca::DcaSpec;
use wisetrader_core::bots::{BotSpec, Instrument, InstrumentSpec, SymbolEngine};

fn engine(n: u32) -> SymbolEngine {
    let inst = Instrument::from_spec(&InstrumentSpec {
        tick_size: "0.01".into(),
        lot_step: "0.00001".into(),
        min_qty: Some("0.00001".into()),
        min_notional: Some("5".into()),
        base_asset: "BTC".into(),
        quote_asset: "USDT".into(),
    })
    .expect("instrument");
    let mut e = SymbolEngine::new(inst);
    for id in 0..n {
        // Every bot waits for its own start price, spread 1 %–50 % below the market.
        let trigger = 50_000 - 49 * (id % 1000) as i64 - (id / 1000) as i64;
        let spec: DcaSpec = serde_json::from_value(serde_json::json!({
            "base_order": {"quote": "10"}, "safety_order": {"quote": "20"},
            "price_deviation_pct": "1", "max_safety_orders": 5, "take_profit_pct": "1.5",
            "fee_rate": "0.001", "start": "price", "start_trigger_price": format!("{}.{:02}", trigger / 100, trigger % 100),
        }))
        .expect("spec");
        e.add_bot(id, BotSpec::Dca(spec)).expect("valid bot");
    }
    e
}

fn top_of_book(c: &mut Criterion) {
    let mut g = c.benchmark_group("top_of_book_no_cross");
    for n in [1u32, 1_000, 100_000] {
        let mut e = engine(n);
        assert_eq!(e.trigger_count(), n as usize);
        let mut out = Vec::new();
        let mut k = 0i64;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                k += 1;
                let bid = 10_000_000 + (k & 15);
                e.on_top(black_box(bid), black_box(bid + 1), k, &mut out);
                out.clear();
            })
        });
        assert_eq!(e.stats.bot_evaluations, 0);
    }
    g.finish();
}

criterion_group!(benches, top_of_book);
criterion_main!(benches);

//! Decode + sync + apply per frame, through `Market::feed`, for each venue's typical book frame.
//!
//! Run: `cargo bench --manifest-path rust_core/Cargo.toml --bench decode_apply`
//!
//! Times are **thread CPU time** per frame (`CLOCK_THREAD_CPUTIME_ID`), so that a machine shared
//! with other jobs does not inflate them the way wall-clock time would.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use wisetrader_core::market::{Market, Venue};

/// The timed frames must all have been applied: no gap, no stale frame, no error.
fn check(m: &Market) {
    let c = m.counters();
    assert!(
        c.gaps == 0 && c.skipped_stale == 0 && c.errors.is_empty(),
        "{c:?}"
    );
}

fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Feed `frames` round-robin for `iters` iterations, returning the CPU time spent. Each pass
/// over `frames` starts from `snapshot` (fed untimed), so every timed frame chains and is applied.
fn run(
    m: &mut Market,
    snapshot: &[u8],
    frames: &[Vec<u8>],
    next: &mut usize,
    iters: u64,
) -> Duration {
    let mut spent = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        if *next % frames.len() == 0 {
            m.feed(snapshot, 0);
        }
        let start_at = *next % frames.len();
        let chunk = (frames.len() - start_at).min(left);
        let start = cpu_now();
        for f in &frames[start_at..start_at + chunk] {
            m.feed(black_box(f), 0);
        }
        spent += cpu_now() - start;
        *next += chunk;
        left -= chunk;
        black_box(m.take_changes());
    }
    spent
}

/// A synced market and a stream of frames that chain onto it (ids rewritten per frame).
fn binance_frames(n: usize, usdm: bool) -> (Market, Vec<u8>, Vec<Vec<u8>>) {
    let venue = if usdm {
        Venue::BinanceUsdm
    } else {
        Venue::BinanceSpot
    };
    let mut m = Market::new(venue, 10_000);
    m.add_instrument("BTCUSDT", "0.01", "0.00001").unwrap();
    let bids: Vec<String> = (1..=500)
        .map(|k| {
            format!(
                "[\"{}.{:02}\",\"1.00000\"]",
                30000 - k / 100,
                100 - k % 100 - 1
            )
        })
        .collect();
    let asks: Vec<String> = (1..=500)
        .map(|k| format!("[\"{}.{:02}\",\"1.00000\"]", 30000 + k / 100, k % 100))
        .collect();
    let snap = format!(
        "{{\"lastUpdateId\":100,\"bids\":[{}],\"asks\":[{}]}}",
        bids.join(","),
        asks.join(",")
    );
    let snap = snap.into_bytes();
    m.feed(&snap, 0);
    let frames = (0..n)
        .map(|i| {
            let u = 101 + i as i64;
            let pu = if usdm { format!(",\"T\":1,\"pu\":{}", u - 1) } else { String::new() };
            format!(
                "{{\"stream\":\"btcusdt@depth@100ms\",\"data\":{{\"e\":\"depthUpdate\",\"E\":1672515782136{pu},\"s\":\"BTCUSDT\",\"U\":{u},\"u\":{u},\"b\":[[\"29999.{:02}\",\"0.51230\"],[\"29999.50\",\"0\"]],\"a\":[[\"30000.{:02}\",\"1.20000\"],[\"30000.07\",\"0.00000\"]]}}}}",
                90 + i % 9,
                1 + i % 9
            )
            .into_bytes()
        })
        .collect();
    (m, snap, frames)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_apply");
    for (name, usdm) in [("binance_spot_diff", false), ("binance_usdm_diff", true)] {
        let (mut m, snap, frames) = binance_frames(100_000, usdm);
        g.throughput(Throughput::Elements(1));
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter_custom(|n| run(&mut m, &snap, &frames, &mut i, n))
        });
        check(&m);
    }
    let mut okx = Market::new(Venue::Okx, 10);
    okx.add_instrument("BTC-USDT", "0.1", "0.00000001").unwrap();
    let okx_snap = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["30243.5","1.44679","0","6"],["30244","0.08","0","1"]],"bids":[["30243.4","0.5","0","2"],["30243","1","0","1"]],"ts":"1","checksum":0,"prevSeqId":-1,"seqId":1}]}"#;
    let okx_frames: Vec<Vec<u8>> = (0..100_000)
        .map(|i| format!(r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"update","data":[{{"asks":[["30244","0.0{}","0","1"]],"bids":[["30243.4","0.{}","0","2"]],"ts":"1652459225702","checksum":0,"prevSeqId":{},"seqId":{}}}]}}"#, 1 + i % 8, 1 + i % 7, i + 1, i + 2).into_bytes())
        .collect();
    let mut i = 0;
    g.bench_function("okx_books_update", |b| {
        b.iter_custom(|n| run(&mut okx, okx_snap, &okx_frames, &mut i, n))
    });
    check(&okx);
    let mut by = Market::new(Venue::BybitLinear, 10);
    by.add_instrument("BTCUSDT", "0.10", "0.001").unwrap();
    let by_snap = br#"{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["30247.20","30.028"]],"a":[["30248.70","1"]],"u":1,"seq":2}}"#;
    let by_frames: Vec<Vec<u8>> = (0..100_000)
        .map(|i| format!(r#"{{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1687940967466,"data":{{"s":"BTCUSDT","b":[["30247.20","3{}.028"],["30240.00","0"]],"a":[["30248.70","0.{}"]],"u":{},"seq":66544703342}},"cts":1687940967464}}"#, i % 9, 1 + i % 9, i + 2).into_bytes())
        .collect();
    let mut i = 0;
    g.bench_function("bybit_delta", |b| {
        b.iter_custom(|n| run(&mut by, by_snap, &by_frames, &mut i, n))
    });
    check(&by);
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

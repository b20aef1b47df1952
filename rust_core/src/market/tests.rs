//! Market tests on the real recordings in `tests/data/recordings` and on random input.

use super::*;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn recordings() -> Vec<(Venue, PathBuf)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/recordings");
    let mut out = Vec::new();
    for (dir, venue) in [
        ("binance-spot", Venue::BinanceSpot),
        ("binance-usdm", Venue::BinanceUsdm),
        ("okx", Venue::Okx),
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rec"))
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|p| (venue, p)));
    }
    out
}

fn lines(path: &Path) -> Vec<(i64, Vec<u8>)> {
    let text = std::fs::read(path).unwrap();
    text.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let sp = l.iter().position(|&b| b == b' ').unwrap();
            let ns = std::str::from_utf8(&l[..sp]).unwrap().parse().unwrap();
            (ns, l[sp + 1..].to_vec())
        })
        .collect()
}

/// The finest decimal step seen in the file: valid for prices and quantities alike.
fn finest_step(frames: &[(i64, Vec<u8>)]) -> String {
    let mut digits = 0;
    for (_, f) in frames {
        for part in f.split(|&b| b == b'"') {
            if let Ok((_, _, scale)) = crate::fixed::parse_raw(part) {
                let s = std::str::from_utf8(part).unwrap().trim_end_matches('0');
                let frac = s.split_once('.').map_or(0, |(_, f)| f.len());
                if scale > 0 {
                    digits = digits.max(frac);
                }
            }
        }
    }
    if digits == 0 {
        "1".into()
    } else {
        format!("0.{}1", "0".repeat(digits - 1))
    }
}

fn market_for(venue: Venue, path: &Path, frames: &[(i64, Vec<u8>)]) -> Market {
    let mut m = Market::new(venue, DEFAULT_BUFFER_LIMIT);
    let step = finest_step(frames);
    let symbol = path.file_stem().unwrap().to_str().unwrap();
    m.add_instrument(symbol, &step, &step).unwrap();
    m
}

#[test]
fn every_recording_syncs_and_chains() {
    let mut tickers = 0;
    for (venue, path) in recordings() {
        let frames = lines(&path);
        let mut m = market_for(venue, &path, &frames);
        for (ns, f) in &frames {
            m.feed(f, *ns);
        }
        let c = m.counters().clone();
        let ch = m.take_changes();
        let name = path.display();
        assert!(m.instruments()[0].is_synced(), "{name}: not synced");
        assert_eq!(c.gaps, 0, "{name}");
        assert!(c.errors.is_empty(), "{name}: {:?}", c.errors);
        assert_eq!(c.ticker_mismatch, 0, "{name}");
        assert!(!ch.tops.is_empty(), "{name}");
        for t in &ch.tops {
            let (b, a) = (t.top.bid.unwrap(), t.top.ask.unwrap());
            assert!(b.px < a.px, "{name}: crossed at {}", t.update_id);
        }
        if venue == Venue::Okx {
            assert!(c.checksum_ok > 0 && c.checksum_failed == 0, "{name}: {c:?}");
        }
        tickers += c.ticker_checked;
    }
    assert!(tickers > 0, "no bookTicker ever matched a book update id");
}

#[test]
fn dropped_diff_is_a_gap_and_nothing_is_published_until_resync() {
    let path = recordings()
        .into_iter()
        .find(|(_, p)| p.ends_with("NKNUSDT.rec"))
        .unwrap()
        .1;
    let frames = lines(&path);
    let mut m = market_for(Venue::BinanceSpot, &path, &frames);
    let depth: Vec<usize> = (0..frames.len())
        .filter(|&i| frames[i].1.windows(11).any(|w| w == b"depthUpdate"))
        .collect();
    let drop_at = depth[depth.len() / 2];
    for (i, (ns, f)) in frames.iter().enumerate() {
        if i != drop_at {
            m.feed(f, *ns);
        }
    }
    let c = m.counters();
    assert_eq!(c.gaps, 1);
    let ch = m.take_changes();
    assert_eq!(
        ch.requests.last().map(|r| (r.request, r.reason)),
        Some((Request::Snapshot, "gap"))
    );
    let gap_ns = frames[depth[depth.len() / 2 + 1]].0;
    assert!(ch.tops.iter().all(|t| t.recv_ns < gap_ns));
    assert_eq!(m.instruments()[0].state(), State::OutOfSync(Reason::Gap));
    assert_eq!(m.instruments()[0].book.top(), Top::default());
}

fn mutate(frame: &[u8], how: u8, at: usize, byte: u8) -> Vec<u8> {
    let mut f = frame.to_vec();
    if f.is_empty() {
        return vec![byte];
    }
    let i = at % f.len();
    match how % 4 {
        0 => f[i] = byte,
        1 => f.truncate(i),
        2 => f.insert(i, byte),
        _ => {
            f.remove(i);
        }
    }
    f
}

/// Real frames of every recording plus constructed Bybit frames, read once for all cases.
fn samples() -> &'static [(Venue, Vec<Vec<u8>>)] {
    static SAMPLES: std::sync::OnceLock<Vec<(Venue, Vec<Vec<u8>>)>> = std::sync::OnceLock::new();
    SAMPLES.get_or_init(|| {
    recordings()
            .into_iter()
            .map(|(v, p)| (v, lines(&p).into_iter().map(|(_, f)| f).collect()))
            .chain([
                (Venue::BybitLinear, vec![
                    br#"{"topic":"orderbook.50.X","type":"snapshot","ts":1,"data":{"s":"X","b":[["1.5","2"]],"a":[["1.6","3"]],"u":1,"seq":2}}"#.to_vec(),
                    br#"{"topic":"orderbook.50.X","type":"delta","ts":1,"data":{"s":"X","b":[["1.5","0"]],"a":[],"u":2,"seq":3}}"#.to_vec(),
                    br#"{"topic":"publicTrade.X","type":"snapshot","ts":1,"data":[{"T":1,"s":"X","S":"Buy","v":"1","p":"1.5","i":"a"}]}"#.to_vec(),
                ]),
            ])
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random bytes and mutated real frames at every decoder: never a panic, every frame counted.
    #[test]
    fn never_panics_on_random_or_mutated_frames(
        muts in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>(), any::<usize>()), 1..200),
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..20),
    ) {
        let samples = samples();
        for (venue, frames) in samples {
            let mut m = Market::new(*venue, 64);
            for sym in ["X", "NKNUSDT", "SUSHIUSDT", "BTC-USDT", "BLZETH"] {
                m.add_instrument(sym, "0.00000001", "0.00000001").unwrap();
            }
            let mut fed = 0u64;
            for (k, &(how, at, byte, pick)) in muts.iter().enumerate() {
                let base = &frames[pick % frames.len()];
                let f = if k % 3 == 0 { base.clone() } else { mutate(base, how, at, byte) };
                m.feed(&f, k as i64);
                fed += 1;
            }
            for g in &garbage {
                m.feed(g, 0);
                m.feed_snapshot("X", g, 0);
                fed += 2;
            }
            prop_assert_eq!(m.counters().frames, fed);
        }
    }
}

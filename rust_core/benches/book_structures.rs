//! Which data structure for a book side? Three candidates on the same realistic update stream.
//!
//! Update model: a 1000-level side around a mid that random-walks; each update picks a distance
//! from the touch with a geometric law (P(d) = 0.2 * 0.8^d: most activity at the top, as on real
//! feeds), sets a new quantity, or deletes the level with probability 0.3; when the touch falls,
//! the levels above it are deleted (consumed). The winner lives in `src/book.rs`.
//!
//! Run: `cargo bench --manifest-path rust_core/Cargo.toml --bench book_structures`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::collections::BTreeMap;
use std::hint::black_box;
use wisetrader_core::book::{Book, Side};

/// Bid side as a Vec sorted so the best level is last (the previous `book.rs`).
struct SortedVecSide {
    levels: Vec<(i64, i64)>,
    is_ask: bool,
}

impl SortedVecSide {
    fn new() -> Self {
        SortedVecSide {
            levels: Vec::with_capacity(64),
            is_ask: false,
        }
    }

    #[inline]
    fn key(&self, px: i64) -> i64 {
        if self.is_ask {
            px.wrapping_neg()
        } else {
            px
        }
    }

    /// Set the quantity at `px`; `qty <= 0` deletes the level (deleting an absent level is a no-op).
    #[inline]
    fn set(&mut self, px: i64, qty: i64) {
        let key = self.key(px);
        // Most updates land near the best level (the end): check it before searching.
        match self.levels.last_mut() {
            Some(last) if last.0 == key => {
                if qty > 0 {
                    last.1 = qty;
                } else {
                    self.levels.pop();
                }
                return;
            }
            Some(last) if last.0 < key => {
                if qty > 0 {
                    self.levels.push((key, qty));
                }
                return;
            }
            None => {
                if qty > 0 {
                    self.levels.push((key, qty));
                }
                return;
            }
            _ => {}
        }
        match self.find(key) {
            Ok(i) => {
                if qty > 0 {
                    if let Some(l) = self.levels.get_mut(i) {
                        l.1 = qty;
                    }
                } else {
                    self.levels.remove(i);
                }
            }
            Err(i) => {
                if qty > 0 {
                    self.levels.insert(i, (key, qty));
                }
            }
        }
    }

    /// Position of `key` (`Ok`) or where it would go (`Err`). Scans the last few levels first
    /// (where feeds send most updates), then binary-searches the rest.
    #[inline]
    fn find(&self, key: i64) -> Result<usize, usize> {
        const SCAN: usize = 16;
        let n = self.levels.len();
        let lo = n.saturating_sub(SCAN);
        for i in (lo..n).rev() {
            match self.levels.get(i) {
                Some(l) if l.0 == key => return Ok(i),
                Some(l) if l.0 < key => return Err(i + 1),
                _ => {}
            }
        }
        self.levels
            .get(..lo)
            .map_or(Err(0), |head| head.binary_search_by(|l| l.0.cmp(&key)))
    }

    fn best(&self) -> Option<(i64, i64)> {
        self.levels.last().map(|&(k, q)| (self.key(k), q))
    }
}

/// Bid side as a BTreeMap with the best level cached (nautilus-style).
#[derive(Default)]
struct BTreeSide {
    levels: BTreeMap<i64, i64>,
    best: Option<(i64, i64)>,
}

impl BTreeSide {
    fn set(&mut self, px: i64, qty: i64) {
        if qty > 0 {
            self.levels.insert(px, qty);
            match self.best {
                Some((b, _)) if b > px => {}
                _ => self.best = Some((px, qty)),
            }
        } else {
            self.levels.remove(&px);
            if matches!(self.best, Some((b, _)) if b == px) {
                self.best = self.levels.iter().next_back().map(|(&p, &q)| (p, q));
            }
        }
    }
    fn best(&self) -> Option<(i64, i64)> {
        self.best
    }
}

/// Bid side as a dense ladder over a fixed range chosen up front, best index tracked
/// (hftbacktest ROI-vector style): the lower bound for any ladder.
struct LadderSide {
    base: i64,
    qty: Vec<i64>,
    best: Option<usize>,
}

impl LadderSide {
    fn new(base: i64, len: usize) -> Self {
        LadderSide {
            base,
            qty: vec![0; len],
            best: None,
        }
    }
    fn set(&mut self, px: i64, qty: i64) {
        let Some(i) = usize::try_from(px - self.base)
            .ok()
            .filter(|&i| i < self.qty.len())
        else {
            return;
        };
        self.qty[i] = qty.max(0);
        match self.best {
            Some(b) if qty > 0 && i > b => self.best = Some(i),
            None if qty > 0 => self.best = Some(i),
            Some(b) if qty <= 0 && i == b => {
                self.best = (0..b).rev().find(|&j| self.qty[j] > 0);
            }
            _ => {}
        }
    }
    fn best(&self) -> Option<(i64, i64)> {
        self.best.map(|i| (self.base + i as i64, self.qty[i]))
    }
}

/// Deterministic xorshift so every candidate sees the same stream.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const BASE: i64 = 1_000_000;
const DEPTH: i64 = 1000;

fn updates(n: usize) -> Vec<(i64, i64)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut top = BASE + 5000;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        if rng.next() % 50 == 0 {
            // The touch moves; when it falls, the levels above it were consumed (deleted).
            let new_top = top + (rng.next() % 5) as i64 - 2;
            for px in (new_top + 1..=top).rev() {
                out.push((px, 0));
            }
            top = new_top;
        }
        let mut d = 0;
        while d < DEPTH && rng.next() % 5 != 0 {
            d += 1;
        }
        let qty = if rng.next() % 10 < 3 {
            0
        } else {
            1 + (rng.next() % 1000) as i64
        };
        out.push((top - d, qty));
    }
    out
}

fn initial() -> Vec<(i64, i64)> {
    (0..DEPTH).map(|d| (BASE + 5000 - d, 10 + d)).collect()
}

fn bench(c: &mut Criterion) {
    let ups = updates(100_000);
    let n = ups.len() as u64;
    let mut g = c.benchmark_group("book_side_100k_updates");
    g.throughput(criterion::Throughput::Elements(n));

    g.bench_function("window_ladder_plus_btreemap", |b| {
        b.iter_batched(
            || {
                let mut book = Book::new();
                for &(p, q) in &initial() {
                    book.set(Side::Bid, p, q);
                }
                book
            },
            |mut book| {
                for &(p, q) in &ups {
                    book.set(Side::Bid, p, q);
                    black_box(book.best_bid());
                }
                book
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("sorted_vec", |b| {
        b.iter_batched(
            || {
                let mut s = SortedVecSide::new();
                for &(p, q) in &initial() {
                    s.set(p, q);
                }
                s
            },
            |mut s| {
                for &(p, q) in &ups {
                    s.set(p, q);
                    black_box(s.best());
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("btreemap_cached_best", |b| {
        b.iter_batched(
            || {
                let mut s = BTreeSide::default();
                for &(p, q) in &initial() {
                    s.set(p, q);
                }
                s
            },
            |mut s| {
                for &(p, q) in &ups {
                    s.set(p, q);
                    black_box(s.best());
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("tick_ladder", |b| {
        b.iter_batched(
            || {
                let mut s = LadderSide::new(BASE, 20_000);
                for &(p, q) in &initial() {
                    s.set(p, q);
                }
                s
            },
            |mut s| {
                for &(p, q) in &ups {
                    s.set(p, q);
                    black_box(s.best());
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

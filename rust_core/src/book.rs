//! L2 order book of one instrument, in integer price ticks and quantity lots.
//!
//! Each side is a dense ladder of [`WINDOW`] ticks around the touch (quantity per tick, best
//! tick tracked) plus a `BTreeMap` for the levels below the window. Feeds send most updates
//! within a few ticks of the touch, so those are one array store; best bid/ask is kept after
//! every change (O(1) to read); when the best level empties, the next one is found by scanning
//! down the window (levels near the touch are dense); a level above the window slides the
//! window up, and an emptied window is re-placed around the best far level. Deep REST
//! snapshot levels simply live in the map, so there is no price-range limit.
//!
//! Chosen by measurement (`cargo bench --manifest-path rust_core/Cargo.toml --bench
//! book_structures`; update model in that file): 100k updates, each followed by a best-level
//! read, on a 1000-level side, release build, shared 2-core VM:
//!
//! | structure                                  | per update |
//! |--------------------------------------------|-----------:|
//! | window ladder + BTreeMap (this file)       |   21 ns    |
//! | sorted Vec, best at end (previous version) |   32 ns    |
//! | BTreeMap + cached best                     |   71 ns    |
//! | fixed-range dense ladder (lower bound)     |    9 ns    |
//!
//! The fixed-range ladder cannot hold levels outside a range chosen up front; it is in the
//! bench as the lower bound a ladder can reach. Among structures that accept any price the
//! window ladder wins.

use std::collections::BTreeMap;

/// Book side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Bid,
    Ask,
}

/// One price level: `px` in ticks, `qty` in lots (always > 0 inside a book).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Level {
    pub px: i64,
    pub qty: i64,
}

/// Ticks held densely around the touch on each side.
pub const WINDOW: usize = 1024;
/// Where the touch sits in a freshly placed window: 3/4 up, leaving room to move up cheaply.
const TOUCH_AT: i64 = (WINDOW as i64 * 3) / 4;

/// One side of the book: a dense ladder of `WINDOW` ticks around the touch plus a `BTreeMap` for
/// the levels below it. Keys are `px` for bids and `-px` for asks, so on both sides the best
/// level is the **largest** key.
///
/// Invariants: every key in `far` is below `base`; nothing exists above the window (a level
/// above it moves the window up first); `best` is the largest key, inside the window whenever
/// the window holds any level.
#[derive(Debug, Clone, Default)]
pub struct BookSide {
    is_ask: bool,
    /// Quantities of keys `base .. base + WINDOW` (empty until the first level arrives).
    window: Vec<i64>,
    base: i64,
    in_window: usize,
    far: BTreeMap<i64, i64>,
    best: Option<i64>,
}

impl BookSide {
    fn new(side: Side) -> Self {
        BookSide {
            is_ask: side == Side::Ask,
            ..BookSide::default()
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

    /// Window slot of `key`: `Ok(index)`, or `Err(true)` above the window, `Err(false)` below.
    #[inline]
    fn slot(&self, key: i64) -> Result<usize, bool> {
        let off = i128::from(key) - i128::from(self.base);
        if off < 0 {
            Err(false)
        } else if off >= WINDOW as i128 {
            Err(true)
        } else {
            Ok(off as usize)
        }
    }

    /// Set the quantity at `px`; `qty <= 0` deletes the level (deleting an absent level is a no-op).
    #[inline]
    pub fn set(&mut self, px: i64, qty: i64) {
        let key = self.key(px);
        let qty = qty.max(0);
        if self.window.is_empty() {
            if qty == 0 {
                return;
            }
            self.window = vec![0; WINDOW];
            self.base = key.saturating_sub(TOUCH_AT);
        }
        let idx = match self.slot(key) {
            Ok(i) => i,
            Err(true) => {
                if qty == 0 {
                    return; // nothing lives above the window
                }
                self.move_up(key);
                match self.slot(key) {
                    Ok(i) => i,
                    Err(_) => return,
                }
            }
            Err(false) => {
                self.set_far(key, qty);
                return;
            }
        };
        let Some(slot) = self.window.get_mut(idx) else {
            return;
        };
        let old = std::mem::replace(slot, qty);
        match (old > 0, qty > 0) {
            (false, true) => {
                self.in_window += 1;
                if self.best.is_none_or(|b| key > b) {
                    self.best = Some(key);
                }
            }
            (true, false) => {
                self.in_window -= 1;
                if self.best == Some(key) {
                    self.best = self.next_below(idx);
                    if self.in_window == 0 {
                        self.move_down();
                    }
                }
            }
            _ => {}
        }
    }

    fn set_far(&mut self, key: i64, qty: i64) {
        if qty > 0 {
            self.far.insert(key, qty);
        } else {
            self.far.remove(&key);
        }
        if self.in_window == 0 {
            self.best = self.far.keys().next_back().copied();
            self.move_down();
        }
    }

    /// Best key strictly below window slot `idx`: the window first, then the far levels.
    fn next_below(&self, idx: usize) -> Option<i64> {
        let below = self.window.get(..idx).unwrap_or(&[]);
        match below.iter().rposition(|&q| q > 0) {
            Some(j) => Some(self.base + j as i64),
            None => self.far.keys().next_back().copied(),
        }
    }

    /// A level above the window: slide the window up so `key` sits at the touch position;
    /// levels that fall off the bottom go to `far`.
    fn move_up(&mut self, key: i64) {
        let new_base = key.saturating_sub(TOUCH_AT);
        let mut window = vec![0; WINDOW];
        let mut in_window = 0;
        for (i, &q) in self.window.iter().enumerate() {
            if q > 0 {
                let k = self.base + i as i64;
                match usize::try_from(i128::from(k) - i128::from(new_base)) {
                    Ok(j) if j < WINDOW => {
                        if let Some(slot) = window.get_mut(j) {
                            *slot = q;
                            in_window += 1;
                        }
                    }
                    _ => {
                        self.far.insert(k, q);
                    }
                }
            }
        }
        self.window = window;
        self.base = new_base;
        self.in_window = in_window;
    }

    /// The window emptied while far levels remain: re-place it around the new best.
    fn move_down(&mut self) {
        let Some(&top) = self.far.keys().next_back() else {
            return;
        };
        self.base = top.saturating_sub(TOUCH_AT);
        let moved = self.far.split_off(&self.base);
        self.in_window = moved.len();
        for (k, q) in moved {
            if let Ok(i) = self.slot(k) {
                if let Some(slot) = self.window.get_mut(i) {
                    *slot = q;
                }
            }
        }
        self.best = Some(top);
    }

    /// Best level, if any.
    #[inline]
    pub fn best(&self) -> Option<Level> {
        let key = self.best?;
        let qty = match self.slot(key) {
            Ok(i) => *self.window.get(i)?,
            Err(_) => *self.far.get(&key)?,
        };
        Some(Level {
            px: self.key(key),
            qty,
        })
    }

    /// Levels best first.
    pub fn iter(&self) -> impl Iterator<Item = Level> + '_ {
        let top = self
            .best
            .and_then(|b| self.slot(b).ok())
            .map_or(0, |i| i + 1);
        let near = self
            .window
            .get(..top)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .rev()
            .filter(|&(_, &q)| q > 0)
            .map(move |(i, &q)| (self.base + i as i64, q));
        near.chain(self.far.iter().rev().map(|(&k, &q)| (k, q)))
            .map(move |(k, q)| Level {
                px: self.key(k),
                qty: q,
            })
    }

    /// Quantity at `px` (0 when absent).
    pub fn qty_at(&self, px: i64) -> i64 {
        let key = self.key(px);
        match self.slot(key) {
            Ok(i) => self.window.get(i).copied().unwrap_or(0),
            Err(_) => self.far.get(&key).copied().unwrap_or(0),
        }
    }

    pub fn len(&self) -> usize {
        self.in_window + self.far.len()
    }

    pub fn is_empty(&self) -> bool {
        self.best.is_none()
    }

    pub fn clear(&mut self) {
        if self.in_window > 0 {
            self.window.fill(0);
        }
        self.in_window = 0;
        self.far.clear();
        self.best = None;
    }
}

/// Best bid and ask at one moment; a side is `None` when empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Top {
    pub bid: Option<Level>,
    pub ask: Option<Level>,
}

/// L2 book: two sides plus the id of the last update applied.
#[derive(Debug, Clone)]
pub struct Book {
    pub bids: BookSide,
    pub asks: BookSide,
    /// Venue update id of the last change applied (Binance `u`, Bybit `u`, OKX `seqId`).
    pub update_id: i64,
}

impl Default for Book {
    fn default() -> Self {
        Self::new()
    }
}

impl Book {
    pub fn new() -> Self {
        Book {
            bids: BookSide::new(Side::Bid),
            asks: BookSide::new(Side::Ask),
            update_id: 0,
        }
    }

    pub fn side(&self, side: Side) -> &BookSide {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    /// Set a level (insert, replace, or delete when `qty <= 0`).
    #[inline]
    pub fn set(&mut self, side: Side, px: i64, qty: i64) {
        match side {
            Side::Bid => self.bids.set(px, qty),
            Side::Ask => self.asks.set(px, qty),
        }
    }

    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.update_id = 0;
    }

    #[inline]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }

    #[inline]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }

    #[inline]
    pub fn top(&self) -> Top {
        Top {
            bid: self.best_bid(),
            ask: self.best_ask(),
        }
    }

    /// Mid price in **half ticks** (`bid + ask`), exact; `None` unless both sides exist.
    pub fn mid_half_ticks(&self) -> Option<i64> {
        self.best_bid()?.px.checked_add(self.best_ask()?.px)
    }

    /// Spread in ticks (`ask - bid`); `None` unless both sides exist.
    pub fn spread_ticks(&self) -> Option<i64> {
        self.best_ask()?.px.checked_sub(self.best_bid()?.px)
    }

    /// Up to `n` levels per side, best first.
    pub fn top_n(&self, n: usize) -> (Vec<Level>, Vec<Level>) {
        (
            self.bids.iter().take(n).collect(),
            self.asks.iter().take(n).collect(),
        )
    }

    /// Every level, best first.
    pub fn snapshot(&self) -> (Vec<Level>, Vec<Level>) {
        self.top_n(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_best_levels_and_deletes() {
        let mut b = Book::new();
        b.set(Side::Bid, 100, 5);
        b.set(Side::Bid, 102, 1);
        b.set(Side::Bid, 101, 2);
        b.set(Side::Ask, 105, 3);
        b.set(Side::Ask, 103, 4);
        assert_eq!(b.best_bid(), Some(Level { px: 102, qty: 1 }));
        assert_eq!(b.best_ask(), Some(Level { px: 103, qty: 4 }));
        assert_eq!(b.spread_ticks(), Some(1));
        assert_eq!(b.mid_half_ticks(), Some(205));
        b.set(Side::Bid, 102, 0);
        assert_eq!(b.best_bid(), Some(Level { px: 101, qty: 2 }));
        b.set(Side::Ask, 999, 0); // absent: ignored
        let (bids, asks) = b.top_n(2);
        assert_eq!(
            bids,
            vec![Level { px: 101, qty: 2 }, Level { px: 100, qty: 5 }]
        );
        assert_eq!(
            asks,
            vec![Level { px: 103, qty: 4 }, Level { px: 105, qty: 3 }]
        );
        assert_eq!(b.asks.qty_at(105), 3);
        assert_eq!(b.asks.qty_at(104), 0);
        b.clear();
        assert_eq!(b.top(), Top::default());
        assert_eq!(b.mid_half_ticks(), None);
    }

    #[test]
    fn extreme_prices_do_not_overflow() {
        let mut b = Book::new();
        for side in [Side::Bid, Side::Ask] {
            for px in [i64::MAX, 1, i64::MAX - 1, i64::MAX / 2, 2] {
                b.set(side, px, 3);
            }
            assert_eq!(b.side(side).len(), 5);
            for px in [i64::MAX, 1, i64::MAX - 1, i64::MAX / 2, 2] {
                b.set(side, px, 0);
            }
            assert!(b.side(side).is_empty());
        }
        b.set(Side::Bid, i64::MAX, 1);
        b.set(Side::Ask, 1, 1);
        assert_eq!(b.spread_ticks(), Some(1 - i64::MAX));
        assert_eq!(b.mid_half_ticks(), None); // i64::MAX + 1 does not fit: refused, no wrap
    }

    /// Prices near each other, spread over several windows, or drifting far: every ladder path.
    fn price() -> impl Strategy<Value = i64> {
        prop_oneof![
            0i64..60,
            0i64..(5 * WINDOW as i64),
            1_000_000i64..1_000_050,
            1i64..3
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// Random level updates give the same book as a BTreeMap reference model.
        #[test]
        fn matches_reference_model(ops in prop::collection::vec((any::<bool>(), price(), 0i64..4), 0..400)) {
            let mut book = Book::new();
            let mut bids: BTreeMap<i64, i64> = BTreeMap::new();
            let mut asks: BTreeMap<i64, i64> = BTreeMap::new();
            for (is_bid, px, qty) in ops {
                let (side, model) = if is_bid { (Side::Bid, &mut bids) } else { (Side::Ask, &mut asks) };
                book.set(side, px, qty);
                if qty > 0 { model.insert(px, qty); } else { model.remove(&px); }
                prop_assert_eq!(book.best_bid().map(|l| (l.px, l.qty)), bids.iter().next_back().map(|(&p, &q)| (p, q)));
                prop_assert_eq!(book.best_ask().map(|l| (l.px, l.qty)), asks.iter().next().map(|(&p, &q)| (p, q)));
            }
            prop_assert_eq!(book.bids.len(), bids.len());
            prop_assert_eq!(book.asks.len(), asks.len());
            for (&px, &q) in &bids {
                prop_assert_eq!(book.bids.qty_at(px), q);
            }
            let (b, a) = book.snapshot();
            let want_b: Vec<Level> = bids.iter().rev().map(|(&px, &qty)| Level { px, qty }).collect();
            let want_a: Vec<Level> = asks.iter().map(|(&px, &qty)| Level { px, qty }).collect();
            prop_assert_eq!(b, want_b);
            prop_assert_eq!(a, want_a);
        }
    }
}

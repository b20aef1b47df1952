//! The per-symbol trigger index: every bot's active wake-up conditions, sorted by price, so a
//! best bid/ask change costs O(log n + k) for k crossed triggers with n registered.
//!
//! A bot registers a handful of conditions ("wake me when the best bid is at or above X", ...);
//! the index never interprets them. When nothing is crossed, [`TriggerIndex::collect`] only
//! compares the new top against four cached extremes and returns: O(1).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A wake-up condition on the top of the book (prices in ticks) or on time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Trigger {
    BidAtOrAbove(i64),
    BidAtOrBelow(i64),
    AskAtOrAbove(i64),
    AskAtOrBelow(i64),
    /// Wake at or after this time (ns since epoch), on the next top of book.
    TimeAtOrAfter(i64),
}

#[derive(Debug, Default, Clone)]
struct Side {
    /// (price, bot) pairs.
    set: BTreeSet<(i64, u32)>,
    /// Cached extreme (min for "at or above" sets, max for "at or below" sets).
    extreme: Option<i64>,
}

impl Side {
    fn refresh(&mut self, want_min: bool) {
        self.extreme = if want_min {
            self.set.first().map(|e| e.0)
        } else {
            self.set.last().map(|e| e.0)
        };
    }
}

/// All triggers of one symbol.
#[derive(Debug, Default, Clone)]
pub struct TriggerIndex {
    bid_above: Side,
    bid_below: Side,
    ask_above: Side,
    ask_below: Side,
    time: Side,
}

impl TriggerIndex {
    pub fn new() -> TriggerIndex {
        TriggerIndex::default()
    }

    pub fn len(&self) -> usize {
        self.bid_above.set.len()
            + self.bid_below.set.len()
            + self.ask_above.set.len()
            + self.ask_below.set.len()
            + self.time.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn side(&mut self, t: Trigger) -> (&mut Side, i64, bool) {
        match t {
            Trigger::BidAtOrAbove(p) => (&mut self.bid_above, p, true),
            Trigger::BidAtOrBelow(p) => (&mut self.bid_below, p, false),
            Trigger::AskAtOrAbove(p) => (&mut self.ask_above, p, true),
            Trigger::AskAtOrBelow(p) => (&mut self.ask_below, p, false),
            Trigger::TimeAtOrAfter(t) => (&mut self.time, t, true),
        }
    }

    pub fn insert(&mut self, bot: u32, t: Trigger) {
        let (side, p, want_min) = self.side(t);
        side.set.insert((p, bot));
        let better = match side.extreme {
            None => true,
            Some(e) => (want_min && p < e) || (!want_min && p > e),
        };
        if better {
            side.extreme = Some(p);
        }
    }

    pub fn remove(&mut self, bot: u32, t: Trigger) {
        let (side, p, want_min) = self.side(t);
        if side.set.remove(&(p, bot)) && side.extreme == Some(p) {
            side.refresh(want_min);
        }
    }

    /// Append to `out` every bot with a condition satisfied by (bid, ask, now). A bot may
    /// appear more than once; triggers stay registered (the caller re-registers the bot's
    /// new conditions after evaluating it).
    pub fn collect(&self, bid: i64, ask: i64, now_ns: i64, out: &mut Vec<u32>) {
        if let Some(e) = self.bid_above.extreme {
            if bid >= e {
                out.extend(self.bid_above.set.range(..=(bid, u32::MAX)).map(|e| e.1));
            }
        }
        if let Some(e) = self.bid_below.extreme {
            if bid <= e {
                out.extend(self.bid_below.set.range((bid, 0)..).map(|e| e.1));
            }
        }
        if let Some(e) = self.ask_above.extreme {
            if ask >= e {
                out.extend(self.ask_above.set.range(..=(ask, u32::MAX)).map(|e| e.1));
            }
        }
        if let Some(e) = self.ask_below.extreme {
            if ask <= e {
                out.extend(self.ask_below.set.range((ask, 0)..).map(|e| e.1));
            }
        }
        if let Some(e) = self.time.extreme {
            if now_ns >= e {
                out.extend(self.time.set.range(..=(now_ns, u32::MAX)).map(|e| e.1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fires(t: Trigger, bid: i64, ask: i64, now: i64) -> bool {
        match t {
            Trigger::BidAtOrAbove(p) => bid >= p,
            Trigger::BidAtOrBelow(p) => bid <= p,
            Trigger::AskAtOrAbove(p) => ask >= p,
            Trigger::AskAtOrBelow(p) => ask <= p,
            Trigger::TimeAtOrAfter(p) => now >= p,
        }
    }

    fn arb_trigger() -> impl Strategy<Value = Trigger> {
        (0u8..5, 0i64..100).prop_map(|(k, p)| match k {
            0 => Trigger::BidAtOrAbove(p),
            1 => Trigger::BidAtOrBelow(p),
            2 => Trigger::AskAtOrAbove(p),
            3 => Trigger::AskAtOrBelow(p),
            _ => Trigger::TimeAtOrAfter(p),
        })
    }

    proptest! {
        /// The index returns exactly the bots a linear scan would, after inserts and removals.
        #[test]
        fn index_matches_linear_scan(
            ops in prop::collection::vec((0u32..20, arb_trigger(), any::<bool>()), 0..200),
            bid in 0i64..100, spread in 0i64..5, now in 0i64..100,
        ) {
            let mut idx = TriggerIndex::new();
            let mut live: BTreeSet<(u32, Trigger)> = BTreeSet::new();
            for (bot, t, add) in ops {
                if add { idx.insert(bot, t); live.insert((bot, t)); }
                else { idx.remove(bot, t); live.remove(&(bot, t)); }
            }
            let ask = bid + spread;
            let mut got = Vec::new();
            idx.collect(bid, ask, now, &mut got);
            got.sort_unstable();
            got.dedup();
            let mut want: Vec<u32> = live.iter().filter(|(_, t)| fires(*t, bid, ask, now)).map(|e| e.0).collect();
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(got, want);
        }
    }
}

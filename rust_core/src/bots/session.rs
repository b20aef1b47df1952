//! A symbol's bots wired to the paper matcher: the loop a paper run (or a replay) needs.

use super::engine::SymbolEngine;
use super::paper::{PaperEvent, PaperMatcher};
use super::{Command, Fill, Intent};

/// Everything one top-of-book step produced, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Step {
    pub intents: Vec<Intent>,
    pub fills: Vec<Fill>,
    pub events: Vec<PaperEvent>,
}

/// Bots plus a paper venue for one symbol.
#[derive(Debug, Clone)]
pub struct PaperSession {
    pub engine: SymbolEngine,
    pub matcher: PaperMatcher,
    bid: i64,
    ask: i64,
}

/// Rounds of intent → execution → intent allowed per step (a grid refills in a few).
const MAX_ROUNDS: usize = 64;

impl PaperSession {
    pub fn new(engine: SymbolEngine, matcher: PaperMatcher) -> PaperSession {
        PaperSession {
            engine,
            matcher,
            bid: 0,
            ask: 0,
        }
    }

    /// Apply a new top of book: resting paper orders fill first (they were on the book before
    /// this change), then the bots evaluate, and their orders execute against `levels`
    /// (opposite-side levels from the best outward, or empty for top only).
    pub fn on_top(
        &mut self,
        bid: i64,
        ask: i64,
        now_ns: i64,
        asks: &[(i64, i64)],
        bids: &[(i64, i64)],
    ) -> Step {
        let mut step = Step::default();
        if bid <= 0 || ask <= 0 || bid >= ask {
            self.engine.on_top(bid, ask, now_ns, &mut step.intents);
            return step;
        }
        self.bid = bid;
        self.ask = ask;
        let mut events = Vec::new();
        self.matcher.on_top(bid, ask, now_ns, &mut events);
        let mut pending = Vec::new();
        self.feed(&events, &mut pending, &mut step);
        self.engine.on_top(bid, ask, now_ns, &mut pending);
        self.execute(pending, now_ns, asks, bids, &mut step);
        step
    }

    /// A user command to bot `id`, its intents executed at the last top of book.
    pub fn command(&mut self, id: u32, cmd: Command, now_ns: i64) -> Result<Step, String> {
        let mut step = Step::default();
        let mut pending = Vec::new();
        self.engine.command(id, cmd, now_ns, &mut pending)?;
        self.execute(pending, now_ns, &[], &[], &mut step);
        Ok(step)
    }

    /// Execute intents on the paper venue, and the intents its events cause, round by round.
    pub fn execute(
        &mut self,
        mut pending: Vec<Intent>,
        now_ns: i64,
        asks: &[(i64, i64)],
        bids: &[(i64, i64)],
        step: &mut Step,
    ) {
        let (bid, ask) = (self.bid, self.ask);
        for _ in 0..MAX_ROUNDS {
            if pending.is_empty() {
                break;
            }
            let batch = std::mem::take(&mut pending);
            for it in &batch {
                let levels = match it.side {
                    super::Side::Buy => asks,
                    super::Side::Sell => bids,
                };
                let mut ev = Vec::new();
                self.matcher.submit(it, bid, ask, levels, now_ns, &mut ev);
                self.feed(&ev, &mut pending, step);
            }
            step.intents.extend(batch);
        }
    }

    fn feed(&mut self, events: &[PaperEvent], pending: &mut Vec<Intent>, step: &mut Step) {
        for e in events {
            match e {
                PaperEvent::Fill(f) => {
                    self.engine.on_fill(f, pending);
                    step.fills.push(f.clone());
                }
                PaperEvent::Update(u) => {
                    self.engine.on_update(u, pending);
                }
            }
            step.events.push(e.clone());
        }
    }
}

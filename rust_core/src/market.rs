//! Market data of one venue connection: raw frames in, books kept in sync, compact changes out.
//!
//! `frame -> decode (decode/) -> sync verdict (sync.rs) -> book (book.rs)`. Every frame is
//! accounted for in [`Counters`]; what a caller must see (top-of-book changes, trades, venue
//! tickers, sync-state changes, repair requests, control messages, errors) is appended to
//! [`Changes`], which the caller drains with [`Market::take_changes`].

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::book::{Book, Level, Side, Top};
use crate::decode::{self, BookKind, ControlKind, DecodeError, Depth, Levels, Msg, TradeId};
use crate::fixed::{DecimalError, Grid};
use crate::sync::{
    snapshot_starts_chain, BookSync, Reason, Request, Rule, SnapshotVerdict, State, Verdict,
};

/// Venue (and product) a [`Market`] decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Venue {
    BinanceSpot,
    BinanceUsdm,
    BybitSpot,
    BybitLinear,
    Okx,
}

impl Venue {
    pub const ALL: [Venue; 5] = [
        Venue::BinanceSpot,
        Venue::BinanceUsdm,
        Venue::BybitSpot,
        Venue::BybitLinear,
        Venue::Okx,
    ];

    /// Parse the CLI / API name (`binance-spot`, `binance-usdm`, `bybit-spot`, `bybit-linear`, `okx`).
    pub fn parse(name: &str) -> Option<Venue> {
        Venue::ALL.into_iter().find(|v| v.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Venue::BinanceSpot => "binance-spot",
            Venue::BinanceUsdm => "binance-usdm",
            Venue::BybitSpot => "bybit-spot",
            Venue::BybitLinear => "bybit-linear",
            Venue::Okx => "okx",
        }
    }

    pub fn rule(self) -> Rule {
        match self {
            Venue::BinanceSpot => Rule::BinanceSpot,
            Venue::BinanceUsdm => Rule::BinanceUsdm,
            Venue::BybitSpot | Venue::BybitLinear => Rule::Bybit,
            Venue::Okx => Rule::Okx,
        }
    }
}

/// One parsed level change: `qty == 0` deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelUpdate {
    pub side: Side,
    pub px: i64,
    pub qty: i64,
}

/// The original OKX strings of every level, for the CRC32 checksum (which must hash the
/// exact strings received, e.g. `"8477"`, never a re-formatted `"8477.0"`).
#[derive(Debug, Default)]
struct WireLevels {
    bids: HashMap<i64, (Box<str>, Box<str>)>,
    asks: HashMap<i64, (Box<str>, Box<str>)>,
}

/// An instrument: its grids, book and sync state machine.
#[derive(Debug)]
pub struct Instrument {
    pub symbol: Box<str>,
    pub px: Grid,
    pub qty: Grid,
    pub book: Book,
    sync: BookSync<Vec<LevelUpdate>>,
    /// Last top of book handed out (only while synced).
    published: Option<Top>,
    /// Last state handed out.
    reported: State,
    /// A repair request is outstanding.
    requested: bool,
    wire: Option<WireLevels>,
    /// Venue tickers ahead of the book (real-time `bookTicker` beats the 100 ms diff that
    /// carries the same id), compared once the book reaches their id.
    pending_tickers: VecDeque<(i64, Top)>,
}

/// Tickers kept for comparison per instrument.
const PENDING_TICKERS: usize = 64;

impl Instrument {
    pub fn state(&self) -> State {
        self.sync.state()
    }

    pub fn is_synced(&self) -> bool {
        self.sync.is_synced()
    }
}

/// The top of book changed (published only while synced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopUpdate {
    pub recv_ns: i64,
    pub instrument: u32,
    /// Book update id after the change (Binance `u`, Bybit `u`, OKX `seqId`; 0 if none).
    pub update_id: i64,
    pub top: Top,
}

/// A venue-published best bid/ask (Binance `bookTicker`, OKX `bbo-tbt`); `update_id` -1 if none.
pub type TickerUpdate = TopUpdate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeUpdate {
    pub recv_ns: i64,
    pub instrument: u32,
    pub trade_id: String,
    pub px: i64,
    pub qty: i64,
    pub taker_buy: bool,
    pub exch_ns: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange {
    pub recv_ns: i64,
    pub instrument: u32,
    pub state: State,
}

/// The caller must fetch a snapshot or resubscribe for this instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairRequest {
    pub recv_ns: i64,
    pub instrument: u32,
    pub request: Request,
    /// `initial`, `no_snapshot`, or a [`Reason`] name.
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlEvent {
    pub recv_ns: i64,
    pub kind: ControlKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameError {
    pub recv_ns: i64,
    pub reason: &'static str,
}

/// Everything that changed since the last [`Market::take_changes`].
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub frames: u64,
    pub tops: Vec<TopUpdate>,
    pub tickers: Vec<TickerUpdate>,
    pub trades: Vec<TradeUpdate>,
    pub states: Vec<StateChange>,
    pub requests: Vec<RepairRequest>,
    pub controls: Vec<ControlEvent>,
    pub errors: Vec<FrameError>,
}

/// Running totals since the market was created.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counters {
    pub frames: u64,
    /// Book messages applied (snapshots, live diffs and replayed buffered diffs).
    pub applied: u64,
    pub snapshots: u64,
    pub snapshots_too_old: u64,
    /// Diffs already covered by the book (`u <= id`), duplicates included.
    pub skipped_stale: u64,
    /// Diffs dropped because the book was not synced (Bybit, OKX).
    pub skipped_not_synced: u64,
    /// Diffs buffered while waiting for a snapshot (Binance).
    pub buffered: u64,
    pub buffer_overflow: u64,
    /// Valid messages of channels the core does not keep (klines, tickers, ...).
    pub ignored: u64,
    pub controls: u64,
    pub gaps: u64,
    /// Books back in sync after being out of sync.
    pub resyncs: u64,
    pub checksum_ok: u64,
    pub checksum_failed: u64,
    /// Venue tickers compared with a book at the same update id, and how many disagreed.
    pub ticker_checked: u64,
    pub ticker_mismatch: u64,
    pub trades: u64,
    pub tops: u64,
    /// Refused frames or messages, by reason.
    pub errors: BTreeMap<&'static str, u64>,
}

impl Counters {
    /// `(name, value)` pairs; errors as `error.<reason>`.
    pub fn items(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = [
            ("frames", self.frames),
            ("applied", self.applied),
            ("snapshots", self.snapshots),
            ("snapshots_too_old", self.snapshots_too_old),
            ("skipped_stale", self.skipped_stale),
            ("skipped_not_synced", self.skipped_not_synced),
            ("buffered", self.buffered),
            ("buffer_overflow", self.buffer_overflow),
            ("ignored", self.ignored),
            ("controls", self.controls),
            ("gaps", self.gaps),
            ("resyncs", self.resyncs),
            ("checksum_ok", self.checksum_ok),
            ("checksum_failed", self.checksum_failed),
            ("ticker_checked", self.ticker_checked),
            ("ticker_mismatch", self.ticker_mismatch),
            ("trades", self.trades),
            ("tops", self.tops),
            ("errors", self.errors.values().sum()),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
        v.extend(self.errors.iter().map(|(k, n)| (format!("error.{k}"), *n)));
        v
    }
}

/// Why an instrument could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstrumentError {
    TickSize(DecimalError),
    LotStep(DecimalError),
}

impl std::fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstrumentError::TickSize(e) => write!(f, "tick size: {e}"),
            InstrumentError::LotStep(e) => write!(f, "lot step: {e}"),
        }
    }
}

/// Default bound of each Binance pre-snapshot buffer (nautilus uses the same).
pub const DEFAULT_BUFFER_LIMIT: usize = 10_000;

/// One venue connection's market data.
#[derive(Debug)]
pub struct Market {
    venue: Venue,
    instruments: Vec<Instrument>,
    index: HashMap<Box<str>, u32>,
    /// Instrument a bare REST snapshot body (which names no symbol) belongs to.
    snapshot_symbol: Option<u32>,
    buffer_limit: usize,
    scratch: Vec<LevelUpdate>,
    checksum_text: String,
    changes: Changes,
    counters: Counters,
}

impl Market {
    pub fn new(venue: Venue, buffer_limit: usize) -> Self {
        Market {
            venue,
            instruments: Vec::new(),
            index: HashMap::new(),
            snapshot_symbol: None,
            buffer_limit,
            scratch: Vec::with_capacity(256),
            checksum_text: String::with_capacity(1024),
            changes: Changes::default(),
            counters: Counters::default(),
        }
    }

    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Register (or re-register, which resets its book) an instrument with its tick size and
    /// lot step as decimal strings. Returns its index.
    pub fn add_instrument(
        &mut self,
        symbol: &str,
        tick_size: &str,
        lot_step: &str,
    ) -> Result<u32, InstrumentError> {
        let px = Grid::parse(tick_size).map_err(InstrumentError::TickSize)?;
        let qty = Grid::parse(lot_step).map_err(InstrumentError::LotStep)?;
        let inst = Instrument {
            symbol: symbol.into(),
            px,
            qty,
            book: Book::new(),
            sync: BookSync::new(self.venue.rule(), self.buffer_limit),
            published: None,
            reported: State::WaitingForSnapshot,
            requested: false,
            wire: None,
            pending_tickers: VecDeque::new(),
        };
        if let Some(&i) = self.index.get(symbol) {
            if let Some(slot) = self.instruments.get_mut(i as usize) {
                *slot = inst;
            }
            return Ok(i);
        }
        let i = self.instruments.len() as u32;
        self.instruments.push(inst);
        self.index.insert(symbol.into(), i);
        if self.instruments.len() == 1 {
            self.snapshot_symbol = Some(0);
        }
        Ok(i)
    }

    /// Which instrument a bare REST snapshot line belongs to (default: the first registered).
    pub fn set_snapshot_symbol(&mut self, symbol: &str) -> bool {
        match self.index.get(symbol) {
            Some(&i) => {
                self.snapshot_symbol = Some(i);
                true
            }
            None => false,
        }
    }

    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    pub fn index_of(&self, symbol: &str) -> Option<u32> {
        self.index.get(symbol).copied()
    }

    pub fn instrument(&self, symbol: &str) -> Option<&Instrument> {
        self.instruments.get(*self.index.get(symbol)? as usize)
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Drain what changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// Forget an instrument's book (after a reconnect): it waits for a snapshot again.
    pub fn reset(&mut self, symbol: &str) -> bool {
        let Some(i) = self.index_of(symbol) else {
            return false;
        };
        if let Some(inst) = self.instruments.get_mut(i as usize) {
            inst.sync = BookSync::new(self.venue.rule(), self.buffer_limit);
            inst.book.clear();
            inst.wire = None;
            inst.published = None;
            inst.requested = false;
        }
        self.report(i, 0);
        true
    }

    /// Process one raw frame received at `recv_ns`.
    pub fn feed(&mut self, frame: &[u8], recv_ns: i64) {
        self.feed_as(frame, recv_ns, None);
    }

    /// Process a REST depth snapshot body fetched for `symbol` (Binance).
    pub fn feed_snapshot(&mut self, symbol: &str, body: &[u8], recv_ns: i64) {
        match self.index_of(symbol) {
            Some(i) => self.feed_as(body, recv_ns, Some(i)),
            None => {
                self.counters.frames += 1;
                self.changes.frames += 1;
                self.error(recv_ns, DecodeError::UnknownSymbol.reason());
            }
        }
    }

    fn feed_as(&mut self, frame: &[u8], recv_ns: i64, snapshot_for: Option<u32>) {
        self.counters.frames += 1;
        self.changes.frames += 1;
        let venue = self.venue;
        let mut sink = |m: Msg<'_>| self.on_msg(m, recv_ns, snapshot_for);
        let res = match venue {
            Venue::BinanceSpot | Venue::BinanceUsdm => decode::binance::decode(frame, &mut sink),
            Venue::BybitSpot | Venue::BybitLinear => decode::bybit::decode(frame, &mut sink),
            Venue::Okx => decode::okx::decode(frame, &mut sink),
        };
        if let Err(e) = res {
            self.error(recv_ns, e.reason());
        }
    }

    fn error(&mut self, recv_ns: i64, reason: &'static str) {
        *self.counters.errors.entry(reason).or_insert(0) += 1;
        self.changes.errors.push(FrameError { recv_ns, reason });
    }

    fn on_msg(&mut self, msg: Msg<'_>, recv_ns: i64, snapshot_for: Option<u32>) {
        match msg {
            Msg::Depth(d) => self.on_depth(&d, recv_ns, snapshot_for),
            Msg::Ticker(t) => {
                if let Err(e) = self.on_ticker(&t, recv_ns) {
                    self.error(recv_ns, e.reason());
                }
            }
            Msg::Trade(t) => {
                if let Err(e) = self.on_trade(&t, recv_ns) {
                    self.error(recv_ns, e.reason());
                }
            }
            Msg::Control(c) => {
                self.counters.controls += 1;
                self.changes.controls.push(ControlEvent {
                    recv_ns,
                    kind: c.kind,
                    detail: c.detail.to_string(),
                });
            }
            Msg::Ignored(_) => self.counters.ignored += 1,
        }
    }

    fn on_depth(&mut self, d: &Depth<'_>, recv_ns: i64, snapshot_for: Option<u32>) {
        let idx = match d.symbol {
            Some(s) => self.index_of(s),
            None => snapshot_for.or(self.snapshot_symbol),
        };
        let Some(idx) = idx else {
            self.error(recv_ns, DecodeError::UnknownSymbol.reason());
            return;
        };
        let Some(inst) = self.instruments.get_mut(idx as usize) else {
            return;
        };
        self.scratch.clear();
        if let Err(e) = parse_levels(&mut self.scratch, inst.px, inst.qty, &d.bids, &d.asks) {
            // An unreadable book message for a synced book is a lost update.
            let synced = inst.is_synced();
            self.error(recv_ns, e.reason());
            if synced {
                self.fail(idx, Reason::BadMessage, recv_ns);
            } else if d.kind == BookKind::Snapshot {
                // The snapshot we waited for is unusable: ask for another one.
                self.request(idx, Reason::BadMessage.as_str(), recv_ns);
            }
            self.report(idx, recv_ns);
            return;
        }
        match d.kind {
            BookKind::Snapshot => self.on_snapshot(idx, d, recv_ns),
            BookKind::Diff => self.on_diff(idx, d, recv_ns),
        }
        self.report(idx, recv_ns);
    }

    fn on_snapshot(&mut self, idx: u32, d: &Depth<'_>, recv_ns: i64) {
        let Some(inst) = self.instruments.get_mut(idx as usize) else {
            return;
        };
        if !snapshot_starts_chain(inst.sync.rule(), d.ids.and_then(|i| i.prev)) {
            let synced = inst.is_synced();
            self.error(recv_ns, "snapshot_not_chain_start");
            if synced {
                self.fail(idx, Reason::BadMessage, recv_ns);
            } else {
                self.request(idx, Reason::BadMessage.as_str(), recv_ns);
            }
            return;
        }
        let was_out = matches!(inst.state(), State::OutOfSync(_));
        let buffered = inst.sync.buffered();
        let verdict = inst.sync.on_snapshot(d.ids.map(|i| i.last));
        // Buffered events the snapshot already covers were dropped by the sync.
        self.counters.skipped_stale += (buffered - inst.sync.buffered()) as u64;
        match verdict {
            SnapshotVerdict::TooOld => {
                self.counters.snapshots_too_old += 1;
                self.request(idx, Reason::SnapshotTooOld.as_str(), recv_ns);
            }
            SnapshotVerdict::Load => {
                self.counters.snapshots += 1;
                self.counters.applied += 1;
                if was_out {
                    self.counters.resyncs += 1;
                }
                inst.requested = false;
                inst.book.clear();
                apply(&mut inst.book, &self.scratch);
                inst.book.update_id = d.ids.map_or(0, |i| i.last);
                inst.wire = d.checksum.map(|_| WireLevels::default());
                self.after_apply(idx, d, recv_ns);
                self.replay_buffer(idx, recv_ns);
            }
        }
    }

    /// Apply the diffs buffered before the snapshot, with the usual verdicts.
    fn replay_buffer(&mut self, idx: u32, recv_ns: i64) {
        let Some(inst) = self.instruments.get_mut(idx as usize) else {
            return;
        };
        for (ids, levels) in inst.sync.take_buffer() {
            match inst.sync.on_diff(Some(ids)) {
                Verdict::Apply => {
                    apply(&mut inst.book, &levels);
                    inst.book.update_id = ids.last;
                    self.counters.applied += 1;
                }
                Verdict::Stale => self.counters.skipped_stale += 1,
                Verdict::NotSynced => self.counters.skipped_not_synced += 1,
                // After a gap inside the buffer, later events are kept for the next snapshot.
                Verdict::Buffer => inst.sync.buffer(ids, levels),
                Verdict::Gap => {
                    self.counters.gaps += 1;
                    drop_book(inst);
                    inst.sync.buffer(ids, levels);
                    let req = inst.sync.rule().repair();
                    inst.requested = true;
                    self.changes.requests.push(RepairRequest {
                        recv_ns,
                        instrument: idx,
                        request: req,
                        reason: Reason::Gap.as_str(),
                    });
                }
            }
        }
    }

    fn on_diff(&mut self, idx: u32, d: &Depth<'_>, recv_ns: i64) {
        let Some(inst) = self.instruments.get_mut(idx as usize) else {
            return;
        };
        match inst.sync.on_diff(d.ids) {
            Verdict::Apply => {
                apply(&mut inst.book, &self.scratch);
                if let Some(ids) = d.ids {
                    inst.book.update_id = ids.last;
                }
                self.counters.applied += 1;
                self.after_apply(idx, d, recv_ns);
            }
            Verdict::Stale => self.counters.skipped_stale += 1,
            Verdict::NotSynced => {
                self.counters.skipped_not_synced += 1;
                // Bybit and OKX send a snapshot first after subscribing: a delta while still
                // waiting means that snapshot was missed.
                if inst.state() == State::WaitingForSnapshot && !inst.requested {
                    self.request(idx, "no_snapshot", recv_ns);
                }
            }
            Verdict::Buffer => {
                let Some(ids) = d.ids else {
                    return;
                };
                let before = inst.sync.overflowed;
                inst.sync.buffer(ids, self.scratch.clone());
                self.counters.buffered += 1;
                self.counters.buffer_overflow += inst.sync.overflowed - before;
                if !inst.requested {
                    let reason = match inst.state() {
                        State::OutOfSync(r) => r.as_str(),
                        _ => "initial",
                    };
                    self.request(idx, reason, recv_ns);
                }
            }
            Verdict::Gap => {
                self.counters.gaps += 1;
                drop_book(inst);
                if let Some(ids) = d.ids {
                    if inst.sync.rule() == Rule::BinanceSpot
                        || inst.sync.rule() == Rule::BinanceUsdm
                    {
                        // The event that broke the chain is the first one the next snapshot needs.
                        inst.sync.buffer(ids, self.scratch.clone());
                    }
                }
                self.request(idx, Reason::Gap.as_str(), recv_ns);
            }
        }
    }

    /// Keep the OKX wire strings and verify the checksum after a message was applied.
    fn after_apply(&mut self, idx: u32, d: &Depth<'_>, recv_ns: i64) {
        let Some(inst) = self.instruments.get_mut(idx as usize) else {
            return;
        };
        let Some(wire) = inst.wire.as_mut() else {
            return;
        };
        update_wire(wire, &self.scratch, &d.bids, &d.asks);
        let Some(expected) = d.checksum else {
            return;
        };
        if okx_checksum_matches(&inst.book, wire, expected, &mut self.checksum_text) {
            self.counters.checksum_ok += 1;
        } else {
            self.counters.checksum_failed += 1;
            self.fail(idx, Reason::ChecksumMismatch, recv_ns);
        }
    }

    /// Leave sync: drop the book and ask for a repair.
    fn fail(&mut self, idx: u32, reason: Reason, recv_ns: i64) {
        let Some(inst) = self.instruments.get_mut(idx as usize) else {
            return;
        };
        inst.sync.fail(reason);
        drop_book(inst);
        if reason == Reason::Gap {
            self.counters.gaps += 1;
        }
        self.request(idx, reason.as_str(), recv_ns);
    }

    fn request(&mut self, idx: u32, reason: &'static str, recv_ns: i64) {
        let Some(inst) = self.instruments.get_mut(idx as usize) else {
            return;
        };
        inst.requested = true;
        self.changes.requests.push(RepairRequest {
            recv_ns,
            instrument: idx,
            request: inst.sync.rule().repair(),
            reason,
        });
    }

    /// Hand out a state change and, while synced, a changed top of book.
    fn report(&mut self, idx: u32, recv_ns: i64) {
        let Some(inst) = self.instruments.get_mut(idx as usize) else {
            return;
        };
        let state = inst.state();
        if state != inst.reported {
            inst.reported = state;
            self.changes.states.push(StateChange {
                recv_ns,
                instrument: idx,
                state,
            });
        }
        if state != State::Synced {
            inst.published = None;
            return;
        }
        let top = inst.book.top();
        let uid = inst.book.update_id;
        while let Some(&(tid, ticker)) = inst.pending_tickers.front() {
            if tid > uid {
                break;
            }
            inst.pending_tickers.pop_front();
            if tid == uid {
                self.counters.ticker_checked += 1;
                if ticker != top {
                    self.counters.ticker_mismatch += 1;
                }
            }
        }
        if inst.published != Some(top) {
            inst.published = Some(top);
            self.counters.tops += 1;
            self.changes.tops.push(TopUpdate {
                recv_ns,
                instrument: idx,
                update_id: inst.book.update_id,
                top,
            });
        }
    }

    fn on_ticker(&mut self, t: &decode::Ticker<'_>, recv_ns: i64) -> Result<(), DecodeError> {
        let idx = self.index_of(t.symbol).ok_or(DecodeError::UnknownSymbol)?;
        let Some(inst) = self.instruments.get_mut(idx as usize) else {
            return Ok(());
        };
        let level = |side: Option<(&str, &str)>| -> Result<Option<Level>, DecodeError> {
            side.map(|(p, q)| parse_level(inst.px, inst.qty, p, q))
                .transpose()
        };
        let top = Top {
            bid: level(t.bid)?,
            ask: level(t.ask)?,
        };
        // Only Binance documents that a bookTicker `u` is the book's update id; OKX bbo-tbt and
        // books carry per-channel sequences, so their tickers are reported, not compared.
        let comparable = matches!(self.venue, Venue::BinanceSpot | Venue::BinanceUsdm);
        if let Some(uid) = t.update_id.filter(|_| comparable) {
            if inst.is_synced() && uid == inst.book.update_id {
                self.counters.ticker_checked += 1;
                if inst.book.top() != top {
                    self.counters.ticker_mismatch += 1;
                }
            } else if uid > inst.book.update_id {
                if inst.pending_tickers.len() >= PENDING_TICKERS {
                    inst.pending_tickers.pop_front();
                }
                inst.pending_tickers.push_back((uid, top));
            }
        }
        self.changes.tickers.push(TopUpdate {
            recv_ns,
            instrument: idx,
            update_id: t.update_id.unwrap_or(-1),
            top,
        });
        Ok(())
    }

    fn on_trade(&mut self, t: &decode::Trade<'_>, recv_ns: i64) -> Result<(), DecodeError> {
        let idx = self.index_of(t.symbol).ok_or(DecodeError::UnknownSymbol)?;
        let Some(inst) = self.instruments.get(idx as usize) else {
            return Ok(());
        };
        let l = parse_level(inst.px, inst.qty, t.px, t.qty)?;
        self.counters.trades += 1;
        self.changes.trades.push(TradeUpdate {
            recv_ns,
            instrument: idx,
            trade_id: match t.id {
                TradeId::Num(n) => n.to_string(),
                TradeId::Text(s) => s.to_string(),
            },
            px: l.px,
            qty: l.qty,
            taker_buy: t.taker_buy,
            exch_ns: t.exch_ms.saturating_mul(1_000_000),
        });
        Ok(())
    }
}

fn drop_book(inst: &mut Instrument) {
    inst.book.clear();
    inst.wire = None;
    inst.published = None;
}

fn parse_level(px: Grid, qty: Grid, p: &str, q: &str) -> Result<Level, DecodeError> {
    let px = px.steps(p.as_bytes())?;
    let qty = qty.steps(q.as_bytes())?;
    if px <= 0 || qty < 0 {
        return Err(DecodeError::NonPositive);
    }
    Ok(Level { px, qty })
}

/// Parse both sides into `out` (bids first) before anything touches the book, so a bad level
/// never leaves a half-applied message behind.
fn parse_levels(
    out: &mut Vec<LevelUpdate>,
    px: Grid,
    qty: Grid,
    bids: &Levels<'_>,
    asks: &Levels<'_>,
) -> Result<(), DecodeError> {
    for (side, levels) in [(Side::Bid, bids), (Side::Ask, asks)] {
        for &(p, q) in &levels.0 {
            let l = parse_level(px, qty, p, q)?;
            out.push(LevelUpdate {
                side,
                px: l.px,
                qty: l.qty,
            });
        }
    }
    Ok(())
}

fn apply(book: &mut Book, levels: &[LevelUpdate]) {
    for l in levels {
        book.set(l.side, l.px, l.qty);
    }
}

/// Mirror an applied message's original strings (`parsed` is in the same order: bids, asks).
fn update_wire(
    wire: &mut WireLevels,
    parsed: &[LevelUpdate],
    bids: &Levels<'_>,
    asks: &Levels<'_>,
) {
    for (l, &(p, q)) in parsed.iter().zip(bids.0.iter().chain(&asks.0)) {
        let map = match l.side {
            Side::Bid => &mut wire.bids,
            Side::Ask => &mut wire.asks,
        };
        if l.qty > 0 {
            map.insert(l.px, (p.into(), q.into()));
        } else {
            map.remove(&l.px);
        }
    }
}

/// OKX CRC32 over the top 25 levels per side, interleaved `bid:qty:ask:qty:...` with the
/// original strings; compared as signed or unsigned 32-bit.
fn okx_checksum_matches(book: &Book, wire: &WireLevels, expected: i64, text: &mut String) -> bool {
    text.clear();
    let mut bids = book.bids.iter().take(25);
    let mut asks = book.asks.iter().take(25);
    loop {
        let (b, a) = (bids.next(), asks.next());
        if b.is_none() && a.is_none() {
            break;
        }
        for (level, map) in [(b, &wire.bids), (a, &wire.asks)] {
            if let Some(l) = level {
                let Some((p, q)) = map.get(&l.px) else {
                    return false;
                };
                text.push_str(p);
                text.push(':');
                text.push_str(q);
                text.push(':');
            }
        }
    }
    text.pop();
    let crc = crc32fast::hash(text.as_bytes());
    i64::from(crc as i32) == expected || i64::from(crc) == expected
}

#[cfg(test)]
mod tests;

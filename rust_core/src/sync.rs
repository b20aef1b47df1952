//! Book sync: one state machine per (venue, symbol), deciding for each book message whether it
//! is applied, skipped, buffered, or breaks the chain. It follows
//! `reference/exchange-protocols.md` to the letter:
//!
//! * **Binance spot** (§1.4): buffer diffs until the REST snapshot arrives; a snapshot with
//!   `lastUpdateId < U` of the first buffered event is too old (fetch again); drop buffered
//!   events with `u <= lastUpdateId`; the first applied event must have `U <= id + 1 <= u`,
//!   every later one `U == id + 1` (`u <= id`: already applied, skipped); anything else is a gap.
//! * **Binance USD-M** (§1.5): drop buffered events with `u < lastUpdateId`; the first applied
//!   event has `U <= id <= u`, or `pu == id` (the boundary event `u == id` was already dropped:
//!   both cases are accepted); afterwards `pu == previous u`. `U` is never compared to `id + 1`.
//! * **Bybit v5** (§2.2): any snapshot resets the book (at any `u`, lower ones and `u == 1`
//!   included); a delta needs `u == last + 1`, anything else (skipped, repeated, older) is a gap.
//! * **OKX v5** (§3.4): a snapshot resets (`prevSeqId == -1`); an update needs
//!   `prevSeqId == last seqId`: heartbeats (`seqId == prevSeqId`) and maintenance resets
//!   (`seqId < prevSeqId`) chain by that identity. Messages without ids (recordings from before
//!   `seqId` existed) are applied and left to the checksum.
//!
//! Out of sync, the caller is asked for what repairs it (Binance: a REST snapshot; Bybit and
//! OKX: a resubscribe) and nothing is applied or published until a snapshot is accepted.
//! Binance keeps buffering while it waits; the buffer is bounded (oldest events dropped).

use std::collections::VecDeque;

use crate::decode::Ids;

/// Which venue's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    BinanceSpot,
    BinanceUsdm,
    Bybit,
    Okx,
}

impl Rule {
    /// What the caller must do to get a book again.
    pub fn repair(self) -> Request {
        match self {
            Rule::BinanceSpot | Rule::BinanceUsdm => Request::Snapshot,
            Rule::Bybit | Rule::Okx => Request::Resubscribe,
        }
    }

    fn buffers(self) -> bool {
        matches!(self, Rule::BinanceSpot | Rule::BinanceUsdm)
    }
}

/// OKX: a snapshot starts a chain, so it carries `prevSeqId == -1` when it carries one at all
/// (books5 and pre-2022 data have none). Other venues have no such field.
pub fn snapshot_starts_chain(rule: Rule, prev: Option<i64>) -> bool {
    rule != Rule::Okx || prev.is_none_or(|p| p == -1)
}

/// What the caller is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Request {
    /// Fetch a REST depth snapshot and pass it in (Binance).
    Snapshot,
    /// Unsubscribe and subscribe the book channel again to get a fresh snapshot (Bybit, OKX).
    Resubscribe,
}

impl Request {
    pub fn as_str(self) -> &'static str {
        match self {
            Request::Snapshot => "snapshot",
            Request::Resubscribe => "resubscribe",
        }
    }
}

/// Why a book is out of sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A message does not chain onto the last one applied.
    Gap,
    /// OKX CRC32 of the top 25 levels differs from the message's checksum.
    ChecksumMismatch,
    /// A book message for this symbol could not be decoded, so an update is lost.
    BadMessage,
    /// The REST snapshot is older than the first buffered event.
    SnapshotTooOld,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Gap => "gap",
            Reason::ChecksumMismatch => "checksum_mismatch",
            Reason::BadMessage => "bad_message",
            Reason::SnapshotTooOld => "snapshot_too_old",
        }
    }
}

/// Sync state of one book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    WaitingForSnapshot,
    Synced,
    OutOfSync(Reason),
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::WaitingForSnapshot => "waiting_for_snapshot",
            State::Synced => "synced",
            State::OutOfSync(_) => "out_of_sync",
        }
    }

    pub fn reason(self) -> Option<Reason> {
        match self {
            State::OutOfSync(r) => Some(r),
            _ => None,
        }
    }
}

/// Decision about one diff message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Apply its levels; the sync already advanced to its ids.
    Apply,
    /// Already applied (`u <= id`): drop it.
    Stale,
    /// Not synced and this venue does not buffer: drop it.
    NotSynced,
    /// Not synced yet: the caller hands the message to [`BookSync::buffer`].
    Buffer,
    /// It breaks the chain: the book is now out of sync (`Reason::Gap`).
    Gap,
}

/// Decision about one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotVerdict {
    /// Load it, then replay [`BookSync::take_buffer`] through [`BookSync::on_diff`].
    Load,
    /// Too old for the buffered events: ask for another one.
    TooOld,
}

/// One (venue, symbol) sync state machine, generic over the buffered payload.
#[derive(Debug)]
pub struct BookSync<T> {
    rule: Rule,
    state: State,
    /// Id of the last applied message (snapshot `lastUpdateId`, `u`, `seqId`); `None` when unknown.
    last: Option<i64>,
    /// Binance: the next diff is the first after the snapshot (its own acceptance rule).
    first_after_snapshot: bool,
    buffer: VecDeque<(Ids, T)>,
    capacity: usize,
    /// Buffered events dropped because the buffer was full.
    pub overflowed: u64,
}

impl<T> BookSync<T> {
    pub fn new(rule: Rule, capacity: usize) -> Self {
        BookSync {
            rule,
            state: State::WaitingForSnapshot,
            last: None,
            first_after_snapshot: false,
            buffer: VecDeque::new(),
            capacity: capacity.max(1),
            overflowed: 0,
        }
    }

    pub fn rule(&self) -> Rule {
        self.rule
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn is_synced(&self) -> bool {
        self.state == State::Synced
    }

    /// Id of the last applied message.
    pub fn last_id(&self) -> Option<i64> {
        self.last
    }

    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Judge one diff and, when it is applied, advance to its ids.
    pub fn on_diff(&mut self, ids: Option<Ids>) -> Verdict {
        if self.state != State::Synced {
            return if self.rule.buffers() {
                Verdict::Buffer
            } else {
                Verdict::NotSynced
            };
        }
        let verdict = match (self.rule, ids, self.last) {
            // OKX without ids (pre-seqId recordings): nothing to chain on; the checksum guards.
            (Rule::Okx, None, _) => Verdict::Apply,
            // No id known yet to chain on (OKX snapshot without seqId): start the chain here.
            (Rule::Okx, Some(_), None) => Verdict::Apply,
            (Rule::Okx, Some(i), Some(last)) => {
                if i.prev == Some(last) {
                    Verdict::Apply
                } else {
                    Verdict::Gap
                }
            }
            (_, None, _) | (_, _, None) => Verdict::Gap,
            (Rule::Bybit, Some(i), Some(last)) => {
                if last.checked_add(1) == Some(i.last) {
                    Verdict::Apply
                } else {
                    Verdict::Gap
                }
            }
            (Rule::BinanceSpot, Some(i), Some(id)) => {
                let next = id.saturating_add(1);
                if i.last <= id {
                    Verdict::Stale
                } else if self.first_after_snapshot {
                    if i.first <= next && next <= i.last {
                        Verdict::Apply
                    } else {
                        Verdict::Gap
                    }
                } else if i.first == next {
                    Verdict::Apply
                } else {
                    Verdict::Gap
                }
            }
            (Rule::BinanceUsdm, Some(i), Some(id)) => {
                if self.first_after_snapshot {
                    if i.last < id {
                        Verdict::Stale
                    } else if (i.first <= id && id <= i.last) || i.prev == Some(id) {
                        Verdict::Apply
                    } else {
                        Verdict::Gap
                    }
                } else if i.last <= id {
                    Verdict::Stale
                } else if i.prev == Some(id) {
                    Verdict::Apply
                } else {
                    Verdict::Gap
                }
            }
        };
        match verdict {
            Verdict::Apply => {
                if let Some(i) = ids {
                    self.last = Some(i.last);
                }
                self.first_after_snapshot = false;
            }
            Verdict::Gap => self.fail(Reason::Gap),
            _ => {}
        }
        verdict
    }

    /// Keep a diff that arrived while not synced (Binance), dropping the oldest when full.
    pub fn buffer(&mut self, ids: Ids, payload: T) {
        if self.buffer.len() >= self.capacity {
            self.buffer.pop_front();
            self.overflowed += 1;
        }
        self.buffer.push_back((ids, payload));
    }

    /// Judge a snapshot with id `last` (`None`: the venue sent none). On `Load` the state is
    /// synced at that id and buffered events already covered by it are gone.
    pub fn on_snapshot(&mut self, last: Option<i64>) -> SnapshotVerdict {
        if let (Rule::BinanceSpot | Rule::BinanceUsdm, Some(id)) = (self.rule, last) {
            if let Some((first, _)) = self.buffer.front() {
                let chains = self.rule == Rule::BinanceUsdm && first.prev == Some(id);
                if id < first.first && !chains {
                    return SnapshotVerdict::TooOld;
                }
            }
            let spot = self.rule == Rule::BinanceSpot;
            self.buffer
                .retain(|(i, _)| if spot { i.last > id } else { i.last >= id });
        }
        self.state = State::Synced;
        self.last = last;
        self.first_after_snapshot = self.rule.buffers();
        SnapshotVerdict::Load
    }

    /// The buffered events, oldest first, for replay after a `Load`.
    pub fn take_buffer(&mut self) -> VecDeque<(Ids, T)> {
        std::mem::take(&mut self.buffer)
    }

    /// Leave sync for `reason`; buffered events are discarded (they predate the break).
    pub fn fail(&mut self, reason: Reason) {
        self.state = State::OutOfSync(reason);
        self.first_after_snapshot = false;
        self.buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(first: i64, last: i64, prev: Option<i64>) -> Option<Ids> {
        Some(Ids { first, last, prev })
    }

    fn buffer_all<T: Default>(s: &mut BookSync<T>, evs: &[(i64, i64, Option<i64>)]) {
        for &(f, l, p) in evs {
            assert_eq!(s.on_diff(ids(f, l, p)), Verdict::Buffer);
            s.buffer(
                Ids {
                    first: f,
                    last: l,
                    prev: p,
                },
                T::default(),
            );
        }
    }

    fn replay<T>(s: &mut BookSync<T>) -> Vec<Verdict> {
        s.take_buffer()
            .into_iter()
            .map(|(i, _)| s.on_diff(Some(i)))
            .collect()
    }

    #[test]
    fn binance_spot_reference_example() {
        // NKNUSDT: snapshot 499869752; first event U=499869750 u=499869752 is dropped,
        // the next starts at lastUpdateId + 1.
        let mut s: BookSync<()> = BookSync::new(Rule::BinanceSpot, 100);
        buffer_all(
            &mut s,
            &[(499869750, 499869752, None), (499869753, 499869760, None)],
        );
        assert_eq!(s.on_snapshot(Some(499869752)), SnapshotVerdict::Load);
        assert_eq!(replay(&mut s), vec![Verdict::Apply]);
        assert_eq!(s.on_diff(ids(499869761, 499869765, None)), Verdict::Apply);
        assert_eq!(s.on_diff(ids(499869761, 499869765, None)), Verdict::Stale);
        assert_eq!(s.on_diff(ids(499869767, 499869770, None)), Verdict::Gap);
        assert_eq!(s.state(), State::OutOfSync(Reason::Gap));
        assert_eq!(s.on_diff(ids(499869771, 499869772, None)), Verdict::Buffer);
    }

    #[test]
    fn binance_spot_first_event_must_span_the_snapshot() {
        let mut s: BookSync<()> = BookSync::new(Rule::BinanceSpot, 100);
        buffer_all(&mut s, &[(10, 12, None)]);
        assert_eq!(s.on_snapshot(Some(9)), SnapshotVerdict::TooOld);
        assert_eq!(s.on_snapshot(Some(11)), SnapshotVerdict::Load);
        assert_eq!(replay(&mut s), vec![Verdict::Apply]);
        // Snapshot newer than everything buffered: the first live event must contain id + 1.
        let mut s: BookSync<()> = BookSync::new(Rule::BinanceSpot, 100);
        buffer_all(&mut s, &[(10, 12, None)]);
        assert_eq!(s.on_snapshot(Some(20)), SnapshotVerdict::Load);
        assert!(replay(&mut s).is_empty());
        assert_eq!(s.on_diff(ids(22, 25, None)), Verdict::Gap);
        let mut s: BookSync<()> = BookSync::new(Rule::BinanceSpot, 100);
        assert_eq!(s.on_snapshot(Some(20)), SnapshotVerdict::Load);
        assert_eq!(s.on_diff(ids(18, 21, None)), Verdict::Apply);
        assert_eq!(
            s.on_diff(ids(21, 22, None)),
            Verdict::Gap,
            "after the first, U must be id + 1"
        );
    }

    #[test]
    fn binance_usdm_accepts_both_boundary_cases() {
        // The snapshot id equals an event's u: that event is applied again (u < id rule).
        let mut s: BookSync<()> = BookSync::new(Rule::BinanceUsdm, 100);
        buffer_all(
            &mut s,
            &[
                (100, 200, Some(90)),
                (250, 300, Some(200)),
                (301, 400, Some(300)),
            ],
        );
        assert_eq!(s.on_snapshot(Some(300)), SnapshotVerdict::Load);
        assert_eq!(replay(&mut s), vec![Verdict::Apply, Verdict::Apply]);
        // The boundary event was not buffered: the next one chains with pu == id.
        let mut s: BookSync<()> = BookSync::new(Rule::BinanceUsdm, 100);
        buffer_all(&mut s, &[(301, 400, Some(300))]);
        assert_eq!(s.on_snapshot(Some(300)), SnapshotVerdict::Load);
        assert_eq!(replay(&mut s), vec![Verdict::Apply]);
        assert_eq!(
            s.on_diff(ids(999, 1200, Some(400))),
            Verdict::Apply,
            "U jumps: ids are global"
        );
        assert_eq!(s.on_diff(ids(1300, 1400, Some(1250))), Verdict::Gap);
        // Too old: the first buffered event starts after the snapshot and does not chain on it.
        let mut s: BookSync<()> = BookSync::new(Rule::BinanceUsdm, 100);
        buffer_all(&mut s, &[(500, 600, Some(450))]);
        assert_eq!(s.on_snapshot(Some(400)), SnapshotVerdict::TooOld);
    }

    #[test]
    fn bybit_rules() {
        let mut s: BookSync<()> = BookSync::new(Rule::Bybit, 10);
        assert_eq!(s.on_diff(ids(5, 5, None)), Verdict::NotSynced);
        assert_eq!(s.on_snapshot(Some(100)), SnapshotVerdict::Load);
        assert_eq!(s.on_diff(ids(101, 101, None)), Verdict::Apply);
        assert_eq!(
            s.on_diff(ids(101, 101, None)),
            Verdict::Gap,
            "a repeated u is a gap too"
        );
        assert_eq!(s.on_diff(ids(102, 102, None)), Verdict::NotSynced);
        assert_eq!(
            s.on_snapshot(Some(1)),
            SnapshotVerdict::Load,
            "u == 1: service restart"
        );
        assert_eq!(s.on_diff(ids(2, 2, None)), Verdict::Apply);
        assert_eq!(s.on_snapshot(Some(50)), SnapshotVerdict::Load);
        assert_eq!(s.on_diff(ids(52, 52, None)), Verdict::Gap);
    }

    #[test]
    fn okx_rules() {
        let mut s: BookSync<()> = BookSync::new(Rule::Okx, 10);
        assert_eq!(s.on_snapshot(Some(10)), SnapshotVerdict::Load);
        assert_eq!(s.on_diff(ids(17, 17, Some(10))), Verdict::Apply);
        assert_eq!(
            s.on_diff(ids(17, 17, Some(17))),
            Verdict::Apply,
            "heartbeat"
        );
        assert_eq!(
            s.on_diff(ids(3, 3, Some(17))),
            Verdict::Apply,
            "maintenance reset"
        );
        assert_eq!(s.on_diff(ids(9, 9, Some(5))), Verdict::Gap);
        assert_eq!(s.state(), State::OutOfSync(Reason::Gap));
        let mut s: BookSync<()> = BookSync::new(Rule::Okx, 10);
        assert_eq!(s.on_snapshot(None), SnapshotVerdict::Load);
        assert_eq!(s.on_diff(None), Verdict::Apply);
    }

    #[test]
    fn okx_snapshot_must_start_a_chain() {
        assert!(snapshot_starts_chain(Rule::Okx, Some(-1)));
        assert!(snapshot_starts_chain(Rule::Okx, None));
        assert!(!snapshot_starts_chain(Rule::Okx, Some(5)));
        assert!(snapshot_starts_chain(Rule::Bybit, Some(5)));
    }

    #[test]
    fn buffer_is_bounded() {
        let mut s: BookSync<()> = BookSync::new(Rule::BinanceSpot, 2);
        buffer_all(&mut s, &[(1, 1, None), (2, 2, None), (3, 3, None)]);
        assert_eq!(s.buffered(), 2);
        assert_eq!(s.overflowed, 1);
        assert_eq!(s.on_snapshot(Some(1)), SnapshotVerdict::TooOld);
    }
}

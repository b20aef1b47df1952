//! Venue decoders: raw WebSocket frame bytes -> borrowed, venue-neutral messages.
//!
//! Decoding is zero-copy and single-pass: every string in a [`Msg`] borrows from the frame, and
//! price levels are read as borrowed `(price, qty)` strings ([`Levels`]) in the same pass as the
//! rest of the message; the caller, who knows the instrument's grids, turns them into ticks.
//!
//! JSON library, measured (`cargo bench --bench decode_apply`, Binance spot diff, thread CPU time
//! per frame through `Market::feed`, shared VM): serde_json with borrowed `&str` 0.73 µs and
//! sonic-rs 0.66 µs when both are built with `-C target-cpu=native`; with the portable default
//! target (what `pip install .` builds) sonic-rs was slower than serde_json (1.21 µs vs ~1.0 µs).
//! serde_json is kept: portable, no target-cpu flag, and within 10% at best. What mattered more
//! was passes over the bytes: reading levels in the message pass (not as a `RawValue` walked
//! later) and cutting the Binance combined wrapper by position halved the time per frame.
//!
//! A decoder never panics: anything it cannot understand becomes a [`DecodeError`] whose
//! [`DecodeError::reason`] is the key of the per-reason error counters.

pub mod binance;
pub mod bybit;
pub mod okx;

use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

use crate::fixed::DecimalError;

/// Why a frame (or part of it) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// The JSON ends early (a cut frame).
    Truncated,
    /// Not JSON at all, or broken JSON.
    BadJson,
    /// Valid JSON with a field of the wrong type or out of range.
    BadType,
    /// A field the message kind needs is absent.
    MissingField(&'static str),
    /// Valid JSON that is no message this venue sends.
    UnknownMessage,
    /// A price or quantity string that is not a decimal on the instrument's grid.
    Decimal(DecimalError),
    /// A price that is zero or negative, or a negative quantity.
    NonPositive,
    /// A data message for a symbol that was never registered.
    UnknownSymbol,
}

impl DecodeError {
    /// Stable short name, used as the key of error counters.
    pub fn reason(self) -> &'static str {
        match self {
            DecodeError::Truncated => "truncated",
            DecodeError::BadJson => "bad_json",
            DecodeError::BadType => "bad_type",
            DecodeError::MissingField(_) => "missing_field",
            DecodeError::UnknownMessage => "unknown_message",
            DecodeError::Decimal(e) => e.as_str(),
            DecodeError::NonPositive => "non_positive",
            DecodeError::UnknownSymbol => "unknown_symbol",
        }
    }

    fn from_json(e: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        match e.classify() {
            Category::Eof => DecodeError::Truncated,
            Category::Syntax | Category::Io => DecodeError::BadJson,
            Category::Data => DecodeError::BadType,
        }
    }
}

impl From<serde_json::Error> for DecodeError {
    fn from(e: serde_json::Error) -> Self {
        DecodeError::from_json(&e)
    }
}

impl From<DecimalError> for DecodeError {
    fn from(e: DecimalError) -> Self {
        DecodeError::Decimal(e)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::MissingField(name) => write!(f, "missing field {name}"),
            DecodeError::Decimal(e) => write!(f, "{e}"),
            other => f.write_str(other.reason()),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Parse a whole frame as `T`, borrowing strings from it.
pub(crate) fn parse<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, DecodeError> {
    Ok(serde_json::from_slice(bytes)?)
}

/// Parse a borrowed JSON sub-value as `T`.
pub(crate) fn parse_raw<'a, T: serde::Deserialize<'a>>(
    raw: &'a RawValue,
) -> Result<T, DecodeError> {
    Ok(serde_json::from_str(raw.get())?)
}

/// Sequence ids of a book message, as each venue names them (see `sync.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    /// Binance `U` (first update id in the event); the same as `last` elsewhere.
    pub first: i64,
    /// Binance `u` / `lastUpdateId`, Bybit `u`, OKX `seqId`.
    pub last: i64,
    /// Binance USD-M `pu`, OKX `prevSeqId`; `None` where the venue has none.
    pub prev: Option<i64>,
}

/// Full replacement of the book, or an incremental change to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookKind {
    Snapshot,
    Diff,
}

/// An order-book message; level strings borrow from the frame.
#[derive(Debug, Clone)]
pub struct Depth<'a> {
    /// `None` only for a bare Binance REST snapshot body, which names no symbol.
    pub symbol: Option<&'a str>,
    pub kind: BookKind,
    /// `None` when the venue sent no sequence (OKX `books` before `seqId` existed).
    pub ids: Option<Ids>,
    pub bids: Levels<'a>,
    pub asks: Levels<'a>,
    /// Exchange time in ms (0 when absent).
    pub exch_ms: i64,
    /// OKX CRC32 checksum; `None` when absent or 0 (deprecated by OKX in 2026).
    pub checksum: Option<i64>,
}

/// Best bid/ask published by the venue (Binance `bookTicker`, OKX `bbo-tbt`).
#[derive(Debug, Clone, Copy)]
pub struct Ticker<'a> {
    pub symbol: &'a str,
    /// Book update id the ticker belongs to (Binance `u`, OKX `seqId`), if any.
    pub update_id: Option<i64>,
    pub bid: Option<(&'a str, &'a str)>,
    pub ask: Option<(&'a str, &'a str)>,
    pub exch_ms: i64,
}

/// Trade id as the venue sends it: Binance and OKX numbers, Bybit UUID strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeId<'a> {
    Num(i64),
    Text(&'a str),
}

/// One public trade.
#[derive(Debug, Clone, Copy)]
pub struct Trade<'a> {
    pub symbol: &'a str,
    pub id: TradeId<'a>,
    pub px: &'a str,
    pub qty: &'a str,
    /// The aggressor bought (lifted the ask).
    pub taker_buy: bool,
    pub exch_ms: i64,
}

/// Non-data message kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlKind {
    /// Subscription (or unsubscription) acknowledged.
    Ack,
    Pong,
    /// The venue reported an error.
    Error,
    /// Binance `serverShutdown`: reconnect soon.
    ServerShutdown,
    /// Any other venue event (OKX `login`, `channel-conn-count`, `notice`, ...).
    Event,
}

impl ControlKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlKind::Ack => "ack",
            ControlKind::Pong => "pong",
            ControlKind::Error => "error",
            ControlKind::ServerShutdown => "server_shutdown",
            ControlKind::Event => "event",
        }
    }
}

/// A control message: recognised, reported, never treated as data.
#[derive(Debug, Clone, Copy)]
pub struct Control<'a> {
    pub kind: ControlKind,
    /// Short detail for logs (error message, event name, ...).
    pub detail: &'a str,
}

/// One decoded message. A frame yields zero or more of them (OKX and Bybit batch).
#[derive(Debug, Clone)]
pub enum Msg<'a> {
    Depth(Depth<'a>),
    Ticker(Ticker<'a>),
    Trade(Trade<'a>),
    Control(Control<'a>),
    /// Valid data of a channel the core does not use (klines, tickers, ...); named for counters.
    Ignored(&'a str),
}

/// Price levels `[[price, qty, ...], ...]` as borrowed `(price, qty)` strings, read in the same
/// pass as the rest of the message; extra elements per level (OKX order counts) are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Levels<'a>(pub Vec<(&'a str, &'a str)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Levels<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(LevelsVisitor(std::marker::PhantomData))
    }
}

struct LevelsVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for LevelsVisitor<'a> {
    type Value = Levels<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of [price, qty] levels")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Levels<'a>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(8).min(1024));
        while let Some(LevelPair(px, qty)) = seq.next_element()? {
            out.push((px, qty));
        }
        Ok(Levels(out))
    }
}

/// `[price, qty, ...]` with both as borrowed strings; the rest skipped.
pub(crate) struct LevelPair<'a>(pub &'a str, pub &'a str);

impl<'de> serde::Deserialize<'de> for LevelPair<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LevelPair<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[price, qty]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LevelPair<'de>, A::Error> {
                let px: &str = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let qty: &str = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LevelPair(px, qty))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Parse an integer carried as a JSON string (OKX `ts`).
pub(crate) fn int_str(s: &str) -> Result<i64, DecodeError> {
    s.parse::<i64>().map_err(|_| DecodeError::BadType)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(s: &str) -> Result<Levels<'_>, DecodeError> {
        Ok(serde_json::from_str(s)?)
    }

    #[test]
    fn reads_levels_and_ignores_extra_elements() {
        let l = levels(r#"[["1.5","2"],["1.4","0","0","3"]]"#).unwrap();
        assert_eq!(l.0, vec![("1.5", "2"), ("1.4", "0")]);
        assert_eq!(levels("[]").unwrap().0, vec![]);
    }

    #[test]
    fn refuses_bad_levels_with_a_reason() {
        assert_eq!(levels(r#"[["1.5"]]"#), Err(DecodeError::BadType));
        assert_eq!(levels(r#"[[1.5,"2"]]"#), Err(DecodeError::BadType));
        assert_eq!(levels(r#"{"a":1}"#), Err(DecodeError::BadType));
        assert_eq!(levels(r#"[["1","2"]"#), Err(DecodeError::Truncated));
    }
}

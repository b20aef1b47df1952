//! Binance spot and USD-M futures: `depthUpdate`, the REST depth snapshot body, `bookTicker`,
//! `trade`, `aggTrade`, raw streams and the combined-stream wrapper `{"stream":..,"data":..}`.
//!
//! One borrowed struct holds every field any of these messages uses, read in a single pass; a
//! field whose type differs between messages (`b`/`a` are level arrays in `depthUpdate`, strings
//! in `bookTicker`, and `a` is an id in `aggTrade`) is a [`Field`] that takes whichever it finds.
//! The combined-stream wrapper is cut off without parsing it twice (see [`split_combined`]).

use serde::de::{self, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

use super::{
    parse, BookKind, Control, ControlKind, DecodeError, Depth, Ids, LevelPair, Levels, Msg, Ticker,
    Trade, TradeId,
};

/// `b` / `a`: levels, a decimal string or an integer id depending on the event.
enum Field<'a> {
    Levels(Levels<'a>),
    Text(&'a str),
    Int(i64),
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Field<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("levels, a string or an integer")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Field<'a>, E> {
                Ok(Field::Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field<'a>, E> {
                Ok(Field::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field<'a>, E> {
                i64::try_from(v)
                    .map(Field::Int)
                    .map_err(|_| E::custom("id out of range"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'a>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(8).min(1024));
                while let Some(LevelPair(px, qty)) = seq.next_element()? {
                    out.push((px, qty));
                }
                Ok(Field::Levels(Levels(out)))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'a> Field<'a> {
    fn levels(self) -> Result<Levels<'a>, DecodeError> {
        match self {
            Field::Levels(l) => Ok(l),
            _ => Err(DecodeError::BadType),
        }
    }
    fn text(self) -> Result<&'a str, DecodeError> {
        match self {
            Field::Text(t) => Ok(t),
            _ => Err(DecodeError::BadType),
        }
    }
    fn int(self) -> Result<i64, DecodeError> {
        match self {
            Field::Int(i) => Ok(i),
            _ => Err(DecodeError::BadType),
        }
    }
}

/// `{"stream":"<name>","data":<event>}` as `(name, event bytes)`, found by position so the event
/// is parsed once; `None` for any other layout (then the generic path parses the wrapper).
fn split_combined(frame: &[u8]) -> Option<(&str, &[u8])> {
    let rest = frame.strip_prefix(br#"{"stream":""#)?;
    let end = rest.iter().position(|&c| c == b'"' || c == b'\\')?;
    let stream = std::str::from_utf8(rest.get(..end)?).ok()?;
    let body = rest.get(end + 1..)?.strip_prefix(br#","data":"#)?;
    let body = body.trim_ascii_end().strip_suffix(b"}")?;
    Some((stream, body))
}

/// Partial-book streams (`@depth5`, `@depth10`, `@depth20`) carry `lastUpdateId` like a REST
/// snapshot but are not one; the core keeps diff books only.
fn is_partial_depth(stream: &str) -> bool {
    stream
        .split_once("@depth")
        .is_some_and(|(_, rest)| rest.starts_with(|c: char| c.is_ascii_digit()))
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    stream: Option<&'a str>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    e: Option<&'a str>,
    #[serde(rename = "E")]
    event_ms: Option<i64>,
    #[serde(rename = "T")]
    trade_ms: Option<i64>,
    #[serde(borrow)]
    s: Option<&'a str>,
    #[serde(rename = "U")]
    first_id: Option<i64>,
    u: Option<i64>,
    pu: Option<i64>,
    #[serde(borrow)]
    b: Option<Field<'a>>,
    #[serde(borrow)]
    a: Option<Field<'a>>,
    #[serde(rename = "B", borrow)]
    bid_qty: Option<&'a str>,
    #[serde(rename = "A", borrow)]
    ask_qty: Option<&'a str>,
    t: Option<i64>,
    #[serde(borrow)]
    p: Option<&'a str>,
    #[serde(borrow)]
    q: Option<&'a str>,
    m: Option<bool>,
    #[serde(rename = "lastUpdateId")]
    last_update_id: Option<i64>,
    #[serde(borrow)]
    bids: Option<Levels<'a>>,
    #[serde(borrow)]
    asks: Option<Levels<'a>>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    code: Option<i64>,
    #[serde(borrow)]
    msg: Option<&'a str>,
}

fn need<T>(v: Option<T>, name: &'static str) -> Result<T, DecodeError> {
    v.ok_or(DecodeError::MissingField(name))
}

/// Decode one frame (spot or USD-M; the shapes are a superset of each other).
pub fn decode<'a>(frame: &'a [u8], sink: &mut impl FnMut(Msg<'a>)) -> Result<(), DecodeError> {
    if let Some((stream, body)) = split_combined(frame) {
        if is_partial_depth(stream) {
            sink(Msg::Ignored("partial_depth"));
            return Ok(());
        }
        // A wrapper with anything after `data` fails here and gets the generic path below.
        if let Ok(inner) = parse::<Raw<'a>>(body) {
            return event(inner, sink);
        }
    }
    let raw: Raw<'a> = parse(frame)?;
    if let (Some(stream), Some(data)) = (raw.stream, raw.data) {
        if is_partial_depth(stream) {
            sink(Msg::Ignored("partial_depth"));
            return Ok(());
        }
        let inner: Raw<'a> = parse(data.get().as_bytes())?;
        return event(inner, sink);
    }
    event(raw, sink)
}

fn event<'a>(r: Raw<'a>, sink: &mut impl FnMut(Msg<'a>)) -> Result<(), DecodeError> {
    let msg = match r.e {
        Some("depthUpdate") => Msg::Depth(Depth {
            symbol: Some(need(r.s, "s")?),
            kind: BookKind::Diff,
            ids: Some(Ids {
                first: need(r.first_id, "U")?,
                last: need(r.u, "u")?,
                prev: r.pu,
            }),
            bids: need(r.b, "b")?.levels()?,
            asks: need(r.a, "a")?.levels()?,
            exch_ms: r.event_ms.unwrap_or(0),
            checksum: None,
        }),
        Some("bookTicker") => book_ticker(r)?,
        Some("trade") => Msg::Trade(Trade {
            symbol: need(r.s, "s")?,
            id: TradeId::Num(need(r.t, "t")?),
            px: need(r.p, "p")?,
            qty: need(r.q, "q")?,
            taker_buy: !need(r.m, "m")?,
            exch_ms: need(r.trade_ms, "T")?,
        }),
        Some("aggTrade") => {
            let id = need(r.a, "a")?.int()?;
            Msg::Trade(Trade {
                symbol: need(r.s, "s")?,
                id: TradeId::Num(id),
                px: need(r.p, "p")?,
                qty: need(r.q, "q")?,
                taker_buy: !need(r.m, "m")?,
                exch_ms: need(r.trade_ms, "T")?,
            })
        }
        Some("serverShutdown") => Msg::Control(Control {
            kind: ControlKind::ServerShutdown,
            detail: "serverShutdown",
        }),
        Some(other) => Msg::Ignored(other),
        None => {
            if let Some(last) = r.last_update_id {
                // Bare REST snapshot body: the caller knows which symbol it asked for.
                Msg::Depth(Depth {
                    symbol: None,
                    kind: BookKind::Snapshot,
                    ids: Some(Ids {
                        first: last,
                        last,
                        prev: None,
                    }),
                    bids: need(r.bids, "bids")?,
                    asks: need(r.asks, "asks")?,
                    exch_ms: r.event_ms.unwrap_or(0),
                    checksum: None,
                })
            } else if r.u.is_some() && r.s.is_some() && r.bid_qty.is_some() {
                // Spot bookTicker has no `e`.
                book_ticker(r)?
            } else if r.error.is_some() || r.code.is_some() {
                Msg::Control(Control {
                    kind: ControlKind::Error,
                    detail: r.msg.unwrap_or("error"),
                })
            } else if r.id.is_some() {
                // `{"result":null,"id":1}`: answer to SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS.
                Msg::Control(Control {
                    kind: ControlKind::Ack,
                    detail: "result",
                })
            } else {
                return Err(DecodeError::UnknownMessage);
            }
        }
    };
    sink(msg);
    Ok(())
}

fn book_ticker(r: Raw<'_>) -> Result<Msg<'_>, DecodeError> {
    let bid_px = need(r.b, "b")?.text()?;
    let ask_px = need(r.a, "a")?.text()?;
    Ok(Msg::Ticker(Ticker {
        symbol: need(r.s, "s")?,
        update_id: r.u,
        bid: Some((bid_px, need(r.bid_qty, "B")?)),
        ask: Some((ask_px, need(r.ask_qty, "A")?)),
        exch_ms: r.event_ms.unwrap_or(0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(frame: &str) -> Result<String, DecodeError> {
        let mut out = Vec::new();
        decode(frame.as_bytes(), &mut |m| out.push(format!("{m:?}")))?;
        Ok(out.join("|"))
    }

    #[test]
    fn decodes_combined_depth_update() {
        let f = r#"{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}}"#;
        let mut got = None;
        decode(f.as_bytes(), &mut |m| {
            if let Msg::Depth(d) = m {
                got = Some((d.symbol, d.kind, d.ids));
            }
        })
        .unwrap();
        let ids = Ids {
            first: 157,
            last: 160,
            prev: None,
        };
        assert_eq!(got, Some((Some("BNBBTC"), BookKind::Diff, Some(ids))));
    }

    #[test]
    fn decodes_every_kind() {
        assert!(
            one(r#"{"e":"depthUpdate","E":1,"T":2,"s":"X","U":5,"u":9,"pu":4,"b":[],"a":[]}"#)
                .unwrap()
                .contains("prev: Some(4)")
        );
        assert!(one(r#"{"lastUpdateId":7,"bids":[["1","2"]],"asks":[]}"#)
            .unwrap()
            .contains("Snapshot"));
        assert!(one(
            r#"{"u":400900217,"s":"BNBUSDT","b":"25.35","B":"31.21","a":"25.36","A":"40.66"}"#
        )
        .unwrap()
        .starts_with("Ticker"));
        assert!(one(
            r#"{"e":"trade","E":1,"s":"X","t":12345,"p":"0.001","q":"100","T":2,"m":true,"M":true}"#
        )
        .unwrap()
        .contains("taker_buy: false"));
        assert!(one(r#"{"e":"aggTrade","E":1,"s":"X","a":26129,"p":"0.01633102","q":"4.7","f":1,"l":2,"T":3,"m":false}"#)
            .unwrap()
            .contains("Num(26129)"));
        assert!(one(r#"{"result":null,"id":1}"#).unwrap().contains("Ack"));
        assert!(one(r#"{"e":"serverShutdown","E":1}"#)
            .unwrap()
            .contains("ServerShutdown"));
        assert!(
            one(r#"{"error":{"code":2,"msg":"Invalid request"},"id":null}"#)
                .unwrap()
                .contains("Error")
        );
        assert!(
            one(r#"{"stream":"x@kline_1m","data":{"e":"kline","E":1,"s":"X","k":{}}}"#)
                .unwrap()
                .contains("Ignored(\"kline\")")
        );
        assert!(one(
            r#"{"stream":"x@depth20@100ms","data":{"lastUpdateId":1,"bids":[],"asks":[]}}"#
        )
        .unwrap()
        .contains("partial_depth"));
    }

    #[test]
    fn reports_bad_frames() {
        assert_eq!(
            one(r#"{"e":"depthUpdate","s":"X","U":1"#),
            Err(DecodeError::Truncated)
        );
        assert_eq!(one("garbage"), Err(DecodeError::BadJson));
        assert_eq!(
            one(r#"{"e":"depthUpdate","s":"X","U":"1","u":2,"b":[],"a":[]}"#),
            Err(DecodeError::BadType)
        );
        assert_eq!(
            one(r#"{"e":"depthUpdate","s":"X","u":2,"b":[],"a":[]}"#),
            Err(DecodeError::MissingField("U"))
        );
        assert_eq!(one(r#"{"foo":1}"#), Err(DecodeError::UnknownMessage));
        assert_eq!(
            one(r#"{"e":"depthUpdate","s":"X","U":99999999999999999999,"u":2,"b":[],"a":[]}"#),
            Err(DecodeError::BadType)
        );
    }
}

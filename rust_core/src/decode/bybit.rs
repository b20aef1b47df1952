//! Bybit v5 public streams: `orderbook.{depth}.{symbol}` (snapshot / delta) and
//! `publicTrade.{symbol}`, plus the `op` replies (subscribe acks, pongs, errors).
//! Keys are looked up by name, never by position (their order differs between products).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::scan::{once, Cursor};
use super::{
    parse, parse_raw, BookKind, Control, ControlKind, DecodeError, Depth, Ids, Levels, Msg, Trade,
    TradeId,
};

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    topic: Option<&'a str>,
    #[serde(rename = "type", borrow)]
    kind: Option<&'a str>,
    ts: Option<i64>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    success: Option<bool>,
    #[serde(borrow)]
    ret_msg: Option<&'a str>,
    #[serde(borrow)]
    op: Option<&'a str>,
}

#[derive(Deserialize)]
struct BookData<'a> {
    #[serde(borrow)]
    s: &'a str,
    #[serde(borrow)]
    b: Levels<'a>,
    #[serde(borrow)]
    a: Levels<'a>,
    u: i64,
}

#[derive(Deserialize)]
struct TradeData<'a> {
    #[serde(rename = "T")]
    time_ms: i64,
    #[serde(borrow)]
    s: &'a str,
    #[serde(rename = "S", borrow)]
    side: &'a str,
    #[serde(borrow)]
    v: &'a str,
    #[serde(borrow)]
    p: &'a str,
    #[serde(borrow)]
    i: &'a str,
}

/// Decode one frame (spot, linear and inverse share the shapes).
pub fn decode<'a>(frame: &'a [u8], sink: &mut impl FnMut(Msg<'a>)) -> Result<(), DecodeError> {
    if let Some((kind, ts, d)) = fast_book(frame) {
        sink(book_msg(book_kind(kind)?, ts, d));
        return Ok(());
    }
    decode_serde(frame, sink)
}

/// An `orderbook.*` message with exactly the keys Bybit sends, read by the fast scanner into
/// the struct serde would fill (so [`book_kind`] and [`book_msg`] are shared): `(type, ts,
/// data)`; `None` for anything else, which then takes the serde path.
fn fast_book(frame: &[u8]) -> Option<(Option<&str>, Option<i64>, BookData<'_>)> {
    let mut c = Cursor::new(frame)?;
    let (mut topic, mut kind, mut ts, mut cts, mut data) = (None, None, None, None, None);
    c.object(|key, c| match key {
        "topic" => once(&mut topic, c.str().filter(|t| t.starts_with("orderbook."))),
        "type" => once(&mut kind, c.str()),
        "ts" => once(&mut ts, c.int()),
        "cts" => once(&mut cts, c.int()),
        "data" => {
            let (mut s, mut b, mut a, mut u, mut seq) = (None, None, None, None, None);
            c.object(|key, c| match key {
                "s" => once(&mut s, c.str()),
                "b" => once(&mut b, c.levels()),
                "a" => once(&mut a, c.levels()),
                "u" => once(&mut u, c.int()),
                "seq" => once(&mut seq, c.int()),
                _ => None,
            })?;
            let d = BookData {
                s: s?,
                b: b?,
                a: a?,
                u: u?,
            };
            once(&mut data, Some(d))
        }
        _ => None,
    })?;
    c.end()?;
    topic?;
    Some((kind, ts, data?))
}

fn book_kind(kind: Option<&str>) -> Result<BookKind, DecodeError> {
    match kind {
        Some("snapshot") => Ok(BookKind::Snapshot),
        Some("delta") => Ok(BookKind::Diff),
        Some(_) => Err(DecodeError::UnknownMessage),
        None => Err(DecodeError::MissingField("type")),
    }
}

fn book_msg<'a>(kind: BookKind, ts: Option<i64>, d: BookData<'a>) -> Msg<'a> {
    Msg::Depth(Depth {
        symbol: Some(d.s),
        kind,
        ids: Some(Ids {
            first: d.u,
            last: d.u,
            prev: None,
        }),
        bids: d.b,
        asks: d.a,
        exch_ms: ts.unwrap_or(0),
        checksum: None,
    })
}

/// The general path: every message kind, any valid JSON layout, errors named.
fn decode_serde<'a>(frame: &'a [u8], sink: &mut impl FnMut(Msg<'a>)) -> Result<(), DecodeError> {
    let r: Raw<'a> = parse(frame)?;
    if let Some(topic) = r.topic {
        let data = r.data.ok_or(DecodeError::MissingField("data"))?;
        if topic.starts_with("orderbook.") {
            let kind = book_kind(r.kind)?;
            sink(book_msg(kind, r.ts, parse_raw(data)?));
        } else if topic.starts_with("publicTrade.") {
            let trades: Vec<TradeData<'a>> = parse_raw(data)?;
            for t in trades {
                let taker_buy = match t.side {
                    "Buy" => true,
                    "Sell" => false,
                    _ => return Err(DecodeError::BadType),
                };
                sink(Msg::Trade(Trade {
                    symbol: t.s,
                    id: TradeId::Text(t.i),
                    px: t.p,
                    qty: t.v,
                    taker_buy,
                    exch_ms: t.time_ms,
                }));
            }
        } else {
            sink(Msg::Ignored("topic"));
        }
        return Ok(());
    }
    let detail = r.ret_msg.unwrap_or("");
    let kind = match (r.op, r.success) {
        (_, Some(false)) => ControlKind::Error,
        (Some("ping" | "pong"), _) => ControlKind::Pong,
        (Some("subscribe" | "unsubscribe"), _) => ControlKind::Ack,
        (Some(_), _) => ControlKind::Event,
        (None, _) => return Err(DecodeError::UnknownMessage),
    };
    sink(Msg::Control(Control { kind, detail }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(frame: &str) -> Result<Vec<String>, DecodeError> {
        let mut out = Vec::new();
        decode(frame.as_bytes(), &mut |m| out.push(format!("{m:?}")))?;
        Ok(out)
    }

    #[test]
    fn decodes_documented_shapes() {
        let delta = r#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1687940967466,"data":{"s":"BTCUSDT","b":[["30247.20","30.028"],["30240.00","0"]],"a":[["30248.70","0"]],"u":177400507,"seq":66544703342},"cts":1687940967464}"#;
        let got = all(delta).unwrap();
        assert!(got[0].contains("Diff") && got[0].contains("last: 177400507"));
        let snap = r#"{"type":"snapshot","topic":"orderbook.1.BTCUSDT","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"u":1,"seq":2}}"#;
        assert!(all(snap).unwrap()[0].contains("Snapshot"));
        let trades = r#"{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false,"RPI":false,"seq":1783284617},{"T":1,"s":"BTCUSDT","S":"Sell","v":"1","p":"1","i":"x"}]}"#;
        let got = all(trades).unwrap();
        assert_eq!(got.len(), 2);
        assert!(got[0].contains("taker_buy: true") && got[1].contains("taker_buy: false"));
        assert!(all(
            r#"{"success":true,"ret_msg":"","conn_id":"c","req_id":"1","op":"subscribe"}"#
        )
        .unwrap()[0]
            .contains("Ack"));
        assert!(
            all(r#"{"success":true,"ret_msg":"pong","conn_id":"c","op":"ping"}"#).unwrap()[0]
                .contains("Pong")
        );
        assert!(
            all(r#"{"req_id":"1","op":"pong","args":["1"],"conn_id":"c"}"#).unwrap()[0]
                .contains("Pong")
        );
        assert!(
            all(r#"{"success":false,"ret_msg":"error:handler not found","op":"subscribe"}"#)
                .unwrap()[0]
                .contains("Error")
        );
    }

    #[test]
    fn reports_bad_frames() {
        assert_eq!(
            all(r#"{"topic":"orderbook.50.X","type":"delta","data":{"s":"X","b":[],"a":[]}}"#),
            Err(DecodeError::BadType)
        );
        assert_eq!(
            all(r#"{"topic":"orderbook.50.X","type":"weird","data":{}}"#),
            Err(DecodeError::UnknownMessage)
        );
        assert_eq!(
            all(r#"{"topic":"orderbook.50.X","type":"delta"}"#),
            Err(DecodeError::MissingField("data"))
        );
        assert_eq!(all(r#"{"hello":1}"#), Err(DecodeError::UnknownMessage));
        assert_eq!(
            all(
                r#"{"topic":"publicTrade.X","data":[{"T":1,"s":"X","S":"Up","v":"1","p":"1","i":"x"}]}"#
            ),
            Err(DecodeError::BadType)
        );
    }

    /// `decode` (fast path first) and the serde path give the same messages and errors;
    /// returns whether the fast path took the frame.
    fn fast_agrees(frame: &[u8]) -> bool {
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        let fast_res = decode(frame, &mut |m| fast.push(format!("{m:?}")));
        let slow_res = decode_serde(frame, &mut |m| slow.push(format!("{m:?}")));
        assert_eq!(
            (fast_res, fast),
            (slow_res, slow),
            "{}",
            String::from_utf8_lossy(frame)
        );
        fast_book(frame).is_some()
    }

    const DELTA: &str = r#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1687940967466,"data":{"s":"BTCUSDT","b":[["30247.20","30.028"],["30240.00","0"]],"a":[["30248.70","0"]],"u":177400507,"seq":66544703342},"cts":1687940967464}"#;

    #[test]
    fn fast_path_takes_book_messages_and_declines_odd_layouts() {
        assert!(fast_agrees(DELTA.as_bytes()));
        assert!(fast_agrees(
            br#"{"topic":"orderbook.1.X","type":"bogus","data":{"s":"X","b":[],"a":[],"u":1}}"#
        ));
        for odd in [
            r#"{"topic":"orderbook.1.X","type":"delta","data":{"s":"X","b":[],"a":[],"u":1},"data":{"s":"X","b":[],"a":[],"u":1}}"#,
            r#"{"topic":"orderbook.1.X","type":"delta","data":{"s":"X","b":[],"a":[],"u":1,"x":"y"}}"#,
            r#"{"topic":"orderbook.1.X","type":"delta","data":{"s":"X","b":[],"a":[]}}"#,
            r#"{"topic":"publicTrade.X","data":[]}"#,
            r#"{"op":"pong","success":true}"#,
        ] {
            assert!(!fast_agrees(odd.as_bytes()), "{odd}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn fast_path_agrees_on_mutated_frames(
            at in 0..DELTA.len(),
            byte in proptest::prelude::any::<u8>(),
            how in 0..3u8,
        ) {
            let mut f = DELTA.as_bytes().to_vec();
            match how {
                0 => f[at] = byte,
                1 => { f.remove(at); }
                _ => f.insert(at, byte),
            }
            fast_agrees(&f);
        }
    }
}

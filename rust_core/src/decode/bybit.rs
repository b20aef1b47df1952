//! Bybit v5 public streams: `orderbook.{depth}.{symbol}` (snapshot / delta) and
//! `publicTrade.{symbol}`, plus the `op` replies (subscribe acks, pongs, errors).
//! Keys are looked up by name, never by position (their order differs between products).

use serde::Deserialize;
use serde_json::value::RawValue;

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
    let r: Raw<'a> = parse(frame)?;
    if let Some(topic) = r.topic {
        let data = r.data.ok_or(DecodeError::MissingField("data"))?;
        if topic.starts_with("orderbook.") {
            let kind = match r.kind {
                Some("snapshot") => BookKind::Snapshot,
                Some("delta") => BookKind::Diff,
                Some(_) => return Err(DecodeError::UnknownMessage),
                None => return Err(DecodeError::MissingField("type")),
            };
            let d: BookData<'a> = parse_raw(data)?;
            sink(Msg::Depth(Depth {
                symbol: Some(d.s),
                kind,
                ids: Some(Ids {
                    first: d.u,
                    last: d.u,
                    prev: None,
                }),
                bids: d.b,
                asks: d.a,
                exch_ms: r.ts.unwrap_or(0),
                checksum: None,
            }));
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
}

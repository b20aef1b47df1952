//! OKX v5 public channels: `books` (and the tbt variants), `books5`, `bbo-tbt`, `trades`,
//! plus `event` replies (subscribe, error, ...) and the plain-text `pong`.
//!
//! `books` messages keep `checksum` (`None` when 0: OKX fixed it at 0 in 2026) and the
//! `prevSeqId`/`seqId` chain; recordings from before `seqId` existed carry no ids at all.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    int_str, parse, parse_raw, BookKind, Control, ControlKind, DecodeError, Depth, Ids, Levels,
    Msg, Ticker, Trade, TradeId,
};

#[derive(Deserialize)]
struct Arg<'a> {
    #[serde(borrow)]
    channel: &'a str,
    #[serde(rename = "instId", borrow)]
    inst_id: Option<&'a str>,
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    arg: Option<Arg<'a>>,
    #[serde(borrow)]
    action: Option<&'a str>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    event: Option<&'a str>,
    #[serde(borrow)]
    msg: Option<&'a str>,
}

#[derive(Deserialize)]
struct BookData<'a> {
    #[serde(borrow)]
    asks: Levels<'a>,
    #[serde(borrow)]
    bids: Levels<'a>,
    #[serde(borrow)]
    ts: Option<&'a str>,
    checksum: Option<i64>,
    #[serde(rename = "prevSeqId")]
    prev_seq_id: Option<i64>,
    #[serde(rename = "seqId")]
    seq_id: Option<i64>,
}

#[derive(Deserialize)]
struct TradeData<'a> {
    #[serde(rename = "instId", borrow)]
    inst_id: &'a str,
    #[serde(rename = "tradeId", borrow)]
    trade_id: &'a str,
    #[serde(borrow)]
    px: &'a str,
    #[serde(borrow)]
    sz: &'a str,
    #[serde(borrow)]
    side: &'a str,
    #[serde(borrow)]
    ts: &'a str,
}

/// Decode one frame.
pub fn decode<'a>(frame: &'a [u8], sink: &mut impl FnMut(Msg<'a>)) -> Result<(), DecodeError> {
    if frame == b"pong" {
        sink(Msg::Control(Control {
            kind: ControlKind::Pong,
            detail: "pong",
        }));
        return Ok(());
    }
    let r: Raw<'a> = parse(frame)?;
    if let Some(event) = r.event {
        let kind = match event {
            "subscribe" | "unsubscribe" => ControlKind::Ack,
            "error" => ControlKind::Error,
            _ => ControlKind::Event,
        };
        sink(Msg::Control(Control {
            kind,
            detail: r.msg.filter(|m| !m.is_empty()).unwrap_or(event),
        }));
        return Ok(());
    }
    let (Some(arg), Some(data)) = (r.arg, r.data) else {
        return Err(DecodeError::UnknownMessage);
    };
    match arg.channel {
        "books" | "books-l2-tbt" | "books50-l2-tbt" | "books5" => {
            let symbol = arg.inst_id.ok_or(DecodeError::MissingField("instId"))?;
            let kind = match (arg.channel, r.action) {
                // books5 has no action: every message is a full 5-level book.
                ("books5", _) | (_, Some("snapshot")) => BookKind::Snapshot,
                (_, Some("update")) => BookKind::Diff,
                (_, Some(_)) => return Err(DecodeError::UnknownMessage),
                (_, None) => return Err(DecodeError::MissingField("action")),
            };
            let items: Vec<BookData<'a>> = parse_raw(data)?;
            for d in items {
                let ids = d.seq_id.map(|last| Ids {
                    first: last,
                    last,
                    prev: d.prev_seq_id,
                });
                sink(Msg::Depth(Depth {
                    symbol: Some(symbol),
                    kind,
                    ids,
                    bids: d.bids,
                    asks: d.asks,
                    exch_ms: d.ts.map(int_str).transpose()?.unwrap_or(0),
                    checksum: d.checksum.filter(|&c| c != 0),
                }));
            }
        }
        "bbo-tbt" => {
            let symbol = arg.inst_id.ok_or(DecodeError::MissingField("instId"))?;
            let items: Vec<BookData<'a>> = parse_raw(data)?;
            for d in items {
                let bid = d.bids.0.first().copied();
                let ask = d.asks.0.first().copied();
                sink(Msg::Ticker(Ticker {
                    symbol,
                    update_id: d.seq_id,
                    bid,
                    ask,
                    exch_ms: d.ts.map(int_str).transpose()?.unwrap_or(0),
                }));
            }
        }
        "trades" | "trades-all" => {
            let items: Vec<TradeData<'a>> = parse_raw(data)?;
            for t in items {
                let taker_buy = match t.side {
                    "buy" => true,
                    "sell" => false,
                    _ => return Err(DecodeError::BadType),
                };
                sink(Msg::Trade(Trade {
                    symbol: t.inst_id,
                    id: t
                        .trade_id
                        .parse()
                        .map(TradeId::Num)
                        .unwrap_or(TradeId::Text(t.trade_id)),
                    px: t.px,
                    qty: t.sz,
                    taker_buy,
                    exch_ms: int_str(t.ts)?,
                }));
            }
        }
        other => sink(Msg::Ignored(other)),
    }
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
        let upd = r#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","256","0","12"]],"ts":"1597026383085","checksum":-855196043,"prevSeqId":123456,"seqId":123457}]}"#;
        let got = all(upd).unwrap();
        assert!(
            got[0].contains("Diff")
                && got[0].contains("prev: Some(123456)")
                && got[0].contains("Some(-855196043)")
        );
        let zero = r#"{"arg":{"channel":"books","instId":"X"},"action":"snapshot","data":[{"asks":[],"bids":[],"ts":"1","checksum":0,"prevSeqId":-1,"seqId":5}]}"#;
        assert!(all(zero).unwrap()[0].contains("checksum: None"));
        let bbo = r#"{"arg":{"channel":"bbo-tbt","instId":"X"},"data":[{"asks":[["2","1","0","1"]],"bids":[["1","3","0","1"]],"ts":"5","seqId":9}]}"#;
        assert!(all(bbo).unwrap()[0].contains("bid: Some((\"1\", \"3\"))"));
        let b5 = r#"{"arg":{"channel":"books5","instId":"X"},"data":[{"asks":[],"bids":[],"instId":"X","ts":"5","seqId":9}]}"#;
        assert!(all(b5).unwrap()[0].contains("Snapshot"));
        let tr = r#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897","count":"3","source":"0","seqId":1234}]}"#;
        assert!(all(tr).unwrap()[0].contains("Num(130639474)"));
        assert!(all(
            r#"{"event":"subscribe","arg":{"channel":"books","instId":"X"},"connId":"a"}"#
        )
        .unwrap()[0]
            .contains("Ack"));
        assert!(
            all(r#"{"event":"error","code":"60012","msg":"Invalid request","connId":"a"}"#)
                .unwrap()[0]
                .contains("Invalid request")
        );
        assert!(all("pong").unwrap()[0].contains("Pong"));
        assert!(
            all(r#"{"arg":{"channel":"tickers","instId":"X"},"data":[{}]}"#).unwrap()[0]
                .contains("Ignored")
        );
    }

    #[test]
    fn reports_bad_frames() {
        assert_eq!(
            all(r#"{"arg":{"channel":"books","instId":"X"},"data":[]}"#),
            Err(DecodeError::MissingField("action"))
        );
        assert_eq!(
            all(
                r#"{"arg":{"channel":"books","instId":"X"},"action":"update","data":[{"asks":[]}]}"#
            ),
            Err(DecodeError::BadType)
        );
        assert_eq!(all(r#"{"data":[]}"#), Err(DecodeError::UnknownMessage));
        assert_eq!(
            all(
                r#"{"arg":{"channel":"books","instId":"X"},"action":"update","data":[{"asks":[],"bids":[],"ts":"x"}]}"#
            ),
            Err(DecodeError::BadType)
        );
    }
}

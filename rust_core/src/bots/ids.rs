//! Deterministic client order ids from (bot, leg, level, cycle).
//!
//! Format: `W{bot}{leg letter}{level}C{cycle}` with decimal numbers, at most
//! 1 + 10 + 1 + 10 + 1 + 10 = 33 characters for u32 maxima, so level is kept below 10^9 to stay
//! within 32. Only `[A-Za-z0-9]`, valid on Binance, Bybit and OKX. A retry or a restart
//! re-derives the same id, so the venue deduplicates.

use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// What role an order plays in its bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    /// Grid: buy at a level.
    GridBuy,
    /// Grid: sell at a level.
    GridSell,
    /// Grid: the market buy of the base the upper sells need.
    GridInit,
    /// Grid or DCA: flattening market order on stop.
    Exit,
    /// DCA: the base (first) order of a deal.
    BaseOrder,
    /// DCA: a safety order.
    SafetyOrder,
    /// DCA: a take-profit order (level = version·8 + target).
    TakeProfit,
}

impl Leg {
    fn letter(self) -> char {
        match self {
            Leg::GridBuy => 'B',
            Leg::GridSell => 'S',
            Leg::GridInit => 'I',
            Leg::Exit => 'X',
            Leg::BaseOrder => 'O',
            Leg::SafetyOrder => 'D',
            Leg::TakeProfit => 'T',
        }
    }

    fn from_letter(c: u8) -> Option<Leg> {
        Some(match c {
            b'B' => Leg::GridBuy,
            b'S' => Leg::GridSell,
            b'I' => Leg::GridInit,
            b'X' => Leg::Exit,
            b'O' => Leg::BaseOrder,
            b'D' => Leg::SafetyOrder,
            b'T' => Leg::TakeProfit,
            _ => return None,
        })
    }
}

/// Largest level that keeps every id within 32 characters.
pub const MAX_LEVEL: u32 = 999_999_999;

/// The client order id of (bot, leg, level, cycle). `level` is clamped to [`MAX_LEVEL`].
pub fn client_id(bot: u32, leg: Leg, level: u32, cycle: u32) -> String {
    let mut s = String::with_capacity(32);
    let _ = write!(s, "W{bot}{}{}C{cycle}", leg.letter(), level.min(MAX_LEVEL));
    s
}

/// Parse an id made by [`client_id`]; `None` for anything else (an order that is not ours).
pub fn parse_client_id(id: &str) -> Option<(u32, Leg, u32, u32)> {
    let b = id.as_bytes();
    if b.first() != Some(&b'W') || b.len() > 32 {
        return None;
    }
    let (bot, rest) = digits(b.get(1..)?)?;
    let (&letter, rest) = rest.split_first()?;
    let leg = Leg::from_letter(letter)?;
    let (level, rest) = digits(rest)?;
    let (&c, rest) = rest.split_first()?;
    if c != b'C' {
        return None;
    }
    let (cycle, rest) = digits(rest)?;
    if !rest.is_empty() {
        return None;
    }
    Some((bot, leg, level, cycle))
}

fn digits(b: &[u8]) -> Option<(u32, &[u8])> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 10 {
        return None;
    }
    let (d, rest) = b.split_at(n);
    let v = std::str::from_utf8(d).ok()?.parse::<u32>().ok()?;
    Some((v, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_short_alphanumeric_and_round_trip() {
        let id = client_id(u32::MAX, Leg::SafetyOrder, MAX_LEVEL, u32::MAX);
        assert!(id.len() <= 32, "{id}");
        assert!(id.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(
            parse_client_id(&id),
            Some((u32::MAX, Leg::SafetyOrder, MAX_LEVEL, u32::MAX))
        );
        assert_eq!(client_id(7, Leg::GridBuy, 3, 0), "W7B3C0");
        assert_eq!(parse_client_id("W7B3C0x"), None);
        assert_eq!(parse_client_id("abc"), None);
        assert_eq!(parse_client_id("W99999999999B1C1"), None);
    }

    proptest! {
        #[test]
        fn distinct_inputs_give_distinct_ids(a in any::<(u32, u32, u32)>(), b in any::<(u32, u32, u32)>()) {
            let ia = client_id(a.0, Leg::GridSell, a.1 % MAX_LEVEL, a.2);
            let ib = client_id(b.0, Leg::GridSell, b.1 % MAX_LEVEL, b.2);
            prop_assert_eq!(ia == ib, (a.0, a.1 % MAX_LEVEL, a.2) == (b.0, b.1 % MAX_LEVEL, b.2));
            prop_assert!(ia.len() <= 32);
        }
    }
}

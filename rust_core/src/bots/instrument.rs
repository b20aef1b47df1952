//! An instrument's trading rules (tick, lot step, minimum quantity and notional) and the
//! conversions between exact decimals and integer ticks/lots.

use super::{BotError, Side};
use crate::fixed::{Grid, Round};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Instrument rules as decimal strings, as a bot file or an exchange's filters give them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSpec {
    pub tick_size: String,
    pub lot_step: String,
    #[serde(default)]
    pub min_qty: Option<String>,
    #[serde(default)]
    pub min_notional: Option<String>,
    #[serde(default = "default_base")]
    pub base_asset: String,
    #[serde(default = "default_quote")]
    pub quote_asset: String,
}

fn default_base() -> String {
    "BASE".to_string()
}
fn default_quote() -> String {
    "QUOTE".to_string()
}

/// Parsed instrument rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    pub tick: Grid,
    pub lot: Grid,
    /// Minimum quantity in lots (the decimal minimum rounded up to the lot step, at least 1).
    pub min_qty_lots: i64,
    pub min_notional: Decimal,
    pub base_asset: String,
    pub quote_asset: String,
    pub spec: InstrumentSpec,
}

impl Instrument {
    pub fn from_spec(spec: &InstrumentSpec) -> Result<Instrument, BotError> {
        let tick = Grid::parse(&spec.tick_size).map_err(|e| {
            BotError::new("instrument.tick_size", format!("{:?}: {e}", spec.tick_size))
        })?;
        let lot = Grid::parse(&spec.lot_step).map_err(|e| {
            BotError::new("instrument.lot_step", format!("{:?}: {e}", spec.lot_step))
        })?;
        let min_qty_lots = match &spec.min_qty {
            None => 1,
            Some(s) => lot
                .steps_rounded(s.as_bytes(), Round::Up)
                .map_err(|e| BotError::new("instrument.min_qty", format!("{s:?}: {e}")))?
                .max(1),
        };
        let min_notional = match &spec.min_notional {
            None => Decimal::ZERO,
            Some(s) => {
                let d = parse_decimal(s, "instrument.min_notional")?;
                if d.is_sign_negative() {
                    return Err(BotError::new(
                        "instrument.min_notional",
                        format!("{s} is negative"),
                    ));
                }
                d
            }
        };
        Ok(Instrument {
            tick,
            lot,
            min_qty_lots,
            min_notional,
            base_asset: spec.base_asset.clone(),
            quote_asset: spec.quote_asset.clone(),
            spec: spec.clone(),
        })
    }

    pub fn price(&self, ticks: i64) -> Decimal {
        grid_value(&self.tick, ticks)
    }

    pub fn qty(&self, lots: i64) -> Decimal {
        grid_value(&self.lot, lots)
    }

    /// Quote value of `lots` at `ticks`, exact.
    pub fn notional(&self, ticks: i64, lots: i64) -> Decimal {
        // Saturates instead of panicking on absurd inputs (callers bound prices and sizes).
        self.price(ticks)
            .checked_mul(self.qty(lots))
            .unwrap_or(Decimal::MAX)
    }

    /// A price onto the tick grid: down for buys, up for sells. `None` when out of range.
    pub fn price_ticks(&self, price: Decimal, side: Side) -> Option<i64> {
        let round = match side {
            Side::Buy => Round::Down,
            Side::Sell => Round::Up,
        };
        decimal_steps(&self.tick, price, round)
    }

    /// A quantity onto the lot grid (always down).
    pub fn qty_lots(&self, qty: Decimal) -> Option<i64> {
        decimal_steps(&self.lot, qty, Round::Down)
    }

    /// A quantity onto the lot grid, rounded up (minimums).
    pub fn qty_lots_up(&self, qty: Decimal) -> Option<i64> {
        decimal_steps(&self.lot, qty, Round::Up)
    }

    /// Whether an order of `lots` at `ticks` passes every filter (positive price and
    /// quantity, minimum quantity, minimum notional).
    pub fn placeable(&self, ticks: i64, lots: i64) -> bool {
        ticks > 0 && lots >= self.min_qty_lots && self.notional(ticks, lots) >= self.min_notional
    }

    /// Smallest lot count placeable at `ticks`.
    pub fn min_lots_at(&self, ticks: i64) -> Option<i64> {
        let price = self.price(ticks);
        if price <= Decimal::ZERO {
            return None;
        }
        let by_notional = self.qty_lots_up(self.min_notional.checked_div(price)?)?;
        Some(by_notional.max(self.min_qty_lots))
    }

    pub fn fmt_price(&self, ticks: i64) -> String {
        self.tick.format(ticks)
    }

    pub fn fmt_qty(&self, lots: i64) -> String {
        self.lot.format(lots)
    }
}

fn grid_value(g: &Grid, steps: i64) -> Decimal {
    let (m, s) = g.value(steps);
    Decimal::try_from_i128_with_scale(m, s as u32).unwrap_or(Decimal::MAX)
}

fn decimal_steps(g: &Grid, v: Decimal, round: Round) -> Option<i64> {
    let scale = u8::try_from(v.scale()).ok()?;
    g.steps_of(v.mantissa(), scale, round).ok()
}

/// Parse a user decimal string (plain digits, optional point and sign) for `field`.
pub fn parse_decimal(s: &str, field: &str) -> Result<Decimal, BotError> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.bytes()
            .all(|c| c.is_ascii_digit() || c == b'.' || c == b'-')
        && t.bytes().any(|c| c.is_ascii_digit());
    if !ok {
        return Err(BotError::new(
            field,
            format!("{s:?} is not a decimal number"),
        ));
    }
    t.parse::<Decimal>()
        .map_err(|e| BotError::new(field, format!("{s:?} is not a decimal number ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn spec(tick: &str, lot: &str, min_qty: &str, min_notional: &str) -> InstrumentSpec {
        InstrumentSpec {
            tick_size: tick.into(),
            lot_step: lot.into(),
            min_qty: Some(min_qty.into()),
            min_notional: Some(min_notional.into()),
            base_asset: "BTC".into(),
            quote_asset: "USDT".into(),
        }
    }

    #[test]
    fn rounds_with_exchange_rules() {
        let i = Instrument::from_spec(&spec("0.01", "0.00001", "0.00001", "5")).unwrap();
        let p: Decimal = "91.875".parse().unwrap();
        assert_eq!(i.price_ticks(p, Side::Buy), Some(9187));
        assert_eq!(i.price_ticks(p, Side::Sell), Some(9188));
        assert_eq!(i.qty_lots("0.123456".parse().unwrap()), Some(12345));
        assert_eq!(i.min_lots_at(9000), Some(5556));
        assert!(i.placeable(9000, 5556));
        assert!(!i.placeable(9000, 5555));
        assert_eq!(i.notional(9000, 5556).to_string(), "5.0004000");
        assert!(parse_decimal("1e5", "x").is_err());
        assert!(Instrument::from_spec(&spec("0", "1", "1", "1")).is_err());
    }
}

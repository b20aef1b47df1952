//! Fixed-point numbers: exchange decimal strings straight to integer ticks and lots.
//!
//! A [`Grid`] is an instrument's step (tick size or lot step) held as `mantissa · 10^-scale`.
//! Parsing a wire string against a grid yields the integer number of steps, with no `f64`
//! anywhere: digits are accumulated at the grid's scale, extra fractional digits must be zeros,
//! and the result must be a whole multiple of the step. Anything else is a [`DecimalError`].

use std::fmt;

/// Largest number of fractional digits we accept in a step (1e-18 is below any venue's).
pub const MAX_SCALE: u8 = 18;

/// Why a decimal string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecimalError {
    /// Empty string, a lone sign or a lone point.
    Empty,
    /// A character that is not a digit, or a second point, or a misplaced sign.
    NotDecimal,
    /// More digits than an `i64` count of steps can hold.
    Overflow,
    /// A valid decimal that is not a whole multiple of the step.
    OffGrid,
    /// A step that is zero or negative.
    BadStep,
}

impl DecimalError {
    /// Stable short name, used as the key of error counters.
    pub fn as_str(self) -> &'static str {
        match self {
            DecimalError::Empty => "decimal_empty",
            DecimalError::NotDecimal => "decimal_not_decimal",
            DecimalError::Overflow => "decimal_overflow",
            DecimalError::OffGrid => "decimal_off_grid",
            DecimalError::BadStep => "decimal_bad_step",
        }
    }
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            DecimalError::Empty => "empty decimal",
            DecimalError::NotDecimal => "not a decimal number",
            DecimalError::Overflow => "decimal out of range",
            DecimalError::OffGrid => "decimal is not a multiple of the instrument's step",
            DecimalError::BadStep => "step must be a positive decimal",
        };
        f.write_str(text)
    }
}

impl std::error::Error for DecimalError {}

/// How to bring an off-grid value onto the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Refuse off-grid values (wire data must already be on the grid).
    Exact,
    /// Toward negative infinity: buy prices and all quantities.
    Down,
    /// Toward positive infinity: sell prices.
    Up,
}

const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// A price or quantity step: `mantissa · 10^-scale`, with `mantissa > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grid {
    mantissa: i64,
    scale: u8,
}

impl Grid {
    /// Parse a step such as `"0.01"`, `"0.00001000"`, `"0.5"` or `"5"`.
    pub fn parse(step: &str) -> Result<Grid, DecimalError> {
        let (neg, mantissa, scale) = parse_raw(step.as_bytes())?;
        if neg || mantissa == 0 {
            return Err(DecimalError::BadStep);
        }
        // Normalise trailing zeros away ("0.00001000" is the same step as "0.00001").
        let (mut m, mut s) = (mantissa, scale);
        while s > 0 && m % 10 == 0 {
            m /= 10;
            s -= 1;
        }
        if s > MAX_SCALE {
            return Err(DecimalError::BadStep);
        }
        let mantissa = i64::try_from(m).map_err(|_| DecimalError::Overflow)?;
        Ok(Grid { mantissa, scale: s })
    }

    /// Number of fractional digits of the step; also the digits printed by [`Grid::format`].
    pub fn scale(&self) -> u8 {
        self.scale
    }

    /// The step's integer mantissa at [`Grid::scale`].
    pub fn mantissa(&self) -> i64 {
        self.mantissa
    }

    /// Exact wire parse: the string must be a whole number of steps.
    #[inline]
    pub fn steps(&self, s: &[u8]) -> Result<i64, DecimalError> {
        // Fast path for the common case: a power-of-ten step and a plain unsigned decimal.
        if self.mantissa == 1 {
            return parse_at_scale(s, self.scale);
        }
        self.steps_rounded(s, Round::Exact)
    }

    /// Parse with an explicit rounding rule for off-grid values.
    pub fn steps_rounded(&self, s: &[u8], round: Round) -> Result<i64, DecimalError> {
        let (neg, mantissa, scale) = parse_raw(s)?;
        let value = if neg { -mantissa } else { mantissa };
        self.steps_of(value, scale, round)
    }

    /// Convert `value · 10^-scale` into steps.
    pub fn steps_of(&self, value: i128, scale: u8, round: Round) -> Result<i64, DecimalError> {
        // Bring both to the finer of the two scales, then divide by the step.
        let common = scale.max(self.scale);
        let v = value
            .checked_mul(pow10(common - scale)?)
            .ok_or(DecimalError::Overflow)?;
        let step = (self.mantissa as i128)
            .checked_mul(pow10(common - self.scale)?)
            .ok_or(DecimalError::Overflow)?;
        let q = v.div_euclid(step);
        let r = v.rem_euclid(step);
        let q = match (r == 0, round) {
            (true, _) | (false, Round::Down) => q,
            (false, Round::Up) => q + 1,
            (false, Round::Exact) => return Err(DecimalError::OffGrid),
        };
        i64::try_from(q).map_err(|_| DecimalError::Overflow)
    }

    /// The value of `steps` as `(mantissa, scale)`.
    pub fn value(&self, steps: i64) -> (i128, u8) {
        (steps as i128 * self.mantissa as i128, self.scale)
    }

    /// Format a number of steps as a plain decimal string with exactly `scale` decimals.
    pub fn format(&self, steps: i64) -> String {
        let mut out = String::with_capacity(24);
        self.format_into(steps, &mut out);
        out
    }

    /// Append the formatted value to `out` (no allocation when `out` has room).
    pub fn format_into(&self, steps: i64, out: &mut String) {
        let (m, s) = self.value(steps);
        format_decimal(m, s, out);
    }
}

/// Append `mantissa · 10^-scale` to `out` with exactly `scale` fractional digits.
pub fn format_decimal(mantissa: i128, scale: u8, out: &mut String) {
    use std::fmt::Write;
    if mantissa < 0 {
        out.push('-');
    }
    let abs = mantissa.unsigned_abs();
    if scale == 0 {
        let _ = write!(out, "{abs}");
        return;
    }
    let p = POW10[scale as usize] as u128;
    let _ = write!(
        out,
        "{}.{:0width$}",
        abs / p,
        abs % p,
        width = scale as usize
    );
}

fn pow10(exp: u8) -> Result<i128, DecimalError> {
    POW10
        .get(exp as usize)
        .copied()
        .ok_or(DecimalError::Overflow)
}

/// Parse a plain decimal (`-?digits[.digits]`, at least one digit) into `(negative, mantissa,
/// scale)` keeping every digit. Trailing fractional zeros are kept in the scale.
pub fn parse_raw(s: &[u8]) -> Result<(bool, i128, u8), DecimalError> {
    let (neg, body) = match s.first() {
        None => return Err(DecimalError::Empty),
        Some(b'-') => (true, &s[1..]),
        Some(_) => (false, s),
    };
    let mut mantissa: i128 = 0;
    let mut digits = 0usize;
    let mut scale: u32 = 0;
    let mut seen_point = false;
    for &c in body {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa
                    .checked_mul(10)
                    .and_then(|m| m.checked_add((c - b'0') as i128))
                    .ok_or(DecimalError::Overflow)?;
                digits += 1;
                if seen_point {
                    scale += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return Err(DecimalError::NotDecimal),
        }
    }
    if digits == 0 {
        return Err(DecimalError::Empty);
    }
    if scale > 38 {
        return Err(DecimalError::Overflow);
    }
    Ok((neg, mantissa, scale as u8))
}

/// Hot path for a power-of-ten step: accumulate digits straight into steps at `scale`.
#[inline]
fn parse_at_scale(s: &[u8], scale: u8) -> Result<i64, DecimalError> {
    let mut i = 0;
    let neg = match s.first() {
        None => return Err(DecimalError::Empty),
        Some(b'-') => {
            i = 1;
            true
        }
        _ => false,
    };
    let mut v: i64 = 0;
    let mut digits = 0usize;
    // Integer part.
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() {
            v = v
                .checked_mul(10)
                .and_then(|x| x.checked_add((c - b'0') as i64))
                .ok_or(DecimalError::Overflow)?;
            digits += 1;
            i += 1;
        } else if c == b'.' {
            break;
        } else {
            return Err(DecimalError::NotDecimal);
        }
    }
    let mut frac = 0u8;
    if i < s.len() {
        // s[i] == '.'
        i += 1;
        while i < s.len() {
            let c = s[i];
            if !c.is_ascii_digit() {
                return Err(DecimalError::NotDecimal);
            }
            digits += 1;
            if frac < scale {
                v = v
                    .checked_mul(10)
                    .and_then(|x| x.checked_add((c - b'0') as i64))
                    .ok_or(DecimalError::Overflow)?;
                frac += 1;
            } else if c != b'0' {
                return Err(DecimalError::OffGrid);
            }
            i += 1;
        }
    }
    if digits == 0 {
        return Err(DecimalError::Empty);
    }
    while frac < scale {
        v = v.checked_mul(10).ok_or(DecimalError::Overflow)?;
        frac += 1;
    }
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(s: &str) -> Grid {
        Grid::parse(s).unwrap()
    }

    #[test]
    fn parses_on_grid_values() {
        assert_eq!(g("0.01").steps(b"30228.70"), Ok(3_022_870));
        assert_eq!(g("0.01").steps(b"30228.7"), Ok(3_022_870));
        assert_eq!(g("0.00000001").steps(b"0.00006421"), Ok(6421));
        assert_eq!(g("0.0001").steps(b"7.60900000"), Ok(76_090));
        assert_eq!(g("1").steps(b"1563"), Ok(1563));
        assert_eq!(g("0.5").steps(b"10.5"), Ok(21));
        assert_eq!(g("5").steps(b"15"), Ok(3));
        assert_eq!(g("0.01").steps(b"0"), Ok(0));
        assert_eq!(g("0.01").steps(b"0.00000000"), Ok(0));
        assert_eq!(g("0.01").steps(b".5"), Ok(50));
        assert_eq!(g("0.01").steps(b"5."), Ok(500));
    }

    #[test]
    fn refuses_bad_strings() {
        let t = g("0.01");
        assert_eq!(t.steps(b""), Err(DecimalError::Empty));
        assert_eq!(t.steps(b"."), Err(DecimalError::Empty));
        assert_eq!(t.steps(b"-"), Err(DecimalError::Empty));
        assert_eq!(t.steps(b"1e5"), Err(DecimalError::NotDecimal));
        assert_eq!(t.steps(b"1.2.3"), Err(DecimalError::NotDecimal));
        assert_eq!(t.steps(b"abc"), Err(DecimalError::NotDecimal));
        assert_eq!(t.steps(b" 1"), Err(DecimalError::NotDecimal));
        assert_eq!(t.steps(b"1.001"), Err(DecimalError::OffGrid));
        assert_eq!(g("0.5").steps(b"10.25"), Err(DecimalError::OffGrid));
        assert_eq!(
            t.steps(b"99999999999999999999999"),
            Err(DecimalError::Overflow)
        );
        assert_eq!(
            g("0.5").steps(b"9999999999999999999999999999999999999999999"),
            Err(DecimalError::Overflow)
        );
        assert_eq!(Grid::parse("0"), Err(DecimalError::BadStep));
        assert_eq!(Grid::parse("-0.1"), Err(DecimalError::BadStep));
    }

    #[test]
    fn rounds_toward_the_passive_side() {
        let t = g("0.5");
        assert_eq!(t.steps_rounded(b"10.3", Round::Down), Ok(20));
        assert_eq!(t.steps_rounded(b"10.3", Round::Up), Ok(21));
        assert_eq!(t.steps_rounded(b"10.5", Round::Up), Ok(21));
        assert_eq!(t.steps_rounded(b"-10.3", Round::Down), Ok(-21));
    }

    #[test]
    fn formats_with_the_step_scale() {
        assert_eq!(g("0.01").format(3_022_870), "30228.70");
        assert_eq!(g("0.00000001").format(6421), "0.00006421");
        assert_eq!(g("5").format(3), "15");
        assert_eq!(g("0.5").format(21), "10.5");
        assert_eq!(g("0.01").format(-5), "-0.05");
        assert_eq!(g("0.00001000").scale(), 5);
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(steps in -1_000_000_000_000i64..1_000_000_000_000i64,
                                         scale in 0u8..12, mant in prop::sample::select(vec![1i64, 2, 5, 25])) {
            let mut step = String::new();
            format_decimal(mant as i128, scale, &mut step);
            let grid = Grid::parse(&step).unwrap();
            let text = grid.format(steps);
            prop_assert_eq!(grid.steps(text.as_bytes()), Ok(steps));
        }

        #[test]
        fn fast_and_general_paths_agree(s in "-?[0-9]{0,12}(\\.[0-9]{0,12})?", scale in 0u8..10) {
            let mut step = String::new();
            format_decimal(1, scale, &mut step);
            let grid = Grid::parse(&step).unwrap();
            let (fast, general) = (grid.steps(s.as_bytes()), grid.steps_rounded(s.as_bytes(), Round::Exact));
            // Both must accept the same strings with the same value; which of two problems a
            // bad string reports first (off-grid or out of range) may differ.
            prop_assert_eq!(fast.ok(), general.ok());
        }

        #[test]
        fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            for step in ["0.01", "0.5", "1", "0.00000001"] {
                let _ = g(step).steps(&bytes);
                let _ = g(step).steps_rounded(&bytes, Round::Up);
            }
        }
    }
}

//! A strict, minimal JSON cursor for the fast paths of the hottest frame shapes.
//!
//! It reads exactly the JSON the venues send for their book diffs: objects, arrays, strings
//! without escapes, and non-negative integers. Anything else (an escape, a float, a negative or
//! overlong number, `null`, a duplicate or unknown key, trailing bytes) makes it **decline**
//! with `None`, and the caller falls back to the serde path, which decides (and names the error
//! if there is one). So a fast path either gives the serde path's exact result or none; the
//! property tests in `binance.rs` check that on generated, mutated and recorded frames.

use super::Levels;

pub(crate) struct Cursor<'a> {
    /// The whole frame, checked as UTF-8 once (one pass is far cheaper than one check per
    /// string: that was 17% of the instructions per frame); strings are cut at `"` bytes, which
    /// are always character boundaries.
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    /// `None` (decline) when the frame is not UTF-8.
    pub(crate) fn new(b: &'a [u8]) -> Option<Self> {
        let s = std::str::from_utf8(b).ok()?;
        Some(Cursor { s, b, i: 0 })
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Nothing but whitespace is left.
    pub(crate) fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    /// A string without escapes or control characters, borrowed.
    #[inline]
    pub(crate) fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = self.b.get(self.i..)?;
        let len = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        let s = self.s.get(self.i..self.i + len)?;
        self.i += len + 1;
        Some(s)
    }

    /// An integer of at most 18 digits (so it cannot overflow `i64`), no leading zero, no `-0`
    /// (serde_json reads that as a float).
    #[inline]
    pub(crate) fn int(&mut self) -> Option<i64> {
        self.peek()?;
        let neg = self.b.get(self.i) == Some(&b'-');
        let start = self.i + usize::from(neg);
        let rest = self.b.get(start..)?;
        let len = rest
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let zero_first = rest.first() == Some(&b'0');
        if len == 0 || len > 18 || (zero_first && (len > 1 || neg)) {
            return None;
        }
        let v = rest
            .get(..len)?
            .iter()
            .fold(0i64, |v, &c| v * 10 + i64::from(c - b'0'));
        self.i = start + len;
        Some(if neg { -v } else { v })
    }

    /// `{"key": value, ...}`: `value` reads each value after its key and may decline.
    pub(crate) fn object(
        &mut self,
        mut value: impl FnMut(&'a str, &mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.str()?;
            self.eat(b':')?;
            value(key, self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `[item, ...]`: `item` reads each element and may decline.
    pub(crate) fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `[[price, qty, extra...], ...]` with string prices and quantities; extra elements (OKX
    /// order counts) may be strings or integers and are skipped, like [`super::LevelPair`] does.
    pub(crate) fn levels(&mut self) -> Option<Levels<'a>> {
        let mut out = Vec::with_capacity(8);
        self.array(|c| {
            c.eat(b'[')?;
            let px = c.str()?;
            c.eat(b',')?;
            let qty = c.str()?;
            while c.eat(b',').is_some() {
                if c.peek()? == b'"' {
                    c.str()?;
                } else {
                    c.int()?;
                }
            }
            c.eat(b']')?;
            out.push((px, qty));
            Some(())
        })?;
        Some(Levels(out))
    }
}

/// Set a field read once; a duplicate key declines (serde refuses duplicate fields).
#[inline]
pub(crate) fn once<T>(slot: &mut Option<T>, v: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v?);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_plain_shapes() {
        let mut c =
            Cursor::new(br#" { "a" : [ ["1.5","2"] , ["1","0","0","3"] ] , "n": 0 } "#).unwrap();
        let mut got = (None, None);
        c.object(|k, c| match k {
            "a" => once(&mut got.0, c.levels()),
            "n" => once(&mut got.1, c.int()),
            _ => None,
        })
        .unwrap();
        c.end().unwrap();
        assert_eq!(got.0.unwrap().0, vec![("1.5", "2"), ("1", "0")]);
        assert_eq!(got.1, Some(0));
    }

    #[test]
    fn declines_everything_else() {
        let int = |s: &str| Cursor::new(s.as_bytes())?.int();
        assert_eq!(int("123456789012345678"), Some(123456789012345678));
        assert_eq!(int("-855196043"), Some(-855196043));
        for bad in [
            "1234567890123456789",
            "01",
            "-0",
            "-01",
            "-",
            "--1",
            "",
            "x",
        ] {
            assert_eq!(int(bad), None, "{bad}");
        }
        fn s(s: &str) -> Option<&str> {
            Cursor::new(s.as_bytes())?.str()
        }
        assert_eq!(s(r#""ab""#), Some("ab"));
        for bad in [r#""a\"b""#, "\"a\nb\"", r#""ab"#, "ab"] {
            assert_eq!(s(bad), None, "{bad}");
        }
        fn lv(s: &str) -> Option<Levels<'_>> {
            Cursor::new(s.as_bytes())?.levels()
        }
        assert!(lv(r#"[["1"]]"#).is_none());
        assert!(lv(r#"[["1","2",[]]]"#).is_none());
        assert!(lv(r#"[["1","2"],]"#).is_none());
        let mut dup = None;
        let mut c = Cursor::new(br#"{"a":1,"a":2}"#).unwrap();
        assert!(c.object(|_, c| once(&mut dup, c.int())).is_none());
    }
}

//! Recording lines, `<recv_ns> <payload>\n` (the replay format, also hftbacktest's collector's):
//! the one place that says what a recording line is. Splitting lines here lets a replay cross
//! into the core once per chunk of the file instead of building two Python objects per frame.

use crate::market::Market;

/// `(recv_ns, payload)` of one line (trailing `\r`/`\n` ignored), or `None` when the line is not
/// a recording line: no space, an empty payload, or a time that is not a plain `i64`.
pub fn parse_line(line: &[u8]) -> Option<(i64, &[u8])> {
    let end = line
        .iter()
        .rposition(|&b| b != b'\r' && b != b'\n')
        .map_or(0, |i| i + 1);
    let line = line.get(..end)?;
    let sp = line.iter().position(|&b| b == b' ')?;
    let (ts, payload) = (line.get(..sp)?, line.get(sp + 1..)?);
    if ts.is_empty() || payload.is_empty() || !ts.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let ns = std::str::from_utf8(ts).ok()?.parse().ok()?;
    Some((ns, payload))
}

/// Every line of `chunk` (split at `\n`; a last line without one counts as whole), in order, as
/// `Ok((recv_ns, payload))`, or `Err(())` for a line that is not blank and not a recording line.
pub fn lines(chunk: &[u8]) -> impl Iterator<Item = Result<(i64, &[u8]), ()>> {
    chunk
        .split(|&b| b == b'\n')
        .filter_map(|line| match parse_line(line) {
            Some(frame) => Some(Ok(frame)),
            None if line.trim_ascii().is_empty() => None,
            None => Some(Err(())),
        })
}

/// Feed every frame of `chunk` to `market`; returns how many lines were skipped as not recording lines.
pub fn feed_lines(market: &mut Market, chunk: &[u8]) -> u64 {
    let mut bad = 0;
    for line in lines(chunk) {
        match line {
            Ok((recv_ns, payload)) => market.feed(payload, recv_ns),
            Err(()) => bad += 1,
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_refuses_lines() {
        assert_eq!(parse_line(b"12 {}\r\n"), Some((12, &b"{}"[..])));
        assert_eq!(parse_line(b"12 a b"), Some((12, &b"a b"[..])));
        for bad in [
            &b"12"[..],
            b"12 ",
            b" {}",
            b"x2 {}",
            b"-1 {}",
            b"99999999999999999999 {}",
        ] {
            assert_eq!(parse_line(bad), None, "{bad:?}");
        }
        let got: Vec<_> = lines(b"1 a\n\n  \nbad\r\n2 b\r\n3 c").collect();
        assert_eq!(
            got,
            vec![
                Ok((1, &b"a"[..])),
                Err(()),
                Ok((2, &b"b"[..])),
                Ok((3, &b"c"[..]))
            ]
        );
    }

    #[test]
    fn feeds_a_chunk_like_frame_by_frame() {
        use crate::market::{Venue, DEFAULT_BUFFER_LIMIT};
        let chunk = b"5 {\"lastUpdateId\":1,\"bids\":[[\"1.0\",\"2\"]],\"asks\":[[\"1.1\",\"1\"]]}\nnope\n6 {\"e\":\"depthUpdate\",\"s\":\"X\",\"U\":2,\"u\":2,\"b\":[[\"1.0\",\"3\"]],\"a\":[]}\n";
        let new = || {
            let mut m = Market::new(Venue::BinanceSpot, DEFAULT_BUFFER_LIMIT);
            m.add_instrument("X", "0.1", "1").unwrap();
            m
        };
        let mut chunked = new();
        assert_eq!(feed_lines(&mut chunked, chunk), 1);
        let mut single = new();
        for line in chunk.split(|&b| b == b'\n') {
            if let Some((ns, p)) = parse_line(line) {
                single.feed(p, ns);
            }
        }
        assert_eq!(chunked.counters(), single.counters());
        assert_eq!(chunked.counters().applied, 2);
        assert_eq!(
            format!("{:?}", chunked.take_changes().tops),
            format!("{:?}", single.take_changes().tops)
        );
    }
}

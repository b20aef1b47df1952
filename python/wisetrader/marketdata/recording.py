"""Recordings: one frame per line, ``<recv_ns> <payload>``, plain text or gzip (detected by content).

The payload is a raw WebSocket frame or, for Binance, a bare REST depth-snapshot body; this is also
the format of hftbacktest's collector. Lines that do not have this shape are counted and skipped.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"


def open_recording(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """``(lines, raw)``: a binary reader of the recording's lines (gzip decompressed transparently)
    and the underlying file, whose position says how much of the file has been consumed."""
    raw = path.open("rb")
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw  # type: ignore[return-value]
    raw.seek(0)
    return raw, raw


def parse_line(line: bytes) -> tuple[int, bytes] | None:
    """``(recv_ns, payload)`` of one line, or ``None`` when the line is not a recording line."""
    ts, sep, payload = line.rstrip(b"\r\n").partition(b" ")
    if not sep or not payload or not ts.isdigit():
        return None
    return int(ts), payload


class Recording:
    """Iterate a recording's frames one by one or in batches.

    ``bad_lines`` counts skipped lines; ``bytes_read`` is how far into the file (compressed bytes
    for gzip) the iteration has got, for progress bars.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.bad_lines = 0
        self.bytes_read = 0

    def frames(self) -> Iterator[tuple[int, bytes]]:
        lines, raw = open_recording(self.path)
        with lines, raw:
            for n, line in enumerate(lines):
                if n % 4096 == 0:
                    self.bytes_read = raw.tell()
                parsed = parse_line(line)
                if parsed is None:
                    if line.strip():
                        self.bad_lines += 1
                    continue
                yield parsed
            self.bytes_read = raw.tell()

    def batches(self, size: int = 4096) -> Iterator[tuple[list[bytes], list[int]]]:
        """``(frames, recv_ns)`` lists of up to ``size`` frames: the shape ``MarketData.feed_batch`` takes.

        Reads ~1 MB of lines at a time and splits them with list comprehensions (the per-line Python
        cost is what bounds replay speed); a chunk with any odd line goes through ``parse_line``.
        """
        lines, raw = open_recording(self.path)
        frames: list[bytes] = []
        times: list[int] = []
        with lines, raw:
            while chunk := lines.readlines(1 << 20):
                self.bytes_read = raw.tell()
                parts = [line.rstrip(b"\r\n").partition(b" ") for line in chunk]
                if all(sep and payload and ts.isdigit() for ts, sep, payload in parts):
                    frames += [payload for _, _, payload in parts]
                    times += [int(ts) for ts, _, _ in parts]
                else:
                    for line in chunk:
                        parsed = parse_line(line)
                        if parsed is None:
                            self.bad_lines += bool(line.strip())
                            continue
                        times.append(parsed[0])
                        frames.append(parsed[1])
                while len(frames) >= size:
                    yield frames[:size], times[:size]
                    del frames[:size], times[:size]
        if frames:
            yield frames, times

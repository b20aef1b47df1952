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


def open_recording(path: Path) -> BinaryIO:
    """Open a recording for binary reading, decompressing gzip transparently."""
    with path.open("rb") as f:
        magic = f.read(2)
    if magic == GZIP_MAGIC:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def parse_line(line: bytes) -> tuple[int, bytes] | None:
    """``(recv_ns, payload)`` of one line, or ``None`` when the line is not a recording line."""
    ts, sep, payload = line.rstrip(b"\r\n").partition(b" ")
    if not sep or not payload or not ts.isdigit():
        return None
    return int(ts), payload


class Recording:
    """Iterate a recording's frames one by one or in batches; ``bad_lines`` counts skipped lines."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.bad_lines = 0
        self.bytes_read = 0

    def frames(self) -> Iterator[tuple[int, bytes]]:
        with open_recording(self.path) as f:
            for line in f:
                self.bytes_read += len(line)
                parsed = parse_line(line)
                if parsed is None:
                    if line.strip():
                        self.bad_lines += 1
                    continue
                yield parsed

    def batches(self, size: int = 4096) -> Iterator[tuple[list[bytes], list[int]]]:
        """``(frames, recv_ns)`` lists of up to ``size`` frames: the shape ``MarketData.feed_batch`` takes."""
        frames: list[bytes] = []
        times: list[int] = []
        for ns, payload in self.frames():
            frames.append(payload)
            times.append(ns)
            if len(frames) >= size:
                yield frames, times
                frames, times = [], []
        if frames:
            yield frames, times

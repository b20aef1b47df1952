"""Recordings: one frame per line, ``<recv_ns> <payload>``, plain text or gzip (detected by content).

Python reads and decompresses; what a line is (and splitting chunks into frames) is decided in Rust
(``rust_core/src/recording.rs``), so a replay hands the core whole chunks (``MarketData.feed_lines``).

The payload is a raw WebSocket frame or, for Binance, a bare REST depth-snapshot body; this is also
the format of hftbacktest's collector. Lines that do not have this shape are counted and skipped.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from wisetrader._core import split_recording_lines

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


class Recording:
    """Iterate a recording's frames one by one or in batches.

    ``bad_lines`` counts skipped lines; ``bytes_read`` is how far into the file (compressed bytes
    for gzip) the iteration has got, for progress bars.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.bad_lines = 0
        self.bytes_read = 0

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The file as chunks of about ``size`` bytes that each end at a line end (the last one may
        lack its ``\\n``): what ``MarketData.feed_lines`` and ``split_recording_lines`` take."""
        lines, raw = open_recording(self.path)
        rest = b""
        with lines, raw:
            while block := lines.read(size):
                self.bytes_read = raw.tell()
                head, newline, tail = block.rpartition(b"\n")
                if newline:
                    yield rest + head + newline
                    rest = tail
                else:
                    rest += tail
            self.bytes_read = raw.tell()
        if rest:
            yield rest

    def batches(self, size: int = 4096) -> Iterator[tuple[list[bytes], list[int]]]:
        """``(frames, recv_ns)`` lists of up to ``size`` frames: the shape ``MarketData.feed_batch`` takes.
        Lines are split in Rust (``split_recording_lines``); bad lines are counted in ``bad_lines``."""
        frames: list[bytes] = []
        times: list[int] = []
        for chunk in self.chunks():
            chunk_times, chunk_frames, bad = split_recording_lines(chunk)
            self.bad_lines += bad
            frames += chunk_frames
            times += chunk_times
            while len(frames) >= size:
                yield frames[:size], times[:size]
                del frames[:size], times[:size]
        if frames:
            yield frames, times

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """``(recv_ns, payload)`` one by one."""
        for frames, times in self.batches():
            yield from zip(times, frames, strict=True)

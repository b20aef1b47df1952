"""Type stubs for the Rust extension ``wisetrader._core``.

Market data
-----------
``MarketData`` is one venue connection's market data: feed it the raw WebSocket frames (``bytes``)
exactly as received, one at a time or in batches, with their receive times in ns since the epoch.
It decodes them, keeps one L2 book per registered symbol in sync by the venue's published rules, and
returns a ``Changes`` object describing what happened. The GIL is released while it works.

Prices and quantities are integers inside the core: price **ticks** and quantity **lots** of the
instrument's grid (``add_instrument``). Hot-path results (``Changes.tops``, ``tickers``, ``trades``,
``MarketData.best``, ``top_ticks``) are integers; the ``*_rows``/``best_bid``/``top``/``book`` reads are
exact decimal strings. ``format_price``/``price_to_ticks`` convert between the two.

Typical live loop (the feed session)::

    md = MarketData("binance-spot")
    md.add_instrument("BTCUSDT", "0.01", "0.00001")
    changes = md.feed_batch(frames, recv_ns)           # frames: list[bytes]
    for _, symbol, kind, reason in changes.requests:   # the core asks, the caller does I/O
        if kind == "snapshot":    md.feed_snapshot(symbol, await rest_depth(symbol), now_ns())
        if kind == "resubscribe": await resubscribe(symbol)
    for recv_ns, symbol, update_id, bid_px, bid_qty, ask_px, ask_qty in changes.tops: ...

Sync states per symbol: ``"waiting_for_snapshot"`` → ``"synced"`` → ``"out_of_sync"`` (with a reason:
``"gap"``, ``"checksum_mismatch"``, ``"bad_message"``, ``"snapshot_too_old"``). While not synced no top
of book is published and the read methods return nothing.

Bots
----
``BotEngine`` holds every grid and DCA bot of one symbol: best bid/ask in ticks in, order intents
(``_Intent``) out; fills and order updates back in. ``PaperSession`` is the same engine wired to the
paper matcher. ``plan_bot`` returns a bot's plan. Definitions and states are JSON with decimal
strings (see docs/bot-file.md).
"""

from typing import Literal, TypedDict, final

__all__ = [
    "BotEngine",
    "Changes",
    "MarketData",
    "PaperSession",
    "__version__",
    "plan_bot",
    "split_recording_lines",
]

__version__: str

_TopTuple = tuple[int, str, int, int | None, int | None, int | None, int | None]
"""``(recv_ns, symbol, update_id, bid_px, bid_qty, ask_px, ask_qty)``; ticks, lots; ``None``: empty side."""

_TopRowTuple = tuple[int, str, int, str | None, str | None, str | None, str | None]
"""As ``_TopTuple`` with exact decimal strings."""

@final
class Changes:
    """What changed during one ``feed``/``feed_batch``/``feed_snapshot`` call.

    Each property builds a new list on access (nothing is converted unless it is read); keep the
    result if you read it twice. Every list is in arrival order.
    """

    @property
    def frames(self) -> int:
        """Frames processed by the call."""
    @property
    def tops(self) -> list[_TopTuple]:
        """Top-of-book changes of synced books: one entry per message that changed the best bid or
        ask (price or quantity). ``update_id`` is the book's after the change (Binance ``u``, Bybit
        ``u``, OKX ``seqId``; 0 when the venue sent none)."""
    def top_rows(self) -> list[_TopRowTuple]:
        """``tops`` with prices and quantities as exact decimal strings (the replay ``--out`` rows)."""
    @property
    def tickers(self) -> list[_TopTuple]:
        """Best bid/ask published by the venue (Binance ``bookTicker``, OKX ``bbo-tbt``), independent
        of the book; ``update_id`` is -1 when the venue sent none."""
    @property
    def trades(self) -> list[tuple[int, str, str, int, int, bool, int]]:
        """``(recv_ns, symbol, trade_id, px_ticks, qty_lots, taker_buy, exch_ns)``; ``taker_buy`` is
        True when the aggressor bought (Binance ``m`` false, Bybit ``S`` "Buy", OKX ``side`` "buy")."""
    @property
    def states(self) -> list[tuple[int, str, str, str | None]]:
        """Sync-state changes ``(recv_ns, symbol, state, reason)``."""
    @property
    def requests(self) -> list[tuple[int, str, str, str]]:
        """What the caller must do ``(recv_ns, symbol, kind, reason)``: kind ``"snapshot"`` (fetch the
        Binance REST depth snapshot and pass it to ``feed_snapshot``) or ``"resubscribe"`` (Bybit, OKX:
        unsubscribe and subscribe the book channel again). Reason: ``"initial"``, ``"no_snapshot"``,
        ``"gap"``, ``"checksum_mismatch"``, ``"bad_message"`` or ``"snapshot_too_old"``."""
    @property
    def controls(self) -> list[tuple[int, str, str]]:
        """Control messages ``(recv_ns, kind, detail)``; kind is ``"ack"`` (subscription answer),
        ``"pong"``, ``"error"``, ``"server_shutdown"`` (Binance: reconnect soon) or ``"event"``."""
    @property
    def errors(self) -> list[tuple[int, str]]:
        """Refused frames or messages ``(recv_ns, reason)``, e.g. ``"truncated"``, ``"bad_json"``,
        ``"bad_type"``, ``"missing_field"``, ``"unknown_message"``, ``"unknown_symbol"``,
        ``"non_positive"``, ``"decimal_off_grid"``, ``"decimal_not_decimal"``, ``"decimal_overflow"``,
        ``"snapshot_not_chain_start"`` (an OKX snapshot whose ``prevSeqId`` is not -1)."""
    def count(self, kind: str) -> int:
        """Length of one list without building it: ``"tops"``, ``"tickers"``, ``"trades"``, ``"states"``,
        ``"requests"``, ``"controls"`` or ``"errors"`` (``ValueError`` otherwise)."""
    def __bool__(self) -> bool:
        """True when anything besides the frame count is non-empty."""

@final
class MarketData:
    """Market data of one venue connection: raw frames in, books in sync, compact changes out.

    ``venue`` is one of ``"binance-spot"``, ``"binance-usdm"``, ``"bybit-spot"``, ``"bybit-linear"``,
    ``"okx"``. ``buffer_limit`` bounds each Binance pre-snapshot buffer (oldest events dropped).
    """

    def __new__(cls, venue: str, *, buffer_limit: int = 10000) -> MarketData: ...
    @property
    def venue(self) -> str: ...
    @property
    def symbols(self) -> list[str]:
        """Registered symbols, in registration order."""
    def add_instrument(self, symbol: str, tick_size: str, lot_step: str) -> None:
        """Register ``symbol`` (as the venue writes it in payloads: ``BTCUSDT``, ``BTC-USDT``) with its
        tick size and lot step as decimal strings. Registering again resets its book. Frames of
        unregistered symbols are counted as ``unknown_symbol`` errors. Raises ``ValueError`` for a
        step that is not a positive decimal."""
    def set_snapshot_symbol(self, symbol: str) -> None:
        """Symbol a bare REST snapshot body fed through ``feed``/``feed_batch`` belongs to (recordings
        hold such lines); default: the first registered symbol. Raises ``KeyError`` if unknown."""
    def feed(self, frame: bytes, recv_ns: int) -> Changes:
        """Process one raw frame received at ``recv_ns`` (ns since the epoch)."""
    def feed_batch(self, frames: list[bytes], recv_ns: list[int]) -> Changes:
        """Process frames in order (the fast path: one crossing, GIL released for the whole batch).
        Raises ``ValueError`` if the two lists differ in length."""
    def feed_lines(self, chunk: bytes) -> tuple[Changes, int]:
        """Process a chunk of recording lines ``<recv_ns> <payload>\\n`` (whole lines; a last line
        without ``\\n`` counts as whole), like ``feed`` on each frame, with no Python object per
        frame (the replay path). Returns the changes and how many non-blank lines were not recording
        lines (skipped)."""
    def feed_snapshot(self, symbol: str, body: bytes, recv_ns: int) -> Changes:
        """Process a Binance REST depth snapshot body (``{"lastUpdateId":...}``) fetched for ``symbol``
        after a ``"snapshot"`` request. Diffs buffered meanwhile are replayed onto it."""
    def reset(self, symbol: str) -> Changes:
        """Forget ``symbol``'s book (e.g. after a reconnect): it waits for a snapshot again."""
    def state(self, symbol: str) -> tuple[str, str | None]:
        """``(state, reason)``: ``("synced", None)``, ``("out_of_sync", "gap")``, ..."""
    def update_id(self, symbol: str) -> int:
        """Update id of the last message applied to the book (0 before any)."""
    def best(self, symbol: str) -> tuple[int | None, int | None, int | None, int | None] | None:
        """``(bid_px, bid_qty, ask_px, ask_qty)`` in ticks and lots, ``None`` unless synced."""
    def best_bid(self, symbol: str) -> tuple[str, str] | None:
        """``(price, qty)`` decimal strings of the best bid, ``None`` if empty or not synced."""
    def best_ask(self, symbol: str) -> tuple[str, str] | None:
        """``(price, qty)`` decimal strings of the best ask, ``None`` if empty or not synced."""
    def top(self, symbol: str, depth: int = 10) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Up to ``depth`` ``(price, qty)`` levels per side, best first, as ``(bids, asks)``.

        Empty unless synced."""
    def top_ticks(self, symbol: str, depth: int = 10) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """As ``top`` in ticks and lots."""
    def book(self, symbol: str) -> tuple[int, list[tuple[str, str]], list[tuple[str, str]]]:
        """Full book ``(update_id, bids, asks)``, best first (empty while not synced: books are dropped
        when they leave sync)."""
    def mid(self, symbol: str) -> str | None:
        """Exact mid price (one more decimal than the tick), ``None`` unless synced with both sides."""
    def spread(self, symbol: str) -> str | None:
        """Best ask minus best bid, ``None`` unless synced with both sides."""
    def price_to_ticks(self, symbol: str, price: str) -> int:
        """Exact decimal price to ticks; ``ValueError`` if not a decimal or off the grid."""
    def qty_to_lots(self, symbol: str, qty: str) -> int:
        """Exact decimal quantity to lots; ``ValueError`` if not a decimal or off the grid."""
    def format_price(self, symbol: str, ticks: int) -> str:
        """Ticks to a decimal string with the tick's number of decimals."""
    def format_qty(self, symbol: str, lots: int) -> str:
        """Lots to a decimal string with the lot step's number of decimals."""
    def counters(self) -> dict[str, int]:
        """Running totals: ``frames``, ``applied``, ``snapshots``, ``snapshots_too_old``,
        ``skipped_stale``, ``skipped_not_synced``, ``buffered``, ``buffer_overflow``, ``ignored``,
        ``controls``, ``gaps``, ``resyncs``, ``checksum_ok``, ``checksum_failed``, ``ticker_checked``,
        ``ticker_mismatch`` (venue tickers compared with the book at the same update id), ``trades``,
        ``tops``, ``errors`` and one ``error.<reason>`` per refusal reason."""

def split_recording_lines(chunk: bytes) -> tuple[list[int], list[bytes], int]:
    """``(recv_ns, payloads, bad_lines)`` of a chunk of whole recording lines, by the rules
    ``MarketData.feed_lines`` uses: ``<recv_ns> <payload>``, trailing ``\\r``/``\\n`` ignored, blank
    lines skipped silently, other lines that do not fit counted in ``bad_lines``."""

# --- bots ---------------------------------------------------------------------------------------

class _Intent(TypedDict):
    action: Literal["place", "cancel", "replace"]
    bot: int
    client_id: str
    replaces: str | None
    side: Literal["buy", "sell"]
    order_type: Literal["limit", "limit_ioc", "market"]
    price_ticks: int
    qty_lots: int
    reason: str

class _Fill(TypedDict):
    fill_id: str
    client_id: str
    side: Literal["buy", "sell"]
    price_ticks: int
    qty_lots: int
    fee: str
    fee_asset: str
    ts_ns: int

class _OpenOrder(TypedDict):
    client_id: str
    side: Literal["buy", "sell"]
    order_type: Literal["limit", "limit_ioc", "market"]
    price_ticks: int
    qty_lots: int
    filled_lots: int
    reason: str | None
    cancelling: bool

_Command = Literal["pause", "resume", "stop", "close"]

def plan_bot(kind: str, instrument_json: str, spec_json: str) -> str:
    """The plan of a bot (``kind`` = "grid" or "dca") as JSON; numbers are decimal strings."""

class BotEngine:
    """All bots of one symbol: top of book in, order intents out; fills and updates back in."""

    def __init__(self, instrument_json: str) -> None: ...
    def add_bot(self, bot_id: int, kind: str, spec_json: str) -> None:
        """Validate and attach a bot; ValueError lists every problem."""
    def remove_bot(self, bot_id: int) -> bool: ...
    def signal(self, bot_id: int) -> bool: ...
    def __len__(self) -> int: ...
    def on_top(self, bid: int, ask: int, ts_ns: int) -> list[_Intent]: ...
    def on_fill(
        self,
        fill_id: str,
        client_id: str,
        side: str,
        price_ticks: int,
        qty_lots: int,
        fee: str,
        fee_asset: str,
        ts_ns: int,
    ) -> tuple[Literal["applied", "duplicate", "unknown"], list[_Intent]]: ...
    def on_update(self, client_id: str, status: str, ts_ns: int) -> tuple[bool, list[_Intent]]: ...
    def state(self, bot_id: int) -> str: ...
    def command(self, bot_id: int, command: _Command | str, ts_ns: int) -> list[_Intent]:
        """A user command at the last top of book: ``pause`` (cancel resting orders, place nothing),
        ``resume``, ``stop`` (final) or ``close`` (cancel, then flatten at market; ends stopped).
        ValueError for an unknown bot or command, or one the bot's state refuses."""
    def open_orders(self, bot_id: int) -> list[_OpenOrder]:
        """The orders the bot believes are live or in flight (``cancelling``: a cancel was asked)."""
    def export_state(self) -> str: ...
    @staticmethod
    def import_state(state_json: str) -> BotEngine: ...

class PaperSession:
    """Bots plus a paper venue for one symbol (paper trading, replays)."""

    def __init__(self, instrument_json: str, paper_json: str | None = None) -> None: ...
    def add_bot(self, bot_id: int, kind: str, spec_json: str) -> None: ...
    def signal(self, bot_id: int) -> bool: ...
    def on_top(
        self,
        bid: int,
        ask: int,
        ts_ns: int,
        asks: list[tuple[int, int]] = ...,
        bids: list[tuple[int, int]] = ...,
    ) -> tuple[list[_Intent], list[_Fill]]: ...
    def command(
        self, bot_id: int, command: _Command | str, ts_ns: int
    ) -> tuple[list[_Intent], list[_Fill]]: ...
    def open_orders(self, bot_id: int) -> list[_OpenOrder]: ...
    def state(self, bot_id: int) -> str: ...
    def export_state(self) -> str: ...

class _PaperUpdate(TypedDict):
    client_id: str
    status: str
    ts_ns: int

class PaperVenue:
    """The core's paper matcher for one symbol, as a venue behind the router."""

    def __init__(self, instrument_json: str, paper_json: str | None = None) -> None: ...
    def __len__(self) -> int: ...
    def place(
        self,
        client_id: str,
        side_: str,
        price_ticks: int | None,
        qty_lots: int,
        bid: int,
        ask: int,
        ts_ns: int,
        levels: list[tuple[int, int]] = ...,
    ) -> tuple[list[_PaperUpdate], list[_Fill]]: ...
    def cancel(self, client_id: str, ts_ns: int) -> tuple[list[_PaperUpdate], list[_Fill]]: ...
    def on_top(self, bid: int, ask: int, ts_ns: int) -> tuple[list[_PaperUpdate], list[_Fill]]: ...

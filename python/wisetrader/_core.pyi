"""Type stubs for the Rust extension ``wisetrader._core``."""

from typing import Literal, TypedDict

__version__: str

class Intent(TypedDict):
    action: Literal["place", "cancel", "replace"]
    bot: int
    client_id: str
    replaces: str | None
    side: Literal["buy", "sell"]
    order_type: Literal["limit", "limit_ioc", "market"]
    price_ticks: int
    qty_lots: int
    reason: str

class Fill(TypedDict):
    fill_id: str
    client_id: str
    side: Literal["buy", "sell"]
    price_ticks: int
    qty_lots: int
    fee: str
    fee_asset: str
    ts_ns: int

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
    def on_top(self, bid: int, ask: int, ts_ns: int) -> list[Intent]: ...
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
    ) -> tuple[Literal["applied", "duplicate", "unknown"], list[Intent]]: ...
    def on_update(self, client_id: str, status: str, ts_ns: int) -> tuple[bool, list[Intent]]: ...
    def state(self, bot_id: int) -> str: ...
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
    ) -> tuple[list[Intent], list[Fill]]: ...
    def state(self, bot_id: int) -> str: ...
    def export_state(self) -> str: ...

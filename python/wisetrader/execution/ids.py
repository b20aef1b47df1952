"""Deterministic client order ids, ``[A-Za-z0-9]{1,32}``: valid on Binance, Bybit and OKX alike.

The id is derived from (bot, leg, level, cycle) only, so a retry or a restart sends the same id again and
the venue refuses the duplicate instead of opening a second order. Layout (at most 32 characters):
``wt`` + 10-char hash of the bot id + leg letter + level and cycle in base 36 separated by ``x``.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "wt"
_VALID = re.compile(r"[A-Za-z0-9]{1,32}")
# The core's bot order ids (rust_core/src/bots/ids.rs): ``W{bot}{leg letter}{level}C{cycle}``.
_CORE = re.compile(r"W[0-9]+[BSIXODT][0-9]+C[0-9]+")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(n: int) -> str:
    if n < 0:
        raise ValueError("level and cycle must be >= 0")
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
        if n == 0:
            return out


def bot_tag(bot_id: str) -> str:
    """10 base-36 characters of a hash of the bot id (about 51 bits: collisions are negligible)."""
    digest = int.from_bytes(hashlib.blake2b(bot_id.encode(), digest_size=8).digest(), "big")
    return _b36(digest).rjust(13, "0")[-10:]


def client_order_id(bot_id: str, leg: str, level: int, cycle: int) -> str:
    """The id of one order of a bot: ``leg`` is one letter (e.g. ``b`` buy, ``s`` sell, ``t`` take-profit)."""
    if len(leg) != 1 or not leg.isalpha():
        raise ValueError(f"leg must be one letter, got {leg!r}")
    cid = f"{PREFIX}{bot_tag(bot_id)}{leg}{_b36(level)}x{_b36(cycle)}"
    if len(cid) > 32:
        raise ValueError(f"level/cycle too large for a 32-character id: {cid}")
    return cid


def is_valid_client_id(cid: str) -> bool:
    return _VALID.fullmatch(cid) is not None


def is_ours(cid: str | None) -> bool:
    """Whether a venue order carries an id this engine generated (here, or by the core's bots)."""
    if cid is None or not is_valid_client_id(cid):
        return False
    return cid.startswith(PREFIX) or _CORE.fullmatch(cid) is not None

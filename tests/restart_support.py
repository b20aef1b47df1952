"""Reading the bots out of an engine state file (``engine/persistence.py``) in the restart tests."""

from __future__ import annotations

import json
from typing import Any


def saved_bots(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Every bot's exported state (the core's ``export_state``) in a snapshot."""
    return [bot for e in state["engines"] for bot in json.loads(e["state"])["bots"].values()]


def applied_fill_ids(bot: dict[str, Any]) -> list[str]:
    """The fill ids a bot applied. Cores that bound this memory keep them per live order and in a window
    of recent ones (1024, more than any test here makes); earlier cores keep one set."""
    ledger = bot["desk"]["ledger"]
    if "seen_fills" in ledger:
        return list(ledger["seen_fills"])
    live = [f for order in bot["desk"]["orders"].values() for f in order.get("fill_ids", [])]
    return list(ledger["recent_fills"]) + live

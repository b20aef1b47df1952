"""The ``plan`` sub-command (registered in ``wisetrader.cli``)."""

from __future__ import annotations

import json
import sys

from rich.console import Console

from wisetrader.bots.model import BotFileError, load_bot_file
from wisetrader.bots.plan import plan, render


def plan_command(bot_file: str, as_json: bool) -> int:
    """Print the plan; 0 when the bot is valid, 1 when it has errors, 2 when the file is unreadable."""
    try:
        bot = load_bot_file(bot_file)
    except BotFileError as e:
        print(str(e), file=sys.stderr)
        return 2
    p = plan(bot)
    if as_json:
        print(json.dumps(p))
    else:
        render(p, Console())
    return 0 if p["valid"] else 1

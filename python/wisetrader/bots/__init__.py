"""Grid and DCA bots: the YAML bot file model and the plan preview (the maths lives in the Rust core)."""

from wisetrader.bots.model import BotFile, BotFileError, DcaBotFile, GridBotFile, load_bot_file

__all__ = ["BotFile", "BotFileError", "DcaBotFile", "GridBotFile", "load_bot_file"]

"""Venue specifics: URLs, subscribe messages, heartbeats, limits and signing for Binance, Bybit and OKX.

The generic WebSocket session in ``wisetrader.feeds`` knows nothing about any venue; it asks a
:class:`~wisetrader.venues.base.VenueProtocol` for everything venue-shaped.
"""

from __future__ import annotations

from wisetrader.venues.base import Endpoints, VenueProtocol, venue_protocol

__all__ = ["Endpoints", "VenueProtocol", "venue_protocol"]

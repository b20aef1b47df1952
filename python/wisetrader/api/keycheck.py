"""The check of an exchange key on entry: ask the venue what the key may do, and refuse keys that can
withdraw (or that the venue does not accept at all). Binance (and the simulator, which speaks its REST
protocol) answer ``GET /sapi/v1/account/apiRestrictions``."""

from __future__ import annotations

import time

import aiohttp

from wisetrader.settings import ApiSettings
from wisetrader.venues.binance import sign

RESTRICTIONS_PATH = "/sapi/v1/account/apiRestrictions"


class KeyRefused(Exception):
    """The venue refused the key, or the key has rights the platform does not accept."""


class VenueUnavailable(Exception):
    """The venue could not be asked (down, unreachable, or an answer that is not its API's)."""


def check_url(settings: ApiSettings, venue: str) -> str:
    """The REST base URL the key of ``venue`` is checked against; empty when the venue is not checked."""
    return {"binance": settings.binance_key_check_url, "simulator": settings.simulator_key_check_url}.get(
        venue, ""
    )


async def check_binance_key(base_url: str, api_key: str, api_secret: str, timeout_s: float) -> None:
    """Raise ``KeyRefused`` unless the key is valid, can read and trade spot, and cannot withdraw."""
    query = f"timestamp={int(time.time() * 1000)}&recvWindow=5000"
    url = f"{base_url.rstrip('/')}{RESTRICTIONS_PATH}?{query}&signature={sign(api_secret, query)}"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.get(url, headers={"X-MBX-APIKEY": api_key}) as response,
        ):
            status = response.status
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as e:
        raise VenueUnavailable(f"could not ask the venue about the key: {type(e).__name__}") from None
    if not isinstance(body, dict):
        raise VenueUnavailable("the venue's answer about the key was not understood")
    if status != 200:
        if status in (400, 401, 403):
            raise KeyRefused(f"the venue refused the key: {body.get('msg', status)}")
        raise VenueUnavailable(f"the venue answered {status} about the key")
    if body.get("enableWithdrawals") is not False:
        raise KeyRefused("the key has withdrawals enabled; create a key without withdrawal rights")
    if body.get("enableReading") is not True or body.get("enableSpotAndMarginTrading") is not True:
        raise KeyRefused("the key must be allowed to read and to trade spot")

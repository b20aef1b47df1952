"""The check of an exchange key on entry: ask the venue what the key may do, and refuse keys that can
withdraw, keys that cannot trade spot, and keys the venue does not accept at all.

Binance (and the simulator's Binance protocol) answer ``GET /sapi/v1/account/apiRestrictions``, Bybit
``GET /v5/user/query-api`` (``readOnly``, ``permissions``), OKX ``GET /api/v5/account/config`` (``perm``).
The simulator serves all three, so in tests the check is the real request against its real answer.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import aiohttp

from wisetrader.settings import ApiSettings
from wisetrader.venues import binance, bybit, okx

RESTRICTIONS_PATH = "/sapi/v1/account/apiRestrictions"
BYBIT_QUERY_API_PATH = "/v5/user/query-api"
OKX_CONFIG_PATH = "/api/v5/account/config"

WITHDRAWALS = "the key has withdrawals enabled; create a key without withdrawal rights"
NO_TRADING = "the key must be allowed to read and to trade spot"

# Bybit retCodes and OKX codes that mean "this key, secret or passphrase is not accepted" (anything else
# is the venue failing to answer, not a verdict on the key).
_BYBIT_REFUSALS = {
    10003: "API key is invalid.",
    10004: "Signature is not valid (check the secret).",
    10005: "",
    10010: "",
}
_OKX_REFUSALS = {"50100", "50101", "50104", "50105", "50111", "50113", "50114"}


class KeyRefused(Exception):
    """The venue refused the key, or the key has rights the platform does not accept."""


class VenueUnavailable(Exception):
    """The venue could not be asked (down, unreachable, or an answer that is not its API's)."""


def check_url(settings: ApiSettings, venue: str) -> str:
    """The REST base URL the key of ``venue`` is checked against; empty when the venue is not checked."""
    return {
        "binance": settings.binance_key_check_url,
        "bybit": settings.bybit_key_check_url,
        "okx": settings.okx_key_check_url,
        "simulator": settings.simulator_key_check_url,
    }.get(venue, "")


async def check_key(
    venue: str, base_url: str, api_key: str, api_secret: str, passphrase: str, timeout_s: float
) -> None:
    """Raise ``KeyRefused`` unless the venue accepts the key, it can trade spot and it cannot withdraw."""
    if venue == "bybit":
        await check_bybit_key(base_url, api_key, api_secret, timeout_s)
    elif venue == "okx":
        await check_okx_key(base_url, api_key, api_secret, passphrase, timeout_s)
    else:  # binance, and the simulator, whose default protocol is Binance's
        await check_binance_key(base_url, api_key, api_secret, timeout_s)


async def _get(url: str, headers: dict[str, str], timeout_s: float) -> tuple[int, dict[str, Any]]:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.get(url, headers=headers) as response,
        ):
            status = response.status
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as e:
        raise VenueUnavailable(f"could not ask the venue about the key: {type(e).__name__}") from None
    if not isinstance(body, dict):
        raise VenueUnavailable("the venue's answer about the key was not understood")
    return status, body


async def check_binance_key(base_url: str, api_key: str, api_secret: str, timeout_s: float) -> None:
    query = f"timestamp={int(time.time() * 1000)}&recvWindow=5000"
    signature = binance.sign(api_secret, query)
    url = f"{base_url.rstrip('/')}{RESTRICTIONS_PATH}?{query}&signature={signature}"
    status, body = await _get(url, {"X-MBX-APIKEY": api_key}, timeout_s)
    if status != 200:
        if status in (400, 401, 403):
            raise KeyRefused(f"the venue refused the key: {body.get('msg', status)}")
        raise VenueUnavailable(f"the venue answered {status} about the key")
    if body.get("enableWithdrawals") is not False:
        raise KeyRefused(WITHDRAWALS)
    if body.get("enableReading") is not True or body.get("enableSpotAndMarginTrading") is not True:
        raise KeyRefused(NO_TRADING)


async def check_bybit_key(base_url: str, api_key: str, api_secret: str, timeout_s: float) -> None:
    ts, window = int(time.time() * 1000), 5000
    headers = {
        "X-BAPI-API-KEY": api_key,
        "X-BAPI-TIMESTAMP": str(ts),
        "X-BAPI-RECV-WINDOW": str(window),
        "X-BAPI-SIGN": bybit.sign(api_secret, ts, api_key, window, ""),
    }
    status, body = await _get(f"{base_url.rstrip('/')}{BYBIT_QUERY_API_PATH}", headers, timeout_s)
    code = body.get("retCode")
    if code in _BYBIT_REFUSALS:
        # Bybit's own message may echo the signed string (with the key): name the reason only.
        raise KeyRefused(f"the venue refused the key: {_BYBIT_REFUSALS[code] or 'permission denied'}")
    result = body.get("result")
    if status != 200 or code != 0 or not isinstance(result, dict):
        raise VenueUnavailable(f"the venue answered {status}/{code} about the key")
    permissions = result.get("permissions") or {}
    if "Withdraw" in (permissions.get("Wallet") or []):
        raise KeyRefused(WITHDRAWALS)
    if result.get("readOnly") != 0 or "SpotTrade" not in (permissions.get("Spot") or []):
        raise KeyRefused(NO_TRADING)


async def check_okx_key(
    base_url: str, api_key: str, api_secret: str, passphrase: str, timeout_s: float
) -> None:
    if not passphrase:
        raise KeyRefused("an OKX key needs the passphrase it was created with")
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    headers = {
        "OK-ACCESS-KEY": api_key,
        "OK-ACCESS-PASSPHRASE": passphrase,
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-SIGN": okx.sign(api_secret, stamp, "GET", OKX_CONFIG_PATH, ""),
    }
    status, body = await _get(f"{base_url.rstrip('/')}{OKX_CONFIG_PATH}", headers, timeout_s)
    code = str(body.get("code"))
    if code in _OKX_REFUSALS:
        raise KeyRefused(f"the venue refused the key: {str(body.get('msg', code))[:200]}")
    data = body.get("data")
    if (
        status != 200
        or code != "0"
        or not isinstance(data, list)
        or not data
        or not isinstance(data[0], dict)
    ):
        raise VenueUnavailable(f"the venue answered {status}/{code} about the key")
    perm = {p.strip() for p in str(data[0].get("perm", "")).split(",")}
    if "withdraw" in perm:
        raise KeyRefused(WITHDRAWALS)
    if "trade" not in perm or "read_only" not in perm:
        raise KeyRefused(NO_TRADING)

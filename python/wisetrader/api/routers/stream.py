"""``/api/v1/stream``: a WebSocket streaming the caller's own events (orders, fills, bot state, P&L) and
public market data.

The client authenticates with its first message, ``{"token": "<access or personal token>"}`` (tokens do
not go into URLs, where proxies log them), within 10 seconds; the server answers ``{"type": "ready"}``
and then sends one event per message, in the wire format of ``docs/events.md``. Close codes: 4401 not
authenticated, 1013 no event bus attached to this API process.
"""

from __future__ import annotations

import asyncio

import orjson
from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.security import HTTPAuthorizationCredentials

from wisetrader.api.deps import AppState, current_user
from wisetrader.controlplane.models import User
from wisetrader.events import encode

router = APIRouter(tags=["stream"])
AUTH_TIMEOUT_S = 10.0


async def _authenticate(ws: WebSocket, state: AppState) -> User | None:
    try:
        raw = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_S)
        token = orjson.loads(raw)["token"]
        if not isinstance(token, str):
            return None
    except (TimeoutError, orjson.JSONDecodeError, KeyError, TypeError):
        return None
    async with state.sessions() as session:
        try:
            return await current_user(
                state, session, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
            )
        except HTTPException:
            return None


@router.websocket("/stream")
async def stream(ws: WebSocket) -> None:
    state: AppState = ws.app.state.wisetrader
    await ws.accept()
    hub = state.hub
    if hub is None:
        await ws.close(code=1013, reason="event stream not available in this deployment (no bus attached)")
        return
    user = await _authenticate(ws, state)
    if user is None:
        await ws.close(code=4401, reason="not authenticated")
        return
    sub = hub.subscribe(user.id)
    receiver: asyncio.Task[str] | None = None
    try:
        await ws.send_text('{"type":"ready"}')
        receiver = asyncio.create_task(ws.receive_text())  # notices the client going away
        while True:
            getter = asyncio.create_task(sub.queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                getter.cancel()
                receiver.result()  # raises WebSocketDisconnect when the client left
                receiver = asyncio.create_task(ws.receive_text())  # client messages are ignored
                continue
            await ws.send_text(encode(getter.result()).decode())
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(sub)
        if receiver is not None:
            receiver.cancel()

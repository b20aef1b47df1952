"""Request dependencies: the database session, the caller (JWT or personal token), roles, pagination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wisetrader._core import MarketData
from wisetrader.api.botdata import BotData
from wisetrader.api.events import EventHub
from wisetrader.api.limits import RateLimiter
from wisetrader.api.reports import FillSource
from wisetrader.api.security import API_TOKEN_PREFIX, TokenError, Tokens, hash_api_token
from wisetrader.controlplane.crypto import KeyRing
from wisetrader.controlplane.models import ApiToken, User
from wisetrader.settings import ApiSettings


@dataclass
class AppState:
    """What the routers need, built once by ``create_app``."""

    settings: ApiSettings
    sessions: async_sessionmaker[AsyncSession]
    tokens: Tokens
    keyring: KeyRing
    user_limiter: RateLimiter
    ip_limiter: RateLimiter
    hub: EventHub | None = None  # set when an event bus is attached
    fills: FillSource | None = None  # set when an analytics store is attached
    bot_data: BotData | None = None  # a bot's orders, fills, P&L and state: set with the store
    markets: dict[str, MarketData] = field(default_factory=dict)  # venue -> books, when a feed is attached


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.wisetrader
    return state


State = Annotated[AppState, Depends(app_state)]


async def db(state: State) -> AsyncIterator[AsyncSession]:
    async with state.sessions() as session:
        yield session


Db = Annotated[AsyncSession, Depends(db)]

_bearer = HTTPBearer(auto_error=False, description="JWT access token or personal API token (wt_...)")
_unauthorized = HTTPException(
    status.HTTP_401_UNAUTHORIZED, "not authenticated", headers={"WWW-Authenticate": "Bearer"}
)


async def current_user(
    state: State, session: Db, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    if creds is None:
        raise _unauthorized
    token = creds.credentials
    user: User | None
    if token.startswith(API_TOKEN_PREFIX):
        user = await session.scalar(
            select(User)
            .join(ApiToken, ApiToken.owner_id == User.id)
            .where(ApiToken.token_hash == hash_api_token(token), ApiToken.revoked.is_(False))
        )
    else:
        try:
            claims = state.tokens.decode(token, "access")
            user = await session.get(User, int(claims["sub"]))
        except (TokenError, KeyError, ValueError):
            raise _unauthorized from None
    if user is None or user.disabled:
        raise _unauthorized
    if not state.user_limiter.hit(f"user:{user.id}"):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "rate limit exceeded for this user")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin role required")
    if not user.totp_enabled:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins must enable two-factor authentication")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ClientIp = Annotated[str, Depends(client_ip)]


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=200, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")] = 0,
) -> Paging:
    return Paging(limit, offset)


PageParams = Annotated[Paging, Depends(paging)]


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


# Ids fit a 32-bit INTEGER column on every backend; larger values are rejected as input, not looked up.
MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID)]

Responses = dict[int | str, dict[str, Any]]


def invalid(loc: tuple[str | int, ...], msg: str, value: object) -> RequestValidationError:
    """A 422 shaped like FastAPI's own (field, value, rule), for rules checked inside a handler."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": msg, "input": value}])

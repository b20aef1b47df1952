"""Registration, login, refresh rotation, logout, TOTP and personal API tokens."""

from __future__ import annotations

import uuid

import pyotp
from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select, update

from wisetrader.api.deps import ClientIp, CurrentUser, Db, Id, PageParams, State, not_found
from wisetrader.api.schemas import (
    ApiTokenCreated,
    ApiTokenIn,
    ApiTokenOut,
    LoginIn,
    Page,
    RefreshIn,
    RegisterIn,
    TokenPair,
    TotpCodeIn,
    TotpSetupOut,
    UserOut,
)
from wisetrader.api.security import TokenError, hash_password, new_api_token, totp_ok, verify_password
from wisetrader.controlplane.models import ApiToken, RefreshToken, User
from wisetrader.controlplane.repositories import audit, owned, page

router = APIRouter(prefix="/auth", tags=["auth"])
_bad_login = HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong email, password or two-factor code")


async def _issue(state: State, session: Db, user: User, family: str | None = None) -> TokenPair:
    jti = uuid.uuid4().hex
    refresh, expires = state.tokens.refresh(user.id, jti, family or jti)
    session.add(RefreshToken(jti=jti, family=family or jti, user_id=user.id, expires_at=expires))
    await session.commit()
    return TokenPair(
        access_token=state.tokens.access(user.id, user.role),
        refresh_token=refresh,
        expires_in=state.settings.access_token_seconds,
    )


@router.post("/register", status_code=201, response_model=UserOut)
async def register(body: RegisterIn, session: Db, ip: ClientIp) -> User:
    """Create a user account (role ``user``)."""
    email = body.email.lower()
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "email already registered")
    user = User(email=email, password_hash=hash_password(body.password), role="user")
    session.add(user)
    await session.flush()
    audit(session, user.id, "user.register", f"user:{user.id}", ip)
    await session.commit()
    return user


@router.post("/login", response_model=TokenPair, responses={401: {"description": "bad credentials"}})
async def login(body: LoginIn, state: State, session: Db, ip: ClientIp) -> TokenPair:
    """Exchange credentials (and a TOTP code when 2FA is on) for an access and a refresh token."""
    user = await session.scalar(select(User).where(User.email == body.email.lower()))
    if user is None or user.disabled or not verify_password(user.password_hash, body.password):
        raise _bad_login
    if user.totp_enabled and not (
        body.totp_code and user.totp_secret and totp_ok(user.totp_secret, body.totp_code)
    ):
        raise _bad_login
    audit(session, user.id, "auth.login", f"user:{user.id}", ip)
    return await _issue(state, session, user)


@router.post("/refresh", response_model=TokenPair, responses={401: {"description": "invalid refresh token"}})
async def refresh(body: RefreshIn, state: State, session: Db) -> TokenPair:
    """Rotate a refresh token. Presenting an already rotated token revokes its whole family."""
    try:
        claims = state.tokens.decode(body.refresh_token, "refresh")
        row = await session.get(RefreshToken, str(claims["jti"]))
    except (TokenError, KeyError):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid refresh token") from None
    if row is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid refresh token")
    if row.revoked:
        await session.execute(
            update(RefreshToken).where(RefreshToken.family == row.family).values(revoked=True)
        )
        await session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "refresh token reused; session revoked")
    user = await session.get(User, row.user_id)
    if user is None or user.disabled:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid refresh token")
    row.revoked = True
    return await _issue(state, session, user, row.family)


@router.post("/logout", status_code=204, responses={401: {"description": "invalid refresh token"}})
async def logout(body: RefreshIn, state: State, session: Db, user: CurrentUser, ip: ClientIp) -> Response:
    """Revoke the session (refresh-token family) that ``refresh_token`` belongs to."""
    try:
        claims = state.tokens.decode(body.refresh_token, "refresh")
    except TokenError:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid refresh token") from None
    row = await session.get(RefreshToken, str(claims.get("jti")))
    if row is None or row.user_id != user.id:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid refresh token")
    await session.execute(update(RefreshToken).where(RefreshToken.family == row.family).values(revoked=True))
    audit(session, user.id, "auth.logout", f"user:{user.id}", ip)
    await session.commit()
    return Response(status_code=204)


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> User:
    return user


@router.post("/totp/setup", response_model=TotpSetupOut, responses={409: {"description": "2FA already on"}})
async def totp_setup(user: CurrentUser, session: Db, ip: ClientIp) -> TotpSetupOut:
    """Start enabling two-factor authentication: returns a new secret to load into an authenticator."""
    if user.totp_enabled:
        raise HTTPException(status.HTTP_409_CONFLICT, "two-factor authentication is already enabled")
    user.totp_secret = pyotp.random_base32()
    audit(session, user.id, "auth.totp_setup", f"user:{user.id}", ip)
    await session.commit()
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name="wisetrader")
    return TotpSetupOut(secret=user.totp_secret, otpauth_uri=uri)


@router.post("/totp/enable", response_model=UserOut, responses={400: {"description": "wrong code"}})
async def totp_enable(body: TotpCodeIn, user: CurrentUser, session: Db, ip: ClientIp) -> User:
    """Confirm the secret from ``/totp/setup`` with a current code; 2FA is then required at login."""
    if user.totp_enabled:
        raise HTTPException(status.HTTP_409_CONFLICT, "two-factor authentication is already enabled")
    if not user.totp_secret or not totp_ok(user.totp_secret, body.code):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "wrong two-factor code")
    user.totp_enabled = True
    audit(session, user.id, "auth.totp_enable", f"user:{user.id}", ip)
    await session.commit()
    return user


@router.post("/tokens", status_code=201, response_model=ApiTokenCreated)
async def create_token(body: ApiTokenIn, user: CurrentUser, session: Db, ip: ClientIp) -> ApiTokenCreated:
    """Create a personal API token for scripts. The token is shown once; only its hash is stored."""
    token, digest = new_api_token()
    row = ApiToken(owner_id=user.id, name=body.name, token_hash=digest, prefix=token[:10])
    session.add(row)
    await session.flush()
    audit(session, user.id, "token.create", f"api_token:{row.id}", ip)
    await session.commit()
    return ApiTokenCreated(
        id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at, revoked=False, token=token
    )


@router.get("/tokens", response_model=Page[ApiTokenOut])
async def list_tokens(user: CurrentUser, session: Db, paging: PageParams) -> Page[ApiTokenOut]:
    stmt = select(ApiToken).where(ApiToken.owner_id == user.id).order_by(ApiToken.id)
    res = await page(session, stmt, paging.limit, paging.offset)
    items = [ApiTokenOut.model_validate(r) for r in res.items]
    return Page(items=items, total=res.total, limit=paging.limit, offset=paging.offset)


@router.delete("/tokens/{token_id}", status_code=204, responses={404: {"description": "no such token"}})
async def revoke_token(token_id: Id, user: CurrentUser, session: Db, ip: ClientIp) -> Response:
    row = await owned(session, ApiToken, token_id, user.id)
    if row is None:
        raise not_found("token")
    row.revoked = True
    audit(session, user.id, "token.revoke", f"api_token:{row.id}", ip)
    await session.commit()
    return Response(status_code=204)

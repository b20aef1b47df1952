"""Exchange accounts and their API keys (sealed at rest, never returned), and the live-trading opt-in."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select

from wisetrader.api.deps import (
    ClientIp,
    CurrentUser,
    Db,
    Id,
    PageParams,
    Responses,
    State,
    invalid,
    not_found,
)
from wisetrader.api.keycheck import KeyRefused, VenueUnavailable, check_key, check_url
from wisetrader.api.schemas import AccountIn, AccountOut, LiveOptIn, Page
from wisetrader.api.security import totp_ok
from wisetrader.controlplane.models import Bot, ExchangeAccount
from wisetrader.controlplane.repositories import account_context, audit, owned, page

router = APIRouter(prefix="/accounts", tags=["exchange accounts"])
_404: Responses = {404: {"description": "no such account"}}


@router.post(
    "",
    status_code=201,
    response_model=AccountOut,
    responses={502: {"description": "the venue could not be asked about the key; nothing was stored"}},
)
async def create_account(
    body: AccountIn, user: CurrentUser, state: State, session: Db, ip: ClientIp
) -> ExchangeAccount:
    """Add an exchange account. The venue is first asked what the key may do: a key it refuses, or one
    with withdrawal rights, is a 422. Key, secret and passphrase are sealed with AES-256-GCM for storage."""
    if url := check_url(state.settings, body.venue):
        try:
            await check_key(
                body.venue,
                url,
                body.api_key,
                body.api_secret,
                body.passphrase or "",
                state.settings.key_check_timeout_s,
            )
        except KeyRefused as e:
            # The key is named by its hint only: it must not come back in an error either.
            raise invalid(("body", "api_key"), str(e), f"...{body.api_key[-4:]}") from None
        except VenueUnavailable as e:
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(e)) from None
    account = ExchangeAccount(
        owner_id=user.id, venue=body.venue, label=body.label, api_key_hint=body.api_key[-4:],
        master_key_id="", wrapped_dek=b"", secret_blob=b"",
    )  # fmt: skip
    secret = "\n".join([body.api_key, body.api_secret, body.passphrase or ""]).encode()
    sealed = state.keyring.seal(secret, account_context(account))
    account.master_key_id, account.wrapped_dek, account.secret_blob = (
        sealed.master_key_id,
        sealed.wrapped_dek,
        sealed.blob,
    )
    session.add(account)
    await session.flush()
    # The audit entry names the account, never the key.
    audit(session, user.id, "account.create", f"account:{account.id}", ip, f"venue={body.venue}")
    await session.commit()
    return account


@router.get("", response_model=Page[AccountOut])
async def list_accounts(user: CurrentUser, session: Db, paging: PageParams) -> Page[AccountOut]:
    stmt = select(ExchangeAccount).where(ExchangeAccount.owner_id == user.id).order_by(ExchangeAccount.id)
    res = await page(session, stmt, paging.limit, paging.offset)
    return Page(
        items=[AccountOut.model_validate(r) for r in res.items],
        total=res.total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get("/{account_id}", response_model=AccountOut, responses=_404)
async def get_account(account_id: Id, user: CurrentUser, session: Db) -> ExchangeAccount:
    account = await owned(session, ExchangeAccount, account_id, user.id)
    if account is None:
        raise not_found("account")
    return account


@router.delete(
    "/{account_id}", status_code=204, responses={**_404, 409: {"description": "bots still use it"}}
)
async def delete_account(account_id: Id, user: CurrentUser, session: Db, ip: ClientIp) -> Response:
    """Delete an account and its sealed key. Refused while bots still use the account."""
    account = await owned(session, ExchangeAccount, account_id, user.id)
    if account is None:
        raise not_found("account")
    if await session.scalar(select(Bot.id).where(Bot.account_id == account.id).limit(1)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "delete the bots of this account first")
    await session.delete(account)
    audit(session, user.id, "account.delete", f"account:{account_id}", ip)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/{account_id}/live",
    response_model=AccountOut,
    responses={**_404, 403: {"description": "two-factor authentication is off or the code is wrong"}},
)
async def enable_live(
    account_id: Id, body: LiveOptIn, user: CurrentUser, state: State, session: Db, ip: ClientIp
) -> ExchangeAccount:
    """Opt this account in to live trading: needs 2FA on, a current code and the current risk disclosure."""
    account = await owned(session, ExchangeAccount, account_id, user.id)
    if account is None:
        raise not_found("account")
    if not user.totp_enabled or not user.totp_secret:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "enable two-factor authentication before live trading")
    if not totp_ok(user.totp_secret, body.totp_code):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong two-factor code")
    current = state.settings.risk_disclosure_version
    if body.disclosure_version != current:
        msg = f"is not the current risk disclosure version {current!r}"
        raise invalid(("body", "disclosure_version"), msg, body.disclosure_version)
    account.live_enabled = True
    account.risk_disclosure_version = current
    account.risk_disclosure_accepted_at = dt.datetime.now(dt.UTC)
    audit(session, user.id, "account.live_enable", f"account:{account.id}", ip, f"disclosure={current}")
    await session.commit()
    return account


@router.delete("/{account_id}/live", response_model=AccountOut, responses=_404)
async def disable_live(account_id: Id, user: CurrentUser, session: Db, ip: ClientIp) -> ExchangeAccount:
    """Withdraw the live-trading opt-in; the account is paper-only again."""
    account = await owned(session, ExchangeAccount, account_id, user.id)
    if account is None:
        raise not_found("account")
    account.live_enabled = False
    audit(session, user.id, "account.live_disable", f"account:{account.id}", ip)
    await session.commit()
    return account

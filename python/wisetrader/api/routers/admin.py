"""Administration (admin role with 2FA): users, and master-key rotation for the sealed exchange keys."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from wisetrader.api.deps import AdminUser, ClientIp, Db, Id, PageParams, State, not_found
from wisetrader.api.schemas import Page, RotateOut, UserOut, UserPatch
from wisetrader.controlplane.models import User
from wisetrader.controlplane.repositories import audit, page, rotate_master_key

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/users", response_model=Page[UserOut])
async def list_users(admin: AdminUser, session: Db, paging: PageParams) -> Page[UserOut]:
    res = await page(session, select(User).order_by(User.id), paging.limit, paging.offset)
    return Page(
        items=[UserOut.model_validate(u) for u in res.items],
        total=res.total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.patch("/users/{user_id}", response_model=UserOut, responses={404: {"description": "no such user"}})
async def patch_user(user_id: Id, body: UserPatch, admin: AdminUser, session: Db, ip: ClientIp) -> User:
    """Change a user's role or disable the user."""
    user = await session.get(User, user_id)
    if user is None:
        raise not_found("user")
    changes = body.model_dump(exclude_none=True)
    for field, value in changes.items():
        setattr(user, field, value)
    audit(session, admin.id, "admin.user_patch", f"user:{user_id}", ip, str(changes))
    await session.commit()
    return user


@router.post("/keys/rotate", response_model=RotateOut)
async def rotate_keys(admin: AdminUser, state: State, session: Db, ip: ClientIp) -> RotateOut:
    """Re-seal every exchange key's data key under the current master key."""
    n = await rotate_master_key(session, state.keyring)
    audit(session, admin.id, "admin.keys_rotate", f"master_key:{state.keyring.current}", ip, f"rewrapped={n}")
    await session.commit()
    return RotateOut(current_master_key_id=state.keyring.current, rewrapped=n)

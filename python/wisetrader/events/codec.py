"""Events to JSON bytes and back (orjson), with every field checked on the way in.

The wire form is one flat JSON object: ``type`` and ``v`` first, then the fields. Decimals are written in
plain notation (``"0.00001"``, never ``"1E-5"``) and must arrive as strings: a JSON number in a money
field is refused, because it may already have been through a binary float.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import orjson

from wisetrader.events.schema import EVENT_TYPES, Event, per_class


class EventDecodeError(ValueError):
    """Bytes that are not a valid event. ``reason`` is a stable short name for error counters."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def _plain_decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot serialize {type(value).__name__}")


@per_class
def _field_names(cls: type[Event]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def encode(event: Event) -> bytes:
    """One event as JSON bytes."""
    cls = type(event)
    body: dict[str, Any] = {"type": cls.type, "v": cls.version}
    for name in _field_names(cls):
        body[name] = getattr(event, name)
    return orjson.dumps(body, default=_plain_decimal)


Converter = Callable[[Any], Any]


def _to_decimal(raw: Any) -> Decimal:
    if not isinstance(raw, str):
        raise TypeError("a decimal must be a JSON string")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a decimal") from None
    if not value.is_finite():
        raise ValueError(f"{raw!r} is not finite")
    return value


@dataclass(frozen=True, slots=True)
class _FieldSpec:
    """How to check one field: an exact JSON type (str, int, bool) or a converter (decimals, literals)."""

    name: str
    required: bool
    nullable: bool
    exact: type | None = None
    convert: Converter | None = None


def _literal(allowed: frozenset[Any]) -> Converter:
    def check(raw: Any) -> Any:
        if raw not in allowed:
            raise ValueError(f"{raw!r} is not one of {sorted(allowed)}")
        return raw

    return check


def _spec(name: str, hint: Any, required: bool) -> _FieldSpec:
    nullable = False
    if get_origin(hint) in (Union, types.UnionType):
        nullable = type(None) in get_args(hint)
        hint = next(a for a in get_args(hint) if a is not type(None))
    if get_origin(hint) is Literal:
        return _FieldSpec(name, required, nullable, convert=_literal(frozenset(get_args(hint))))
    if hint is Decimal:
        return _FieldSpec(name, required, nullable, convert=_to_decimal)
    if hint in (str, int, bool):
        return _FieldSpec(name, required, nullable, exact=hint)
    raise TypeError(f"unsupported field type {hint!r}")  # a schema bug, caught by the tests


@per_class
def _specs(cls: type[Event]) -> tuple[_FieldSpec, ...]:
    hints = get_type_hints(cls)
    return tuple(
        _spec(
            f.name,
            hints[f.name],
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    )


_MISSING = object()


def decode(data: bytes | str) -> Event:
    """Parse and check one event; raises :class:`EventDecodeError` on anything invalid."""
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise EventDecodeError("not_json", str(exc)) from None
    if not isinstance(body, dict):
        raise EventDecodeError("not_object", "an event is a JSON object")
    type_name = body.get("type")
    cls = EVENT_TYPES.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise EventDecodeError("unknown_type", f"unknown event type {type_name!r}")
    version = body.get("v")
    if type(version) is not int or version < 1:
        raise EventDecodeError("bad_version", f"{cls.type}: schema version {version!r} is not a positive int")
    if version > cls.version:
        raise EventDecodeError(
            "newer_version", f"{cls.type} v{version} is newer than this reader (v{cls.version}); upgrade"
        )
    kwargs: dict[str, Any] = {}
    # One flat loop with inline type checks: this runs for every event a consumer reads.
    spec = None
    try:
        for spec in _specs(cls):
            raw = body.get(spec.name, _MISSING)
            if raw is _MISSING:
                if spec.required:
                    raise EventDecodeError("missing_field", f"{cls.type}: missing field {spec.name!r}")
            elif raw is None and spec.nullable:
                kwargs[spec.name] = None
            elif spec.exact is not None:
                # bool is an int in Python; keep them apart so `true` is not a timestamp.
                if type(raw) is not spec.exact:
                    raise TypeError(f"expected {spec.exact.__name__}, got {type(raw).__name__}")
                kwargs[spec.name] = raw
            else:
                assert spec.convert is not None
                kwargs[spec.name] = spec.convert(raw)
    except EventDecodeError:
        raise
    except (TypeError, ValueError) as exc:
        field = spec.name if spec is not None else "?"
        raise EventDecodeError("bad_field", f"{cls.type}.{field}: {exc}") from None
    return cls(**kwargs)

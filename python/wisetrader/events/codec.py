"""Events to JSON bytes and back (orjson), with every field checked on the way in.

The wire form is one flat JSON object: ``type`` and ``v`` first, then the fields. Decimals are written in
plain notation (``"0.00001"``, never ``"1E-5"``) and must arrive as strings: a JSON number in a money
field is refused, because it may already have been through a binary float.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
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


def _exact(kind: type) -> Converter:
    def check(raw: Any) -> Any:
        # bool is an int in Python; keep them apart so `true` is not a timestamp.
        if type(raw) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {type(raw).__name__}")
        return raw

    return check


def _converter(hint: Any) -> Converter:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        inner = _converter(args[0])
        return lambda raw: None if raw is None else inner(raw)
    if origin is Literal:
        allowed = frozenset(get_args(hint))

        def literal(raw: Any) -> Any:
            if raw not in allowed:
                raise ValueError(f"{raw!r} is not one of {sorted(allowed)}")
            return raw

        return literal
    if hint is Decimal:
        return _to_decimal
    if hint in (str, int, bool):
        return _exact(hint)
    raise TypeError(f"unsupported field type {hint!r}")  # a schema bug, caught by the tests


@per_class
def _converters(cls: type[Event]) -> tuple[tuple[str, Converter, bool], ...]:
    hints = get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append((f.name, _converter(hints[f.name]), required))
    return tuple(out)


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
    for name, convert, required in _converters(cls):
        if name not in body:
            if required:
                raise EventDecodeError("missing_field", f"{cls.type}: missing field {name!r}")
            continue
        try:
            kwargs[name] = convert(body[name])
        except (TypeError, ValueError) as exc:
            raise EventDecodeError("bad_field", f"{cls.type}.{name}: {exc}") from None
    return cls(**kwargs)

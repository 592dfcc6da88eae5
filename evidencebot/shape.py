"""Typed frozen dataclasses built from parsed TOML or JSON, with errors that name the key.

The config is read by every command, and pydantic costs about 80 ms to import and build
before the first model exists (measured: `benchmarks/startup.py`). The config needs a
handful of shapes — str, bool, int and float with bounds, time, Literal, list, tuple,
dict, optional, nested sections — so they are checked here, in microseconds, with
pydantic's wording ("Input should be greater than or equal to 1") so messages read the
same everywhere. Bounds live in field metadata (`bounded`); a field's own rule is a
``_checks`` entry: name (or "*", every field) -> function raising ValueError.

    build(Config, tomllib.loads(text))  # Config, or Invalid(loc, message)
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from datetime import time
from functools import cache
from typing import Any, Literal, TypeVar

T = TypeVar("T")

_BOUNDS = (("ge", "greater than or equal to", lambda v, b: v >= b),
           ("gt", "greater than", lambda v, b: v > b),
           ("le", "less than or equal to", lambda v, b: v <= b))


class Invalid(ValueError):
    """``loc`` (the key path) and one message; ``extra`` when the key is unknown."""

    def __init__(self, loc: tuple[str | int, ...], message: str, *, extra: bool = False):
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.extra = extra


def bounded(default: Any, *, ge: float | None = None, gt: float | None = None,
            le: float | None = None) -> Any:
    """A field with a default and numeric bounds."""
    meta = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le)) if v is not None}
    return dataclasses.field(default=default, metadata=meta)


def listed(*items: Any) -> Any:
    """A list field whose default is ``items`` (a fresh list per instance)."""
    return dataclasses.field(default_factory=lambda: list(items))


@cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def build(cls: type[T], data: Any, loc: tuple[str | int, ...] = ()) -> T:
    """An instance of the dataclass ``cls`` from ``data`` (a mapping); unknown keys and
    wrong values raise `Invalid`. Keys left out take the field's default."""
    if not isinstance(data, Mapping):
        raise Invalid(loc, "Input should be a valid dictionary")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = _hints(cls)  # type: ignore[arg-type]
    checks: Mapping[str, Callable[[Any], Any]] = getattr(cls, "_checks", {})
    values: dict[str, Any] = {}
    for key, raw in data.items():
        f = fields.get(key)
        if f is None:
            raise Invalid((*loc, str(key)), "Extra inputs are not permitted", extra=True)
        value = _value(hints[key], raw, (*loc, key), f.metadata)
        check = checks.get(key) or checks.get("*")
        if check is not None:
            try:
                value = check(value)
            except ValueError as e:
                raise Invalid((*loc, key), f"Value error, {e}") from None
        values[key] = value
    return cls(**values)


def _value(tp: Any, raw: Any, loc: tuple[str | int, ...], meta: Mapping[str, Any]) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if raw is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _value(inner, raw, loc, meta)
    if origin is Literal:
        if raw in args and type(raw) in {type(a) for a in args}:
            return raw
        alts = [repr(a) for a in args]
        said = alts[0] if len(alts) == 1 else ", ".join(alts[:-1]) + " or " + alts[-1]
        raise Invalid(loc, f"Input should be {said}")
    if origin is list:
        if not isinstance(raw, list | tuple):
            raise Invalid(loc, "Input should be a valid list")
        return [_value(args[0], item, (*loc, i), {}) for i, item in enumerate(raw)]
    if origin is tuple:
        if not isinstance(raw, list | tuple) or len(raw) != len(args):
            raise Invalid(loc, f"Input should be a valid tuple of {len(args)} items")
        return tuple(_value(a, item, (*loc, i), {})
                     for i, (a, item) in enumerate(zip(args, raw, strict=True)))
    if origin is dict:
        if not isinstance(raw, Mapping):
            raise Invalid(loc, "Input should be a valid dictionary")
        return {_value(args[0], k, loc, {}): _value(args[1], v, (*loc, str(k)), {})
                for k, v in raw.items()}
    if dataclasses.is_dataclass(tp):
        return build(tp, raw, loc)  # type: ignore[arg-type]
    return _scalar(tp, raw, loc, meta)


def _scalar(tp: Any, raw: Any, loc: tuple[str | int, ...], meta: Mapping[str, Any]) -> Any:
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        raise Invalid(loc, "Input should be a valid boolean")
    if tp is str:
        if isinstance(raw, str):
            return raw
        raise Invalid(loc, "Input should be a valid string")
    if tp is time:
        if isinstance(raw, time):
            return raw
        if isinstance(raw, str):
            try:
                return time.fromisoformat(raw)
            except ValueError:
                pass
        raise Invalid(loc, "Input should be in a valid time format, HH:MM[:SS]")
    if tp is int:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise Invalid(loc, "Input should be a valid integer")
    elif tp is float:
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            raise Invalid(loc, "Input should be a valid number")
        if not math.isfinite(raw):
            raise Invalid(loc, "Input should be a finite number")
        raw = float(raw)
    else:  # pragma: no cover - a shape this module was not taught
        raise TypeError(f"{loc}: no rule for {tp!r}")
    for key, words, holds in _BOUNDS:
        if key in meta and not holds(raw, meta[key]):
            raise Invalid(loc, f"Input should be {words} {meta[key]}")
    return raw


def as_dict(obj: Any) -> dict[str, Any]:
    """The dataclass as plain data (nested sections as dicts), as `build` reads it back."""
    return dataclasses.asdict(obj)

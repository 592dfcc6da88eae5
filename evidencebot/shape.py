"""Typed frozen classes (`frozen`) from parsed TOML or JSON, with errors that name the key.

The config, the evidence and void records and the report's metrics are read by nearly
every command, and pydantic costs about 80 ms to import and build before the first model
exists (measured: `benchmarks/startup.py`). They need a handful of shapes — str, bool,
int and float with bounds, time and datetime, Literal, enums, lists, tuples, dicts, Any,
optional and nested frozen classes, aliases — so they are checked here, in microseconds,
with pydantic's wording ("Input should be greater than or equal to 1") so messages read
the same everywhere. Bounds, aliases and strictness live in field metadata (`spec`,
`bounded`); a field's own rule is a ``_checks`` entry: name (or "*", every field) ->
function raising ValueError (not called for None).

    build(Config, tomllib.loads(text))  # Config, or Invalid(loc, message)
"""

from __future__ import annotations

import enum
import math
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time
from functools import cache
from typing import Any, Literal, TypeVar

from .frozen import MISSING, asdict, field, fields, is_frozen, maker

T = TypeVar("T")
# whole numbers in evidence stay below this (64 bits, signed): trailers, records, reports
INT_LIMIT = 2 ** 63

_BOUNDS = (("ge", "greater than or equal to", lambda v, b: v >= b),
           ("gt", "greater than", lambda v, b: v > b),
           ("le", "less than or equal to", lambda v, b: v <= b))
_BOUND_KEYS = frozenset(key for key, _words, _holds in _BOUNDS)


class Invalid(ValueError):
    """``loc`` (the key path) and one message; ``extra`` when the key is unknown, with the
    keys ``known`` there and whether its value is a table."""

    def __init__(self, loc: tuple[str | int, ...], message: str, *, extra: bool = False,
                 known: tuple[str, ...] = (), table: bool = False):
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.extra = extra
        self.known = known
        self.table = table

    def said(self, source: str) -> str:
        """One line naming ``source`` and the key: "unknown key [burnin] runz (did you mean
        runs?)", "unknown section [burnim] (did you mean [burnin]?)", "window.days: ..."."""
        loc = [str(p) for p in self.loc]
        if not self.extra:
            return f"{source}: {'.'.join(loc) or '(top level)'}: {self.message}"
        import difflib

        near = next(iter(difflib.get_close_matches(loc[-1], self.known, n=1)), None)
        if self.table:  # (a table of its own: a section)
            what, meant = f"section [{'.'.join(loc)}]", f"[{'.'.join([*loc[:-1], near or ''])}]"
        else:
            what = "key " + (f"[{'.'.join(loc[:-1])}] " if len(loc) > 1 else "") + loc[-1]
            meant = near or ""
        return f"{source}: unknown {what}" + (f" (did you mean {meant}?)" if near else "")


def bounded(default: Any, *, ge: float | None = None, gt: float | None = None,
            le: float | None = None) -> Any:
    """A field with a default and numeric bounds."""
    meta = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le)) if v is not None}
    return field(default=default, metadata=meta)


def spec(default: Any = MISSING, *, alias: str | None = None,
         strict: bool = False, ge: float | None = None, gt: float | None = None,
         le: float | None = None) -> Any:
    """A field with any of: a default, the key it has in files (``alias``), numeric
    bounds, ``strict`` (an int must be an int: no 3.0)."""
    meta: dict[str, Any] = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le))
                            if v is not None}
    meta |= {"alias": alias} if alias else {}
    meta |= {"strict": True} if strict else {}
    return field(default=default, metadata=meta)


def listed(*items: Any) -> Any:
    """A list field whose default is ``items`` (a fresh list per instance)."""
    return field(default_factory=lambda: list(items))


Reader = Callable[[Any, tuple[str | int, ...]], Any]  # (raw value, its key path) -> value


def _shown(raw: Any) -> str:
    """A value as a message shows it (newcomer 17: "1800.0" refused, and not said)."""
    text = ("true" if raw else "false") if isinstance(raw, bool) else \
        "null" if raw is None else repr(raw)  # (repr: no control character reaches a terminal)
    return f"{text[:40]}…" if len(text) > 40 else text


def build(cls: type[T], data: Any, loc: tuple[str | int, ...] = ()) -> T:
    """An instance of the dataclass ``cls`` from ``data`` (a mapping); unknown keys and
    wrong values raise `Invalid`. Keys left out take the field's default."""
    if not isinstance(data, Mapping):
        raise Invalid(loc, "Input should be a valid dictionary")
    by_key, required = _plan(cls)  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, raw in data.items():
        planned = by_key.get(key)
        if planned is None:
            raise Invalid((*loc, str(key)), "Extra inputs are not permitted", extra=True,
                          known=tuple(by_key), table=isinstance(raw, Mapping))
        name, read, check = planned
        value = read(raw, (*loc, key))
        if check is not None and value is not None:
            try:
                value = check(value)
            except (ValueError, OverflowError) as e:
                raise Invalid((*loc, key), f"Value error, {e}") from None
        if name in values:
            raise Invalid((*loc, key), "given twice (by its name and by its alias)")
        values[name] = value
    if not required.keys() <= values.keys():
        for name, key in required.items():
            if name not in values:
                raise Invalid((*loc, key), "Field required")
    return maker(cls)(values)  # type: ignore[arg-type]


Planned = tuple[str, Reader, Callable[[Any], Any] | None]  # field name, reader, own rule


@cache
def _plan(cls: Any) -> tuple[dict[str, Planned], dict[str, str]]:
    """How ``cls`` is built, worked out once: each key it is read from (the name, and the
    alias if any) -> (field name, reader, the field's own rule); and the required fields
    (name -> key)."""
    hints = typing.get_type_hints(cls)
    checks: Mapping[str, Callable[[Any], Any]] = getattr(cls, "_checks", {})
    by_key: dict[str, Planned] = {}
    required: dict[str, str] = {}
    for f in fields(cls):
        planned = (f.name, _reader(hints[f.name], tuple(f.metadata.items())),
                   checks.get(f.name) or checks.get("*"))
        by_key[f.name] = planned
        if "alias" in f.metadata:
            by_key[f.metadata["alias"]] = planned
        if f.default is MISSING and f.default_factory is MISSING:
            required[f.name] = f.metadata.get("alias", f.name)
    return by_key, required


@cache
def _reader(tp: Any, meta_items: tuple[tuple[str, Any], ...]) -> Reader:
    """The reader of values of type ``tp`` (with field metadata ``meta_items``): the
    type's shape is looked at once, not at every value."""
    if tp is Any:
        return lambda raw, loc: raw
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [a for a in args if a is not type(None)]
        read = _reader(inner, meta_items)
        if type(None) not in args:
            return read
        return lambda raw, loc: None if raw is None else read(raw, loc)
    if origin is Literal:
        kinds = {type(a) for a in args}
        literal = _one_of(list(args))

        def one_of(raw: Any, loc: tuple[str | int, ...]) -> Any:
            if raw in args and type(raw) in kinds:
                return raw
            raise Invalid(loc, literal)
        return one_of
    if origin in (list, tuple, dict):
        return _container(origin, args, meta_items)
    if is_frozen(tp):
        return lambda raw, loc: build(tp, raw, loc)  # type: ignore[arg-type]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        values = [m.value for m in tp]
        members = {m.value: m for m in tp}
        kind = type(values[0])
        wrong = _one_of(values)

        def member(raw: Any, loc: tuple[str | int, ...]) -> Any:
            if raw in values and type(raw) is kind:
                return members[raw]
            raise Invalid(loc, wrong)
        return member
    meta = dict(meta_items)
    if tp in (str, bool, int, float) and not meta.keys() & _BOUND_KEYS:
        # a value of exactly the type (nearly every value read) is taken as it is; any
        # other is left to `_scalar` (an int as a float, an error)
        def exact(raw: Any, loc: tuple[str | int, ...]) -> Any:
            if type(raw) is tp and (tp is not float or math.isfinite(raw)):
                return raw
            return _scalar(tp, raw, loc, meta)
        return exact
    return lambda raw, loc: _scalar(tp, raw, loc, meta)


def _container(origin: Any, args: tuple[Any, ...],
               meta_items: tuple[tuple[str, Any], ...]) -> Reader:
    if origin is list:
        item = _reader(args[0], ())

        def a_list(raw: Any, loc: tuple[str | int, ...]) -> Any:
            if not isinstance(raw, list | tuple):
                raise Invalid(loc, "Input should be a valid list")
            return [item(x, (*loc, i)) for i, x in enumerate(raw)]
        return a_list
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        each = _reader(args[0], meta_items)

        def a_tuple(raw: Any, loc: tuple[str | int, ...]) -> Any:
            if not isinstance(raw, list | tuple):
                raise Invalid(loc, "Input should be a valid tuple")
            return tuple(each(x, (*loc, i)) for i, x in enumerate(raw))
        return a_tuple
    if origin is tuple:
        parts = [_reader(a, ()) for a in args]

        def a_fixed_tuple(raw: Any, loc: tuple[str | int, ...]) -> Any:
            if not isinstance(raw, list | tuple) or len(raw) != len(parts):
                raise Invalid(loc, f"Input should be a valid tuple of {len(parts)} items")
            return tuple(r(x, (*loc, i))
                         for i, (r, x) in enumerate(zip(parts, raw, strict=True)))
        return a_fixed_tuple
    key, value = _reader(args[0], ()), _reader(args[1], ())

    def a_dict(raw: Any, loc: tuple[str | int, ...]) -> Any:
        if not isinstance(raw, Mapping):
            raise Invalid(loc, "Input should be a valid dictionary")
        return {key(k, loc): value(v, (*loc, str(k))) for k, v in raw.items()}
    return a_dict


def _one_of(values: list[Any]) -> str:
    alts = [repr(a) for a in values]
    return "Input should be " + (alts[0] if len(alts) == 1
                                 else ", ".join(alts[:-1]) + " or " + alts[-1])


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
    if tp is datetime:
        return _datetime(raw, loc)
    if tp is int:
        if isinstance(raw, float) and raw.is_integer() and abs(raw) < INT_LIMIT \
                and not meta.get("strict"):
            raw = int(raw)
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise Invalid(loc, f"Input should be a valid integer, not {_shown(raw)}")
        if abs(raw) >= INT_LIMIT:  # (trailers and records hold 64 bits: so does the rest)
            raise Invalid(loc, "Input should be within 64 bits")
    elif tp is float:
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            raise Invalid(loc, "Input should be a valid number")
        try:
            raw = float(raw)  # an int beyond a double's range overflows here
        except OverflowError:
            raise Invalid(loc, "Input should be a finite number") from None
        if not math.isfinite(raw):
            raise Invalid(loc, "Input should be a finite number")
    else:  # pragma: no cover - a shape this module was not taught
        raise TypeError(f"{loc}: no rule for {tp!r}")
    for key, words, holds in _BOUNDS:
        if key in meta and not holds(raw, meta[key]):
            raise Invalid(loc, f"Input should be {words} {meta[key]}")
    return raw


def _datetime(raw: Any, loc: tuple[str | int, ...]) -> datetime:
    """ISO 8601 text (a trailing Z included) or seconds since the epoch (UTC)."""
    if isinstance(raw, datetime):
        return raw
    try:
        if isinstance(raw, str):
            return datetime.fromisoformat(raw)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return datetime.fromtimestamp(raw, UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise Invalid(loc, "Input should be a valid datetime")


def as_dict(obj: Any, *, by_alias: bool = False) -> dict[str, Any]:
    """The dataclass as plain data (nested sections as dicts), as `build` reads it back;
    ``by_alias``: top-level keys as files name them."""
    doc = asdict(obj)
    if by_alias:
        names = {f.name: f.metadata["alias"] for f in fields(obj)
                 if "alias" in f.metadata}
        doc = {names.get(k, k): v for k, v in doc.items()}
    return doc

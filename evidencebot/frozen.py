"""`@frozen`: an immutable record class, made without compiling code or importing
`dataclasses`.

Python 3.11's ``dataclass(frozen=True)`` compiles six methods for every class, about
0.7 ms a class (a command loads some forty), and importing `dataclasses` imports
`inspect`, `ast`, `dis` and `tokenize`: about 5 ms at every start of verify, status and
record. `frozen` reads the class's annotations itself and gives it shared methods:

- ``__init__``: the same parameters as the dataclass (positional, then keyword-only),
  defaults, default factories and ``__post_init__``, and the same kind of TypeError for
  a wrong call;
- ``__repr__``, ``__eq__`` and ``__hash__`` over the fields, as the dataclass has them;
- assigning or deleting an attribute raises `FrozenInstanceError` (an AttributeError).

`field`, `fields`, `asdict` and `replace` are what `dataclasses` has for these classes;
mypy reads them through `dataclass_transform`. tests/test_frozen.py holds each behaviour
against ``dataclass(frozen=True)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from operator import attrgetter
from types import MappingProxyType
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # no default (no default factory)
Param = tuple[str, Any, Any]  # name, default, default factory (MISSING when none)


class FrozenInstanceError(AttributeError):
    """An attribute of a frozen instance assigned or deleted."""


class Field:
    """One field of a frozen class: what `field` was given, and its name."""

    __slots__ = ("name", "default", "default_factory", "kw_only", "compare", "repr", "hash",
                 "metadata")

    def __init__(self, default: Any, default_factory: Any, kw_only: bool | None,
                 compare: bool, repr: bool, hash: bool | None,
                 metadata: Mapping[str, Any] | None) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.kw_only = kw_only
        self.compare = compare
        self.repr = repr
        self.hash = hash
        self.metadata: Mapping[str, Any] = MappingProxyType(dict(metadata or {}))

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING,
          kw_only: bool | None = None, compare: bool = True, repr: bool = True,
          hash: bool | None = None, metadata: Mapping[str, Any] | None = None) -> Any:
    """A field with a default or a default factory, its own keyword-only flag, left out
    of comparison or repr, or carrying ``metadata`` (as `dataclasses.field`)."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, kw_only, compare, repr, hash, metadata)


def fields(cls_or_instance: Any) -> tuple[Field, ...]:
    """The fields of a frozen class (or of an instance of one), in order."""
    try:
        return cls_or_instance.__frozen_fields__  # type: ignore[no-any-return]
    except AttributeError:
        raise TypeError("must be called with a frozen class or instance") from None


def is_frozen(obj: Any) -> bool:
    """Whether ``obj`` is a frozen class or an instance of one."""
    return hasattr(obj, "__frozen_fields__")


def asdict(obj: Any) -> dict[str, Any]:
    """A frozen instance as a dict of its fields, recursively (frozen instances, lists,
    tuples and dicts within it converted too; other values copied), as
    `dataclasses.asdict`."""
    if isinstance(obj, type) or not is_frozen(obj):
        raise TypeError("asdict() should be called on frozen instances")
    return _plain(obj)  # type: ignore[no-any-return]


_IMMUTABLE = (str, int, float, bool, bytes, type(None))


def _plain(value: Any) -> Any:
    if isinstance(value, _IMMUTABLE):
        return value
    if is_frozen(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in value.__frozen_fields__}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return type(value)(*[_plain(v) for v in value])
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    import copy

    return copy.deepcopy(value)


@cache
def maker(cls: type[T]) -> Callable[[dict[str, Any]], T]:
    """How an instance of ``cls`` is made from values by field name that a caller has
    checked already (every required field there, no other name): a frozen class without
    ``__post_init__`` gets them set at once, with its defaults and default factories
    where a value is missing (what its ``__init__`` does field by field: `shape.build`
    makes a record at every run verify walks); any other class is called."""
    params = getattr(cls, "__frozen_params__", None)
    if params is None or hasattr(cls, "__post_init__"):
        return lambda values: cls(**values)
    every = [p for group in params for p in group]
    defaults = {name: default for name, default, _f in every if default is not MISSING}
    factories = [(name, factory) for name, _d, factory in every if factory is not MISSING]
    new = object.__new__

    def make(values: dict[str, Any]) -> T:
        obj = new(cls)
        state = obj.__dict__
        state.update(defaults)
        state.update(values)
        for name, factory in factories:
            if name not in values:
                state[name] = factory()
        return obj
    return make


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the frozen instance ``obj`` with ``changes`` (field name -> value)."""
    for f in fields(obj):
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return type(obj)(**changes)


@overload
def frozen(cls: type[T], /) -> type[T]: ...


@overload
def frozen(*, kw_only: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: type[T] | None = None, /, *,
           kw_only: bool = False) -> type[T] | Callable[[type[T]], type[T]]:
    """``cls`` made frozen (``kw_only``: every field it declares is keyword-only)."""

    def make(c: type[T]) -> type[T]:
        own = [name for name in _MADE if name in c.__dict__]
        if own:  # a dataclass would keep some of them: say so rather than drop them quietly
            raise TypeError(f"{c.__qualname__}: @frozen makes {', '.join(own)} itself")
        made = _frozen(c, _collect(c, kw_only))
        if not c.__doc__:  # what dataclass would have written, without the annotations
            names = ", ".join(f.name for f in made.__frozen_fields__)  # type: ignore[attr-defined]
            made.__doc__ = f"{c.__name__}({names})"
        return made

    return make if cls is None else make(cls)


_MADE = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")


def _collect(cls: type, kw_only: bool) -> list[Field]:
    """The fields of ``cls``: its frozen bases' (the furthest first), then its own
    annotations but ClassVars, in order; a field declared again keeps its place, and a
    default it does not give again is its base's (as `dataclasses` reads them)."""
    found: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get("__frozen_fields__", ()):
            found[f.name] = f
    annotations = cls.__dict__.get("__annotations__", {})
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in annotations:
            raise TypeError(f"{cls.__qualname__}.{name} is a field but has no type annotation")
    for name, annotation in annotations.items():
        kind = _kind(annotation)
        if kind == "ClassVar":
            continue
        if kind:
            raise TypeError(f"{cls.__qualname__}.{name}: @frozen has no {kind} fields")
        given = getattr(cls, name, MISSING)
        if type(given).__module__ == "dataclasses":  # (dataclasses.field: read as a default)
            raise TypeError(f"{cls.__qualname__}.{name}: a @frozen class takes "
                            "evidencebot.frozen.field, not dataclasses.field")
        f = given if isinstance(given, Field) else \
            Field(given, MISSING, None, True, True, None, None)
        f.name = name
        if f.kw_only is None:
            f.kw_only = kw_only
        if f.default is not MISSING and type(f.default).__hash__ is None:
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not "
                             "allowed: use default_factory")
        if isinstance(given, Field):  # the class keeps the default, as a dataclass's does
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        found[name] = f
    return list(found.values())


_SPECIAL = re.compile(r"(?:\w+\.)?(ClassVar|InitVar|KW_ONLY)\b")


def _kind(annotation: Any) -> str:
    """"ClassVar", "InitVar" or "KW_ONLY" for such an annotation, else ""."""
    if isinstance(annotation, str):  # (annotations are text under `from __future__`)
        found = _SPECIAL.match(annotation.strip())
        return found.group(1) if found else ""
    from typing import ClassVar, get_origin

    if annotation is ClassVar or get_origin(annotation) is ClassVar:
        return "ClassVar"
    source = annotation if isinstance(annotation, type) else type(annotation)
    return source.__name__ if source.__module__ == "dataclasses" else ""


def _frozen(cls: type[T], fields: list[Field]) -> type[T]:
    positional: list[Param] = []
    keyword: list[Param] = []
    for f in fields:
        param = (f.name, f.default, f.default_factory)
        if f.kw_only:
            keyword.append(param)
            continue
        if positional and positional[-1][1:] != (MISSING, MISSING) and \
                param[1:] == (MISSING, MISSING):
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        positional.append(param)
    compared = [f.name for f in fields if f.compare]
    hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
    names: dict[str, Any] = {
        "__frozen_fields__": tuple(fields),
        "__frozen_params__": (tuple(positional), tuple(keyword)),
        "__frozen_repr__": tuple(f.name for f in fields if f.repr),
        "__frozen_compare__": staticmethod(_getter(compared)),
        "__frozen_hash__": staticmethod(_getter(hashed)),
        "__match_args__": tuple(p[0] for p in positional),
        "__init__": _init, "__repr__": _repr, "__eq__": _eq, "__hash__": _hash,
        "__setattr__": _setattr, "__delattr__": _delattr,
    }
    for name, value in names.items():
        setattr(cls, name, value)  # type.__setattr__: the class, not an instance
    return cls


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)  # type: ignore[return-value]


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    positional, keyword = cls.__frozen_params__
    if len(args) > len(positional):
        raise TypeError(f"{cls.__qualname__}.__init__() takes {len(positional) + 1} "
                        f"positional arguments but {len(args) + 1} were given")
    put = object.__setattr__
    for i, param in enumerate(positional):
        if i < len(args):
            if param[0] in kwargs:
                raise TypeError(f"{cls.__qualname__}.__init__() got multiple values for "
                                f"argument {param[0]!r}")
            put(self, param[0], args[i])
        else:
            put(self, param[0], _value(cls, param, kwargs, "positional"))
    for param in keyword:
        put(self, param[0], _value(cls, param, kwargs, "keyword-only"))
    if kwargs:
        raise TypeError(f"{cls.__qualname__}.__init__() got an unexpected keyword argument "
                        f"{next(iter(kwargs))!r}")
    post = getattr(self, "__post_init__", None)
    if post is not None:
        post()


def _value(cls: type, param: Param, kwargs: dict[str, Any], kind: str) -> Any:
    """A parameter's value: given by keyword (taken out of ``kwargs``), else its default."""
    name, default, factory = param
    if name in kwargs:
        return kwargs.pop(name)
    if default is not MISSING:
        return default
    if factory is not MISSING:
        return factory()
    raise TypeError(f"{cls.__qualname__}.__init__() missing 1 required {kind} argument: "
                    f"{name!r}")


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__frozen_repr__)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    get = self.__frozen_compare__
    return bool(get(self) == get(other))


def _hash(self: Any) -> int:
    return hash(self.__frozen_hash__(self))


def _setattr(self: Any, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")

"""`@frozen`: a frozen dataclass, made without compiling code.

Python 3.11's ``dataclass(frozen=True)`` compiles six methods for every class, about
0.7 ms a class; a command loads some forty of them, so every run paid about 25 ms before
it did anything. `frozen` lets `dataclasses.dataclass` collect the fields (with init, repr
and eq off it compiles nothing) and gives the class shared methods that read them:

- ``__init__``: the same parameters (positional, then keyword-only), defaults, default
  factories and ``__post_init__``, and the same kind of TypeError for a wrong call;
- ``__repr__``, ``__eq__`` and ``__hash__`` over the fields, as the dataclass has them;
- assigning or deleting an attribute raises `dataclasses.FrozenInstanceError`.

To `dataclasses.fields`, `asdict` and `replace`, and to mypy (`dataclass_transform`), the
class is a frozen dataclass. tests/test_frozen.py holds each behaviour against
``dataclass(frozen=True)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")

_MISSING = dataclasses.MISSING
Param = tuple[str, Any, Any]  # name, default, default factory (MISSING when none)


@overload
def frozen(cls: type[T], /) -> type[T]: ...


@overload
def frozen(*, kw_only: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen(cls: type[T] | None = None, /, *,
           kw_only: bool = False) -> type[T] | Callable[[type[T]], type[T]]:
    """``cls`` as a frozen dataclass (``kw_only``: every field it declares is keyword-only)."""

    def make(c: type[T]) -> type[T]:
        undocumented = not c.__doc__
        if undocumented:  # else dataclass asks inspect for object.__init__'s signature,
            c.__doc__ = c.__name__  # which compiles tokenize's patterns: about 8 ms
        own = [name for name in _MADE if name in c.__dict__]
        if own:  # a dataclass would keep some of them: say so rather than drop them quietly
            raise TypeError(f"{c.__qualname__}: @frozen makes {', '.join(own)} itself")
        # frozen as its bases are (dataclass refuses a mix); only a subclass pays for it
        based = any(getattr(b, "__dataclass_params__", None) is not None for b in c.__mro__[1:])
        made = _frozen(dataclasses.dataclass(c, init=False, repr=False, eq=False,
                                             frozen=based, kw_only=kw_only))
        if undocumented:  # what dataclass would have written, without the annotations
            names = ", ".join(f.name for f in dataclasses.fields(made))  # type: ignore[arg-type]
            made.__doc__ = f"{c.__name__}({names})"
        return made

    return make if cls is None else make(cls)


_MADE = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")


def _frozen(cls: type[T]) -> type[T]:
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    params.init = params.repr = params.eq = params.frozen = True  # what the class now is
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    positional: list[Param] = []
    keyword: list[Param] = []
    for f in fields:
        if not f.init:
            raise TypeError(f"{cls.__qualname__}.{f.name}: frozen has no init=False fields")
        param = (f.name, f.default, f.default_factory)
        if f.kw_only:
            keyword.append(param)
            continue
        if positional and positional[-1][1:] != (_MISSING, _MISSING) and \
                param[1:] == (_MISSING, _MISSING):
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        positional.append(param)
    compared = [f.name for f in fields if f.compare]
    hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
    names: dict[str, Any] = {
        "__frozen_params__": (tuple(positional), tuple(keyword)),
        "__frozen_repr__": tuple(f.name for f in fields if f.repr),
        "__frozen_compare__": staticmethod(_getter(compared)),
        "__frozen_hash__": staticmethod(_getter(hashed)),
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
    if default is not _MISSING:
        return default
    if factory is not _MISSING:
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
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

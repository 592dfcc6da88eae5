"""`@frozen` behaves as `@dataclass(frozen=True)`: each class below is made both ways and
every call, comparison and refusal is held against the dataclass's."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidencebot.frozen import frozen


def both(make: Callable[[Callable[[type], type]], type]) -> list[type]:
    return [make(dataclasses.dataclass(frozen=True)), make(frozen)]


def plain(deco: Callable[[type], type]) -> type:
    class Plain:
        a: int
        b: str = "b"
        c: list[int] = dataclasses.field(default_factory=lambda: [1])
        d: int = dataclasses.field(default=4, compare=False, repr=False)
        note: ClassVar[str] = "not a field"

    return deco(Plain)


def keyword(deco: Callable[[type], type]) -> type:
    class Base:
        x: int
        y: int = 2

    base = deco(Base)

    class Child(base):  # type: ignore[valid-type,misc]
        z: int = dataclasses.field(kw_only=True, default=3)
        w: int = dataclasses.field(kw_only=True)

    return deco(Child)


def posted(deco: Callable[[type], type]) -> type:
    class Posted:
        n: int

        def __post_init__(self) -> None:
            if self.n < 0:
                raise ValueError("negative")

    return deco(Posted)


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        value = call()
    except (TypeError, ValueError, dataclasses.FrozenInstanceError, AttributeError) as e:
        return type(e).__name__, None
    return "ok", value


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}), ((1,), {}), ((1, "x"), {}), ((1, "x", [2], 5), {}), ((1, "x", [2], 5, 6), {}),
    ((), {"a": 1}), ((1,), {"a": 1}), ((), {"a": 1, "zz": 2}), ((), {"a": 1, "d": 9}),
]


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_calls_build_or_refuse_as_the_dataclass(args: tuple[Any, ...],
                                                kwargs: dict[str, Any]) -> None:
    real, ours = both(plain)
    a, b = outcome(lambda: real(*args, **kwargs)), outcome(lambda: ours(*args, **kwargs))
    assert a[0] == b[0]
    if a[0] == "ok":
        assert dataclasses.asdict(a[1]) == dataclasses.asdict(b[1])
        assert repr(a[1]).split("(", 1)[1] == repr(b[1]).split("(", 1)[1]


@settings(max_examples=100, deadline=None)
@given(x=st.integers(), y=st.integers(), z=st.integers(), w=st.integers(),
       use=st.sets(st.sampled_from(["x", "y", "z", "w"])), positional=st.integers(0, 3))
def test_keyword_only_fields_and_inheritance_as_the_dataclass(
        x: int, y: int, z: int, w: int, use: set[str], positional: int) -> None:
    values = {"x": x, "y": y, "z": z, "w": w}
    args = tuple(values[k] for k in ("x", "y", "z")[:positional])
    kwargs = {k: values[k] for k in use if k not in ("x", "y", "z")[:positional]}
    real, ours = both(keyword)
    a, b = outcome(lambda: real(*args, **kwargs)), outcome(lambda: ours(*args, **kwargs))
    assert a[0] == b[0]
    if a[0] == "ok":
        assert dataclasses.astuple(a[1]) == dataclasses.astuple(b[1])


def test_equality_hash_and_order_of_fields_as_the_dataclass() -> None:
    for cls in both(plain):
        one, same, other = cls(1), cls(1, d=99), cls(2)
        assert one == same  # d is not compared
        assert one != other and one != (1, "b", [1], 4)
        assert [f.name for f in dataclasses.fields(cls)] == ["a", "b", "c", "d"]
        assert cls(1).c is not cls(1).c  # a fresh default per instance
        with pytest.raises(TypeError, match="unhashable"):
            hash(one)  # a list field cannot be hashed
    for cls in both(keyword):
        assert hash(cls(1, w=2)) == hash(cls(1, w=2)) and cls(1, w=2) != cls(1, w=3)
        assert {cls(1, w=2), cls(1, w=2)} == {cls(1, w=2)}


def test_assigning_or_deleting_is_refused() -> None:
    for cls in both(plain):
        obj = cls(1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.a = 2
        with pytest.raises(dataclasses.FrozenInstanceError):
            del obj.b
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.new = 1
        assert obj.a == 1


def test_post_init_runs() -> None:
    for cls in both(posted):
        assert cls(1).n == 1
        with pytest.raises(ValueError, match="negative"):
            cls(-1)


@frozen
class Stored:
    a: int
    b: tuple[str, ...] = ()


def test_replace_copy_and_pickle_keep_the_values() -> None:
    obj = Stored(1, ("x",))
    assert dataclasses.replace(obj, b=("y",)) == Stored(1, ("y",))
    assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj
    assert pickle.loads(pickle.dumps(obj)) == obj
    assert dataclasses.asdict(obj) == {"a": 1, "b": ("x",)}


def test_a_required_field_after_a_default_is_refused_as_by_the_dataclass() -> None:
    class Bad:
        a: int = 1
        b: int

    with pytest.raises(TypeError, match="non-default argument 'b'"):
        frozen(Bad)


def test_the_models_commands_load_are_frozen_this_way() -> None:
    """The config, the records and the recorder's results: what every command loads."""
    from evidencebot.config import Config
    from evidencebot.evidence.record import EvidenceRecord
    from evidencebot.ledger.workspace import Context

    for cls in (Config, EvidenceRecord, Context):
        assert cls.__init__.__module__ == "evidencebot.frozen"


def test_a_dataclass_may_build_on_it_and_its_own_methods_are_refused() -> None:
    """It says it is frozen (so a frozen dataclass may subclass it, a mutable one may
    not), and a class that writes a method @frozen makes is refused, not overridden."""
    assert dataclasses.fields(Stored) and Stored.__dataclass_params__.frozen  # type: ignore[attr-defined]

    @dataclasses.dataclass(frozen=True)
    class More(Stored):
        c: int = 3

    assert More(1) == More(1, (), 3) and More(1) != More(1, c=4)
    with pytest.raises(TypeError, match="non-frozen"):
        @dataclasses.dataclass
        class Loose(Stored):
            pass

    with pytest.raises(TypeError, match="__repr__"):
        @frozen
        class Own:
            a: int

            def __repr__(self) -> str:
                return "mine"

"""`@frozen` behaves as `@dataclass(frozen=True)`: each class below is made both ways (with
each one's own `field`) and every call, comparison, refusal and helper (`fields`,
`asdict`, `replace`) is held against the dataclass's."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
import typing
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidencebot import frozen as ours
from evidencebot.frozen import frozen

Make = Callable[[Callable[[type], type], Callable[..., Any]], type]


def both(make: Make) -> list[tuple[type, ModuleType]]:
    """The class ``make`` makes as a frozen dataclass and as @frozen, each with the module
    whose `field`, `fields`, `asdict`, `replace` and `FrozenInstanceError` go with it."""
    return [(make(dataclasses.dataclass(frozen=True), dataclasses.field), dataclasses),
            (make(frozen, ours.field), ours)]


def plain(deco: Callable[[type], type], field: Callable[..., Any]) -> type:
    class Plain:
        a: int
        b: str = "b"
        c: list[int] = field(default_factory=lambda: [1])
        d: int = field(default=4, compare=False, repr=False)
        note: ClassVar[str] = "not a field"

    return deco(Plain)


def keyword(deco: Callable[[type], type], field: Callable[..., Any]) -> type:
    class Base:
        x: int
        y: int = 2

    base = deco(Base)

    class Child(base):  # type: ignore[valid-type,misc]
        z: int = field(kw_only=True, default=3)
        w: int = field(kw_only=True)

    return deco(Child)


def posted(deco: Callable[[type], type], field: Callable[..., Any]) -> type:
    class Posted:
        n: int

        def __post_init__(self) -> None:
            if self.n < 0:
                raise ValueError("negative")

    return deco(Posted)


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        value = call()
    except (TypeError, ValueError, AttributeError) as e:
        return type(e).__name__, None
    return "ok", value


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}), ((1,), {}), ((1, "x"), {}), ((1, "x", [2], 5), {}), ((1, "x", [2], 5, 6), {}),
    ((), {"a": 1}), ((1,), {"a": 1}), ((), {"a": 1, "zz": 2}), ((), {"a": 1, "d": 9}),
]


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_calls_build_or_refuse_as_the_dataclass(args: tuple[Any, ...],
                                                kwargs: dict[str, Any]) -> None:
    (real, dc), (mine, fz) = both(plain)
    a, b = outcome(lambda: real(*args, **kwargs)), outcome(lambda: mine(*args, **kwargs))
    assert a[0] == b[0]
    if a[0] == "ok":
        assert dc.asdict(a[1]) == fz.asdict(b[1])
        assert repr(a[1]).split("(", 1)[1] == repr(b[1]).split("(", 1)[1]


@settings(max_examples=100, deadline=None)
@given(x=st.integers(), y=st.integers(), z=st.integers(), w=st.integers(),
       use=st.sets(st.sampled_from(["x", "y", "z", "w"])), positional=st.integers(0, 3))
def test_keyword_only_fields_and_inheritance_as_the_dataclass(
        x: int, y: int, z: int, w: int, use: set[str], positional: int) -> None:
    values = {"x": x, "y": y, "z": z, "w": w}
    args = tuple(values[k] for k in ("x", "y", "z")[:positional])
    kwargs = {k: values[k] for k in use if k not in ("x", "y", "z")[:positional]}
    (real, dc), (mine, fz) = both(keyword)
    a, b = outcome(lambda: real(*args, **kwargs)), outcome(lambda: mine(*args, **kwargs))
    assert a[0] == b[0]
    if a[0] == "ok":
        assert dc.asdict(a[1]) == fz.asdict(b[1])
        assert list(dc.asdict(a[1])) == list(fz.asdict(b[1]))  # (the fields' order)


def test_equality_hash_and_order_of_fields_as_the_dataclass() -> None:
    for cls, mod in both(plain):
        one, same, other = cls(1), cls(1, d=99), cls(2)
        assert one == same  # d is not compared
        assert one != other and one != (1, "b", [1], 4)
        assert [f.name for f in mod.fields(cls)] == ["a", "b", "c", "d"]
        assert cls(1).c is not cls(1).c  # a fresh default per instance
        # defaults stay on the class, default factories do not
        assert vars(cls)["b"] == "b" and "c" not in vars(cls)
        with pytest.raises(TypeError, match="unhashable"):
            hash(one)  # a list field cannot be hashed
    for cls, _mod in both(keyword):
        assert hash(cls(1, w=2)) == hash(cls(1, w=2)) and cls(1, w=2) != cls(1, w=3)
        assert {cls(1, w=2), cls(1, w=2)} == {cls(1, w=2)}


def test_assigning_or_deleting_is_refused() -> None:
    for cls, mod in both(plain):
        obj = cls(1)
        with pytest.raises(mod.FrozenInstanceError):
            obj.a = 2
        with pytest.raises(mod.FrozenInstanceError):
            del obj.b
        with pytest.raises(mod.FrozenInstanceError):
            obj.new = 1
        assert obj.a == 1
    assert issubclass(ours.FrozenInstanceError, AttributeError)


def test_post_init_runs() -> None:
    for cls, _mod in both(posted):
        assert cls(1).n == 1
        with pytest.raises(ValueError, match="negative"):
            cls(-1)


@frozen
class Stored:
    a: int
    b: tuple[str, ...] = ()


@frozen
class Nested:
    inner: Stored
    many: list[Stored] = ours.field(default_factory=list)
    by_name: dict[str, Stored] = ours.field(default_factory=dict)


def test_replace_copy_and_pickle_keep_the_values() -> None:
    obj = Stored(1, ("x",))
    assert ours.replace(obj, b=("y",)) == Stored(1, ("y",))
    assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj
    assert pickle.loads(pickle.dumps(obj)) == obj
    assert ours.asdict(obj) == {"a": 1, "b": ("x",)}
    with pytest.raises(TypeError, match="unexpected keyword"):
        ours.replace(obj, c=1)


def test_asdict_converts_nested_values_as_the_dataclass_does() -> None:
    @dataclasses.dataclass(frozen=True)
    class RealStored:
        a: int
        b: tuple[str, ...] = ()

    @dataclasses.dataclass(frozen=True)
    class RealNested:
        inner: RealStored
        many: list[RealStored] = dataclasses.field(default_factory=list)
        by_name: dict[str, RealStored] = dataclasses.field(default_factory=dict)

    mine = Nested(Stored(1), [Stored(2, ("x",))], {"k": Stored(3)})
    real = RealNested(RealStored(1), [RealStored(2, ("x",))], {"k": RealStored(3)})
    assert ours.asdict(mine) == dataclasses.asdict(real)
    for wrong in (Nested, 3):
        with pytest.raises(TypeError):
            ours.asdict(wrong)


def test_a_required_field_after_a_default_is_refused_as_by_the_dataclass() -> None:
    class Bad:
        a: int = 1
        b: int

    with pytest.raises(TypeError, match="non-default argument 'b'"):
        frozen(Bad)


def test_a_mutable_default_or_a_dataclasses_field_is_refused() -> None:
    class Listed:
        a: list[int] = []  # noqa: RUF012

    with pytest.raises(ValueError, match="use default_factory"):
        frozen(Listed)

    class Foreign:
        a: int = dataclasses.field(default=1)

    with pytest.raises(TypeError, match="evidencebot.frozen.field"):
        frozen(Foreign)
    with pytest.raises(ValueError, match="both default and default_factory"):
        ours.field(default=1, default_factory=int)


def test_the_models_commands_load_are_frozen_this_way() -> None:
    """The config, the records and the recorder's results: what every command loads."""
    from evidencebot.config import Config
    from evidencebot.evidence.record import EvidenceRecord
    from evidencebot.ledger.workspace import Context

    for cls in (Config, EvidenceRecord, Context):
        assert cls.__init__.__module__ == "evidencebot.frozen"


def test_a_frozen_class_builds_on_a_frozen_class_and_its_own_methods_are_refused() -> None:
    """A subclass adds fields after its base's (one declared again keeps its place), and
    a class that writes a method @frozen makes is refused, not overridden."""
    @frozen
    class More(Stored):
        c: int = 3
        a: int = 0

    assert [f.name for f in ours.fields(More)] == ["a", "b", "c"]
    assert More() == More(0, (), 3) and More(1) != More(1, c=4)
    with pytest.raises(TypeError, match="__repr__"):
        @frozen
        class Own:
            a: int

            def __repr__(self) -> str:
                return "mine"


def test_verify_status_and_record_start_without_dataclasses() -> None:
    """The models every command loads import no `dataclasses` (it imports inspect, ast,
    dis and tokenize: about 5 ms at every start)."""
    code = ("import sys, evidencebot.config, evidencebot.evidence.record, "
            "evidencebot.ledger.verify, evidencebot.ledger.recorder; "
            "print(sorted(m for m in ('dataclasses', 'inspect') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_defaults_classvars_and_mutable_defaults_are_read_as_the_dataclass_reads_them() -> None:
    """A field declared again without a default keeps its base's; ClassVar however it is
    spelled is no field; an unhashable default (a bytearray too) is refused."""

    def inherited(deco: Callable[[type], type], field: Callable[..., Any]) -> type:
        class Base:
            x: int = 3

        class Again(deco(Base)):  # type: ignore[misc]
            x: int
            y: typing.ClassVar[int] = 1

        return deco(Again)

    for cls, mod in both(inherited):
        assert [f.name for f in mod.fields(cls)] == ["x"] and cls().x == 3
    for deco in (dataclasses.dataclass(frozen=True), frozen):
        class Unhashable:
            a: bytearray = bytearray()

        with pytest.raises(ValueError, match="mutable default"):
            deco(Unhashable)


def test_what_frozen_does_not_take_is_refused_not_misread() -> None:
    class Unannotated:
        a = ours.field(default=1)

    class Init:
        a: dataclasses.InitVar[int]

    class KwOnly:
        _: dataclasses.KW_ONLY
        a: int = 1

    for cls, said in ((Unannotated, "no type annotation"), (Init, "no InitVar"),
                      (KwOnly, "no KW_ONLY")):
        with pytest.raises(TypeError, match=said):
            frozen(cls)

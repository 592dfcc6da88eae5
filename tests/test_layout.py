"""The house's shape: rooms that import one way (import-linter), no import cycles, small
modules and functions. A newcomer finds the room from the folder listing."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "evidencebot"


def test_import_linter_contracts_are_kept() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = re.search(r"Contracts: (\d+) kept, (\d+) broken", proc.stdout)
    assert summary and int(summary.group(1)) >= 2 and summary.group(2) == "0", proc.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.find_modules_directly_imported_by(v)):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for m in modules:
        if m not in index:
            visit(m)
    return found


def test_no_import_cycle_between_modules_counting_imports_inside_functions() -> None:
    graph = grimp.build_graph("evidencebot", cache_dir=None)  # function-level imports count
    # A package's __init__ importing its own submodules (cli registers its commands) is
    # the package, not a cycle between modules: compare modules, not packages.
    for pkg in ("evidencebot.cli",):
        for child in graph.find_children(pkg):
            if graph.direct_import_exists(importer=pkg, imported=child):
                graph.remove_import(importer=pkg, imported=child)
    assert _cycles(graph) == []


def test_small_modules_and_few_at_the_top() -> None:
    big = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert big == {}
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top


def test_no_function_over_60_lines_without_a_reason_next_to_it() -> None:
    long: list[str] = []
    for p in PACKAGE.rglob("*.py"):
        lines = p.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if node.end_lineno - node.lineno + 1 > 60 and \
                        not lines[first - 2].lstrip().startswith("# long:"):
                    long.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert long == []


def test_every_room_says_what_it_holds_and_may_import() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and ("import" in doc or init.parent.name in ("sim", "templates")), init


def imported(entry: str, argv: list[str], heavy: list[str], cwd: Path) -> tuple[list[str], int]:
    """(which of ``heavy`` are imported, the exit code) once ``entry``'s main(argv) ran
    in a fresh interpreter ("evidencebot.cli" or "evidencebot.__main__")."""
    probe = (f"import sys\nfrom {entry} import main\ncode = main({argv!r})\n"
             f"print([m for m in {heavy!r} if m in sys.modules], code, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=cwd)
    last = done.stderr.strip().splitlines()[-1]
    found, _, code = last.rpartition(" ")
    assert found.startswith("["), done.stderr
    return ast.literal_eval(found), int(code)


@pytest.mark.parametrize("argv", [["status"], ["history", "--json"], ["history"], ["--help"],
                                  ["verify"]])
def test_reading_commands_do_not_import_pydantic(argv: list[str], trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                 tmp_path: Path) -> None:
    """pydantic costs about 80 ms a process: only the --json models (a schema, a status
    document) pay for it; config, records and reports are checked by `shape`."""
    from conftest import record_run

    record_run(cli, trading_repo, 8)
    argv = ["--repo", str(trading_repo), *argv]
    assert imported("evidencebot.cli", argv, ["pydantic"], tmp_path) == ([], 0)


def test_help_loads_no_config_record_or_parser(tmp_path: Path) -> None:
    """`--help` is the start-up floor: no command module (their lines come from
    `page.COMMANDS`), nothing a command only needs once it runs (nor click: `page`)."""
    from evidencebot.cli.app import COMMANDS

    modules = sorted({f"evidencebot.cli.{module}" for module, _line in COMMANDS.values()})
    heavy = ["evidencebot.config", "evidencebot.evidence.record", "markdown_it", "jinja2",
             "holidays", "pydantic", "rich", *modules]
    assert imported("evidencebot.cli", ["--help"], heavy, tmp_path) == ([], 0)
    # a command imports its own module and no other command's
    found, code = imported("evidencebot.cli", ["verify", "--help"], modules, tmp_path)
    assert (found, code) == (["evidencebot.cli.verify"], 0)


def test_the_command_table_is_the_commands_the_modules_define() -> None:
    """`page.COMMANDS` names each command's module and its `--help` line: once every
    module is imported, the group holds exactly those commands, each from its module,
    and `--help` lists each with its line."""
    from click.testing import CliRunner

    from evidencebot.cli.app import COMMANDS, cli, every_command

    every = every_command()
    assert set(every) == set(COMMANDS)
    for name, cmd in every.items():
        assert cmd.callback is not None
        assert cmd.callback.__module__ == f"evidencebot.cli.{COMMANDS[name][0]}", name
    out = CliRunner().invoke(cli, ["--help"], terminal_width=200).output
    listed = out.split("Commands:\n", 1)[1].splitlines()
    assert [ln.split(None, 1) for ln in listed if ln.strip()] == \
        [[name, line] for name, (_module, line) in sorted(COMMANDS.items())]


def test_the_hook_imports_nothing_it_does_not_need(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The hook runs on every commit: judging a record's change imports no dataclasses
    (inspect, ast, dis), no Markdown parser, no click, no config or record models."""
    from conftest import git, record_run

    record_run(cli, trading_repo, 8)
    git(trading_repo, "switch", "-q", "ops/evidence")
    (trading_repo / "SESSION_LOG.md").write_bytes(
        (trading_repo / "SESSION_LOG.md").read_bytes() + b"\nA hand note.\n")
    git(trading_repo, "add", "SESSION_LOG.md")
    heavy = ["dataclasses", "click", "markdown_it", "evidencebot.config",
             "evidencebot.evidence.record", "jinja2", "pydantic", "tempfile"]
    found, _code = imported("evidencebot.__main__", ["hook", "pre-commit"], heavy,
                            trading_repo)
    assert found == []


def test_a_run_recorded_after_another_parses_no_markdown_and_renders_no_jinja2(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    """Each record leaves the blocks of the documents it committed (`mdblocks`), and the
    next record edits those documents: no Markdown parser is imported for the tracker row,
    the streak line or the hand-written rows. Its templates have no logic: no Jinja2."""
    from conftest import PINNED, record_run

    from evidencebot.sim.trading_repo import report, write_report

    record_run(cli, trading_repo, 7)
    doc = report(finished=datetime.fromisoformat(PINNED) - timedelta(minutes=35), filled=2)
    argv = ["--repo", str(trading_repo), "record", str(write_report(tmp_path / "r.json", doc))]
    assert imported("evidencebot.cli", argv, ["markdown_it", "jinja2"], tmp_path) == ([], 0)
    log = subprocess.run(["git", "-C", str(trading_repo), "log", "--format=%s",
                          "main..ops/evidence"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert len(log) == 2 and all(s.startswith("evidence(step1a): ") for s in log)  # recorded


def test_verify_reads_the_documents_evidencebot_keeps_without_markdown_it(
        trading_repo: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`md.scan` reads the documents of a recorded history (headings, tables, lists,
    fences) exactly as markdown-it would: verify, which parses every version afresh,
    imports no Markdown parser."""
    from conftest import record_run

    record_run(cli, trading_repo, 3)
    argv = ["--repo", str(trading_repo), "verify", "--range", "main..ops/evidence"]
    assert imported("evidencebot.cli", argv, ["markdown_it"], tmp_path) == ([], 0)


@pytest.mark.parametrize("argv", [["--help"], ["hook", "pre-commit"]])
def test_the_executable_leaves_its_objects_to_reference_counting_at_exit(
        argv: list[str], trading_repo: Path) -> None:
    """The executable (argv from the command line) freezes what it tracks before the
    interpreter's last collection; a caller's own process (argv given) is left alone."""
    probe = ("import gc, sys\nfrom evidencebot.__main__ import main\n"
             f"sys.argv = ['evidencebot', *{argv!r}]\ncode = main()\nfrozen = gc.get_freeze_count()\n"
             f"gc.unfreeze()\nmain({argv!r})\n"
             "print(code, frozen > 0, gc.get_freeze_count(), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=trading_repo)
    assert done.stderr.strip().splitlines()[-1] == "0 True 0", done.stderr


def test_a_misspelled_command_is_matched_against_every_command(cli) -> None:  # type: ignore[no-untyped-def]
    """The commands are imported lazily; "did you mean" still knows all of them, and
    completion describes each by its line in `page.COMMANDS`."""
    from click.shell_completion import ShellComplete

    from evidencebot.cli.app import COMMANDS
    from evidencebot.cli.app import cli as group

    r = cli("verfy")
    assert r.code == 2 and "Did you mean 'verify'?" in r.err
    # a name that begins one command only, which click's spelling match misses
    assert "Did you mean 'sim-gateway'?" in cli("sim").err
    assert "Did you mean" not in cli("s").err  # (it begins several)
    items = ShellComplete(group, {}, "evidencebot", "_X").get_completions([], "s")
    assert {i.value: i.help for i in items} == {
        n: line for n, (_module, line) in COMMANDS.items() if n.startswith("s")}


def test_evidencebot_alone_shows_its_help_then_says_what_is_missing(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli()
    lines = r.err.splitlines()
    assert r.code == 2 and r.out == "" and "Commands:" in lines
    assert lines[-2:] == ["evidencebot: error: no command given",
                          "Fix: see `evidencebot --help`"]


def test_a_plain_verify_line_imports_no_click(trading_repo: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`fast` runs CI's verify line without click (about 7 ms of it); help goes to click."""
    from conftest import record_run

    record_run(cli, trading_repo, 8)
    argv = ["--repo", str(trading_repo), "verify", "--range", "main..ops/evidence", "--json"]
    assert imported("evidencebot.__main__", argv, ["click"], tmp_path) == ([], 0)
    assert imported("evidencebot.__main__", [*argv, "--help"], ["click"], tmp_path) == \
        (["click"], 0)

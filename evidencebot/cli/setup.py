"""`init` and `install-hooks`: what a trading repository starts with."""

from __future__ import annotations

from pathlib import Path

import click

from .app import State, cli, json_option, pass_state

SNIPPET = """\
# .pre-commit-config.yaml of the trading repository (`repo: local`: the hooks run the
# evidencebot installed here, found by its absolute path — nothing else needs it on PATH)
repos:
  - repo: local
    hooks:
      - id: evidencebot-scope
        name: evidencebot scope guard
        entry: {exe} hook pre-commit --base {base}
        language: system
        pass_filenames: false
        always_run: true
        stages: [pre-commit]
      - id: evidencebot-commit-msg
        name: evidencebot trailer check
        entry: {exe} hook commit-msg --base {base}
        language: system
        stages: [commit-msg]
"""


def executable() -> str:
    """How this evidencebot is started from anywhere (`schedule` uses the same rule), quoted
    for pre-commit's split."""
    import os
    import shlex
    import sys
    from pathlib import Path

    from ..runbook.unattended import evidencebot_command

    exe, launcher = evidencebot_command(sys.executable, windows=os.name == "nt")
    return " ".join(shlex.quote(Path(a).as_posix() if i == 0 else a)
                    for i, a in enumerate((exe, *launcher)))


def pre_commit_snippet(base: str = "main") -> str:
    """The `repo: local` pre-commit config `init` prints, runnable as printed."""
    return SNIPPET.format(exe=executable(), base=base)


# Until it is told how (evidencebot is not on PyPI), the job fails: a `pip install
# evidencebot` would run whatever first took that name (adversary 44b), and a gate that
# installs nothing must not pass.
DEFAULT_INSTALL = ("echo \"evidencebot is not installed by this job yet - run evidencebot init "
                   "--ci {ci} --force --install CMD\" >&2; exit 1")


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite files that already exist: "
              "evidencebot.toml, or with --ci only the CI job.")
@click.option("--ci", type=click.Choice(["github", "gitlab"]),
              help="Also write a CI job that runs `evidencebot verify` on every merge "
                   "request (the ops branch's judged as evidence, any other as code).")
@click.option("--install", "install_cmd", metavar="CMD",
              help="How the CI job installs evidencebot: a pinned git URL or a path "
                   "(evidencebot is not on PyPI yet) [default: a step that fails, saying so].")
@click.option("--snippet", "snippet_only", is_flag=True,
              help="Only print the pre-commit snippet (nothing is written).")
@json_option
@pass_state
def init(state: State, force: bool, ci: str | None, install_cmd: str | None,
         snippet_only: bool) -> int:
    """Write a commented evidencebot.toml (the runbook's defaults), optionally a CI job,
    and print the pre-commit snippet the trading repo adds."""
    from .scaffold import plan_init, write_all

    if snippet_only:  # (found by a newcomer: once a config existed, only --force showed it)
        click.echo(pre_commit_snippet(_base(state)), nl=False)
        return 0
    plan = plan_init(state.repo, config=state.config, force=force, ci=ci,
                     install_cmd=install_cmd or DEFAULT_INSTALL.format(ci=ci))
    write_all(plan)
    snippet = pre_commit_snippet(_base(state))
    if state.as_json:
        from .contract import InitOut

        state.emit(InitOut(written=[str(p) for p in plan], pre_commit_config=snippet))
        return 0
    for path in plan:
        click.echo(f"wrote {path}")
    click.echo("commit these on the base branch: the rules that judge ops commits are "
               "read from there.")
    if ci == "gitlab":
        click.echo("include it from .gitlab-ci.yml:  include: '.gitlab/evidencebot-verify.yml'"
                   + ("" if (state.top() / ".gitlab-ci.yml").exists() else " (there is none yet: "
                      "create it with that line)"))
    if ci and install_cmd is None:
        click.echo("note: the CI job fails until it knows how to install evidencebot (it is "
                   "not on PyPI yet): run init again with --force and --install "
                   "\"pip install git+https://<host>/<org>/evidencebot@<commit>\" (or a path "
                   "the runner has)")
    click.echo("")
    click.echo(snippet, nl=False)
    return 0


def _base(state: State) -> str:
    from .. import config

    try:  # the config at the top level, as `plan_init` and the CI job read it
        return config.load(state.top(), state.config).config.ops.base
    except Exception:  # noqa: BLE001 - the snippet is advice; the config errors elsewhere
        return "main"


@cli.command("install-hooks")
@click.option("--force", is_flag=True, help="Replace hooks evidencebot did not write.")
@json_option
@pass_state
def install_hooks_cmd(state: State, force: bool) -> int:
    """Install pre-commit and commit-msg git hooks (for repos without the pre-commit
    framework); they run this Python's evidencebot."""
    from .. import git
    from ..guard.install import install_hooks

    top: Path = git.top(state.repo)
    base = state.context().cfg.ops.base
    installed = install_hooks(top, base=base, force=force)
    if state.as_json:
        from .contract import InstallHooksOut

        state.emit(InstallHooksOut(installed=[str(p) for p, _ in installed],
                                   kept={str(p): str(k) for p, k in installed if k}))
        return 0
    for path, kept in installed:
        click.echo(f"installed {path}")
        if kept:
            click.echo(f"  the {path.name} hook it replaces (not evidencebot's) is kept as "
                       f"{kept}: run it from there if it should still run")
    return 0

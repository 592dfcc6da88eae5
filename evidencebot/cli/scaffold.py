"""`init`: the files a trading repository starts with (config, CI job)."""

from __future__ import annotations

from pathlib import Path

from .. import git
from ..errors import UsageError
from ..templating import render

CI_TARGETS = {"github": ".github/workflows/evidencebot-verify.yml",
              "gitlab": ".gitlab/evidencebot-verify.yml"}


def plan_init(repo: Path, *, config: Path | None, force: bool, ci: str | None,
              install_cmd: str) -> dict[Path, str]:
    """What `init` writes: the commented config (unless there is one), and the CI job.
    ``force``: overwrite what is asked for: with ``ci``, its job (an edited config is
    kept: `init --ci github --force --install ...` is how the job's install is changed)."""
    top = git.top(repo)
    plan: dict[Path, str] = {}
    config_file = top / "evidencebot.toml"
    if not config_file.exists() or (force and ci is None):
        plan[config_file] = render("evidencebot.toml.j2", base=_base_branch(repo))
    elif ci is None:
        raise UsageError(f"{config_file} already exists (use --force to overwrite it)",
                         fix="keep it; `evidencebot init --snippet` prints the pre-commit "
                         "snippet, `init --ci github|gitlab` writes the CI job beside it")
    if ci is not None:
        from ..config import load

        # (the base the config written beside it names: found by a newcomer, a `master`
        # repository's first `init --ci` wrote a job for `main`)
        base = _base_branch(repo) if config_file in plan else load(top, config).config.ops.base
        target = top / CI_TARGETS[ci]
        if target.exists() and not force:
            raise UsageError(f"{target} already exists (use --force to overwrite it)")
        plan[target] = render(f"ci_{ci}.yml.j2", base=base, install=install_cmd)
    return plan


def _base_branch(repo: Path) -> str:
    """The base branch a new config names: `main` where there is one, else the branch
    checked out (found by a newcomer: a `master` repository got `base = "main"`), else
    `main`."""
    if git.rev_parse(repo, "refs/heads/main") is not None:
        return "main"
    name = git.out(repo, "symbolic-ref", "-q", "--short", "HEAD", ok=(0, 1)).strip()
    return name if name and name.isascii() and '"' not in name and "\\" not in name \
        and not name.startswith("ops/") else "main"


def write_all(plan: dict[Path, str]) -> None:
    for path, text in plan.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")

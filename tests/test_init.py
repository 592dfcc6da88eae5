"""`init`: the commented config and the CI job that runs verify on merge requests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from evidencebot import config
from evidencebot.sim.trading_repo import write_repo


def test_init_writes_the_defaults_and_refuses_to_overwrite(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    trading_repo = write_repo(tmp_path / "bot", pinned_clock=False)  # no config yet
    r = cli("--repo", trading_repo, "init")
    assert r.code == 0 and "evidencebot-scope" in r.out  # the pre-commit snippet
    written = (trading_repo / "evidencebot.toml").read_bytes()
    assert config.parse(written, source="evidencebot.toml") == config.Config()
    assert written.count(b"#") > 20  # commented
    again = cli("--repo", trading_repo, "init")
    assert again.code == 2 and "--force" in again.err
    assert "`evidencebot init --snippet` prints the pre-commit snippet" in again.err
    assert (trading_repo / "evidencebot.toml").read_bytes() == written
    snippet = cli("--repo", trading_repo, "init", "--snippet")  # (newcomer 11)
    assert snippet.code == 0 and snippet.out == r.out[r.out.index("# .pre-commit"):]
    assert (trading_repo / "evidencebot.toml").read_bytes() == written


def yaml_ok(text: str) -> bool:
    """Whether ``text`` is one YAML mapping (pre-commit's own YAML parser reads it)."""
    import yaml

    return isinstance(yaml.safe_load(text), dict)


def test_init_ci_github_and_gitlab(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", trading_repo, "init", "--ci", "github")
    assert r.code == 0
    gh = (trading_repo / ".github/workflows/evidencebot-verify.yml").read_text()
    # without --install the job fails, saying how to give one (nothing is on PyPI: a
    # `pip install evidencebot` would run whatever first took the name; adversary 44b)
    import yaml

    step = next(s["run"] for s in yaml.safe_load(gh)["jobs"]["verify"]["steps"]
                if "evidencebot is not installed" in s.get("run", ""))
    proc = subprocess.run(["sh", "-c", step], capture_output=True, text=True)
    assert proc.returncode == 1 and "init --ci github --force --install CMD" in proc.stderr
    assert yaml_ok(gh) and "pip install evidencebot" not in gh
    assert "note: the CI job fails until it knows how to install evidencebot (it is not on " \
        "PyPI yet): run init again with --force and --install" in r.out
    # every pull request, whatever its branch is named: verify tells code from evidence
    assert "if:" not in gh and "head_ref" not in gh
    assert 'evidencebot verify --base main --range "origin/main..HEAD"' in gh
    assert "github.base_ref" not in gh  # the target is the author's choice, the base is not
    assert "fetch-depth: 0" in gh and "github.event.pull_request.head.sha" in gh
    given = cli("--repo", trading_repo, "init", "--ci", "gitlab",
                "--install", "pip install ./tools/evidencebot")
    assert given.code == 0 and "not on PyPI" not in given.out
    gl = (trading_repo / ".gitlab/evidencebot-verify.yml").read_text()
    assert "merge_request_event" in gl and "pip install ./tools/evidencebot" in gl
    assert "SOURCE_BRANCH" not in gl
    assert 'evidencebot verify --base main --range "origin/main..HEAD"' in gl
    again = cli("--repo", trading_repo, "init", "--ci", "gitlab")
    assert again.code == 2 and "already exists" in again.err
    # as the note says: --force with --ci changes the job's install, and keeps the config
    config = trading_repo / "evidencebot.toml"
    config.write_text(config.read_text() + "# edited by hand\n")
    edited = config.read_bytes()
    forced = cli("--repo", trading_repo, "init", "--ci", "gitlab", "--force", "--install",
                 "pip install ./vendor/evidencebot")
    assert forced.code == 0 and config.read_bytes() == edited
    assert "pip install ./vendor/evidencebot" in (trading_repo / ".gitlab/evidencebot-verify.yml").read_text()


def test_init_from_a_subfolder_gives_the_snippet_and_the_ci_job_one_base(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cfg = trading_repo / "evidencebot.toml"
    cfg.write_text(cfg.read_text() + "\n[ops]\nbase = \"develop\"\n" if "[ops]" not in cfg.read_text()
                   else cfg.read_text().replace("[ops]", "[ops]\nbase = \"develop\"", 1))
    r = cli("--repo", trading_repo / "src", "init", "--ci", "github")
    assert r.code == 0, r.err
    gh = (trading_repo / ".github/workflows/evidencebot-verify.yml").read_text()
    assert 'evidencebot verify --base develop --range "origin/develop..HEAD"' in gh
    assert "--base develop" in r.out and "--base main" not in r.out


def test_init_in_a_repository_without_main_names_the_branch_checked_out(  # type: ignore[no-untyped-def]
        tmp_path: Path, cli) -> None:
    """Found by a newcomer: a `git init -b master` repository got `base = "main"`, a
    branch it does not have, in the config and the pre-commit snippet."""
    from conftest import git

    repo = tmp_path / "bot"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    r = cli("--repo", repo, "init")
    assert r.code == 0, r.err
    written = (repo / "evidencebot.toml").read_bytes()
    assert config.parse(written, source="evidencebot.toml").ops.base == "master"
    assert "hook pre-commit --base master" in r.out
    # (nothing else differs from the defaults)
    assert config.parse(written.replace(b'"master"', b'"main"'),
                        source="evidencebot.toml") == config.Config()



@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_the_first_init_with_ci_names_the_base_it_writes(tmp_path: Path, cli, ci: str) -> None:  # type: ignore[no-untyped-def]
    """Found by a newcomer: a `master` repository's first `init --ci` wrote a config naming
    master and a CI job for main (on GitHub it never ran for the closure's merge request)."""
    from conftest import git

    repo = tmp_path / "bot"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    r = cli("--repo", repo, "init", "--ci", ci)
    assert r.code == 0 and ("(there is none yet: create it with that line)" in r.out) is (
        ci == "gitlab"), r.out  # (a repository without a .gitlab-ci.yml: newcomer 12)
    job = next(p for p in (repo / ".github", repo / ".gitlab") if p.exists())
    text = next(job.rglob("*.yml")).read_text(encoding="utf-8")
    assert "--base master" in text and "main" not in text.replace("maintain", ""), text


def test_the_gitlab_job_fetches_the_base_branch_not_a_tag_of_its_name(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Adversary 44b: `git fetch origin "main"` takes a tag named main before the branch,
    and leaves origin/main where an earlier job on the runner left it (verify then judged
    by a stale base). The job's fetch line, run as written, moves origin/main."""
    import shlex
    import subprocess

    from conftest import git

    repo, remote = tmp_path / "bot", tmp_path / "remote.git"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    assert cli("--repo", repo, "init", "--ci", "gitlab").code == 0
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "push", "-q", "origin", "main:refs/tags/main")  # (the tag, at the old main)
    git(repo, "commit", "-q", "--allow-empty", "-m", "reviewed since")
    git(repo, "push", "-q", "origin", "main")
    runner = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(remote), str(runner))
    old = git(repo, "rev-parse", "main~1").strip()
    git(runner, "update-ref", "refs/remotes/origin/main", old)  # (an earlier job's)
    job = next((repo / ".gitlab").rglob("*.yml")).read_text(encoding="utf-8")
    (fetch,) = [ln.strip()[2:] for ln in job.splitlines() if ln.strip().startswith("- git fetch")]
    argv = shlex.split(fetch)
    subprocess.run(argv, cwd=runner, check=True, capture_output=True)
    assert git(runner, "rev-parse", "origin/main") == git(repo, "rev-parse", "main")


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_the_install_command_is_written_as_yaml_reads_it(trading_repo: Path, cli, ci: str) -> None:  # type: ignore[no-untyped-def]
    """Newcomer 15: an --install starting with a quote made a CI file no parser reads, and
    one holding ": " changed what the GitLab step was."""
    import yaml

    command = '"pip" install "git+https://h/o/evidencebot@abc": later'
    assert cli("--repo", trading_repo, "init", "--ci", ci, "--install", command).code == 0
    job = yaml.safe_load(next((trading_repo / f".{ci}").rglob("*.yml")).read_text())
    steps = job["jobs"]["verify"]["steps"] if ci == "github" else \
        [{"run": x} for x in job["evidencebot-verify"]["script"]]
    assert command in [s.get("run") for s in steps]

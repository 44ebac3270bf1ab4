"""`dagsmith pr`: a branch holding pipeline specs and their DAGs, and a pull request.

Whatever the user has to fix (an invalid spec, a DAG that fails its check, a branch that
exists, a file git ignores, no commit identity) is found before the branch is created.
The branch then gets exactly the spec and DAG files, never other changes of the working
tree; and the project's settings file (`dagsmith.toml`) when a spec reads files outside the
project that its `allow_paths` allows and the file has changed (`build`, `chat` and `init`
add the allowance there): without it, the branch's spec would be refused where it runs.
The description goes to `.dagsmith/pr/`, which user projects keep out of git; `gh` opens
the pull request when it is installed and `origin` is on GitHub.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from agent import allowances
from agent.audit.links import pr_section, record_pr
from agent.dags.dagfiles import render_all
from agent.dags.render import RenderedDag
from agent.gitflow import git
from agent.gitflow.pr_body import body, commit_message, title
from agent.gitflow.proposal import check, propose
from connectors.errors import SpecError, TerminalError

Echo = Callable[[str], None]
BODY_DIR = Path(".dagsmith") / "pr"
MAX_JOINED = 3
"""Most pipeline names joined into a default branch name; more are counted."""
GH_SECONDS = 120
_GITHUB = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"[\w.-]+/[\w.-]+?(?:\.git)?/?$"
)


class CheckFailed(TerminalError):
    """The check of a DAG failed: nothing was branched or committed."""


class CommitFailed(TerminalError):
    """The branch was created but the commit failed."""


class PublishFailed(TerminalError):
    """The branch is committed, but pushing it or opening the pull request failed."""


@dataclass(frozen=True)
class PullRequest:
    """What `open_pull_request` made: the branch, its commit, the description, the URL."""

    branch: str
    commit: str
    body_path: Path
    url: str | None


@dataclass(frozen=True)
class _Plan:
    """What the commit will hold, found and checked before anything changes."""

    branch: str
    start: str
    paths: list[Path]
    dags: list[RenderedDag]
    contents: dict[str, str]
    """Path relative to the repository's root -> text, for every spec and DAG."""


def open_pull_request(
    spec_paths: list[Path],
    *,
    project_dir: Path,
    dags_dir: Path,
    branch: str | None = None,
    base: str | None = None,
    open_pr: bool = True,
    echo: Echo = print,
    texts: Mapping[Path, str] | None = None,
    preface: str = "",
) -> PullRequest:
    """Branch, write the DAGs, commit the specs and DAGs, describe them, and open the PR.

    Args:
        spec_paths: Pipeline specs, relative to `project_dir` (or absolute).
        project_dir: The project folder (holds `.env` and `.dagsmith/`), in a git repository.
        dags_dir: The folder of generated DAGs, relative to `project_dir` (or absolute).
        branch: The new branch's name; default `dagsmith/<pipeline>`.
        base: The revision the branch starts from; default HEAD. A branch name is also
            the pull request's base.
        open_pr: Push and open the pull request with `gh` when `origin` is on GitHub.
        echo: Receives a line per step, for the user.
        texts: Spec path -> the text to commit in place of the file's (`dagsmith diagnose`
            proposes a change without writing it); the working tree is left as it was.
        preface: Markdown put after the description's title, before its own sections.

    Raises:
        SpecError: A spec is invalid, the branch exists, or the files cannot be committed.
        CheckFailed: A DAG failed its check.
        CommitFailed: The commit failed once the branch existed (the message says what to do).
        PublishFailed: The push or `gh pr create` failed (the branch stays committed).
    """
    if not spec_paths:
        raise SpecError("name at least one pipeline spec")
    project_dir = project_dir.resolve()
    repo = git.toplevel(project_dir)
    paths = [project_dir / path for path in spec_paths]
    given = {path: text for path in paths if (text := _given(texts, path)) is not None}
    specs = {path: given.get(path) or path.read_text(encoding="utf-8") for path in paths}
    dags = render_all(paths, project_dir / dags_dir, given)
    plan = _plan(repo, specs, dags, branch, base, echo)
    plan = _with_allowances(repo, plan, project_dir, echo)
    if given and (changed := git.modified(repo, list(plan.contents))):
        # Switching back after the commit would drop them: the branch holds the proposal.
        raise SpecError(
            f"uncommitted changes to {', '.join(changed)}",
            hint="commit or stash them first; the proposal is made from the committed files",
        )
    proposals = [
        propose(repo, plan.start, path, dag, project_dir, echo)
        for path, dag in zip(plan.paths, plan.dags, strict=True)
    ]
    body_path = project_dir / BODY_DIR / f"{plan.branch.replace('/', '-')}.md"
    body_path.parent.mkdir(parents=True, exist_ok=True)
    heading, _, rest = body(proposals).partition("\n\n")
    written = [*plan.paths, *(dag.path for dag in plan.dags)]
    audit = pr_section(project_dir, written)
    body_path.write_text(f"{heading}\n\n{preface}{rest}{audit}", encoding="utf-8")
    commit = _commit(repo, plan, commit_message(proposals), echo)
    if given:  # the working tree keeps its own specs: back to the branch it was on
        git.git(repo, "switch", "--quiet", "-")
    url = None
    if not open_pr:
        echo(f"not opened, as asked; {by_hand(plan.branch, title(proposals), body_path)}")
    else:
        target = base if base and git.branch_exists(repo, base) else None
        url = _publish(repo, plan.branch, title(proposals), body_path, target, echo)
    record_pr(project_dir, plan.branch, commit, url, written)
    return PullRequest(plan.branch, commit, body_path, url)


def _given(texts: Mapping[Path, str] | None, path: Path) -> str | None:
    """The text given for a spec file in place of its own, if any."""
    found = [text for at, text in (texts or {}).items() if at.resolve() == path.resolve()]
    return found[0] if found else None


def default_branch(pipelines: list[str]) -> str:
    """`dagsmith/orders`, `dagsmith/orders-customers`, or `dagsmith/orders-and-4-more`."""
    if len(pipelines) <= MAX_JOINED:
        return "dagsmith/" + "-".join(pipelines)
    return f"dagsmith/{pipelines[0]}-and-{len(pipelines) - 1}-more"


def _plan(
    repo: Path,
    texts: dict[Path, str],
    dags: list[RenderedDag],
    branch: str | None,
    base: str | None,
    echo: Echo,
) -> _Plan:
    """The branch, its start and its files, once nothing stands in the way and the check passed."""
    name = branch or default_branch([dag.spec.pipeline for dag in dags])
    paths = list(texts)
    specs = [git.repo_path(repo, path) for path in paths]
    contents = {git.repo_path(repo, path): text for path, text in texts.items()}
    contents |= {git.repo_path(repo, dag.path): dag.text for dag in dags}
    start = _preflight(repo, name, base, contents)
    if problems := check(specs, git.repo_path(repo, dags[0].path.parent), contents, echo):
        raise CheckFailed("the check failed, so nothing was committed:\n" + "\n".join(problems))
    return _Plan(name, start, paths, dags, contents)


def _with_allowances(repo: Path, plan: _Plan, project_dir: Path, echo: Echo) -> _Plan:
    """The plan, with the project's settings file as the working tree has it when a spec
    relies on an allowance and the file differs from the branch's start."""
    relying = [
        path
        for path, dag in zip(plan.paths, plan.dags, strict=True)
        if allowances.relies_on(dag.spec, path, project_dir)
    ]
    settings = allowances.settings_file(project_dir)
    if not relying or not settings.is_file():
        return plan
    name = git.repo_path(repo, settings)
    text = settings.read_text(encoding="utf-8")
    if git.files_at(repo, plan.start, name).get(name) == text:
        return plan
    specs = ", ".join(git.repo_path(repo, path) for path in relying)
    echo(f"including {name}: {specs} reads files outside the project that it allows")
    return replace(plan, contents={**plan.contents, name: text})


def _preflight(repo: Path, name: str, base: str | None, contents: dict[str, str]) -> str:
    """The commit the branch starts from, once nothing stands in the branch's way."""
    git.check_branch_name(repo, name)
    if git.branch_exists(repo, name):
        raise git.GitError(
            f"branch {name} already exists",
            hint=f"name another with --branch NAME, or delete it: git branch -D {name}",
        )
    start = git.commit_of(repo, base or "HEAD")
    if ignored := git.ignored(repo, list(contents)):
        raise SpecError(
            f"git ignores {', '.join(ignored)}",
            hint="keep specs and DAGs in folders git tracks (see .gitignore)",
        )
    if all(git.files_at(repo, start, f).get(f) == text for f, text in contents.items()):
        raise SpecError(f"nothing to commit: {', '.join(contents)} are as at {base or 'HEAD'}")
    git.git(repo, "var", "GIT_AUTHOR_IDENT")  # no identity: fail now, not at the commit
    return start


def _commit(repo: Path, plan: _Plan, message: str, echo: Echo) -> str:
    """Create the branch, write the specs (as checked) and DAGs, and commit only them."""
    git.git(repo, "switch", "--quiet", "-c", plan.branch, plan.start)
    echo(f"created branch {plan.branch}")
    files = list(plan.contents)
    try:
        # Specs too: a --base other than HEAD may have replaced an unmodified one.
        for path, text in plan.contents.items():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(text, encoding="utf-8")
        git.git(repo, "add", "--", *files)
        git.git(repo, "commit", "--quiet", "-F", "-", "--", *files, input_text=message)
    except (OSError, git.GitError) as exc:
        raise CommitFailed(
            f"branch {plan.branch} was created but the commit failed: {exc}",
            hint=f"fix that, then `{shlex.join(['git', 'commit', '--', *files])}`; or go "
            f"back: `git switch - && git branch -D {plan.branch}`",
        ) from None
    commit = git.commit_of(repo, "HEAD")
    echo(f"committed {commit[:8]}: {message.splitlines()[0]}")
    return commit


def is_github(url: str | None) -> bool:
    """Whether a remote URL names a repository on github.com (https or ssh)."""
    return url is not None and _GITHUB.match(url) is not None


def _publish(
    repo: Path, branch: str, heading: str, body_path: Path, base: str | None, echo: Echo
) -> str | None:
    """Push the branch and open its pull request: the URL, or None when it cannot be done here."""
    if reason := _cannot_publish(repo):
        echo(f"{reason}; {by_hand(branch, heading, body_path)}")
        return None
    echo(f"pushing {branch} to origin")
    try:
        git.git(repo, "push", "--quiet", "--set-upstream", "origin", branch)
    except git.GitError as exc:
        raise PublishFailed(
            f"branch {branch} is committed, but the push failed: {exc.message}",
            hint=by_hand(branch, heading, body_path),
        ) from None
    options = ["--title", heading, "--body-file", str(body_path), "--head", branch]
    return _gh_create(repo, options + (["--base", base] if base else []))


def _cannot_publish(repo: Path) -> str | None:
    """Why the pull request cannot be opened from here, if it cannot."""
    if shutil.which("gh") is None:
        return "gh (GitHub's command line) is not installed"
    url = git.configured_url(repo)
    if url is None:
        return "the repository has no origin remote"
    return None if is_github(url) else "origin is not a GitHub repository"


def _gh_create(repo: Path, options: list[str]) -> str:
    """`gh pr create OPTIONS` for a pushed branch; the URL it prints."""
    try:
        done = subprocess.run(
            ["gh", "pr", "create", *options],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
            timeout=GH_SECONDS,
        )
    except subprocess.TimeoutExpired:
        failure = f"no answer in {GH_SECONDS} s"
    else:
        if done.returncode == 0:
            urls = [word for word in done.stdout.split() if word.startswith("https://")]
            return urls[-1] if urls else done.stdout.strip()
        failure = done.stderr.strip() or done.stdout.strip()
    raise PublishFailed(
        f"the branch is pushed, but `gh pr create` failed: {failure}",
        hint="open it on GitHub, or run: " + shlex.join(["gh", "pr", "create", *options]),
    )


def by_hand(branch: str, heading: str, body_path: Path) -> str:
    """The commands that push a branch and open its pull request."""
    push = shlex.join(["git", "push", "--set-upstream", "origin", branch])
    create = shlex.join(
        ["gh", "pr", "create", "--title", heading, "--body-file", str(body_path), "--head", branch]
    )
    return f"to open the pull request: {push} && {create}"

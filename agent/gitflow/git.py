"""The few git operations `review` and `pr` need, through the `git` command line.

Every call passes arguments as a list (no shell), and revisions are checked with
`rev-parse --verify` before use, so a revision or path from the user is never a command.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from connectors.errors import SpecError


class GitError(SpecError):
    """A git command failed, or the folder is not in a git repository."""


def git(repo: Path, *args: str, input_text: str | None = None) -> str:
    """Run `git ARGS` in `repo` and return its standard output.

    Raises:
        GitError: git is missing or the command failed (its message says why).
    """
    if shutil.which("git") is None:
        raise GitError("git is not installed", hint="install git, then try again")
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=input_text,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = done.stderr.strip() or done.stdout.strip()
        raise GitError(f"git {args[0]} failed: {message}")
    return done.stdout


def toplevel(folder: Path) -> Path:
    """The root of the repository holding `folder`."""
    try:
        return Path(git(folder, "rev-parse", "--show-toplevel").strip())
    except GitError:
        raise GitError(
            f"{folder} is not in a git repository", hint="run `git init` or cd into one"
        ) from None


def commit_of(repo: Path, revision: str) -> str:
    """The full hash of a revision (branch, tag, hash, `HEAD~1`...)."""
    if revision.startswith("-"):
        raise GitError(f"{revision!r} is not a revision")
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()
    except GitError:
        raise GitError(
            f"unknown revision {revision!r}", hint="name a branch, tag or commit"
        ) from None


def files_at(repo: Path, commit: str, folder: str) -> dict[str, str]:
    """Path (relative to the repository) -> text of each file under `folder` at `commit`."""
    names = git(repo, "ls-tree", "-r", "--name-only", "-z", commit, "--", folder).split("\0")
    return {name: git(repo, "show", f"{commit}:{name}") for name in names if name}


def export(repo: Path, commit: str, into: Path, *folders: str) -> None:
    """Write the tree of `commit` (or only `folders` of it) into the folder `into`.

    No .git is written and nothing else is touched. Each folder must exist at `commit`.
    """
    data = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", commit, "--", *folders],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(into, filter="data")


def branch_exists(repo: Path, name: str) -> bool:
    """Whether a local branch of that name exists."""
    found = subprocess.run(
        ["git", "-C", str(repo), "show-ref", "--verify", "--quiet", f"refs/heads/{name}"],
        check=False,
    )
    return found.returncode == 0


def default_base(repo: Path) -> str:
    """The revision a review compares against: the merge base with the main branch."""
    for candidate in ("origin/HEAD", "origin/main", "origin/master", "main", "master"):
        try:
            base = commit_of(repo, candidate)
        except GitError:
            continue
        return git(repo, "merge-base", base, "HEAD").strip()
    raise GitError(
        "no main branch to compare with", hint="name the base: dagsmith review BASE [HEAD]"
    )


def configured_url(repo: Path, name: str = "origin") -> str | None:
    """A remote's URL as configured, before `url.<base>.insteadOf` rewrites it."""
    try:
        return git(repo, "config", "--get", f"remote.{name}.url").strip() or None
    except GitError:
        return None


def ignored(repo: Path, paths: list[str]) -> list[str]:
    """Those of `paths` (relative to the repository) that git ignores and does not track."""
    found = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "--", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode > 1:
        raise GitError(f"git check-ignore failed: {found.stderr.strip()}")
    return found.stdout.splitlines()


def modified(repo: Path, paths: list[str]) -> list[str]:
    """Those of `paths` (relative to the repository) with changes git has not committed."""
    status = git(repo, "status", "--porcelain", "--untracked-files=all", "--", *paths)
    return [line[3:] for line in status.splitlines()]


def check_branch_name(repo: Path, name: str) -> None:
    """Refuse a name git would not take for a branch, or that would read as an option."""
    done = subprocess.run(
        ["git", "-C", str(repo), "check-ref-format", "--branch", name],
        capture_output=True,
        check=False,
    )
    if name.startswith("-") or done.returncode != 0:
        raise GitError(
            f"{name!r} is not a valid branch name", hint="use letters, digits, '-', '_' and '/'"
        )


def repo_path(repo: Path, path: Path) -> str:
    """A path inside the repository `repo`, relative to its root, in git's form."""
    try:
        return path.resolve().relative_to(repo).as_posix()
    except ValueError:
        raise GitError(f"{path} is outside the repository {repo}") from None

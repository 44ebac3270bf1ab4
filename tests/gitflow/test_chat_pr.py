"""`/pr` in a chat: save the pipeline, then branch and commit it in a real repository."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from agent.chat.commands import Commands
from agent.chat.conversation import Conversation
from tests.gitflow.conftest import git

FIRST = "Every day at 06:00 load data/orders.csv into table orders, upsert on order_id"


def test_pr_saves_then_opens_a_branch(repo: Path) -> None:
    conversation = Conversation(repo, repo, "offline")
    output = io.StringIO()
    commands = Commands(conversation, Console(file=output, width=200), lambda _: None)
    conversation.send(FIRST, lambda _: None, lambda _: None)
    commands.run("/pr")
    assert "branch dagsmith/orders" in output.getvalue()
    assert git(repo, "branch", "--show-current").strip() == "dagsmith/orders"
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert committed == ["dags/orders.py", "pipelines/orders.yaml"]

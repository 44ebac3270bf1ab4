"""The `dagsmith` command line: the typer app (`app`), its global options (`group`), run
summaries and progress (`console`), rich or plain output (`output`), `init`
(`init_pipeline`) and `schema --markdown` (`spec_reference`). The only package that imports
typer; its shell completion is imported only when asked for (`deferred_completion`)."""

from __future__ import annotations

from agent.cli.deferred_completion import defer

defer()  # before any module of this package imports typer

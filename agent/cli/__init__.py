"""The `dagsmith` command line: `main` and every command (`app`), the commands by group
(`pipelines`, `authoring`, `monitoring`), what they share (`common`), global options after
the command (`group`), run summaries and progress (`console`), rich or plain output
(`output`), `init` (`init_pipeline`) and `schema --markdown` (`spec_reference`). The only
package that imports typer; its shell completion is imported only when asked for
(`deferred_completion`)."""

from __future__ import annotations

from agent.cli.deferred_completion import defer

defer()  # before any module of this package imports typer

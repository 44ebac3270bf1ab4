"""The `dagsmith` command line: the typer app (`app`), its global options (`group`), run
summaries and progress (`console`), `init` (`init_pipeline`) and `schema --markdown`
(`spec_reference`). The only package that imports typer."""

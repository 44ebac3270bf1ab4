"""Generated DAGs: rendering a spec through the sandboxed templates (`render`), checking
what they emit (`checks`), and the DAG files of a project (`dagfiles`)."""

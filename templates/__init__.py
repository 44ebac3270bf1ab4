"""The Jinja templates of generated DAGs, shipped as package data (see README.md here)."""

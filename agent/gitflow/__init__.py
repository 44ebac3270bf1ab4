"""Pipelines as git changes: what changed between two specs (`changes`, `change_rules`),
pull requests (`pr`, `proposal`, `pr_body`, `pr_sections`, `risks`), their review
(`review_repo`, `review_report`), and git itself (`git`)."""

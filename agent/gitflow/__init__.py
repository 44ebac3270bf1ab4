"""Pipelines as git changes: pull requests (`pr`, `proposal`, `pr_body`, `pr_sections`,
`risks`), their review (`review`, `review_rules`, `review_repo`, `review_report`), and git
itself (`git`)."""

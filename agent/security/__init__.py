"""Supply-chain and code checks: ruff's security rules (bandit's, `S`) on the project's code
and on generated DAGs, pip-audit on the lock, each finding failing unless the reviewed list
`security/accepted.toml` accepts it with a reason (docs/security.md)."""

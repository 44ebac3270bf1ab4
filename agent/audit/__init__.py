"""The audit trail: one hash-chained JSON line per agent step in `.dagsmith/audit.jsonl`,
who and which model did what, with secrets masked (docs/audit.md)."""

"""HTTP plumbing of the REST source: client, auth, pagination, rate limits, breaker."""

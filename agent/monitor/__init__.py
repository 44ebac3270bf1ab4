"""The monitor agent, `dagsmith diagnose`: the evidence of a run (`evidence`, `patterns`), the
deterministic diagnoser (`diagnoser`, `failures`, `findings`), the checked change
(`proposal`, `yamledit`), the agent and its tools (`agent`, `tools`), the report (`run`) and
its pull request (`pr`)."""

"""The agent: a chat model in LangChain's agent loop (`agent`), the tools it calls
(`tools`), what they may reach (`guardrails`), the bounded profile text a model reads
(`profile_view`), and `dagsmith build` around it (`build`). The offline planner that
stands in for a hosted model is `agent.planner`."""

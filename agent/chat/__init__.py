"""`dagsmith chat`: the terminal session (`session`), its conversation with the agent
(`conversation`), its slash commands (`commands`) and how it shows things (`view`)."""

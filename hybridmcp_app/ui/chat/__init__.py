"""The Chat tab (conversation, answers side by side, history, sources, tools) and Savings."""

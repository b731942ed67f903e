"""The hybrid brain: strategies that combine the local model and a provider, with a trace."""

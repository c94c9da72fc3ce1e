"""The manager's pages: the day's log and summary, settings, tablets, displays, contact tracing."""

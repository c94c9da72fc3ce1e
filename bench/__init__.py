"""Benchmarks: check-in cost next to a floor app, report queries at scale, page weight."""

"""gunicorn settings for a branch's server; deploy/checkin.service starts gunicorn with them."""

import os

# Only the TLS proxy on the same machine talks to gunicorn: never the office network directly.
bind = "127.0.0.1:8000"
# One sync worker per CPU core: more only wait for the cores and for SQLite's single writer
# (README "Production", bench/RESULTS.md section 8).
workers = os.cpu_count() or 2
worker_class = "sync"
timeout = 30
graceful_timeout = 10
# Request lines go to the journal; they hold no personal data (tests/test_privacy.py).
accesslog = "-"

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
# Request lines go to the journal, which purge-personal never reaches: each logs the path
# without its query string (%(U)s), where a display link carries its secret, and without the
# referring page's address, which may hold another query (tests/test_privacy.py).
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'

"""gunicorn settings for Xinqiao: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Workers keep nothing between requests: sign-in sessions live in the database, rate-limit counters
in Redis (RATELIMIT_STORAGE_URI), so any worker on any host may serve any request. The scheduler
is NOT run here; start exactly one `flask scheduler run` per deployment (the lease elects a leader).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Imports and exports of a few thousand rows finish well within this; a stuck worker is recycled.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# nginx on the same host sets X-Forwarded-*; trust only it.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# pid shows which worker served; X-Request-ID ties the line to nginx's log.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s rid=%({x-request-id}i)s'

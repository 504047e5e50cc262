"""Gunicorn's settings file, read from the working directory by every ``gunicorn kjzx.wsgi`` here (the
Dockerfile, docker-compose.yml, bench/http_bench.py); the command line's options (bind, workers) add to it.
"""

import logging


def post_worker_init(worker):
    """Each web worker, once Django is loaded and before its first request: the certificate machinery
    (fonts, template, pyHanko, the signing key) warmed, so no accountant's first download waits ~1 s."""
    from cpe.ledger.certificates.services import certificate_machinery_warm

    seconds = certificate_machinery_warm()
    logging.getLogger("gunicorn.error").info("worker %s: certificate machinery warmed in %.2f s", worker.pid, seconds)

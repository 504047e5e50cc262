"""Settings of the HTTP bench's gunicorn (bench/http_bench.py): the production settings, unchanged, with the
bench's two baseline views added to the URLs (``bench.http_urls``). Never used by the portal itself:
only ``DJANGO_SETTINGS_MODULE=bench.http_settings``, which http_bench sets for the server it starts,
reaches them (the production image does not even contain bench/)."""

from kjzx.settings import *  # noqa: F403

ROOT_URLCONF = "bench.http_urls"

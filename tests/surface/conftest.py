"""One small province for the whole folder: built once, at a pinned moment, rolled back at the end; and the
fixture that lets schemathesis call the WSGI app inside the test's transaction."""

import pytest

from tests.surface.world import world_at_now


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker):
    with world_at_now(django_db_blocker) as built:
        yield built


@pytest.fixture
def in_process():
    """As Django's test client does: a request must not close the connection holding the test's transaction."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)

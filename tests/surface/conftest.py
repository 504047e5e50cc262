"""One small province for the whole folder: built once, at a pinned moment, rolled back at the end."""

import pytest

from tests.surface.world import world_at_now


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker):
    with world_at_now(django_db_blocker) as built:
        yield built

"""The production image (Dockerfile) holds every part of the project the settings load.

The Dockerfile copies the code folder by folder, so that .venv/, var/, .env and .git never enter the
image; an app added to INSTALLED_APPS without its COPY line builds an image that cannot start.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def copied() -> set[str]:
    """Every source named by a COPY line of the Dockerfile (``COPY a b ./`` names a and b)."""
    names: set[str] = set()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        match = re.match(r"COPY\s+(?!--)(.+)\s+\S+$", line.strip())
        if match:
            names.update(part.rstrip("/") for part in match.group(1).split())
    return names


def test_every_project_app_and_folder_the_settings_read_is_copied_into_the_image():
    project = {Path(config.path).relative_to(ROOT).parts[0] for config in apps.get_app_configs()
               if Path(config.path).is_relative_to(ROOT)} - {".venv"}  # what pip installed is in the image
    folders = {Path(path).relative_to(ROOT).parts[0] for path in
               [*settings.LOCALE_PATHS, *settings.STATICFILES_DIRS, *settings.TEMPLATES[0]["DIRS"]]}
    assert {"employers", "workbench", "cpe"} <= project  # the apps are found
    needed = project | folders | {"manage.py", "gunicorn.conf.py"}
    assert needed - copied() == set()

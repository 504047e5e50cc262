"""The figures the surface and reliability tests measure, kept for docs/reliability.md.

Each test that proves something with a count calls :func:`record` once at its end; the figure lands in
``var/reliability/<name>.json`` with its denominator, seed, budget and duration. ``bash scripts/reliability.sh``
runs the tests and renders them (:mod:`tests.reliability.report`). Budgets come from the environment:
``KJZX_RELIABILITY=big`` selects the large ones; CI runs the small ones as part of the normal suite.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.conf import settings


def big() -> bool:
    return os.environ.get("KJZX_RELIABILITY", "") == "big"


def budget(small: int, large: int) -> int:
    """The number of examples, rounds or cases for this run: ``small`` in CI, ``large`` for the big run."""
    name = "KJZX_RELIABILITY_SCALE"
    scale = float(os.environ.get(name, "1"))
    return max(1, int((large if big() else small) * scale))


def seed() -> int:
    """One seed per run (``KJZX_RELIABILITY_SEED``), default fixed so a failure reproduces."""
    return int(os.environ.get("KJZX_RELIABILITY_SEED", "20261205"))


def figures_dir() -> Path:
    path = Path(os.environ.get("KJZX_RELIABILITY_DIR") or Path(settings.VAR_DIR) / "reliability")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Clock:
    def __init__(self):
        self.started = time.monotonic()

    @property
    def seconds(self) -> float:
        return round(time.monotonic() - self.started, 2)


def record(name: str, **figure) -> None:
    """Write one figure: what was counted, out of how many, with what seed and budget, in how long."""
    figure.setdefault("seed", seed())
    figure.setdefault("budget", "big" if big() else "small")
    (figures_dir() / f"{name}.json").write_text(json.dumps(figure, ensure_ascii=False, indent=1, default=str),
                                                encoding="utf-8")

"""What both schemathesis tests (test_fuzz.py, test_fuzz_stateful.py) say of a failure."""

from __future__ import annotations


def failure_titles(exc) -> list[str]:
    """One line per failed check of schemathesis' failure (or failure group): its title and first message line."""
    inner = getattr(exc, "exceptions", None) or [exc]
    return sorted({(getattr(e, "title", "") or type(e).__name__) + (
        f": {e.message.strip().splitlines()[0][:160]}" if getattr(e, "message", "") else "") for e in inner})


def as_curl(case) -> str:
    """The request as a curl command, the caller's token left out."""
    return case.as_curl_command(headers={"Authorization": "Bearer …"})[:400]

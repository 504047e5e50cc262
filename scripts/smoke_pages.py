"""Crawl the running portal as each demo persona and report every page that answers 5xx.

    KJZX_VAR_DIR=/tmp/runvar PORT=8765 bash scripts/run.sh &        # the embedded default, demo loaded
    KJZX_VAR_DIR=/tmp/runvar .venv/bin/python scripts/smoke_pages.py --base http://127.0.0.1:8765

The test suite runs on PostgreSQL only; this is the check that the embedded default (SQLite, the file broker)
still serves every page a persona can reach: it logs in as an accountant (ID number and password) and as staff
(password, then the current TOTP code from ``scripts/manage.sh otp_code``), follows same-site links breadth
first (GET only, never logout or a download twice), and exits non-zero if any answer is a server error.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Kjzx@2026demo"  # noqa: S105  (the demo's published password, never a real deployment's)
PERSONAS = {"accountant": "140502199003151018", "chengqu1": "chengqu1", "qinshui1": "qinshui1",
            "jincheng": "jincheng", "sheng": "sheng", "jigou1": "jigou1", "yiyuan": "yiyuan"}
SKIP = re.compile(r"/(logout|static|media)/|\.(pdf|xlsx|png|jpg|svg|css|js)$|/download|/export|/reveal")


class Session:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        url = path if path.startswith("http") else self.base + path
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers={"Referer": self.base + "/"})  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.geturl(), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, url, error.read().decode("utf-8", "replace")

    def csrf(self, page: str) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        return found.group(1) if found else ""

    def login(self, name: str) -> bool:
        _status, _url, page = self.request("/accounts/login/")
        status, url, page = self.request("/accounts/login/", {"csrfmiddlewaretoken": self.csrf(page),
                                                               "username": name, "password": PASSWORD})
        if "/login/otp" in url:
            code = otp_code(name)
            status, url, page = self.request(url, {"csrfmiddlewaretoken": self.csrf(page), "code": code})
        return status == 200 and "/accounts/login" not in url


def otp_code(name: str) -> str:
    result = subprocess.run(["bash", "scripts/manage.sh", "otp_code", name], cwd=ROOT, capture_output=True,  # noqa: S603, S607
                            text=True, check=True, env=os.environ)
    return re.findall(r"\b\d{6}\b", result.stdout)[-1]


def crawl(session: Session, limit: int) -> tuple[int, list[str]]:
    seen, queue, errors = set(), ["/me/", "/workbench/", "/"], []
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen or SKIP.search(path):
            continue
        seen.add(path)
        status, _url, page = session.request(path)
        if status >= 500:
            errors.append(f"{status} {path}")
        for link in re.findall(r'href="(/[^"#]*)"', page):
            link = link.replace("&amp;", "&")
            if link not in seen:
                queue.append(link)
    return len(seen), errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--limit", type=int, default=120, help="pages per persona")
    args = parser.parse_args()
    failed = []
    for persona, name in PERSONAS.items():
        session = Session(args.base)
        for _attempt in range(3):  # a TOTP code verifies once per 30 s window
            if session.login(name):
                break
            time.sleep(31)
        else:
            failed.append(f"{persona}: could not log in")
            continue
        pages, errors = crawl(session, args.limit)
        print(f"{persona}: {pages} pages, {len(errors)} server errors")
        failed += [f"{persona}: {error}" for error in errors]
    print("\n".join(failed) or "no server error")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

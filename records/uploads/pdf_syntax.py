"""PDF syntax for the check in :mod:`records.uploads.pdf`: tokens, names, strings, one dictionary."""

from __future__ import annotations

import re
from collections import deque

from records.uploads.pdf_filters import Budget, OverBudget

MAX_DICT_BYTES = 64 * 1024  # a stream dictionary larger than this is not one a writer makes
WS = b"\x00\t\n\x0c\r "
DELIMITERS = b"()<>[]{}/%"
REGULAR = bytes(sorted(set(range(256)) - set(WS + DELIMITERS)))
END_OF_WORD = rb"(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
TOKEN = re.compile(rb"""
    (?P<ws>[\x00\t\n\x0c\r ]+)
  | (?P<comment>%[^\r\n]*)
  | (?P<name>/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)
  | (?P<open><<|\[)
  | (?P<close>>>|\])
  | (?P<hex><[^<>]*>?)
  | (?P<string>\()
  | (?P<word>[^\x00\t\n\x0c\r ()<>\[\]{}/%]+)
  | (?P<other>.)
""", re.X | re.S)
_STRING_RUN = re.compile(rb"(?:[^()\\]++|\\.)*+", re.S)


def string_end(data: bytes, pos: int, budget: Budget | None = None) -> int:
    """Where the literal string opened just before ``pos`` ends: balanced parentheses, ``\\`` escapes."""
    depth, turns = 1, 0
    while True:
        pos = _STRING_RUN.match(data, pos).end()  # ordinary bytes and escapes, at C speed
        if pos >= len(data):
            return len(data)
        depth += 1 if data[pos] == 0x28 else -1
        pos += 1
        if depth == 0:
            return pos
        turns += 1
        if budget is not None and turns % 4096 == 0:
            budget.check_time()


class Name(str):
    """A PDF name, ``#xx`` escapes decoded (``/J#61vaScript`` is ``JavaScript``)."""


def name_of(raw: bytes) -> Name:
    if b"#" in raw:
        raw = _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    return Name(raw.decode("latin-1"))


class Ref:
    __slots__ = ("number",)

    def __init__(self, number: int):
        self.number = number


def parse_dictionary(data: bytes, start: int, end: int) -> dict:
    """The dictionary ``data[start:end]`` (``<< … >>``) as Python values; Names are :class:`Name`."""
    if end - start > MAX_DICT_BYTES:
        raise OverBudget("a stream dictionary larger than 64 KB")
    tokens = deque(_tokens(data, start, end))
    value = _parse(tokens, 0)
    return value if isinstance(value, dict) else {}


def _tokens(data: bytes, pos: int, end: int) -> list[tuple[str, bytes]]:
    tokens = []
    while pos < end:
        match = TOKEN.match(data, pos, end)
        if match is None:
            break
        kind, pos = match.lastgroup, match.end()
        if kind == "string":
            pos = min(string_end(data, pos), end)
            tokens.append(("string", b""))
        elif kind not in ("ws", "comment"):
            tokens.append((kind, match.group()))
    return tokens


def _parse(tokens: deque, depth: int):
    if not tokens or depth > 16:
        return None
    kind, raw = tokens.popleft()
    if kind == "name":
        return name_of(raw[1:])
    if kind == "open" and raw == b"<<":
        result = {}
        while tokens and tokens[0][1] != b">>":
            key = _parse(tokens, depth + 1)
            value = _parse(tokens, depth + 1)
            if isinstance(key, Name):
                result[str(key)] = value
        if tokens:
            tokens.popleft()
        return result
    if kind == "open":
        items = []
        while tokens and tokens[0][1] != b"]":
            items.append(_parse(tokens, depth + 1))
        if tokens:
            tokens.popleft()
        return items
    if kind == "word":
        if raw.isdigit() and len(tokens) >= 2 and tokens[0][1].isdigit() and tokens[1][1] == b"R":
            tokens.popleft()
            tokens.popleft()
            return Ref(int(raw))
        try:
            return int(raw)
        except ValueError:
            return {b"true": True, b"false": False}.get(raw, raw)
    return None

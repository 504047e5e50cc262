"""The API's JSON parser (DEFAULT_PARSER_CLASSES), in a module of its own: DRF imports it while
loading its settings, so it may import nothing of ours."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser

MAX_DEPTH = 20  # a person record nests four deep; anything near Python's recursion limit is an attack


class JSONParser(DRFJSONParser):
    """The API's JSON parser (DEFAULT_PARSER_CLASSES): JSON nested deeper than :data:`MAX_DEPTH` is a
    400 like any other bad JSON, never a RecursionError (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON 嵌套层数过多。") from None
        if not _depth_within(data, MAX_DEPTH):
            raise ParseError("JSON 嵌套层数过多。")
        return data


def _depth_within(data, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:  # iterative: the check itself must not recurse
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return False
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return True

"""JSON from outside, bounded in depth: deep nesting is a parse error, never a RecursionError.

Python's json module recurses once per level, so `[[[[...]]]]` a hundred thousand deep
raises RecursionError (a 500), and a document just shallow enough to parse can still
exhaust the stack in whatever walks it next. No request of ours nests more than a few
levels (a directory document about seven), so anything deeper than MAX_JSON_DEPTH is
refused as malformed.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32
TOO_DEEP = f"nested deeper than {MAX_JSON_DEPTH} levels"


def check_depth(data: Any, *, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise ValueError if lists and objects nest deeper than `limit` (walked level by
    level, so the check itself never recurses)."""
    level = [data]
    depth = 0
    while level:
        containers = [value for value in level if isinstance(value, dict | list)]
        if not containers:
            return
        depth += 1
        if depth > limit:
            raise ValueError(TOO_DEEP)
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]


def parse_json(text: str | bytes) -> Any:
    """json.loads for untrusted text: ValueError when it is not JSON or nests too deep."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    check_depth(data)
    return data


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser (the API's default) with the depth bound: 400 malformed_request."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - {TOO_DEEP}") from None
        try:
            check_depth(data)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        return data

"""Daily windows ("HH:MM" to "HH:MM", wall clock): the one parser the importer, forms and models share."""

from __future__ import annotations

from datetime import time
from typing import Any


def parse_windows(windows: Any) -> list[tuple[time, time]]:
    """Parse [{"start": "HH:MM", "end": "HH:MM"}, ...]; raise ValueError naming the problem."""
    if not isinstance(windows, list):
        raise ValueError("must be a list of {start, end}")
    parsed: list[tuple[time, time]] = []
    for index, window in enumerate(windows):
        if not isinstance(window, dict):
            raise ValueError(f"[{index}]: must be an object with start and end")
        try:
            start = time.fromisoformat(window["start"])
            end = time.fromisoformat(window["end"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"[{index}]: start and end must be HH:MM") from exc
        if end <= start:
            raise ValueError(f"[{index}].end: must be after start")
        parsed.append((start, end))
    parsed.sort()
    for (_, prev_end), (next_start, _) in zip(parsed, parsed[1:], strict=False):
        if next_start < prev_end:
            raise ValueError("windows overlap")
    return parsed

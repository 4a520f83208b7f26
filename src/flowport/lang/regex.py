"""Go regular expressions (RE2) read by Python's ``re``, for expr-lang ``matches`` and
govaluate ``=~``."""

from __future__ import annotations

import re

__all__ = ["go_regex_to_python"]


def go_regex_to_python(pattern: str) -> str:
    """RE2 (Go regexp) and Python agree on the common syntax; translate RE2-only spellings:
    ``(?<name>...)`` named groups and the ``\\z`` end-of-text anchor."""
    pattern = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)
    return pattern.replace("\\z", "\\Z")

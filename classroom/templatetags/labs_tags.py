"""Lab text: steps and hints mark names with `backticks` and console names with **bold**."""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


@register.filter
def labtext(text: str) -> SafeString:
    """Escape first, then turn `x` into <code>x</code> and **x** into <strong>x</strong> (nothing else)."""
    escaped = str(conditional_escape(text))
    parts = _CODE.split(escaped)  # odd indexes are code spans: no bold inside them
    html = "".join(
        f"<code>{part}</code>" if i % 2 else _BOLD.sub(r"<strong>\1</strong>", part) for i, part in enumerate(parts)
    )
    return mark_safe(html)

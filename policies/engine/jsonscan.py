"""A small JSON reader that remembers where every value sits in the text.

``scan(text)`` returns the decoded value and a map from JSON path (``Statement[1].Condition``) to the
character offset of that element (for object members: the offset of the key, which is what an editor
should highlight). Errors raise ``JsonSyntaxError`` with an offset. Strict RFC 8259: no NaN, no
trailing commas, no comments. Duplicate object keys are an error, as IAM rejects them.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

MAX_DEPTH = 64  # IAM policies are shallow; a limit keeps arbitrary input from exhausting the stack

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_STRING_CHUNK = re.compile(r'[^"\\\x00-\x1f]*')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class JsonSyntaxError(ValueError):
    def __init__(self, message: str, offset: int, path: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.path = path


def join_key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def join_index(path: str, index: int) -> str:
    return f"{path}[{index}]"


class LineIndex:
    """Offset → 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.offsets: dict[str, int] = {}

    def fail(self, message: str, path: str, offset: int | None = None) -> JsonSyntaxError:
        return JsonSyntaxError(message, self.pos if offset is None else offset, path)

    def skip_ws(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def value(self, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail("nesting too deep", path)
        self.skip_ws()
        if self.pos >= len(self.text):
            raise self.fail("unexpected end of text", path)
        self.offsets.setdefault(path, self.pos)
        ch = self.text[self.pos]
        if ch == "{":
            return self.obj(path, depth)
        if ch == "[":
            return self.arr(path, depth)
        if ch == '"':
            return self.string(path)
        for literal, val in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(literal, self.pos):
                self.pos += len(literal)
                return val
        m = _NUMBER.match(self.text, self.pos)
        if m and m.end() > self.pos:
            self.pos = m.end()
            return float(m.group()) if m.group(1) or m.group(2) else int(m.group())
        raise self.fail(f"unexpected character {ch!r}", path)

    def obj(self, path: str, depth: int) -> dict[str, Any]:
        self.pos += 1
        out: dict[str, Any] = {}
        self.skip_ws()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return out
        while True:
            self.skip_ws()
            if not self.text.startswith('"', self.pos):
                raise self.fail("expected a string key", path)
            key_offset = self.pos
            key = self.string(path)
            child = join_key(path, key)
            if key in out:
                raise self.fail(f"duplicate key {key!r}", child, key_offset)
            self.offsets[child] = key_offset
            self.skip_ws()
            if not self.text.startswith(":", self.pos):
                raise self.fail("expected ':'", child)
            self.pos += 1
            out[key] = self.value(child, depth + 1)
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return out
            raise self.fail("expected ',' or '}'", path)

    def arr(self, path: str, depth: int) -> list[Any]:
        self.pos += 1
        out: list[Any] = []
        self.skip_ws()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return out
        while True:
            out.append(self.value(join_index(path, len(out)), depth + 1))
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return out
            raise self.fail("expected ',' or ']'", path)

    def string(self, path: str) -> str:
        text, pos = self.text, self.pos + 1
        parts: list[str] = []
        while True:
            m = _STRING_CHUNK.match(text, pos)
            parts.append(m.group())  # type: ignore[union-attr]
            pos = m.end()  # type: ignore[union-attr]
            if pos >= len(text):
                raise self.fail("unterminated string", path, pos)
            ch = text[pos]
            if ch == '"':
                self.pos = pos + 1
                return "".join(parts)
            if ch != "\\":
                raise self.fail("control character in string", path, pos)
            esc = text[pos + 1 : pos + 2]
            if esc in _ESCAPES:
                parts.append(_ESCAPES[esc])
                pos += 2
            elif esc == "u":
                code, pos = self.unicode_escape(pos, path)
                parts.append(code)
            else:
                raise self.fail("invalid escape", path, pos)

    def unicode_escape(self, pos: int, path: str) -> tuple[str, int]:
        def hex4(at: int) -> int:
            digits = self.text[at : at + 4]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise self.fail("invalid \\u escape", path, at)
            return int(digits, 16)

        first = hex4(pos + 2)
        pos += 6
        if 0xD800 <= first < 0xDC00 and self.text.startswith("\\u", pos):
            second = hex4(pos + 2)
            if 0xDC00 <= second < 0xE000:
                return chr(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)), pos + 6
        # A lone surrogate is legal JSON; keep it (Python strings can hold it).
        return chr(first), pos


def scan(text: str) -> tuple[Any, dict[str, int]]:
    scanner = _Scanner(text)
    value = scanner.value("", 0)
    scanner.skip_ws()
    if scanner.pos != len(scanner.text):
        raise scanner.fail("unexpected text after the JSON value", "")
    return value, scanner.offsets

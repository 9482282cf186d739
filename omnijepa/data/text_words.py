"""Words of a text in any script, for the small text decoders and their scores: lower case,
letters and digits (``don't`` whole), punctuation dropped, and one token per character in
scripts written without spaces (CJK ideographs, kana, Thai), so an intent in Chinese is not
an empty list that an empty output matches exactly."""

from __future__ import annotations

import re

_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(f"[{_UNSPACED}]|[^\\W_{_UNSPACED}]+(?:'[^\\W_{_UNSPACED}]+)*")


def tokenize(text: str) -> list[str]:
    """The lower-case words of ``text`` (see the module doc)."""
    return WORD.findall(text.lower())


__all__ = ["WORD", "tokenize"]

"""The text of a PDF written by fpdf2 with core fonts: enough to assert on (no parser needed).

fpdf2 writes every line of text as a text object of literal strings shown with ``Tj`` in
zlib-compressed page streams, encoded as the font's WinAnsi (cp1252) bytes.
"""

from __future__ import annotations

import re
import zlib

STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
BLOCK = re.compile(rb"\bBT\b(.*?)\bET\b", re.S)
SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")
ESCAPE = re.compile(rb"\\(.)", re.S)


def pages(pdf: bytes) -> list[str]:
    """The text of each page stream, a line per text object (BT ... ET)."""
    found = []
    for raw in STREAM.findall(pdf):
        try:
            content = zlib.decompress(raw)
        except zlib.error:
            continue  # not a page (an image or a font)
        if b" Tj" not in content:
            continue
        lines = [
            "".join(ESCAPE.sub(rb"\1", s).decode("cp1252") for s in SHOWN.findall(block))
            for block in BLOCK.findall(content)
        ]
        found.append("\n".join(line for line in lines if line))
    return found


def text(pdf: bytes) -> str:
    return "\n".join(pages(pdf))

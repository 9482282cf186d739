"""Drawing primitives of the generated phone screens: rectangles, discs, rings, binary glyphs,
a 3x5 digit font and the status bar, all on grey uint8 ``(64, 64)`` screens.

Glyphs are fixed binary codes (the same in every run): each app icon, contact avatar and
setting has its own, so an episode's intent can only be read by recognising what was tapped,
not from where (icons are shuffled, lists scroll).
"""

from __future__ import annotations

import numpy as np

SCREEN = 64  # screens are drawn at 64 x 64 and resized to ``data.size``
_YY, _XX = np.mgrid[:SCREEN, :SCREEN]

DIGITS = (  # 3 x 5 font, rows top to bottom, 3 bits each
    (7, 5, 5, 5, 7), (2, 6, 2, 2, 7), (7, 1, 7, 4, 7), (7, 1, 3, 1, 7), (5, 5, 7, 1, 1),
    (7, 4, 7, 1, 7), (7, 4, 7, 5, 7), (7, 1, 2, 2, 2), (7, 5, 7, 5, 7), (7, 5, 7, 1, 7),
)  # fmt: skip


def rect(img: np.ndarray, r: int, c: int, h: int, w: int, value: int) -> None:
    """Fill the ``h`` x ``w`` box at top-left (r, c), clipped to the screen."""
    img[max(r, 0) : max(r + h, 0), max(c, 0) : max(c + w, 0)] = value


def disc(img: np.ndarray, r: float, c: float, radius: float, value: int) -> None:
    """Fill the disc of ``radius`` around (r, c)."""
    img[(_YY - r) ** 2 + (_XX - c) ** 2 <= radius**2] = value


def ring(img: np.ndarray, r: float, c: float, radius: float, width: float, value: int) -> None:
    """Draw a ring of ``width`` at ``radius`` around (r, c) (a tap highlight)."""
    d = np.sqrt((_YY - r) ** 2 + (_XX - c) ** 2)
    img[np.abs(d - radius) <= width / 2] = value


def glyph(img: np.ndarray, r: int, c: int, code: np.ndarray, scale: int, on: int,
          off: int | None = None) -> None:  # fmt: skip
    """Paint a binary ``code`` (k, k) upscaled by ``scale`` at (r, c); ``off`` cells painted
    too unless None."""
    big = np.kron(code.astype(np.uint8), np.ones((scale, scale), np.uint8)).astype(bool)
    h, w = big.shape
    r0, c0 = max(r, 0), max(c, 0)
    r1, c1 = min(r + h, SCREEN), min(c + w, SCREEN)
    if r1 <= r0 or c1 <= c0:
        return
    part = big[r0 - r : r1 - r, c0 - c : c1 - c]
    view = img[r0:r1, c0:c1]
    view[part] = on
    if off is not None:
        view[~part] = off


def codes(n: int, side: int, salt: int) -> list[np.ndarray]:
    """``n`` fixed, pairwise distinct binary ``side`` x ``side`` codes, each at least a third
    on and a third off (so none is blank or solid)."""
    rng = np.random.default_rng(1000 + salt)
    out: list[np.ndarray] = []
    while len(out) < n:
        c = rng.random((side, side)) < 0.5
        share = c.mean()
        if 1 / 3 <= share <= 2 / 3 and all((c != o).sum() >= side for o in out):
            out.append(c)
    return out


def number(img: np.ndarray, r: int, c: int, text: str, value: int) -> None:
    """Draw decimal ``text`` in the 3 x 5 font, 4 px per digit."""
    for k, ch in enumerate(text):
        rows = DIGITS[int(ch)]
        code = np.array([[(bits >> (2 - j)) & 1 for j in range(3)] for bits in rows], bool)
        glyph(img, r, c + 4 * k, code, 1, value)


def status_bar(img: np.ndarray, minute: int) -> None:
    """The top 6 rows: battery on the left, the clock (hh mm) on the right."""
    rect(img, 0, 0, 6, SCREEN, 25)
    rect(img, 1, 2, 3, 7, 170)
    rect(img, 2, 9, 1, 1, 170)
    hh, mm = divmod(minute % (24 * 60), 60)
    number(img, 0, 44, f"{hh:02d}", 210)
    number(img, 0, 53, f"{mm:02d}", 210)


def wallpaper(rng: np.random.Generator) -> np.ndarray:
    """A dim smooth random background (a home screen's wallpaper)."""
    coarse = rng.random((5, 5)) * 50 + 10
    x = np.linspace(0, 4, SCREEN)
    rows = np.array([np.interp(x, np.arange(5), coarse[i]) for i in range(5)])
    full = np.array([np.interp(x, np.arange(5), rows[:, j]) for j in range(SCREEN)]).T
    return full.astype(np.uint8)


__all__ = ["SCREEN", "codes", "disc", "glyph", "number", "rect", "ring", "status_bar",
           "wallpaper"]  # fmt: skip

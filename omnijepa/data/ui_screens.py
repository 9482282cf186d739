"""The app screens of the generated UI episodes, each drawn below the status bar on a grey
64 x 64 screen: a home screen of shuffled app icons, a scrolling contact list, a dialer, a chat
with a keyboard, a call screen, a contact card, a video call, settings toggles, a calendar
month and an event editor.

Every function returns the screen and the points a user can tap on it (name -> (row, col)),
which the episode scripts (``data.ui_episodes``) tap in order.
"""

from __future__ import annotations

import numpy as np

from omnijepa.data.ui_draw import SCREEN, codes, disc, glyph, rect, ring
from omnijepa.data.ui_intents import CONTACTS, TOGGLES

APPS = (
    "phone",
    "messages",
    "contacts",
    "settings",
    "calendar",
    "camera",
    "music",
    "maps",
    "mail",
)  # fmt: skip  (the last four are decoys no intent opens)
APP_GLYPHS = dict(zip(APPS, codes(len(APPS), 5, salt=1)))
AVATARS = dict(zip(CONTACTS, codes(len(CONTACTS), 4, salt=2)))
TOGGLE_GLYPHS = dict(zip(TOGGLES, codes(len(TOGGLES), 4, salt=3)))
BUTTON_GLYPHS = dict(zip(("call", "message", "video", "end", "send", "save", "delete"),
                         codes(7, 3, salt=4)))  # fmt: skip
HOME_BAR = (62, 32)  # the home indicator every screen shows; tapping it goes home
KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
ROW_H = 10  # contact-list row height
LIST_TOP = 13
Points = dict[str, tuple[int, int]]


def _blank(value: int = 235) -> np.ndarray:
    return np.full((SCREEN, SCREEN), value, np.uint8)


def _header(img: np.ndarray, code: np.ndarray) -> None:
    rect(img, 6, 0, 6, SCREEN, 95)
    glyph(img, 6, 2, code, 1, 240)


def home(order: tuple[str, ...], ground: np.ndarray) -> tuple[np.ndarray, Points]:
    """3 x 3 app icons in ``order`` (row-major) over the wallpaper ``ground``."""
    img = ground.copy()
    pts: Points = {}
    for k, app in enumerate(order):
        r, c = 9 + 18 * (k // 3), 5 + 20 * (k % 3)
        rect(img, r, c, 14, 14, 150)
        glyph(img, r + 2, c + 2, APP_GLYPHS[app], 2, 250, 70)
        pts[app] = (r + 7, c + 7)
    return img, pts


def contact_list(offset: int, title: str) -> tuple[np.ndarray, Points]:
    """Contacts in alphabetical order, scrolled up by ``offset`` px; only fully visible rows
    can be tapped."""
    img = _blank()
    pts: Points = {}
    for k, name in enumerate(CONTACTS):
        r = LIST_TOP + k * ROW_H - offset
        if r + ROW_H <= LIST_TOP or r >= SCREEN:
            continue
        glyph(img, r + 1, 3, AVATARS[name], 2, 30, 160)
        rect(img, r + 3, 14, 3, 12 + 4 * len(name), 60)
        rect(img, r + ROW_H - 1, 2, 1, SCREEN - 4, 190)
        if r >= LIST_TOP and r + ROW_H <= SCREEN:
            pts[name] = (r + 5, 30)
    rect(img, 0, 0, LIST_TOP, SCREEN, 235)  # rows scrolled under the header are hidden
    _header(img, APP_GLYPHS[title])
    return img, pts


def dialer() -> tuple[np.ndarray, Points]:
    """A 3 x 4 keypad and a tab bar (keypad, recents, contacts)."""
    img = _blank(40)
    rect(img, 7, 4, 7, SCREEN - 8, 70)
    for k in range(12):
        disc(img, 20 + 9 * (k // 3), 16 + 16 * (k % 3), 3.5, 120)
    rect(img, 57, 0, 7, SCREEN, 80)
    pts: Points = {}
    for k, tab in enumerate(("keypad", "recents", "contacts")):
        glyph(img, 58, 8 + 21 * k, APP_GLYPHS[APPS[k + 5]], 1, 220)
        pts[tab] = (60, 10 + 21 * k)
    return img, pts


def chat(contact: str, history: int, typed: str, sent: str) -> tuple[np.ndarray, Points]:
    """A conversation with ``history`` old bubbles, the field holding ``typed``, the bubble
    ``sent`` (if any) and a keyboard; points: one per key and ``send``."""
    img = _blank(225)
    _header(img, AVATARS[contact])
    for k in range(history):
        rect(img, 14 + 7 * k, 3, 5, 18 + 9 * k, 150)
    if sent:
        rect(img, 29, SCREEN - 6 - 5 * len(sent), 6, 5 * len(sent) + 2, 70)
    rect(img, 37, 2, 6, 48, 250)
    for k in range(len(typed)):
        rect(img, 38, 4 + 4 * k, 4, 3, 30)
    disc(img, 40, 57, 3.5, 60)
    pts: Points = {"send": (40, 57)}
    rect(img, 45, 0, SCREEN - 45, SCREEN, 120)
    for row, keys in enumerate(KEYBOARD):
        for k, key in enumerate(keys):
            r, c = 46 + 6 * row, 2 + 3 * row + 6 * k
            rect(img, r, c, 5, 5, 215)
            pts[key] = (r + 2, c + 2)
    return img, pts


def call_screen(contact: str) -> tuple[np.ndarray, Points]:
    """An ongoing call: the contact's large avatar and the end button."""
    img = _blank(30)
    glyph(img, 14, 24, AVATARS[contact], 4, 230, 90)
    disc(img, 50, 32, 5, 110)
    glyph(img, 48, 31, BUTTON_GLYPHS["end"], 1, 250)
    return img, {"end": (50, 32)}


def contact_card(contact: str) -> tuple[np.ndarray, Points]:
    """A contact's card: avatar, name and call / message / video buttons."""
    img = _blank()
    _header(img, APP_GLYPHS["contacts"])
    glyph(img, 15, 24, AVATARS[contact], 4, 30, 170)
    rect(img, 34, 32 - 2 * len(contact), 3, 4 * len(contact), 60)
    pts: Points = {}
    for k, b in enumerate(("call", "message", "video")):
        c = 14 + 18 * k
        disc(img, 48, c, 5, 100)
        glyph(img, 46, c - 1, BUTTON_GLYPHS[b], 1, 245)
        pts[b] = (48, c)
    return img, pts


def video_screen(contact: str) -> tuple[np.ndarray, Points]:
    """A video call: the contact fills the screen, the user's own view in a corner."""
    img = _blank(50)
    glyph(img, 8, 8, AVATARS[contact], 12, 200, 80)
    rect(img, 46, 46, 14, 12, 160)
    return img, {}


def settings(states: dict[str, bool]) -> tuple[np.ndarray, Points]:
    """One row per toggle: its glyph, a label and a switch (knob right and bright = on)."""
    img = _blank()
    _header(img, APP_GLYPHS["settings"])
    pts: Points = {}
    for k, name in enumerate(TOGGLES):
        r = 14 + 10 * k
        glyph(img, r + 1, 3, TOGGLE_GLYPHS[name], 2, 30, 200)
        rect(img, r + 3, 14, 3, 8 + 3 * len(name), 90)
        on = states[name]
        rect(img, r + 2, 44, 6, 16, 170 if on else 70)
        rect(img, r + 2, 52 if on else 44, 6, 8, 250)
        pts[name] = (r + 5, 52)
    return img, pts


def calendar(selected: tuple[int, int] | None, marked: set[tuple[int, int]]
             ) -> tuple[np.ndarray, Points]:  # fmt: skip
    """A month as 5 weeks x 7 weekday columns; the ``selected`` cell highlighted, ``marked``
    cells with an event dot; points named ``"w,d"``."""
    img = _blank()
    _header(img, APP_GLYPHS["calendar"])
    pts: Points = {}
    for d in range(7):
        rect(img, 14, 2 + 9 * d, 2, 6, 60 if d < 5 else 140)
    for w in range(5):
        for d in range(7):
            r, c = 18 + 9 * w, 1 + 9 * d
            rect(img, r, c, 8, 8, 200 if (w, d) == selected else 160)
            if (w, d) in marked:
                disc(img, r + 4, c + 4, 2, 20)
            pts[f"{w},{d}"] = (r + 4, c + 4)
    return img, pts


def event_editor(day: int, existing: bool) -> tuple[np.ndarray, Points]:
    """An event's form: title and time fields, the weekday as a chip, and the save button (a
    new event) or the delete button (an existing one)."""
    img = _blank()
    _header(img, APP_GLYPHS["calendar"])
    rect(img, 16, 4, 6, 56, 150 if existing else 190)
    rect(img, 26, 4, 6, 56, 150 if existing else 190)
    rect(img, 37, 4 + 8 * day, 6, 6, 40)
    button = "delete" if existing else "save"
    disc(img, 53, 48 if not existing else 16, 5, 90)
    r, c = 53, 48 if not existing else 16
    glyph(img, r - 2, c - 1, BUTTON_GLYPHS[button], 1, 245)
    return img, {button: (r, c)}


def home_bar(img: np.ndarray) -> None:
    """The home indicator at the bottom centre."""
    rect(img, HOME_BAR[0] - 1, HOME_BAR[1] - 8, 2, 16, 128)


def tap_mark(img: np.ndarray, point: tuple[int, int]) -> None:
    """The touch highlight: a dark ring with a bright centre."""
    ring(img, point[0], point[1], 4.0, 1.6, 0)
    disc(img, point[0], point[1], 1.5, 255)


__all__ = [
    "APPS", "HOME_BAR", "KEYBOARD", "ROW_H", "call_screen", "calendar", "chat", "contact_card",
    "contact_list", "dialer", "event_editor", "home", "home_bar", "settings", "tap_mark",
    "video_screen",
]  # fmt: skip

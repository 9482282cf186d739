"""Generated UI screen recordings: scripted tasks on phone screens, each with its gold intent.

An episode is what a user does to carry out one intent, drawn frame by frame: from the home
screen (app icons in a random order over a random wallpaper) the user taps the app, scrolls a
contact list to a contact (the list starts at a random scroll), types a message key by key,
flips a switch or picks a day in a month grid, and ends on the result screen. Taps are drawn
as a ring for one frame, swipes as a streak. Distractors that do not change the intent: the
status-bar clock ticks over, a notification banner slides in for two or three frames, chat
histories, switch states, other days' events and the week picked vary. Half the episodes end
with the user going back home, so the result screen is not always the last frame; and some
intents differ only in the order of what is shown (a switch going on or off, an event
appearing or disappearing), which no average over frames can tell apart.

The whole task is laid out as tap frames plus dwell frames spread at random over its screens,
so every episode fills exactly ``frames`` frames (a longer task keeps an evenly spaced subset,
as UI-JEPA samples 16 frames uniformly from a recording).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from omnijepa.data import ui_screens as ui
from omnijepa.data.ui_draw import SCREEN, glyph, rect, status_bar, wallpaper
from omnijepa.data.ui_intents import CONTACTS, TOGGLES, WEEKDAYS, Intent

Shot = tuple[np.ndarray, tuple[int, int] | None, str]  # screen, touch point, "tap" / "swipe"


@dataclass
class Episode:
    """uint8 frames (T, 64, 64) and the intent they carry out."""

    frames: np.ndarray
    intent: Intent


def _to_list(ctx: dict, app: str, title: str, contact: str, rng: np.random.Generator,
             shots: list[Shot]) -> None:  # fmt: skip
    """Home -> ``app`` (via the dialer's contacts tab for the phone) -> scroll to ``contact``
    -> tap it."""
    img, pts = ui.home(ctx["order"], ctx["ground"])
    shots.append((img, pts[app], "tap"))
    if app == "phone":
        img, pts = ui.dialer()
        shots.append((img, pts["contacts"], "tap"))
    k = CONTACTS.index(contact)
    offset = int(rng.integers(0, 7)) * 5
    low, high = max(0, k * ui.ROW_H - 41), k * ui.ROW_H
    goal = min(max(offset, low), high)
    while offset != goal:  # swipe a row at a time (the last swipe lands exactly)
        img, _ = ui.contact_list(offset, title)
        shots.append((img, (50 if offset < goal else 20, 58), "swipe"))
        offset += max(-ui.ROW_H, min(ui.ROW_H, goal - offset))
    img, pts = ui.contact_list(offset, title)
    shots.append((img, pts[contact], "tap"))


def _call(i: Intent, ctx: dict, rng: np.random.Generator) -> list[Shot]:
    shots: list[Shot] = []
    _to_list(ctx, "phone", "phone", i.object, rng, shots)
    return [*shots, (ui.call_screen(i.object)[0], None, "")]


def _message(i: Intent, ctx: dict, rng: np.random.Generator) -> list[Shot]:
    shots: list[Shot] = []
    _to_list(ctx, "messages", "messages", i.object, rng, shots)
    history = int(rng.integers(0, 3))
    for k, key in enumerate(i.value):
        img, pts = ui.chat(i.object, history, i.value[:k], "")
        shots.append((img, pts[key], "tap"))
    img, pts = ui.chat(i.object, history, i.value, "")
    shots.append((img, pts["send"], "tap"))
    return [*shots, (ui.chat(i.object, history, "", i.value)[0], None, "")]


def _video_call(i: Intent, ctx: dict, rng: np.random.Generator) -> list[Shot]:
    shots: list[Shot] = []
    _to_list(ctx, "contacts", "contacts", i.object, rng, shots)
    img, pts = ui.contact_card(i.object)
    shots.append((img, pts["video"], "tap"))
    return [*shots, (ui.video_screen(i.object)[0], None, "")]


def _toggle(i: Intent, ctx: dict, rng: np.random.Generator) -> list[Shot]:
    img, pts = ui.home(ctx["order"], ctx["ground"])
    shots: list[Shot] = [(img, pts["settings"], "tap")]
    states = {t: bool(rng.random() < 0.5) for t in TOGGLES}
    states[i.object] = i.action == "turn off"
    img, pts = ui.settings(states)
    shots.append((img, pts[i.object], "tap"))
    states[i.object] = i.action == "turn on"
    return [*shots, (ui.settings(states)[0], None, "")]


def _event(i: Intent, ctx: dict, rng: np.random.Generator) -> list[Shot]:
    """Add an event on a weekday, or remove the one there; other days may hold events."""
    img, pts = ui.home(ctx["order"], ctx["ground"])
    shots: list[Shot] = [(img, pts["calendar"], "tap")]
    week, day = int(rng.integers(0, 5)), WEEKDAYS.index(i.value)
    others = {
        (int(rng.integers(0, 5)), int(rng.integers(0, 7))) for _ in range(int(rng.integers(0, 3)))
    }
    removing = i.action == "remove event"
    before = (others | {(week, day)}) if removing else (others - {(week, day)})
    after = before - {(week, day)} if removing else before | {(week, day)}
    img, pts = ui.calendar(None, before)
    shots.append((img, pts[f"{week},{day}"], "tap"))
    img, pts = ui.event_editor(day, removing)
    shots.append((img, pts["delete" if removing else "save"], "tap"))
    return [*shots, (ui.calendar(None, after)[0], None, "")]


SCRIPTS: dict[str, Callable[[Intent, dict, np.random.Generator], list[Shot]]] = {
    "call": _call,
    "message": _message,
    "video call": _video_call,
    "turn on": _toggle,
    "turn off": _toggle,
    "add event": _event,
    "remove event": _event,
}


def _timeline(shots: list[Shot], frames: int, rng: np.random.Generator) -> list[tuple[int, bool]]:
    """(shot index, touch shown) per frame: every touch and the final screen get a frame,
    the rest are dwell frames on random shots (or, when touches exceed ``frames``, an evenly
    spaced subset of them)."""
    core = [(k, shots[k][1] is not None) for k in range(len(shots))]
    if len(core) >= frames:
        keep = np.linspace(0, len(core) - 1, frames).round().astype(int)
        return [core[k] for k in keep]
    dwell = np.bincount(rng.integers(0, len(shots), frames - len(core)), minlength=len(shots))
    out: list[tuple[int, bool]] = []
    for k, touch in core:
        out += [(k, False)] * int(dwell[k]) + [(k, touch)]
    return out


def _banner(frame: np.ndarray, rng_code: np.ndarray, drop: int) -> None:
    rect(frame, 6, 2, drop, SCREEN - 4, 60)
    glyph(frame, 6 + drop - 7, 4, rng_code, 1, 230)
    rect(frame, 6 + drop - 5, 12, 2, 30, 200)


def render_episode(intent: Intent, frames: int, rng: np.random.Generator, notify: float = 0.5,
                   clock: float = 0.5, end_home: float = 0.5) -> Episode:  # fmt: skip
    """One episode of ``intent`` in ``frames`` frames with its distractors; with probability
    ``end_home`` the user goes back to the home screen at the end, so the last frame no longer
    shows the result."""
    ctx = {"order": tuple(rng.permutation(ui.APPS)), "ground": wallpaper(rng)}
    shots = SCRIPTS[intent.action](intent, ctx, rng)
    if rng.random() < end_home:
        shots[-1] = (shots[-1][0], ui.HOME_BAR, "tap")
        shots.append((ui.home(ctx["order"], ctx["ground"])[0], None, ""))
    plan = _timeline(shots, frames, rng)
    minute = int(rng.integers(0, 24 * 60))
    tick = int(rng.integers(1, frames)) if rng.random() < clock else frames
    banner_at = int(rng.integers(0, frames)) if rng.random() < notify else -99
    banner_code = ui.APP_GLYPHS[ui.APPS[int(rng.integers(0, len(ui.APPS)))]]
    out = np.empty((frames, SCREEN, SCREEN), np.uint8)
    for t, (k, touch) in enumerate(plan):
        img, point, kind = shots[k]
        frame = img.copy()
        ui.home_bar(frame)
        if touch and kind == "tap":
            ui.tap_mark(frame, point)
        elif touch:  # a swipe: streak along the list with the finger at its end
            rect(frame, 18, point[1], 28, 2, 120)
            ui.tap_mark(frame, point)
        status_bar(frame, minute + (t >= tick))
        if 0 <= t - banner_at < 3:
            _banner(frame, banner_code, (4, 9, 9)[t - banner_at])
        out[t] = frame
    return Episode(out, intent)


__all__ = ["SCRIPTS", "Episode", "render_episode"]

"""The intent grammar of the generated UI episodes: slots, paraphrase templates, text parsing,
and the few-shot / zero-shot split of slot combinations.

An intent is four slots (app, action, object, value; "" when a slot does not apply), e.g.
(messages, message, bob, thanks). Each action has several paraphrase templates ("text bob
thanks", "send bob a message saying thanks"); an episode's gold text is one of them, drawn at
random, so no decoder can always match the wording and the similarity metric has to look past
it. ``parse_slots`` reads the slots back from any text (generated or gold) by keywords; slot F1
compares them with the gold slots.

Splits (UI-JEPA's few-shot / zero-shot): whole actions can be held out (``unseen_actions``,
default "video call"), and a share of the remaining combinations is held out too, chosen so
every slot value still occurs in some seen combination (zero-shot = new combinations of seen
values, plus new actions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from omnijepa.errors import ConfigError

CONTACTS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
TOGGLES = ("wifi", "bluetooth", "airplane mode", "dark mode", "location")
WORDS = ("hi", "ok", "thanks")  # what a message says
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# action -> (app, objects, values, paraphrase templates with {o} object and {v} value)
ACTIONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "call": ("phone", CONTACTS, ("",), ("call {o}", "phone {o}", "make a call to {o}",
                                        "ring {o}")),
    "message": ("messages", CONTACTS, WORDS, ("text {o} {v}", "send {o} a message saying {v}",
                                              "message {o} {v}", "tell {o} {v}")),
    "video call": ("contacts", CONTACTS, ("",), ("video call {o}", "start a video call with {o}",
                                                 "facetime {o}")),
    "turn on": ("settings", TOGGLES, ("",), ("turn on {o}", "switch {o} on", "enable {o}")),
    "turn off": ("settings", TOGGLES, ("",), ("turn off {o}", "switch {o} off", "disable {o}")),
    "add event": ("calendar", ("",), WEEKDAYS, ("add an event on {v}", "create an event for {v}",
                                                "schedule an event on {v}")),
    "remove event": ("calendar", ("",), WEEKDAYS, ("delete the event on {v}",
                                                   "remove the event on {v}",
                                                   "cancel the event on {v}")),
}  # fmt: skip

# keywords that name an action in free text, most specific first
_ACTION_WORDS = (
    ("video call", ("video", "facetime")),
    ("message", ("text", "message", "tell", "saying")),
    ("remove event", ("delete", "remove", "cancel")),
    ("add event", ("event",)),
    ("turn on", ("on", "enable")),
    ("turn off", ("off", "disable")),
    ("call", ("call", "phone", "ring")),
)


@dataclass(frozen=True)
class Intent:
    """Four slots; "" where a slot does not apply."""

    app: str
    action: str
    object: str
    value: str

    def slots(self) -> set[tuple[str, str]]:
        """The filled slots as (name, value) pairs."""
        pairs = (("app", self.app), ("action", self.action), ("object", self.object),
                 ("value", self.value))  # fmt: skip
        return {(k, v) for k, v in pairs if v}

    def text(self, template: int = 0) -> str:
        """The intent in words, by paraphrase ``template`` (taken modulo their number)."""
        forms = ACTIONS[self.action][3]
        return forms[template % len(forms)].format(o=self.object, v=self.value)


def all_intents() -> list[Intent]:
    """Every slot combination of the grammar, in a fixed order."""
    return [Intent(app, action, o, v) for action, (app, objs, vals, _) in ACTIONS.items()
            for o in objs for v in vals]  # fmt: skip


def words(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (letters and digits)."""
    return re.findall(r"[a-z0-9]+", text.lower())


def _find(ws: list[str], names: tuple[str, ...]) -> str:
    joined = f" {' '.join(ws)} "
    hits = [n for n in names if n and f" {n} " in joined]
    return max(hits, key=len) if hits else ""


def parse_slots(text: str) -> set[tuple[str, str]]:
    """The slots a text names, read by keywords (the inverse of every template)."""
    ws = words(text)
    toggle, contact = _find(ws, TOGGLES), _find(ws, CONTACTS)
    value = _find(ws, WEEKDAYS) or _find(ws, WORDS)
    action = ""
    for name, keys in _ACTION_WORDS:
        if name.startswith("turn") and not toggle:
            continue  # "on"/"off" name a switch only next to a toggle ("add an event on")
        if any(k in ws for k in keys):
            action = name
            break
    slots = {("object", o) for o in (toggle, contact) if o}
    if value:
        slots.add(("value", value))
    if action:
        slots |= {("action", action), ("app", ACTIONS[action][0])}
    return slots


def slot_f1(predicted: set[tuple[str, str]], gold: set[tuple[str, str]]) -> float:
    """F1 of predicted against gold (name, value) slot pairs (1 when both are empty)."""
    if not predicted and not gold:
        return 1.0
    hit = len(predicted & gold)
    return 2.0 * hit / (len(predicted) + len(gold))


@dataclass
class IntentSplit:
    """Seen combinations (few-shot train and test) and unseen ones (zero-shot test)."""

    seen: list[Intent]
    unseen: list[Intent]


def split_intents(
    unseen_actions: tuple[str, ...], heldout_share: float, rng: np.random.Generator
) -> IntentSplit:
    """Hold out ``unseen_actions`` entirely and ``heldout_share`` of the other combinations,
    never the last seen combination of any slot value."""
    bad = [a for a in unseen_actions if a not in ACTIONS]
    if bad:
        raise ConfigError(f"data.unseen_actions: {bad} are not actions; use some of "
                          f"{list(ACTIONS)}")  # fmt: skip
    if not 0.0 <= heldout_share < 1.0:
        raise ConfigError(f"data.heldout_share must be in [0, 1), got {heldout_share}")
    intents = all_intents()
    seen = [i for i in intents if i.action not in unseen_actions]
    unseen = [i for i in intents if i.action in unseen_actions]
    if len({i.action for i in seen}) < 2:
        raise ConfigError("data.unseen_actions leaves fewer than 2 actions to train on")
    budget = int(round(heldout_share * len(seen)))
    for k in rng.permutation(len(seen)):
        if budget == 0:
            break
        cand = seen[k]
        rest = [i for i in seen if i != cand and i not in unseen]
        covered = set().union(*(i.slots() for i in rest))
        if cand.slots() <= covered:
            unseen.append(cand)
            budget -= 1
    return IntentSplit([i for i in seen if i not in unseen], unseen)


__all__ = [
    "ACTIONS",
    "CONTACTS",
    "TOGGLES",
    "WEEKDAYS",
    "WORDS",
    "Intent",
    "IntentSplit",
    "all_intents",
    "parse_slots",
    "slot_f1",
    "split_intents",
    "words",
]

"""What a run's numbers say, in words: the trained − twin gap on every probe, and the traps of
short runs the guide names, checked before anyone tunes anything.

- **Random features already solve the task**: the random-init twin closes most of the way from
  chance to a perfect score on the main probe, so pre-training has little room to show there
  (a user's 4-class mesh folder: twin SVM 1.000).
- **The raw input reads higher than the trained encoder**: the encoder keeps less of what the
  labels need than the input itself (handwritten digits that fill their frame).
- **The trained encoder reads below its twin** on the main probe.
- **The EMA target has hardly left its random init** (the weight of its initial weights in it,
  the product of the momenta): the encoder judged is then mostly the twin it is compared to.

The lines go to the console after ``train``/``eval`` and into results.json (``reading``).
"""

from __future__ import annotations

import re
from typing import Any

CEILING_SHARE = 0.9  # the twin covers this share of the way from chance to 1: little room left
RAW_MARGIN = 0.02  # raw input above the trained encoder by this much is worth saying
BELOW_TWIN = 0.01  # the trained encoder this far under its twin is worth saying
TEACHER_INIT = 0.5  # an EMA target holding more than this of its init is mostly random


def _mean(section: dict[str, Any], key: str) -> float | None:
    value = section.get(key)
    if isinstance(value, dict) and isinstance(value.get("mean"), (int, float)):
        return float(value["mean"])
    return None


# errors, distances and diagnostics are not scores a higher value of which is better
NOT_A_SCORE = re.compile(r"(^|_)(c|rmse|mse|mae|l1|l2|loss|distance|epe|error|share|std)($|_)")


def _paired(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Accuracy-like probe sections (higher is better, in 0..1; not an error such as
    ``probe_rmse``, a diagnostic such as ``turn_variance_share`` or a chosen C such as
    ``linear_c``) holding both the trained encoder (``jepa``) and its twin."""
    out = {}
    for name, sec in metrics.items():
        if not isinstance(sec, dict) or NOT_A_SCORE.search(name):
            continue
        pair = (_mean(sec, "jepa"), _mean(sec, "random_init"))
        if all(v is not None and 0.0 <= v <= 1.0 for v in pair):
            out[name] = sec
    return out


def read_run(
    metrics: dict[str, Any],
    main_probe: str,
    last_record: dict[str, Any] | None = None,
    raw_name: str = "the raw input",
) -> list[str]:
    """Lines describing ``metrics`` (a run's aggregated results) around its ``main_probe``;
    ``last_record`` is the trainer's last metrics record (its teacher diagnostics);
    ``raw_name`` says what the ``raw`` feature set is (a recipe's classical baseline)."""
    lines = []
    paired = _paired(metrics)
    if paired:
        gaps = ", ".join(
            f"{name} {100 * (_mean(s, 'jepa') - _mean(s, 'random_init')):+.1f}"  # type: ignore[operator]
            for name, s in paired.items()
        )
        lines.append(f"trained − random-init twin, points: {gaps}")
    if main_probe not in paired:  # e.g. a table without its few-label probes
        main_probe = "linear_probe"
    if main_probe in paired:
        lines += _main_probe_notes(main_probe, paired[main_probe], raw_name)
    init = (last_record or {}).get("teacher_init_weight")
    if isinstance(init, (int, float)) and init > TEACHER_INIT:
        lines.append(
            f"note: the target encoder still holds {init:.0%} of its random-init weights at "
            "the last step, so the encoder judged is mostly the twin it is compared with "
            "(unless ema.mode=frozen asked for that); ema.max_init_weight caps this share "
            "(0 keeps ema.start/end as given)"
        )
    return lines


def _main_probe_notes(name: str, sec: dict[str, Any], raw_name: str) -> list[str]:
    trained, twin = _mean(sec, "jepa"), _mean(sec, "random_init")
    raw, known = _mean(sec, "raw"), _mean(sec, "chance")
    chance = known or 0.0
    assert trained is not None and twin is not None
    notes = []
    if twin >= chance + CEILING_SHARE * (1.0 - chance):
        said = f" (chance {chance:.3f})" if known is not None else ""  # a recipe may not say
        notes.append(
            f"note: the random-init twin already reads {twin:.3f} on {name}{said}: random "
            "features nearly solve this task, so pre-training has "
            "little room to show on it; a harder task or the few-label probes say more"
        )
    if raw is not None and raw >= trained + RAW_MARGIN:
        notes.append(
            f"note: {raw_name} reads {raw:.3f} on {name}, above the trained encoder's "
            f"{trained:.3f}: at this budget the encoder keeps less of what the labels need "
            "than that baseline"
        )
    if trained <= twin - BELOW_TWIN:
        notes.append(
            f"note: the trained encoder reads below its random-init twin on {name} "
            f"({trained:.3f} against {twin:.3f}): pre-training has not helped this probe here"
        )
    return notes

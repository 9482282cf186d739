"""The frozen-feature probes every recipe reports, run identically on each feature set.

Features are z-scored with the train split's statistics, then:
- ``linear``: multinomial logistic regression (``eval.logistic``, sklearn's objective) whose C
  is chosen on a stratified held-out part of the train split (grid ``c_grid``, extended past
  whichever end wins), refit on the whole train split, scored on test;
- ``knn``: cosine k-nearest-neighbour vote (k = 20 by default);
- ``few_<n>``: logistic regression (fixed C) on n labels per class, mean over several draws;
  ``pct_<p>``: the same on p % of the train labels (tables).
The solver runs until it converges (a probe that does not converge warns; ``max_iter`` is
generous).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from omnijepa.eval.logistic import FeatureBasis, LogisticProbe

Split = tuple[np.ndarray, np.ndarray]
EARLY_STOP_ROWS = 500  # held-out rows from which the C scan may stop early (c_patience)
POOL_NAMES = ("mean", "max", "max_mean", "attentive")


@dataclass
class ProbeConfig:
    """``eval.*`` keys of the one evaluation protocol (recipes' eval configs extend it)."""

    layers: int = 1  # features from the last k blocks, concatenated (each final-normed)
    pool: str = "mean"  # mean | max | max_mean | attentive (a learned-query probe)
    # logistic-regression C, chosen on val; wide, because random features want little
    # regularisation and raw pixels much. A best C at either end of the grid extends it by
    # factors of 10 while the held-out accuracy improves, within [c_min, c_max]: with the
    # grid capped at 100 a random twin's probe on canvas Fashion-MNIST read 0.522 at the cap
    # and 0.570 at C = 10^4, so a capped grid understated the baselines
    c_grid: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
    c_min: float = 1e-6
    c_max: float = 1e6
    # the grid scan (strong to weak regularisation) stops once this many Cs in a row score
    # below the best so far on a held-out part of >= 500 rows (0 = fit every C): the accuracy is
    # single-peaked in C, and the weak end is the slow end — on raw canvas pixels, whose best
    # C is 0.001, the fits at C = 1, 10 and 100 took 26 of the probe's 36 s
    c_patience: int = 2
    val_fraction: float = 0.2  # held-out part of the train split that picks C
    max_iter: int = 2000
    knn_k: int = 20
    few_shot: tuple[int, ...] = (10, 100)  # labels per class of the few-label probes
    few_fractions: tuple[float, ...] = ()  # ... or fractions of the train labels
    few_draws: int = 3
    few_c: float = 0.1  # fixed C of the few-label probes (no labels left to choose it)
    attentive_epochs: int = 30
    baselines: bool = True  # also probe the random-init twin and the raw input
    online: bool = True  # also probe the non-verdict encoder (jepa_online beside an EMA target)
    batch_size: int = 256  # encoder batch when extracting features
    # feature sets probed at once, one thread each (``eval/probe_threads.py``): 0 = one per torch
    # thread; 1 = one after another. Each set's fits are single-threaded either way, so the
    # scores do not depend on it
    workers: int = 0
    curve_train: int = 2000  # learning-curve kNN: train / test subsample sizes
    curve_test: int = 1000
    # final evaluation on at most this many train / test items, spread over each split, so a
    # 200k-image folder is probed in bounded memory (0 = all)
    max_train: int = 20000
    max_test: int = 10000

    def __post_init__(self) -> None:
        if self.layers < 1:
            raise ValueError(f"eval.layers must be >= 1, got {self.layers}")
        if self.pool not in POOL_NAMES:
            raise ValueError(f"eval.pool must be one of {', '.join(POOL_NAMES)}, got {self.pool!r}")
        if not self.c_grid or min(self.c_grid) <= 0:
            raise ValueError(f"eval.c_grid needs positive values, got {self.c_grid}")
        if not 0 < self.c_min <= min(self.c_grid) or max(self.c_grid) > self.c_max:
            raise ValueError(
                f"eval.c_min ({self.c_min}) and eval.c_max ({self.c_max}) must bracket "
                f"eval.c_grid {self.c_grid}, with c_min > 0"
            )
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"eval.val_fraction must be in (0, 1), got {self.val_fraction}")
        if any(not 0.0 < f < 1.0 for f in self.few_fractions):
            raise ValueError(f"eval.few_fractions must be in (0, 1), got {self.few_fractions}")
        for key in ("knn_k", "few_draws", "batch_size", "max_iter", "attentive_epochs"):
            if getattr(self, key) < 1:
                raise ValueError(f"eval.{key} must be >= 1, got {getattr(self, key)}")
        if any(n < 1 for n in self.few_shot):
            raise ValueError(f"eval.few_shot holds labels per class, each >= 1: {self.few_shot}")
        if self.few_c <= 0:
            raise ValueError(f"eval.few_c must be > 0, got {self.few_c}")
        if self.c_patience < 0:
            raise ValueError(
                f"eval.c_patience must be >= 0 (0 = the whole grid), got {self.c_patience}"
            )
        if self.workers < 0:
            raise ValueError(f"eval.workers must be >= 0 (0 = one per thread), got {self.workers}")
        if self.max_train < 0 or self.max_test < 0:
            raise ValueError("eval.max_train and eval.max_test must be >= 0 (0 = all)")


def labeled(split: Split) -> Split:
    """Rows with a label (>= 0)."""
    x, y = split
    keep = y >= 0
    return np.nan_to_num(np.asarray(x[keep], dtype=np.float64)), np.asarray(y[keep])


def zscore(train: Split, test: Split) -> tuple[Split, Split]:
    """Standardise both splits with the train split's per-feature mean and std."""
    scaler = StandardScaler().fit(train[0])
    return (scaler.transform(train[0]), train[1]), (scaler.transform(test[0]), test[1])


def _logreg(c: float, max_iter: int) -> LogisticProbe:
    return LogisticProbe(c=c, max_iter=max_iter)


def _can_hold_out(y: np.ndarray, val_fraction: float) -> bool:
    counts = np.bincount(y)
    counts = counts[counts > 0]
    return len(counts) >= 2 and counts.min() >= 2 and round(len(y) * val_fraction) >= len(counts)


def _extend_edge(
    best: tuple[float, LogisticProbe, float],
    step: float,
    bounds: tuple[float, float],
    fit: Split,
    val: Split,
    max_iter: int,
    basis: FeatureBasis | None = None,
) -> tuple[float, LogisticProbe, float]:
    """Walk C past a grid edge by factors of ``step`` while the held-out accuracy improves and
    the solver still converges (a fit it cannot finish marks the numerical end of the walk:
    on ill-conditioned features, such as a random encoder's, a huge C is otherwise a probe
    regularised only by its iteration cap). ``basis``: the grid's, of ``fit``'s rows."""
    c, probe, acc = best
    basis = basis or FeatureBasis.of(fit[0])
    while bounds[0] <= c * step <= bounds[1]:
        nxt = _logreg(c * step, max_iter).fit(*fit, warm=probe, warn=False, basis=basis)
        nxt_acc = nxt.score(*val)
        if not nxt.converged or nxt_acc <= acc:
            break
        c, probe, acc = c * step, nxt, nxt_acc
    return c, probe, acc


def choose_c(train: Split, s: ProbeConfig, seed: int) -> tuple[float, LogisticProbe | None]:
    """The C with the best accuracy on a stratified held-out part of train — over ``c_grid``
    (scanned from strong to weak regularisation until ``c_patience`` Cs in a row fall below the
    best), extended past whichever end wins (see ``ProbeConfig.c_min``) — and the probe fitted
    there (a warm start for the refit; None when nothing was held out)."""
    x, y = train
    if len(s.c_grid) == 1 or not _can_hold_out(y, s.val_fraction):
        return float(s.c_grid[len(s.c_grid) // 2]), None
    xf, xv, yf, yv = train_test_split(x, y, test_size=s.val_fraction, stratify=y, random_state=seed)
    grid = sorted(s.c_grid)  # strong to weak regularisation, each fit warm-started
    fits: list[LogisticProbe] = []
    scores: list[float] = []
    # stop early only on a held-out part big enough to trust a fall (on a few dozen rows one
    # item moves the score, and those fits are cheap anyway); ties do not count as a fall
    early = s.c_patience > 0 and len(yv) >= EARLY_STOP_ROWS
    basis = FeatureBasis.of(xf)  # one preconditioner for the whole grid and its walk
    for c in grid:
        warm = fits[-1] if fits else None
        fits.append(_logreg(c, s.max_iter).fit(xf, yf, warm=warm, basis=basis))
        scores.append(fits[-1].score(xv, yv))
        top = max(scores)
        if early and all(v < top for v in scores[-s.c_patience :]):
            break
    i = int(np.argmax(scores))
    best = (float(grid[i]), fits[i], scores[i])
    if i in (0, len(grid) - 1):
        step = 10.0 if i == len(grid) - 1 else 0.1
        bounds = (s.c_min, s.c_max)
        best = _extend_edge(best, step, bounds, (xf, yf), (xv, yv), s.max_iter, basis)
    return best[0], best[1]


def linear_accuracy(train: Split, test: Split, s: ProbeConfig, seed: int) -> tuple[float, float]:
    """(test accuracy, chosen C) of the logistic-regression probe on z-scored features."""
    c, warm = choose_c(train, s, seed)
    clf = _logreg(c, s.max_iter).fit(*train, warm=warm)
    return float(clf.score(*test)), c


def knn_accuracy(train: Split, test: Split, k: int) -> float:
    """Cosine kNN vote accuracy (k capped at the train split's size, with a warning: the
    vote is then the split's majority class)."""
    if k > len(train[1]):
        n = len(train[1])
        warnings.warn(
            f"eval.knn_k={k} exceeds the {n} labelled train items; kNN used k={n}, a vote "
            "of the whole split",
            stacklevel=2,
        )
    # the vote of sklearn's KNeighborsClassifier (uniform weights, ties to the smallest
    # label), without its classifier check, whose "`y` could represent a regression problem"
    # line only repeated the thin-split warning when classes outnumber half the items
    classes, y = np.unique(train[1], return_inverse=True)
    nn = NearestNeighbors(n_neighbors=min(k, len(y)), metric="cosine").fit(train[0])
    votes = y[nn.kneighbors(test[0], return_distance=False)]
    pred = classes[np.array([np.bincount(v, minlength=len(classes)).argmax() for v in votes])]
    return float((pred == test[1]).mean())


def _few_label_draw(
    y: np.ndarray, per_class: int | None, fraction: float | None, rng: np.random.Generator
) -> np.ndarray:
    if fraction is not None:
        n = max(1, round(len(y) * fraction))
        idx = rng.choice(len(y), size=min(n, len(y)), replace=False)
        if len(np.unique(y[idx])) < 2:  # too few for two classes: add one of another class
            other = np.flatnonzero(y != y[idx[0]])
            idx = np.append(idx, rng.choice(other))
        return idx
    picks = [rng.choice(np.flatnonzero(y == c), size=min(per_class, int((y == c).sum())),
                        replace=False) for c in np.unique(y)]  # fmt: skip
    return np.concatenate(picks)


def few_label_accuracy(
    train: Split,
    test: Split,
    s: ProbeConfig,
    seed: int,
    per_class: int | None = None,
    fraction: float | None = None,
) -> float:
    """Mean test accuracy over ``few_draws`` draws of a small labelled subset of train."""
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(s.few_draws):
        idx = _few_label_draw(train[1], per_class, fraction, rng)
        clf = _logreg(s.few_c, s.max_iter).fit(train[0][idx], train[1][idx])
        accs.append(clf.score(*test))
    return float(np.mean(accs))


def probe_suite(train: Split, test: Split, s: ProbeConfig, seed: int) -> dict[str, float]:
    """Every probe on one feature set: linear (+ chosen C), kNN, few-label variants."""
    train, test = zscore(labeled(train), labeled(test))
    acc, c = linear_accuracy(train, test, s, seed)
    out = {"linear": acc, "linear_c": c, "knn": knn_accuracy(train, test, s.knn_k)}
    most = int(np.bincount(train[1]).max())
    for n in s.few_shot:
        if most > n:  # only when it is fewer labels than we have
            out[f"few_{n}"] = few_label_accuracy(train, test, s, seed, per_class=n)
        else:
            warnings.warn(f"few_{n} skipped: the train split has at most {most} labels per "
                          "class (eval.few_shot)", stacklevel=1)  # fmt: skip  # run in a thread
    for f in s.few_fractions:
        out[f"pct_{f * 100:g}"] = few_label_accuracy(train, test, s, seed, fraction=f)
    return out


def chance_accuracy(y_test: np.ndarray) -> float:
    """Accuracy of always answering the most frequent test class."""
    y = y_test[y_test >= 0]
    return float(np.bincount(y).max() / len(y)) if len(y) else float("nan")

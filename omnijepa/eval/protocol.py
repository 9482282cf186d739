"""One evaluation protocol for every recipe: the same frozen-feature probes on the trained
encoder(s), the same architecture at its exact starting weights (the random-init twin) and the
raw input; what changes per modality is only how a batch becomes features.

Result layout: ``{metric: {feature_set: value}}`` with metrics ``linear_probe`` (the main
probe; the attentive probe when ``eval.pool=attentive``), ``knn``, ``few_<n>`` / ``pct_<p>``,
``linear_c`` (the C chosen on held-out train data), plus ``chance`` under ``linear_probe`` and
a ``collapse`` report of the verdict encoder's test features.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, Subset

from omnijepa.eval.attentive_probe import attentive_probe_accuracy
from omnijepa.eval.collapse import collapse_report
from omnijepa.eval.feature_export import FeaturesCaptured, feature_sink
from omnijepa.eval.features import pooled_features, token_features
from omnijepa.eval.frozen_probes import ProbeConfig, Split, chance_accuracy, labeled
from omnijepa.eval.probe_threads import probe_suites

MAIN_METRIC = "linear_probe"
THIN_TEST = 5  # fewer labelled test items: the scores say little (a warning)
_RENAME = {"linear": MAIN_METRIC}


def encoder_splits(
    encoder: nn.Module,
    train: Dataset,
    test: Dataset,
    cfg: ProbeConfig,
    device: torch.device,
    pool: str | None = None,
) -> tuple[Split, Split]:
    """(features, labels) of both splits through ``encoder`` with ``cfg``'s layers/pooling."""
    p = pool or ("mean" if cfg.pool == "attentive" else cfg.pool)
    return (
        pooled_features(encoder, train, device, cfg.batch_size, p, cfg.layers),
        pooled_features(encoder, test, device, cfg.batch_size, p, cfg.layers),
    )


def has_labels(train: Split, test: Split, warn: bool = False) -> bool:
    """True when the train split has >= 2 classes and the test split any label; with ``warn``
    it says why no probe runs, or that the test split is thin (the final evaluation warns, so
    an unlabelled or one-class folder is not a silent run)."""
    classes = np.unique(train[1][train[1] >= 0])
    if not warn:
        return len(classes) >= 2 and bool((test[1] >= 0).any())
    if len(classes) < 2:
        why = "no labels" if len(classes) == 0 else "one class"
        warnings.warn(f"the training data has {why}: no probe can run, only the collapse "
                      "monitors", stacklevel=2)  # fmt: skip
        return False
    if not (test[1] >= 0).any():
        warnings.warn("the test split has no labelled item: no probe can run", stacklevel=2)
        return False
    warn_thin_test(classes, test[1])
    warn_thin_train(train[1], test[1])
    return True


def warn_thin_train(train_labels: np.ndarray, test_labels: np.ndarray) -> None:
    """Warn when the probes learn from almost nothing: a class of the test split with fewer
    than 2 labelled training items (``eval.max_train`` set low, or a tiny folder)."""
    labelled = train_labels[train_labels >= 0]
    tested = np.unique(test_labels[test_labels >= 0])
    counts = np.array([(labelled == c).sum() for c in tested])
    if len(counts) and counts.min() < 2:
        warnings.warn(
            f"the train split holds {len(labelled)} labelled item(s); {int((counts < 2).sum())} "
            f"of the {len(tested)} tested classes have fewer than 2: the probes' scores say "
            "little (more data, or a larger eval.max_train)",
            stacklevel=3,
        )


def warn_thin_test(classes: np.ndarray, test_labels: np.ndarray, fewest: int = THIN_TEST) -> None:
    """Warn when the test split cannot support its scores: fewer than ``fewest`` labelled
    items, or classes of the training split that it never shows."""
    labelled = test_labels[test_labels >= 0]
    missing = np.setdiff1d(classes, labelled)
    if len(labelled) < fewest or len(missing):
        warnings.warn(
            f"the test split holds {len(labelled)} labelled item(s) covering "
            f"{len(classes) - len(missing)} of {len(classes)} classes: its scores say little "
            "(more data, or a larger test fraction)",
            stacklevel=3,
        )


def evaluate_frozen(
    encoders: dict[str, nn.Module],
    train: Dataset,
    test: Dataset,
    cfg: ProbeConfig,
    device: torch.device,
    seed: int,
    raw: tuple[Split, Split] | None = None,
    verdict: str = "jepa",
    extra: dict[str, Callable[[Split, Split], float]] | None = None,
) -> dict[str, Any]:
    """Probe every encoder (and ``raw`` features) with the same protocol.

    ``encoders`` maps feature-set names (``jepa``, ``jepa_online``, ``random_init`` …) to
    modules taking a batch of ``train``/``test`` inputs to (B, N, D) tokens. ``extra`` adds
    a modality's own probes (e.g. Point-JEPA's SVM), run on the same labelled features.
    """
    feats = {name: encoder_splits(enc, train, test, cfg, device) for name, enc in encoders.items()}
    (train_x, _), (test_x, _) = feats[verdict]
    # the monitors read the test features; on a split of 1-4 items RankMe is at most 1-4 and
    # reads as collapse, so there they read every item
    monitored = test_x if len(test_x) >= THIN_TEST else np.concatenate([train_x, test_x])
    result: dict[str, Any] = {"collapse": collapse_report(monitored)}
    if not has_labels(*feats[verdict], warn=True):
        return result
    sets = dict(feats)
    if raw is not None:
        sets["raw"] = raw
    per_set = probe_suites(sets, cfg, seed)
    for metric, probe in (extra or {}).items():
        for name, (tr, te) in sets.items():
            per_set[name][metric] = probe(labeled(tr), labeled(te))
    if cfg.pool == "attentive":
        for name, enc in encoders.items():
            tr_x, tr_pad, tr_y = token_features(enc, train, device, cfg.batch_size, cfg.layers)
            te_x, te_pad, te_y = token_features(enc, test, device, cfg.batch_size, cfg.layers)
            per_set[name]["linear"] = attentive_probe_accuracy(
                tr_x, tr_y, te_x, te_y, epochs=cfg.attentive_epochs, seed=seed,
                train_pad=tr_pad, test_pad=te_pad,
            )  # fmt: skip
    for name, scores in per_set.items():
        for metric, value in scores.items():
            result.setdefault(_RENAME.get(metric, metric), {})[name] = value
    result[MAIN_METRIC]["chance"] = chance_accuracy(feats[verdict][1][1])
    return result


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    pa, pb = list(a.parameters()), list(b.parameters())
    return len(pa) == len(pb) and all(
        p.shape == q.shape and torch.equal(p.detach().cpu(), q.detach().cpu())
        for p, q in zip(pa, pb)
    )


def encoders_to_probe(trained: nn.Module, twin: nn.Module) -> tuple[dict[str, nn.Module], str]:
    """Feature sets of a trained objective: ``jepa`` (the encoder the verdict uses), the other
    encoder(s) as ``jepa_<name>`` (e.g. the online encoder beside an EMA target; skipped when
    it still equals the twin, as a frozen teacher does) and ``random_init`` (the twin).
    Returns them with the verdict encoder's name (``target``, ``online``, or ``encoder``)."""
    verdict = trained.eval_encoder()
    named: dict[str, nn.Module] = trained.encoders() if hasattr(trained, "encoders") else {}
    which = next((n for n, m in named.items() if m is verdict), "encoder")
    out = {"jepa": verdict}
    for name, module in named.items():
        if module is not verdict and not _same_weights(module, twin):
            out[f"jepa_{name}"] = module
    out["random_init"] = twin
    return out, which


def spread_subset(ds: Dataset, n: int) -> Dataset:
    """``n`` items spread evenly over ``ds`` (sources are often sorted by class); ``ds``
    itself when ``n`` is 0 or covers it. A ``Subset`` keeps the chosen ``indices``."""
    size = len(ds)  # type: ignore[arg-type]
    if n <= 0 or n >= size:
        return ds
    return Subset(ds, torch.linspace(0, size - 1, n).round().long().tolist())


def _names(dataset: Dataset, attr: str, length: int | None = None) -> list[str] | None:
    """``dataset.<attr>`` when it is a non-empty list of names (of ``length`` entries)."""
    names = getattr(dataset, attr, None)
    if not isinstance(names, list) or not names or (length is not None and len(names) != length):
        return None
    return [str(n) for n in names]


def evaluate_against_twin(
    trained: nn.Module,
    twin: nn.Module,
    train: Dataset,
    test: Dataset,
    cfg: ProbeConfig,
    device: torch.device,
    seed: int,
    raw: Callable[[Dataset, Dataset], tuple[Split, Split]] | None = None,
    extra: dict[str, Callable[[Split, Split], float]] | None = None,
    wrap: Callable[[nn.Module], nn.Module] | None = None,
    online: bool | None = None,
) -> dict[str, Any]:
    """The one harness every recipe evaluates with: the protocol on the trained objective's
    encoder(s), its random-init twin and the raw input (``raw(train, test)`` computes those
    features for the datasets it is given; twin and raw are skipped when ``cfg.baselines`` is
    off). Splits larger than ``eval.max_train`` / ``eval.max_test`` are probed on an evenly
    spread subset of that size. ``wrap`` turns each encoder into
    the module whose tokens are pooled (e.g. a table's flattened representation); ``online``
    off (default: ``cfg.online``) drops the non-verdict encoder(s). Records which encoder the
    verdict uses."""
    encoders, which = encoders_to_probe(trained, twin)
    if not cfg.baselines:
        encoders.pop("random_init")
    if not (cfg.online if online is None else online):
        encoders = {k: v for k, v in encoders.items() if not k.startswith("jepa_")}
    if wrap is not None:
        encoders = {k: wrap(v) for k, v in encoders.items()}
    sink = feature_sink()
    if sink is not None:  # omnijepa embed: the verdict encoder's features of the whole splits
        pool = "mean" if cfg.pool == "attentive" else cfg.pool
        sink["train"], sink["test"] = encoder_splits(encoders["jepa"], train, test, cfg, device)
        sink.update(encoder=which, pool=pool, layers=cfg.layers)
        sink.update(  # where the datasets know them: source files and class names
            train_files=_names(train, "files", len(train)),
            test_files=_names(test, "files", len(test)),
            classes=_names(train, "classes"),
        )
        raise FeaturesCaptured
    train, test = spread_subset(train, cfg.max_train), spread_subset(test, cfg.max_test)
    raw_feats = raw(train, test) if raw is not None and cfg.baselines else None
    result = evaluate_frozen(encoders, train, test, cfg, device, seed, raw_feats, extra=extra)
    result["verdict_encoder"] = which
    return result

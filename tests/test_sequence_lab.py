"""Copy-family tasks, arithmetic layouts, exact-match scoring and the lab repro runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from omnijepa.analysis.sequence_lab.arithmetic_tasks import (
    IGNORE,
    add_concat,
    add_interleaved,
    fixed_train_set,
    mul_layout,
)
from omnijepa.analysis.sequence_lab.copy_tasks import (
    COPY_TASKS,
    Vocab,
    eval_batch,
    packed_batch,
)
from omnijepa.analysis.sequence_lab.lab_training import causal_batch, exact_match
from omnijepa.errors import ConfigError

V = Vocab(26)


def _parts(tokens: np.ndarray) -> list[np.ndarray]:
    """Split a token row at separators (after dropping BOS and EOS)."""
    body = tokens[1:-1]
    cuts = np.flatnonzero(body == V.sep)
    return np.split(body, cuts + 0) if len(cuts) else [body]


def test_copy_format_and_mask() -> None:
    t, m = COPY_TASKS.get("copy")(np.random.default_rng(0), 12, V, 0, 0)
    assert t[0] == V.bos and t[13] == V.sep and t[-1] == V.eos and len(t) == 2 * 12 + 3
    np.testing.assert_array_equal(t[1:13], t[14:26])
    assert m.sum() == 13 and m[14:].all() and not m[:14].any()


@pytest.mark.parametrize("length", [8, 20, 40])
def test_prefix_key_answer_follows_unique_key(length: int) -> None:
    rng = np.random.default_rng(length)
    for _ in range(20):
        t, m = COPY_TASKS.get("prefix_key")(rng, length, V, 4, 4)
        key, s = t[1:5], t[6 : 6 + length]
        answer = t[m][:-1]
        hits = [i for i in range(length - 3) if (s[i : i + 4] == key).all()]
        assert len(hits) == 1
        np.testing.assert_array_equal(answer, s[hits[0] + 4 : hits[0] + 8])


def test_suffix_key_and_duplicate_and_phonebook() -> None:
    rng = np.random.default_rng(1)
    t, m = COPY_TASKS.get("suffix_key")(rng, 16, V, 4, 4)
    s, key, answer = t[1:17], t[18:22], t[22:26]
    i = [j for j in range(13) if (s[j : j + 4] == key).all()][0]
    np.testing.assert_array_equal(answer, s[i + 4 : i + 8])
    assert m.sum() == 5 and m[22:].all()
    t, _ = COPY_TASKS.get("duplicate_ngram")(rng, 20, V, 5, 0)
    s = t[1:21]
    grams = [tuple(s[j : j + 5]) for j in range(16)]
    assert len(set(grams)) < len(grams)  # some 5-gram occurs twice
    t, m = COPY_TASKS.get("phonebook")(rng, 5, V, 0, 0)
    entries = t[1 : 1 + 5 * 11].reshape(5, 11)
    query, number = t[56:60], t[m][:-1]
    row = [r for r in entries if (r[:4] == query).all()]
    assert len(row) == 1
    np.testing.assert_array_equal(row[0][5:10], number)


def test_lookup_rejects_too_short_strings() -> None:
    with pytest.raises(ConfigError, match="ngram"):
        COPY_TASKS.get("prefix_key")(np.random.default_rng(0), 6, V, 4, 4)


def test_packed_batch_masks_only_answers() -> None:
    tokens, mask = packed_batch("copy", np.random.default_rng(0), 4, 64, (5, 20), V)
    assert tokens.shape == mask.shape == (4, 64)
    assert (tokens[:, 0] == V.bos).all()
    assert not (mask & (tokens == V.sep)).any() and not (mask & (tokens == V.bos)).any()


class _Oracle(torch.nn.Module):
    """Predicts the true next token of a fixed batch (or a wrong one if ``spoil``)."""

    def __init__(self, tokens: torch.Tensor, spoil: bool = False) -> None:
        super().__init__()
        self.tokens, self.spoil = tokens, spoil

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nxt = self.tokens[:, 1:].clone()
        if self.spoil:
            nxt[0, -1] = (nxt[0, -1] + 1) % V.size
        return torch.nn.functional.one_hot(nxt, V.size).float()


def test_exact_match_is_exact() -> None:
    tokens, mask = eval_batch("copy", 10, 8, V, 0)
    batch = causal_batch(tokens, mask)
    full = torch.from_numpy(tokens)
    assert exact_match(_Oracle(full), batch) == (1.0, 1.0)
    s, c = exact_match(_Oracle(full, spoil=True), batch)
    assert s == pytest.approx(7 / 8) and c == pytest.approx(1 - 1 / (8 * 11))


def _read(tokens: np.ndarray, labels: np.ndarray) -> int:
    digits = labels[labels != IGNORE]
    return int("".join(str(d) for d in digits[::-1]))


@pytest.mark.parametrize("layout", [add_interleaved, add_concat])
def test_addition_layouts_hold_the_sum(layout) -> None:  # noqa: ANN001
    rng = np.random.default_rng(3)
    for n in (1, 5, 17):
        for _ in range(10):
            a, b = int(rng.integers(0, 10 ** min(n, 18))), int(rng.integers(0, 10 ** min(n, 18)))
            tokens, labels = layout(a, b, n)
            assert _read(tokens, labels) == a + b
            assert (tokens[labels != IGNORE][:-1] < 10).all()


def test_interleaved_layout_keeps_columns_adjacent() -> None:
    tokens, labels = add_interleaved(123, 456, 3)
    np.testing.assert_array_equal(tokens[:6], [3, 6, 2, 5, 1, 4])  # a0 b0 a1 b1 a2 b2
    assert labels[1] == 9 and labels[3] == 7 and labels[5] == 5 and labels[6] == 0


def test_multiplication_layout_and_priming() -> None:
    tokens, labels = mul_layout(98765, 7, 5, 1)
    assert _read(tokens, labels) == 98765 * 7
    small = fixed_train_set("mul", 50, (1, 5), 1, seed=0, n_prime=5, prime_digits=12)
    large = fixed_train_set("mul", 500, (1, 5), 1, seed=0, n_prime=5, prime_digits=12)
    assert len(small) == 55 and len(large) == 505
    np.testing.assert_array_equal(small.buckets[12][0], large.buckets[12][0])  # same primes
    assert set(small.buckets) - {12} <= {1, 2, 3, 4, 5}
    with pytest.raises(ConfigError):
        fixed_train_set("mul", 10, (1, 5), 1, seed=0, n_prime=5, prime_digits=4)


@pytest.mark.parametrize("name", ["copying", "arithmetic"])
def test_quick_repro_writes_results_and_figures(tmp_path, name: str) -> None:  # noqa: ANN001
    import omnijepa

    res = omnijepa.repro(name, tmp_path, quick=True)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["checks"] == res["checks"] and res["checks"]
    assert saved["verdict"] in ("reproduced", "not reproduced")
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) >= 2, pngs
    # every trained model has a normal run directory written by the shared trainer
    run_dirs = sorted(p for p in (tmp_path / "runs" / "seed_0").iterdir())
    assert run_dirs
    for run in run_dirs:
        files = {p.name for p in run.iterdir()}
        assert {"config.yaml", "metrics.jsonl", "model.safetensors", "state.json",
                "results.json"} <= files, (run, files)  # fmt: skip
        state = json.loads((run / "state.json").read_text())
        assert state["finished"] is True


@pytest.mark.parametrize(
    ("name", "options"),
    [("transformer", {"position": "rope"}), ("transformer", {"position": "hard_alibi"}),
     ("mamba", {}), ("lstm", {})],
)  # fmt: skip
def test_sequence_backbones_serve_as_jepa_encoders(name: str, options: dict) -> None:
    """A T-JEPA-style latent-prediction step with the transformer stack swapped out."""
    from omnijepa.masks.collator import batch_generator
    from omnijepa.masks.feature_subsets import FeatureSubsetConfig, FeatureSubsetMaskSampler
    from omnijepa.modalities.tabular import TabularTokenizer
    from omnijepa.nn.encoder import TokenEncoder
    from omnijepa.nn.predictor import MaskTokenPredictor
    from omnijepa.nn.sequence_backbones import build_sequence_backbone
    from omnijepa.objectives.latent_prediction import LatentPrediction

    torch.manual_seed(0)
    f, dim = 12, 16
    tok = TabularTokenizer(f, [], [], dim)
    backbone = build_sequence_backbone(name, dim=dim, depth=2, heads=2, causal=False, **options)
    encoder = TokenEncoder(tok, 0, 2, pos="none", backbone=backbone)
    predictor = MaskTokenPredictor(dim, 8, 1, 2, 2.0, "learned", tok.axes)
    objective = LatentPrediction(encoder, predictor, "l2")
    masks = FeatureSubsetMaskSampler((f,), FeatureSubsetConfig()).sample(4, batch_generator(0, 0))
    batch = {"x": torch.randn(4, f), "context": masks.context, "targets": masks.targets}
    loss, stats = objective(batch, 0)
    loss.backward()
    assert torch.isfinite(loss)
    grads = [p.grad for p in encoder.stack.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)

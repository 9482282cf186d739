"""The shared evaluation protocol: the torch logistic probe, C chosen on held-out data,
few-label probes, multi-layer features, paired gaps with their t-test, and verdicts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.linear_model import LogisticRegression

from omnijepa.eval.frozen_probes import ProbeConfig, choose_c, probe_suite
from omnijepa.eval.logistic import LogisticProbe, ProbeNotConverged
from omnijepa.eval.protocol import encoders_to_probe, evaluate_frozen
from omnijepa.eval.significance import beats, not_worse, paired_gap, threshold, verdict
from omnijepa.nn.transformer import TransformerStack


def blobs(n: int = 300, d: int = 6, k: int = 3, seed: int = 0, spread: float = 1.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (k, d))
    y = rng.integers(0, k, n)
    return centres[y] + spread * rng.normal(0, 1, (n, d)), y


@pytest.mark.parametrize("c", [0.05, 1.0])
def test_logistic_probe_matches_sklearn(c: float) -> None:
    x, y = blobs(spread=2.0)
    ours = LogisticProbe(c=c, max_iter=500, tol=1e-7).fit(x, y)
    ref = LogisticRegression(C=c, max_iter=5000, tol=1e-10).fit(x, y)
    assert (ours.predict(x) == ref.predict(x)).mean() > 0.99
    # same objective: sklearn's coef_ is the minimiser of C·ΣCE + ½‖W‖² (softmax is
    # invariant to a shared shift of the rows, so compare centred weights)
    w = ours.weight.numpy()
    np.testing.assert_allclose(w - w.mean(0), ref.coef_ - ref.coef_.mean(0), atol=2e-3)


def test_logistic_probe_warns_when_it_does_not_converge() -> None:
    x, y = blobs()
    with pytest.warns(ProbeNotConverged, match="max_iter"):
        LogisticProbe(c=10.0, max_iter=1).fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticProbe(c=1.0, max_iter=500).fit(x, y)


def test_c_is_chosen_on_held_out_data() -> None:
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120)
    x = rng.normal(0, 1, (120, 40))
    x[:, 0] += 1.0 * (2 * y - 1)
    grid = (0.003, 0.1, 1000.0)
    xf, xv, yf, yv = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    scores = [LogisticProbe(c=c).fit(xf, yf).score(xv, yv) for c in grid]
    assert len(set(scores)) > 1  # the grid matters on this data
    assert choose_c((x, y), ProbeConfig(c_grid=grid), seed=0)[0] == grid[int(np.argmax(scores))]
    assert choose_c((x, y), ProbeConfig(c_grid=(0.5,)), seed=0) == (0.5, None)


def test_the_c_scan_stops_after_c_patience_falls_below_the_best(monkeypatch) -> None:
    # one informative feature among 40 noisy ones: the held-out accuracy peaks at a strong
    # penalty and falls after it. On 3,000 rows (600 held out) the scan never fits the weak
    # end and picks what the whole grid picks; on 120 rows (24 held out, where one item moves
    # the score) it fits every C, as it does with c_patience=0
    from omnijepa.eval import frozen_probes

    def data(n: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0)
        y = rng.integers(0, 2, n)
        x = rng.normal(0, 1, (n, 40))
        x[:, 0] += 0.5 * (2 * y - 1)
        return x, y

    grid = (1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
    fitted: list[float] = []
    real_fit = frozen_probes.LogisticProbe.fit

    def spy(self, *args, **kwargs):
        fitted.append(self.c)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(frozen_probes.LogisticProbe, "fit", spy)
    big = data(3000)
    whole = choose_c(big, ProbeConfig(c_grid=grid, c_patience=0), seed=0)[0]
    assert set(grid) <= set(fitted)  # patience 0: every C of the grid
    fitted.clear()
    assert choose_c(big, ProbeConfig(c_grid=grid), seed=0)[0] == whole
    assert max(fitted) < max(grid)  # the weak end was never fitted
    fitted.clear()
    choose_c(data(120), ProbeConfig(c_grid=grid), seed=0)
    assert set(grid) <= set(fitted)  # a small held-out part: the whole grid
    with pytest.raises(ValueError, match="c_patience"):
        ProbeConfig(c_patience=-1)


def shared_noise_data() -> tuple[np.ndarray, np.ndarray]:
    """The label lives in x0 - x1, both dominated by one shared noise: a strongly regularised
    probe leans on the class-mean direction (x0 alone) and needs a weak penalty to cancel it."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    shared = rng.normal(0, 3, 400)
    return np.stack([shared + 0.5 * (2 * y - 1), shared, rng.normal(0, 1, 400)], axis=1), y


def _held_out_score(x: np.ndarray, y: np.ndarray, c: float) -> float:
    from sklearn.model_selection import train_test_split

    xf, xv, yf, yv = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    return LogisticProbe(c=c).fit(xf, yf).score(xv, yv)


def test_a_best_c_at_the_grid_top_extends_the_grid() -> None:
    x, y = shared_noise_data()
    grid = (1e-4, 1e-3)
    c, probe = choose_c((x, y), ProbeConfig(c_grid=grid), seed=0)
    assert c > max(grid) and probe is not None
    assert _held_out_score(x, y, c) > _held_out_score(x, y, max(grid))
    capped = choose_c((x, y), ProbeConfig(c_grid=grid, c_max=max(grid)), seed=0)[0]
    assert capped == max(grid)


def test_the_walk_past_the_grid_stops_where_the_solver_cannot_converge() -> None:
    from omnijepa.eval.frozen_probes import _extend_edge

    x, y = shared_noise_data()
    start = LogisticProbe(c=1e-3).fit(x, y)
    best = (1e-3, start, start.score(x, y))
    assert _extend_edge(best, 10.0, (1e-6, 1e6), (x, y), (x, y), max_iter=1000)[0] > 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the walk's unfinished fits do not warn
        assert _extend_edge(best, 10.0, (1e-6, 1e6), (x, y), (x, y), max_iter=1)[0] == 1e-3


def test_a_best_c_at_the_grid_bottom_extends_it_downwards() -> None:
    # 200 items, 45 pure-noise features and 5 weak signals: a strong penalty helps
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    x = rng.normal(0, 1, (200, 50))
    x[:, :5] += 0.4 * (2 * y - 1)[:, None]
    grid = (0.1, 1.0, 10.0)
    c = choose_c((x, y), ProbeConfig(c_grid=grid), seed=0)[0]
    assert c < min(grid)
    assert _held_out_score(x, y, c) > _held_out_score(x, y, min(grid))


def test_c_bounds_must_bracket_the_grid() -> None:
    with pytest.raises(ValueError, match="bracket"):
        ProbeConfig(c_grid=(0.1, 10.0), c_max=1.0)


def test_probe_suite_reports_every_probe() -> None:
    tr, te = blobs(400, seed=1), blobs(200, seed=1)
    cfg = ProbeConfig(few_shot=(5, 1000), few_fractions=(0.05,), c_grid=(0.1, 1.0))
    with pytest.warns(UserWarning, match="few_1000 skipped"):
        out = probe_suite(tr, te, cfg, seed=0)
    assert set(out) == {"linear", "linear_c", "knn", "few_5", "pct_5"}  # few_1000: all labels
    assert out["linear"] > 0.8 and out["knn"] > 0.8 and out["few_5"] > 0.5  # chance 0.33


def test_unlabeled_rows_are_ignored() -> None:
    (x, y), te = blobs(300, seed=2), blobs(100, seed=2)
    y = y.copy()
    y[:50] = -1
    assert probe_suite((x, y), te, ProbeConfig(few_shot=()), seed=0)["linear"] > 0.9


def test_last_layers_are_concatenated() -> None:
    torch.manual_seed(0)
    stack = TransformerStack(8, depth=3, heads=2).eval()
    x = torch.randn(2, 5, 8)
    one, three = stack(x), stack(x, layers=3)
    assert three.shape == (2, 5, 24)
    torch.testing.assert_close(three[..., -8:], one)
    with pytest.raises(ValueError, match="layers"):
        stack(x, layers=4)


class _Mean(torch.nn.Module):
    """A toy 'encoder': one token per input feature, scaled by a weight."""

    def __init__(self, w: float) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w))

    def forward(self, x: torch.Tensor, layers: int = 1) -> torch.Tensor:
        return (self.w * x).unsqueeze(-1).expand(-1, -1, 2)


class _Objective(torch.nn.Module):
    def __init__(self, target: torch.nn.Module, online: torch.nn.Module) -> None:
        super().__init__()
        self.target_encoder, self.encoder = target, online

    def eval_encoder(self) -> torch.nn.Module:
        return self.target_encoder

    def encoders(self) -> dict[str, torch.nn.Module]:
        return {"target": self.target_encoder, "online": self.encoder}


def test_encoders_to_probe_names_and_skips_copies_of_the_twin() -> None:
    twin = _Mean(1.0)
    named, which = encoders_to_probe(_Objective(_Mean(2.0), _Mean(3.0)), twin)
    assert which == "target" and list(named) == ["jepa", "jepa_online", "random_init"]
    named, _ = encoders_to_probe(_Objective(_Mean(2.0), _Mean(1.0)), twin)
    assert list(named) == ["jepa", "random_init"]


def test_evaluate_frozen_layout() -> None:
    (x, y), (xt, yt) = blobs(200, seed=3), blobs(100, seed=3)
    ds = torch.utils.data.TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    dt = torch.utils.data.TensorDataset(torch.tensor(xt, dtype=torch.float32), torch.tensor(yt))
    cfg = ProbeConfig(few_shot=(5,), c_grid=(1.0,))
    res = evaluate_frozen({"jepa": _Mean(2.0), "random_init": _Mean(1.0)}, ds, dt, cfg,
                          torch.device("cpu"), seed=0, raw=((x, y), (xt, yt)))  # fmt: skip
    assert set(res["linear_probe"]) == {"jepa", "random_init", "raw", "chance"}
    assert set(res["knn"]) == set(res["few_5"]) == {"jepa", "random_init", "raw"}
    assert res["linear_probe"]["jepa"] == res["linear_probe"]["random_init"]  # scale-invariant
    assert "rankme" in res["collapse"]


class _OneToken(torch.nn.Module):
    def forward(self, x: torch.Tensor, layers: int = 1) -> torch.Tensor:
        return x.unsqueeze(1)


def test_a_thin_test_split_leaves_the_collapse_monitors_to_every_item() -> None:
    """RankMe over one test item is at most 1: a healthy encoder read as collapsed."""
    (x, y), (xt, yt) = blobs(60, seed=3), blobs(1, seed=4)
    ds = torch.utils.data.TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    dt = torch.utils.data.TensorDataset(torch.tensor(xt, dtype=torch.float32), torch.tensor(yt))
    cfg = ProbeConfig(few_shot=(), c_grid=(1.0,), knn_k=5)
    one_token = _OneToken()  # pooled features = the 6 input features
    with pytest.warns(UserWarning, match="1 labelled item"):
        res = evaluate_frozen({"jepa": one_token}, ds, dt, cfg, torch.device("cpu"), seed=0)
    assert res["collapse"]["rankme"] > 3  # 6 blob dimensions over 61 items, not 1 item's rank
    assert "linear_probe" in res  # the scores are still given, under the warning


def test_paired_gap_matches_scipy() -> None:
    a, b = [0.61, 0.64, 0.60, 0.66], [0.52, 0.55, 0.53, 0.50]
    gap = paired_gap(a, b)
    ref = stats.ttest_rel(a, b, alternative="greater")
    assert gap["p"] == pytest.approx(ref.pvalue)
    assert gap["mean"] == pytest.approx(np.mean(np.subtract(a, b)))
    assert gap["n"] == 4 and len(gap["gaps"]) == 4


def test_checks_need_margin_and_significance() -> None:
    big = beats("x", [0.7, 0.72, 0.69], [0.5, 0.51, 0.5], margin=0.1)[0]
    assert big.passed and "p=" in big.detail
    small = beats("x", [0.55, 0.56, 0.55], [0.5, 0.51, 0.5], margin=0.1)[0]
    assert small.passed is False  # significant but under the margin
    noisy = beats("x", [0.9, 0.5, 0.7], [0.5, 0.6, 0.5], margin=0.0)[0]
    assert noisy.passed is False  # mean gap > 0 but p >= 0.05
    one = beats("x", [0.9], [0.5], margin=0.1)[0]
    assert one.passed is None and "skipped" in one.detail


def test_gaps_that_do_not_vary_over_seeds_are_not_significant() -> None:
    """A probe stuck at chance beside deterministic features gives the same gap on every
    seed: no spread to test, so the check is skipped, never passed with p = 0."""
    same = beats("x", [0.5, 0.5, 0.5], [0.452, 0.452, 0.452])
    assert same[0].passed is None and "same on every seed" in same[0].detail
    assert same[1]["p"] is None and same[1]["std"] == 0.0
    assert beats("x", [0.5] * 3, [0.452] * 3, margin=0.1)[0].passed is False  # under it
    assert not_worse("y", [0.5] * 3, [0.6] * 3, 0.02)[0].passed is None


def test_verdict_is_three_valued() -> None:
    ok = threshold("a", 1.0, ">", 0.5)
    bad = threshold("b", 0.1, ">", 0.5)
    skipped = beats("c", [1.0], [0.0])[0]
    assert verdict([ok]) == "reproduced"
    assert verdict([ok, skipped]) == "partial"
    assert verdict([ok, skipped, bad]) == "not reproduced"
    assert verdict([]) == "partial"


def test_thin_or_unlabelled_test_splits_are_said() -> None:
    from omnijepa.eval.protocol import has_labels

    x = np.zeros((6, 2))
    two = (x, np.array([0, 0, 0, 1, 1, 1]))
    with pytest.warns(UserWarning, match="one class: no probe"):
        assert not has_labels((x, np.zeros(6, dtype=int)), two, warn=True)
    with pytest.warns(UserWarning, match="no labels"):
        assert not has_labels((x, -np.ones(6, dtype=int)), two, warn=True)
    with pytest.warns(UserWarning, match="1 labelled item.*covering 1 of 2 classes"):
        assert has_labels(two, (x[:1], np.array([1])), warn=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert has_labels(two, two, warn=True)  # 6 items, both classes: quiet


def test_attentive_probe_learns_from_a_small_split() -> None:
    """30 epochs of one batch left the pooler at one class (below chance, every encoder
    alike); a small split now gets at least MIN_STEPS optimizer steps."""
    from omnijepa.eval.attentive_probe import attentive_probe_accuracy

    rng = np.random.default_rng(0)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 3, n)
        x = rng.normal(size=(n, 6, 16)).astype(np.float32)
        x[np.arange(n), 2, y] += 6.0  # the class sits in one token
        return x, y

    (xa, ya), (xb, yb) = make(48), make(200)
    assert attentive_probe_accuracy(xa, ya, xb, yb) > 0.6  # chance 0.33


def test_attentive_probe_reads_padded_tokens_of_samples_of_different_lengths() -> None:
    """Series and EEG recordings of different lengths give padded token batches; the probe
    keeps its attention and statistics off the padding (padding holding the class would be
    read otherwise: here it carries a decoy that contradicts the real tokens)."""
    import torch

    from omnijepa.eval.attentive_probe import attentive_probe_accuracy
    from omnijepa.eval.features import token_features

    rng = np.random.default_rng(1)

    def make(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y = rng.integers(0, 3, n)
        x = rng.normal(size=(n, 8, 16)).astype(np.float32)
        x[np.arange(n), 0, y] += 6.0
        pad = np.zeros((n, 8), bool)
        pad[:, 5:] = True
        x[np.arange(n), 6, (y + 1) % 3] += 60.0  # a decoy in the padding
        return x, y, pad

    (xa, ya, pa), (xb, yb, pb) = make(96), make(200)
    assert attentive_probe_accuracy(xa, ya, xb, yb, train_pad=pa, test_pad=pb) > 0.8

    class Ragged(torch.nn.Module):  # batches of 3 and 1 samples with 4 and 2 real tokens
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.unsqueeze(-1).expand(-1, -1, 2).contiguous()

        def padding(self, x: torch.Tensor) -> torch.Tensor:
            return x < 0

    data = [(torch.tensor([1.0, 2.0, 3.0, -1.0][: 4 if i < 3 else 2]), i) for i in range(4)]
    toks, pad, labels = token_features(Ragged(), data, torch.device("cpu"), batch_size=3)
    assert toks.shape == (4, 4, 2) and pad.shape == (4, 4) and labels.tolist() == [0, 1, 2, 3]
    assert pad[0].tolist() == [False, False, False, True]
    assert pad[3].tolist() == [False, False, True, True]
    assert (toks[pad] == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"few_shot": (0,)}, "eval.few_shot"), ({"few_c": 0.0}, "eval.few_c"),
     ({"max_iter": 0}, "eval.max_iter"), ({"max_train": -1}, "eval.max_train")],
)  # fmt: skip
def test_bad_probe_settings_name_their_key(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ProbeConfig(**kwargs)


def test_degenerate_probes_say_so() -> None:
    """A k larger than the train split, or a split with one item per class, is scored with a
    warning instead of a silent majority vote."""
    from omnijepa.eval.frozen_probes import knn_accuracy
    from omnijepa.eval.protocol import warn_thin_train

    tr, te = blobs(30, seed=1), blobs(30, seed=2)
    with pytest.warns(UserWarning, match="eval.knn_k=100 exceeds the 30"):
        knn_accuracy(tr, te, 100)
    with pytest.warns(UserWarning, match="fewer than 2"):
        warn_thin_train(np.array([0, 1, 1]), np.array([0, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_thin_train(np.array([0, 0, 1, 1]), np.array([0, 1]))


def test_knn_vote_is_sklearns_and_adds_no_regression_warning() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    from omnijepa.eval.frozen_probes import knn_accuracy

    rng = np.random.default_rng(3)
    for k in (1, 4, 20):
        x = rng.normal(size=(120, 5)).round(1)  # rounded: ties in distance and in votes
        y = rng.integers(0, 4, 120) * 2 + 1
        xt, yt = rng.normal(size=(60, 5)).round(1), rng.integers(0, 4, 60) * 2 + 1
        ref = KNeighborsClassifier(n_neighbors=k, metric="cosine").fit(x, y).score(xt, yt)
        assert knn_accuracy((x, y), (xt, yt), k) == ref
    many = np.arange(30).repeat(2)  # 30 classes of 2: sklearn's classifier warned here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        knn_accuracy((rng.normal(size=(60, 4)), many), (rng.normal(size=(10, 4)), many[:10]), 3)

"""The ``omnijepa`` command: outputs it writes and one-line errors (exit 2) for user mistakes.

Most tests call ``main([...])`` in-process (fast); a few run ``python -m omnijepa`` to check
the real entry point, exit status and stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from omnijepa.cli.main import main
from omnijepa.recipes import RECIPES, REPRODUCTIONS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPO = Path(__file__).resolve().parents[1]


def assert_one_line_error(err: str, *fragments: str) -> str:
    """stderr is exactly one ``omnijepa: error: ...`` line holding every fragment."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    line = lines[0]
    assert line.startswith("omnijepa: error:"), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # drop anything printed before
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_module(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "omnijepa", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def write_png(path: Path, seed: int) -> None:
    pixels = np.random.default_rng(seed).integers(0, 256, (12, 12), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


# ---- the real entry point ------------------------------------------------------------------


def test_module_list_prints_every_recipe(tmp_path: Path) -> None:
    proc = run_module("list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    names = [ln.split()[0] for ln in lines if ln and ln[0] != " " and not ln.startswith("analyses")]
    assert names == RECIPES.names()
    analyses = [n for n in REPRODUCTIONS.names() if n not in RECIPES]
    if analyses:
        assert any(ln.startswith("analyses") and all(a in ln for a in analyses) for ln in lines)
    assert {"ijepa", "lejepa"} <= set(names)
    assert "repro:" in proc.stdout


def test_module_unknown_recipe_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = run_module("train", "nosuchrecipe", "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "nosuchrecipe", "ijepa", "lejepa")
    assert not (tmp_path / "r").exists()


def test_module_unknown_key_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = run_module("train", "ijepa", "train.foo=1", "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "train.foo", "train.steps")


# ---- errors ----------------------------------------------------------------------------------


def test_list_in_process(capsys) -> None:
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    for name in RECIPES.names():
        assert f"{name} " in out
        assert RECIPES.get(name).summary in out


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "nope", "--out", "{tmp}/r"],
        ["repro", "nope", "--out", "{tmp}/r"],
        ["masks", "nope", "--out", "{tmp}/m.png"],
        ["bench", "nope", "--out", "{tmp}/b"],
    ],
    ids=["train", "repro", "masks", "bench"],
)
def test_unknown_recipe_in_every_command(capsys, tmp_path: Path, argv: list[str]) -> None:
    code, _, err = run_cli(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2
    assert_one_line_error(err, "'nope'", "ijepa", "lejepa")


@pytest.mark.parametrize("key", ["foo", "train.foo", "model.foo.bar"])
def test_unknown_key_exit_2(capsys, tmp_path: Path, key: str) -> None:
    code, _, err = run_cli(capsys, "train", "ijepa", f"{key}=1", "--out", tmp_path / "r")
    assert code == 2
    assert_one_line_error(err, "unknown config key", "valid keys")


def test_bad_value_exit_2(capsys, tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "train", "ijepa", "train.steps=abc", "--out", tmp_path / "r")
    assert code == 2
    assert_one_line_error(err, "train.steps", "abc")


def test_train_needs_out(capsys) -> None:
    code, _, err = run_cli(capsys, "train", "ijepa")
    assert code == 2
    assert_one_line_error(err, "--out")


def test_missing_data_folder_names_the_path(capsys, tmp_path: Path, tiny_overrides) -> None:
    missing = tmp_path / "nonexistent"
    code, _, err = run_cli(
        capsys,
        "train",
        "ijepa",
        *tiny_overrides("ijepa", f"data.path={missing}"),
        "--out",
        tmp_path / "r",
    )
    assert code == 2
    assert_one_line_error(err, str(missing), "not found")


def test_empty_data_folder(capsys, tmp_path: Path, tiny_overrides) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    code, _, err = run_cli(
        capsys,
        "train",
        "ijepa",
        *tiny_overrides("ijepa", f"data.path={empty}"),
        "--out",
        tmp_path / "r",
    )
    assert code == 2
    assert_one_line_error(err, str(empty), "no image files")


def test_unreadable_image_names_the_file(capsys, tmp_path: Path, tiny_overrides) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(4):
        write_png(folder / f"ok{i}.png", i)
    bad = folder / "broken.png"
    bad.write_bytes(os.urandom(300))
    code, _, err = run_cli(
        capsys,
        "train",
        "ijepa",
        *tiny_overrides("ijepa", f"data.path={folder}"),
        "--out",
        tmp_path / "r",
    )
    assert code == 2
    assert_one_line_error(err, str(bad))


def test_eval_with_corrupt_checkpoint_exit_2(capsys, finished_run: Path) -> None:
    weights = finished_run / "model.safetensors"
    weights.write_bytes(os.urandom(256))
    code, _, err = run_cli(capsys, "eval", finished_run)
    assert code == 2
    assert_one_line_error(err, str(weights))
    assert not (finished_run / "eval.json").exists()


def test_eval_on_a_folder_that_is_not_a_run(capsys, tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "eval", tmp_path)
    assert code == 2
    assert_one_line_error(err, "config.yaml")


def test_repro_rejects_zero_seeds(capsys, tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "repro", "ijepa", "--seeds", "0", "--out", tmp_path / "r")
    assert code == 2
    assert_one_line_error(err, "--seeds")


# ---- outputs ---------------------------------------------------------------------------------


def test_repro_quick_writes_results(capsys, tmp_path: Path) -> None:
    out = tmp_path / "repro"
    smoke = ["device=cpu", "data.name=canvas_digits", "data.image_size=16", "train.progress=false"]
    code, stdout, err = run_cli(
        capsys, "repro", "ijepa", *smoke, "--quick", "--seeds", "1", "--out", out
    )
    assert code == 0, err
    res = json.loads((out / "results.json").read_text())
    assert {"name", "claim", "reference", "metrics", "verdict", "seconds"} <= set(res)
    assert res["name"] == "ijepa" and res["claim"] == RECIPES.get("ijepa").claim
    assert res["verdict"] in ("partial", "not reproduced")  # never "reproduced" from one seed
    assert any(c["passed"] is None for c in res["checks"].values())  # paired tests skipped
    assert res["metrics"]["linear_probe"]["jepa"]["n"] == 1
    assert res["headline"]["gap"]["n"] == 1 and res["headline"]["gap"]["p"] is None
    assert res["seconds"] > 0
    assert "verdict: " in stdout and "skipped" in stdout
    # a rerun into the same folder that cannot start leaves the old runs whole (a typo'd key
    # or a batch larger than the data used to delete every per-seed run first)
    kept = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for bad in ("nope=1", "train.batch_size=4096"):
        code, _, err = run_cli(capsys, "repro", "ijepa", *smoke, bad, "--quick", "--seeds", "1",
                               "--out", out)  # fmt: skip
        assert code == 2
        assert_one_line_error(err, bad.split("=")[0])
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == kept


@pytest.mark.parametrize("name", RECIPES.names())
def test_masks_writes_a_png(capsys, tmp_path: Path, name: str, tiny_overrides) -> None:
    path = tmp_path / "sub" / "masks.png"
    smoke = [
        o for o in tiny_overrides(name) if o.startswith(("data.", "model.", "views.", "device"))
    ]
    code, out, err = run_cli(capsys, "masks", name, *smoke, "--out", path, "--n", "2")
    assert code == 0, err
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert str(path) in out


def test_bench_writes_positive_numbers(capsys, tmp_path: Path, tiny_overrides) -> None:
    out = tmp_path / "bench"
    code, stdout, err = run_cli(
        capsys, "bench", "ijepa", *tiny_overrides("ijepa"), "--out", out, "--steps", "2"
    )
    assert code == 0, err
    res = json.loads((out / "bench.json").read_text())
    for key in (
        "train_samples_per_s",
        "masks_per_s",
        "peak_memory_mb",
        "flops_per_sample",
        "matmul_flops_per_s",
        "mfu",
    ):
        assert isinstance(res[key], (int, float)) and res[key] > 0, key
    assert res["mfu"] < 1.5  # a fraction of the measured matmul peak, not a unit mix-up
    assert res["recipe"] == "ijepa" and res["batch_size"] == 16
    assert "samples/s" in stdout
    before = (out / "bench.json").read_bytes()
    code, _, err = run_cli(capsys, "bench", "lejepa", "--out", out, "--steps", "1")
    assert_one_line_error(err, "already holds a bench.json; pass --overwrite")
    assert (out / "bench.json").read_bytes() == before


def test_bench_mfu_of_an_emulated_precision_is_against_float32(
    capsys, tmp_path: Path, tiny_overrides
) -> None:
    """bf16 on a CPU without a bf16 path runs on the float32 units: its MFU is measured
    against their rate (against the emulated 256^2 rate it read 150-290 %)."""
    import torch

    from omnijepa.train.matmul_rate import emulated

    code, _, err = run_cli(capsys, "bench", "ijepa", *tiny_overrides("ijepa"),
                           "train.precision=bf16", "--out", tmp_path, "--steps", "1")  # fmt: skip
    assert code == 0, err
    res = json.loads((tmp_path / "bench.json").read_text())
    slow = emulated(torch.device("cpu"), torch.bfloat16)
    assert res["precision_emulated"] is slow
    assert res["matmul_dtype"] == ("float32" if slow else "bfloat16")
    assert 0 < res["mfu"] < 1.5


def test_bench_takes_a_preset(capsys, tmp_path: Path) -> None:
    """``bench --config PRESET`` times the preset's model (shrunk here by overrides) on the
    user's folder; a preset of another recipe is one error."""
    rng = np.random.default_rng(0)
    for i in range(24):
        (tmp_path / "data" / f"c{i % 2}").mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / "data" / f"c{i % 2}" / f"{i}.png")
    small = [
        f"data.path={tmp_path / 'data'}", "device=cpu", "train.precision=fp32",
        "data.image_size=32", "data.test_size=4", "train.batch_size=4", "model.dim=32",
        "model.depth=1", "model.heads=2", "predictor.dim=16", "predictor.depth=1",
        "predictor.heads=2", "mask.min_keep=2",
    ]  # fmt: skip
    out = tmp_path / "bench"
    code, _, err = run_cli(
        capsys, "bench", "ijepa", "--config", "ijepa_vitb16_in1k", *small, "--out", out,
        "--steps", "1",
    )  # fmt: skip
    assert code == 0, err
    cfg = json.loads((out / "bench.json").read_text())["config"]
    assert cfg["model"]["patch"] == 16 and cfg["crop"]["scale"] == [0.3, 1.0]  # the preset's
    assert cfg["model"]["dim"] == 32  # the override on top
    code, _, err = run_cli(capsys, "bench", "lejepa", "--config", "ijepa_vitb16_in1k",
                           "--out", tmp_path / "b2")  # fmt: skip
    assert_one_line_error(err, "is for the recipe 'ijepa', not 'lejepa'")


def test_eval_writes_eval_json(capsys, finished_run: Path) -> None:
    code, out, err = run_cli(capsys, "eval", finished_run)
    assert code == 0, err
    res = json.loads((finished_run / "eval.json").read_text())
    assert res["recipe"] == "ijepa"
    assert res["checkpoint_step"] == 4
    assert {"jepa", "random_init", "raw"} <= set(res["metrics"]["linear_probe"])
    assert "linear_probe:" in out
    # evaluating the saved target encoder gives the training run's own numbers back
    trained = json.loads((finished_run / "results.json").read_text())["metrics"]
    assert res["metrics"]["linear_probe"]["jepa"] == trained["linear_probe"]["jepa"]
    assert res["overrides"] == []
    # a model key that keeps the weights' shapes would evaluate another network: refused
    code, _, err = run_cli(capsys, "eval", finished_run, "model.heads=1")
    assert code == 2
    assert_one_line_error(err, "model.heads=1", "would change the trained network")
    assert "heads.*" not in err and "decoder.*" not in err  # not ijepa's sections
    code, _, err = run_cli(capsys, "eval", finished_run, "bogus=1")
    assert code == 2
    assert_one_line_error(err, "unknown config key 'bogus'")  # not "would change the network"
    assert json.loads((finished_run / "eval.json").read_text()) == res  # untouched
    mode = (finished_run / "model.safetensors").stat().st_mode & 0o777
    assert mode == (finished_run / "config.yaml").stat().st_mode & 0o777  # was 0600

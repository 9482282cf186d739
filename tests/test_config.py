"""Config loading: unknown keys, type checks, tuple parsing, YAML files, validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnijepa.config import flat_keys, load_config
from omnijepa.errors import ConfigError
from omnijepa.recipes import RECIPES

STABLE_KEYS = ("data.path", "train.steps", "train.batch_size", "seed", "device")


def ijepa_cfg(*overrides: str, config_file: str | Path | None = None):
    return load_config(RECIPES.get("ijepa").default_config(), config_file, list(overrides))


def test_unknown_top_level_key_lists_valid_keys() -> None:
    with pytest.raises(ConfigError) as err:
        ijepa_cfg("foo=1")
    msg = str(err.value)
    assert "'foo'" in msg
    assert "valid keys" in msg
    for key in ("seed", "device", "train.steps", "model.dim", "mask.target_scale"):
        assert key in msg


def test_unknown_nested_key_lists_that_sections_keys() -> None:
    with pytest.raises(ConfigError) as err:
        ijepa_cfg("train.foo=1")
    msg = str(err.value)
    assert "'train.foo'" in msg
    for key in ("train.steps", "train.batch_size", "train.lr", "train.weight_decay"):
        assert key in msg
    assert "model.dim" not in msg  # only the keys of the section that was mistyped


def test_unknown_section_below_a_leaf_is_rejected() -> None:
    with pytest.raises(ConfigError):
        ijepa_cfg("seed.x=1")


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("train.steps=abc", "train.steps"),
        ("train.lr=fast", "train.lr"),
        ("train.tensorboard=maybe", "train.tensorboard"),
        ("train.precision=fp8", "train.precision"),
        ("train.steps=1.5", "train.steps"),
        ("mask.target_scale=[0.1,0.2,0.3]", "mask.target_scale"),
        ("train.weight_decay=a,b", "train.weight_decay"),
        ("mask.target_scale=[0.1", "mask.target_scale"),  # an unclosed list
        ("seed=-1", "seed"),  # numpy and sklearn take seeds in [0, 2**32)
        ("seed=99999999999999999999999", "seed"),
        ("data.path=", "data.path"),  # an unset shell variable must not mean "built-in data"
        ("data.image_size=0", "data.image_size"),
        ("train.lr=nan", "train.lr"),  # nan passed every "<= 0" check, then broke AdamW
        ("train.lr=inf", "train.lr"),
        ("mask.target_scale=[0.1,nan]", "mask.target_scale"),
    ],
)
def test_type_errors_name_the_key(override: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        ijepa_cfg(override)
    assert key in str(err.value)


def test_scalar_overrides_are_coerced() -> None:
    cfg = ijepa_cfg("train.steps=12", "train.lr=3e-4", "train.tensorboard=true", "seed=7")
    assert cfg.train.steps == 12 and isinstance(cfg.train.steps, int)
    assert cfg.train.lr == pytest.approx(3e-4) and isinstance(cfg.train.lr, float)
    assert cfg.train.tensorboard is True
    assert cfg.seed == 7


def test_tuple_overrides_parse() -> None:
    cfg = ijepa_cfg(
        "mask.target_scale=[0.1,0.2]", "train.weight_decay=0.01,0.02", "data.canvas_scale=[0.6, 1]"
    )
    assert cfg.mask.target_scale == (0.1, 0.2)
    assert cfg.train.weight_decay == (0.01, 0.02)
    assert isinstance(cfg.train.weight_decay, tuple)
    assert cfg.data.canvas_scale == (0.6, 1.0)
    assert all(isinstance(v, float) for v in cfg.data.canvas_scale)


def test_optional_path_accepts_string_and_null() -> None:
    assert ijepa_cfg("data.path=/some/folder").data.path == "/some/folder"
    assert ijepa_cfg("data.path=/x", "data.path=null").data.path is None


def test_override_without_equals_sign_is_an_error() -> None:
    with pytest.raises(ConfigError, match="key=value"):
        ijepa_cfg("train.steps")


def test_defaults_are_not_mutated_by_overrides() -> None:
    recipe = RECIPES.get("ijepa")
    base = recipe.default_config()
    changed = load_config(base, None, ["train.steps=3", "model.dim=16"])
    assert changed.train.steps == 3 and changed.model.dim == 16
    assert base.train.steps != 3 and base.model.dim != 16


def test_yaml_file_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(
        "seed: 3\ntrain:\n  steps: 7\n  weight_decay: [0.1, 0.2]\nmodel:\n  dim: 48\n  heads: 3\n"
    )
    cfg = ijepa_cfg("seed=5", "model.dim=24", config_file=path)
    assert cfg.seed == 5  # the override wins over the file
    assert cfg.model.dim == 24
    assert cfg.model.heads == 3  # from the file
    assert cfg.train.steps == 7
    assert cfg.train.weight_decay == (0.1, 0.2)


def test_yaml_unknown_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text("train:\n  stepz: 7\n")
    with pytest.raises(ConfigError, match="train.stepz"):
        ijepa_cfg(config_file=path)


def test_missing_yaml_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as err:
        ijepa_cfg(config_file=missing)
    assert str(missing) in str(err.value)


@pytest.mark.parametrize("text", ["train: [1, 2\n", "- just\n- a list\n"])
def test_bad_yaml_content(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        ijepa_cfg(config_file=path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)  # one line


def test_yaml_takes_dotted_keys_and_a_runs_own_config(tmp_path: Path) -> None:
    dotted = tmp_path / "dotted.yaml"
    dotted.write_text("train.steps: 7\ntrain:\n  lr: 0.002\nmodel.dim: 48\n")
    cfg = ijepa_cfg(config_file=dotted)
    assert (cfg.train.steps, cfg.train.lr, cfg.model.dim) == (7, 0.002, 48)
    dotted.write_text("train.steps: 7\ntrain:\n  steps: 8\n")
    with pytest.raises(ConfigError, match="given twice"):
        ijepa_cfg(config_file=dotted)
    saved = tmp_path / "config.yaml"  # what every run writes
    saved.write_text("recipe: ijepa\nseed: 4\n")
    base = RECIPES.get("ijepa").default_config()
    assert load_config(base, saved, [], "ijepa").seed == 4
    with pytest.raises(ConfigError, match="for the recipe 'ijepa', not 'lejepa'"):
        load_config(RECIPES.get("lejepa").default_config(), saved, [], "lejepa")


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"\x89PNG\r\n\x1a\n\x00\xff", "not UTF-8 text"), (None, "is a folder")],
)
def test_unreadable_config_files_are_one_error(tmp_path: Path, content, match: str) -> None:  # noqa: ANN001
    path = tmp_path / "cfg"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=match):
        ijepa_cfg(config_file=path)
    with pytest.raises(ConfigError, match="empty"):
        ijepa_cfg(config_file="")


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (["train.steps=0"], "train.steps"),
        (["train.batch_size=1"], "train.batch_size"),
        (["train.warmup=1.5"], "train.warmup"),
        (["model.dim=30", "model.heads=4"], "model.dim"),
        (["mask.target_scale=[0.3,0.1]"], "target_scale"),
    ],
)
def test_post_init_validation_surfaces_as_config_error(overrides: list[str], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        ijepa_cfg(*overrides)
    assert fragment in str(err.value)


def test_lejepa_post_init_validation() -> None:
    base = RECIPES.get("lejepa").default_config()
    with pytest.raises(ConfigError, match="objective.lam"):
        load_config(base, None, ["objective.lam=2"])
    with pytest.raises(ConfigError, match="views"):
        load_config(base, None, ["views.num_global=0"])


@pytest.mark.parametrize("name", RECIPES.names())
def test_stable_public_keys_exist_in_every_recipe(name: str, tmp_path: Path) -> None:
    base = RECIPES.get(name).default_config()
    keys = flat_keys(base)
    for key in STABLE_KEYS:
        assert key in keys, f"recipe {name!r} lacks the stable key {key}"
    cfg = load_config(
        base,
        None,
        [f"data.path={tmp_path}", "train.steps=9", "train.batch_size=4", "seed=11", "device=cpu"],
    )
    assert (cfg.data.path, cfg.train.steps, cfg.train.batch_size, cfg.seed, cfg.device) == (
        str(tmp_path),
        9,
        4,
        11,
        "cpu",
    )


def test_local_paths_are_made_absolute_with_the_home_folder_expanded(monkeypatch, tmp_path) -> None:
    """The shell leaves ``data.path=~/x`` alone, and a saved config must find its data from any
    directory; URLs and empty values stay as given."""
    from omnijepa.config import load_config
    from omnijepa.recipes import RECIPES

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    series = RECIPES.get("series_jepa").default_config()
    assert load_config(series, None, ["data.path=~/s"]).data.path == str(tmp_path / "s")
    assert load_config(series, None, ["data.path=rel/s"]).data.path == str(tmp_path / "rel/s")
    assert load_config(series, None, []).data.path == series.data.path  # unset stays unset
    image = RECIPES.get("ijepa").default_config()
    assert load_config(image, None, ["data.path=s3://b/shards"]).data.path == "s3://b/shards"
    tij = RECIPES.get("tijepa").default_config()
    cfg = load_config(tij, None, ["model.image_encoder=~/run"])
    assert cfg.model.image_encoder == str(tmp_path / "run")


@pytest.mark.parametrize(
    ("override", "path"),
    [("data.path=0042", "0042"),  # YAML: octal 34
     ("data.path=1.10", "1.10"),  # YAML: the number 1.1
     ("data.path=#raw", "#raw"),  # YAML: a comment, so no path and the built-in data
     ("data.path=12:30", "12:30")],  # YAML 1.1: sexagesimal 750
)  # fmt: skip
def test_a_text_setting_keeps_the_text_as_typed(tmp_path: Path, monkeypatch, override: str,
                                                path: str) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    cfg = load_config(RECIPES.get("ijepa").default_config(), None, [override])
    assert cfg.data.path == str(tmp_path / path)


def test_typed_numbers_tilde_and_null_mean_what_a_user_means(monkeypatch) -> None:
    base = RECIPES.get("ijepa").default_config()
    monkeypatch.setenv("HOME", "/home/someone")
    assert load_config(base, None, ["data.path=~"]).data.path == "/home/someone"  # YAML: null
    assert load_config(base, None, ["data.path=null"]).data.path is None
    assert load_config(base, None, ["train.steps=010"]).train.steps == 10  # YAML: octal 8
    assert load_config(base, None, ["device=on"]).device == "on"  # YAML: True


def test_a_whole_section_merges_with_its_dotted_keys_either_way() -> None:
    base = RECIPES.get("ijepa").default_config()
    for overrides in (["train.steps=2", "train={batch_size: 4}"],
                      ["train={batch_size: 4}", "train.steps=2"]):  # fmt: skip
        cfg = load_config(base, None, overrides)
        assert (cfg.train.steps, cfg.train.batch_size) == (2, 4)  # the first was dropped


def test_a_key_given_twice_in_a_yaml_file_is_refused(tmp_path: Path) -> None:
    base = RECIPES.get("ijepa").default_config()
    for text in ("train:\n  steps: 2\ntrain:\n  batch_size: 4\n", "seed: 1\nseed: 2\n"):
        (tmp_path / "c.yaml").write_text(text)
        with pytest.raises(ConfigError, match="is given twice"):
            load_config(base, tmp_path / "c.yaml")

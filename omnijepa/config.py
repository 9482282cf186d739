"""Configs are nested dataclasses, loaded from YAML and overridden by ``key=value`` strings.

An unknown key is an error that lists the valid keys, and values are checked against the
field types so that ``train.steps=abc`` fails at start-up rather than deep inside training.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from omnijepa.errors import ConfigError

C = TypeVar("C")


def flat_keys(cfg_or_cls: Any, prefix: str = "") -> list[str]:
    """All dotted leaf keys of a config dataclass (instance or class)."""
    keys: list[str] = []
    for f in dataclasses.fields(cfg_or_cls):
        tp = _field_types(cfg_or_cls)[f.name]
        if dataclasses.is_dataclass(tp):
            keys.extend(flat_keys(tp, f"{prefix}{f.name}."))
        else:
            keys.append(prefix + f.name)
    return keys


def _field_types(cls_or_obj: Any) -> dict[str, Any]:
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    return typing.get_type_hints(cls)


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check/convert ``value`` to the annotated type ``tp``; raise ConfigError naming ``key``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: bad value {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (tuple, list):
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                raise ConfigError(f"{key}: cannot read {value!r} as a list like [1, 2]") from None
        elif isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, (list, tuple)):
            value = [value]
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{key}: expected {len(args)} values, got {list(value)!r}")
            return tuple(_coerce(v, a, key) for v, a in zip(value, args))
        inner = args[0] if args else Any
        out = [_coerce(v, inner, key) for v in value]
        return tuple(out) if origin is tuple else out
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{key}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(float(value)) if float(value).is_integer() else int(value)
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if tp is float:
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
        if number is None:
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(number):  # nan passes every "<= 0" check after it
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return number
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return str(value)
    return value


class TypedText(str):
    """A ``key=value`` override's text as typed: read by the key's type, so a text setting
    keeps it exactly (YAML would read ``data.path=0042`` as 34, ``#raw`` as a comment and
    ``~`` as nothing) and ``010`` stays ten for an integer."""

    def read(self, tp: Any) -> Any:
        """The value for a field annotated ``tp``."""
        optional = type(None) in typing.get_args(tp)
        if optional and self.strip() in ("null", "None", "none"):
            return None
        if tp is Any or dataclasses.is_dataclass(tp) or typing.get_origin(tp) is typing.Literal:
            return _parse_scalar(str(self))  # a section, a choice, anything: as YAML
        return self.strip()  # _coerce reads text for every other type


def _parse_scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_dict(cfg: C, values: dict[str, Any], prefix: str = "") -> C:
    """Return a copy of ``cfg`` with nested ``values`` applied (unknown keys are errors)."""
    types_ = _field_types(cfg)
    changes: dict[str, Any] = {}
    for name, value in values.items():
        key = prefix + str(name)
        if name not in types_:
            valid = ", ".join(flat_keys(cfg, prefix))
            raise ConfigError(f"unknown config key {key!r}; valid keys: {valid}")
        tp = types_[name]
        current = getattr(cfg, name)
        if isinstance(value, TypedText):
            value = value.read(tp)
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ConfigError(f"{key}: expected a mapping of sub-keys, got {value!r}")
            changes[name] = apply_dict(current, value, key + ".")
        else:
            changes[name] = _coerce(value, tp, key)
        if name == "seed" and not 0 <= changes[name] < 2**32:  # numpy's and sklearn's range
            raise ConfigError(f"{key}: must be an integer in [0, 2**32 - 1], got {value!r}")
    try:
        return dataclasses.replace(cfg, **changes)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: {exc}") from None


def _parent(root: dict[str, Any], parts: list[str], conflict: str) -> dict[str, Any]:
    """The dict that holds the dotted key ``parts`` under ``root``, made as needed; the
    ``conflict`` error when a leaf value already sits on the way."""
    node = root
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(conflict)
    return node


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["train.steps=10", "seed=1"]`` into a nested dict."""
    nested: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"override {pair!r} is not of the form key=value")
        key, text = pair.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise ConfigError(f"override {pair!r} has an empty key")
        node = _parent(nested, parts, f"override {pair!r} conflicts with an earlier one")
        if parts[-1] == "path" and not text.strip():  # e.g. data.path=$UNSET
            raise ConfigError(f"override {pair!r} gives an empty path (an unset variable?)")
        value: Any = TypedText(text)
        if text.strip().startswith("{"):  # a whole section: merged with its dotted keys
            value = _parse_scalar(text)
        before = node.get(parts[-1])
        if isinstance(before, dict) and isinstance(value, dict):
            node[parts[-1]] = {**before, **value}
        elif isinstance(before, dict):
            raise ConfigError(f"override {pair!r} would replace the earlier overrides under "
                              f"{key.strip()!r}")  # fmt: skip
        else:
            node[parts[-1]] = value
    return nested


PRESETS_DIR = Path(__file__).resolve().parent / "presets"


def preset_names() -> list[str]:
    """Names of the paper-scale configs shipped with the package (``--config NAME``)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def resolve_config_file(name: str | Path) -> Path:
    """A YAML path, or the name of a shipped preset (``ijepa_vith14_in1k``)."""
    path = Path(name)
    if str(name).strip() == "":
        raise ConfigError("--config is empty: give a YAML file or a preset name")
    if path.is_file():
        return path
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder, not a YAML file")
    preset = PRESETS_DIR / f"{name}.yaml"
    if preset.is_file():
        return preset
    raise ConfigError(
        f"config file not found: {path} (shipped presets: {', '.join(preset_names())})"
    )


def yaml_problem(exc: yaml.YAMLError) -> str:
    """`` (line L, column C): problem`` of a YAML error, on one line."""
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{where}: {problem}"


def nest_dotted(data: dict[str, Any], where: str) -> dict[str, Any]:
    """``{"train.steps": 2}`` (a key written as on the command line) -> ``{"train": {"steps":
    2}}``, merged with the nested keys beside it; a key given twice is an error."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        parts = str(key).split(".")
        if not all(parts):
            raise ConfigError(f"{where}: empty part in the key {key!r}")
        node = _parent(out, parts, f"{where}: {key!r} conflicts with an earlier key")
        if isinstance(value, dict):
            value = nest_dotted(value, where)
        last, before = parts[-1], node.get(parts[-1])
        both = isinstance(before, dict) and isinstance(value, dict)
        if last in node and (not both or set(before) & set(value)):
            raise ConfigError(f"{where}: the key {key!r} is given twice")
        node[last] = {**before, **value} if both else value
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, but a key given twice in one mapping is an error (YAML keeps the
    last silently, so a repeated ``train:`` section dropped the first one's settings)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_config_file(yaml_path: str | Path, recipe: str | None = None) -> dict[str, Any]:
    """The nested settings of a YAML file or shipped preset. A run's own ``config.yaml``
    works too: its ``recipe:`` line must name ``recipe`` (when given) and is dropped."""
    path = resolve_config_file(yaml_path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML{yaml_problem(exc)}") from None
    except (UnicodeDecodeError, OSError) as exc:
        why = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise ConfigError(f"cannot read config file {path}: {why}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    named = data.pop("recipe", None)
    if named is not None and recipe is not None and named != recipe:
        raise ConfigError(f"config file {path} is for the recipe {named!r}, not {recipe!r}")
    return nest_dotted(data, f"config file {path}")


def load_config(
    base: C,
    yaml_path: str | Path | None = None,
    overrides: list[str] = (),
    recipe: str | None = None,
) -> C:
    """Apply a YAML file (optional; see ``read_config_file``) and then ``key=value``
    overrides to ``base``."""
    cfg = base
    if yaml_path is not None:
        cfg = apply_dict(cfg, read_config_file(yaml_path, recipe))
    return absolute_paths(apply_dict(cfg, parse_overrides(list(overrides))))


# config fields that name a local file or folder (``data.path``, ``data.cache_dir``,
# TI-JEPA's ``model.image_encoder`` run directory)
PATH_FIELDS = ("path", "cache_dir", "image_encoder")


def absolute_paths(cfg: C) -> C:
    """``cfg`` with every local path field made absolute, ``~`` expanded: the shell leaves
    the ``~`` of ``data.path=~/x`` alone, and a run's saved config.yaml must still find its
    data when ``omnijepa eval`` or ``--resume`` starts in another directory. URLs
    (``scheme://...``) and empty values are kept as given."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            new = absolute_paths(value)
            if new is not value:
                changes[f.name] = new
        elif f.name in PATH_FIELDS and isinstance(value, str) and value and "://" not in value:
            full = str(Path(value).expanduser().absolute())
            if full != value:
                changes[f.name] = full
    return dataclasses.replace(cfg, **changes) if changes else cfg


def to_dict(cfg: Any) -> dict[str, Any]:
    """Config as plain nested dicts/lists (tuples become lists) for YAML/JSON."""

    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def dump_yaml(cfg: Any) -> str:
    """YAML text of a config, in field order."""
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)

"""Argument parsing and dispatch; user errors become one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import NoReturn

from omnijepa.console import first_to_say, one_line_warnings
from omnijepa.errors import OmniJepaError

FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _usage_error(prog: str, message: str) -> NoReturn:
    """A usage mistake of ``prog`` (``omnijepa`` or ``omnijepa SUBCOMMAND``) as one line, exit 2."""
    sub = prog.partition(" ")[2]
    where = f"{sub}: " if sub else ""
    print(f"omnijepa: error: {where}{message} (see `{prog} -h`)", file=sys.stderr)
    sys.exit(2)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line like every other error (argparse prints the
    usage block first); the subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        _usage_error(self.prog, message)


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="omnijepa", description="The JEPA family in one library.")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="recipes and what each reproduces")

    t = sub.add_parser("train", help="pre-train a recipe, evaluate it, write a run directory")
    t.add_argument("recipe", nargs="?", help="recipe name (see `omnijepa list`)")
    t.add_argument("overrides", nargs="*", help="config overrides key=value")
    t.add_argument("--out", type=_user_path, help="run directory to create")
    t.add_argument("--config", help="YAML config applied before the overrides")
    t.add_argument("--resume", type=Path, metavar="DIR", help="continue an unfinished run")
    t.add_argument("--overwrite", action="store_true", help="replace a finished run in --out")

    e = sub.add_parser("eval", help="evaluate a run directory; writes DIR/eval.json")
    e.add_argument("run_dir", type=Path)
    e.add_argument("overrides", nargs="*")

    m = sub.add_parser(
        "embed",
        help="write a run's frozen pooled features (train/test splits of its data, or of "
        "data.path=...) to an .npz",
    )
    m.add_argument("run_dir", type=Path)
    m.add_argument("overrides", nargs="*")
    m.add_argument(
        "--out", type=_user_path, required=True, help="the .npz file to write (never replaced)"
    )

    r = sub.add_parser("repro", help="reproduce a paper's small-scale claim")
    r.add_argument("name")
    r.add_argument("overrides", nargs="*")
    r.add_argument("--out", type=_user_path)
    r.add_argument("--seeds", type=int, default=None)
    r.add_argument("--quick", action="store_true", help="smoke-sized run (for tests)")
    r.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="training runs at once (default: CPU cores on a CPU, 1 on a GPU)",
    )

    rp = sub.add_parser("report", help="Markdown results table from repro directories")
    rp.add_argument("dirs", nargs="+", type=Path, help="repro output directories")

    m = sub.add_parser("masks", help="draw sampled context/target masks as a PNG")
    m.add_argument("recipe")
    m.add_argument("overrides", nargs="*")
    m.add_argument("--out", type=_user_path, required=True)
    m.add_argument("--n", type=_positive_int, default=4, help="number of images")
    m.add_argument("--overwrite", action="store_true", help="replace an existing --out file")

    d = sub.add_parser(
        "data",
        help="data tools: `data pack DIR --out SHARDS` writes tar shards; `data export-ui "
        "--out DIR` writes generated UI recordings with annotations.csv",
    )
    d.add_argument("action", choices=["pack", "export-ui"])
    d.add_argument("folder", type=Path, nargs="?", help="pack: the image folder")
    d.add_argument("--out", type=_user_path, required=True)
    d.add_argument("--shard-size", type=_positive_int, default=1000)
    d.add_argument("--pretrain", type=int, default=200, help="export-ui: unlabelled episodes")
    d.add_argument("--frames", type=int, default=16, help="export-ui: frames per recording")
    d.add_argument("--size", type=int, default=64, help="export-ui: frame side in px")
    d.add_argument("--seed", type=int, default=0, help="export-ui: generator seed")
    dr = sub.add_parser("doctor", help="run the device-specific paths once (--gpu: CUDA required)")
    dr.add_argument("--gpu", action="store_true", help="fail unless CUDA is available")
    b = sub.add_parser("bench", help="throughput, memory, FLOPs and MFU as DIR/bench.json")
    b.add_argument("recipe")
    b.add_argument("overrides", nargs="*")
    b.add_argument("--out", type=_user_path, required=True)
    b.add_argument("--steps", type=_positive_int, default=10)
    b.add_argument("--config", help="YAML config or shipped preset applied before the overrides")
    b.add_argument("--overwrite", action="store_true", help="replace an earlier bench.json")
    return p


def _cmd_list(args: argparse.Namespace) -> None:
    from omnijepa.recipes import RECIPES, REPRODUCTIONS

    for name in RECIPES:
        recipe = RECIPES.get(name)
        print(f"{name:<12} {recipe.summary}\n{'':<12} repro: {recipe.claim}")
    others = [n for n in REPRODUCTIONS if n not in RECIPES]
    if others:
        print(f"analyses (omnijepa repro NAME): {', '.join(others)}")


def _print_metrics(results: dict) -> None:
    from omnijepa.recipes.summary import metric_lines

    metrics = results["metrics"]
    for line in metric_lines(metrics):
        print(line)
    if "collapse" in metrics:
        c = metrics["collapse"]
        print(
            f"collapse: feature_std {c['feature_std']['mean']:.3f}, "
            f"rankme {c['rankme']['mean']:.1f} ({c['rankme_ratio']['mean']:.0%} of width)"
        )
    for line in results.get("reading", []):
        print(line)


def _cmd_train(args: argparse.Namespace) -> None:
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.run import train_run
    from omnijepa.recipes.saved_runs import saved_recipe

    if args.resume is not None:
        extra = [f for f, v in (("--config", args.config), ("--out", args.out)) if v is not None]
        if extra and not (extra == ["--out"] and args.out.resolve() == args.resume.resolve()):
            raise OmniJepaError(
                f"--resume continues {args.resume} with its saved config, in place; "
                f"drop {' and '.join(extra)}"
            )
        if args.recipe is not None and "=" in args.recipe:
            args.overrides.insert(0, args.recipe)
        recipe = saved_recipe(args.resume)
        if args.recipe is not None and "=" not in args.recipe and args.recipe != recipe.name:
            raise OmniJepaError(
                f"--resume {args.resume} is a {recipe.name!r} run, not {args.recipe!r}"
            )
        res = train_run(recipe, args.overrides, args.resume, resume=True)
        out = args.resume
    else:
        if args.recipe is None:
            raise OmniJepaError("train needs a recipe name (see `omnijepa list`) or --resume DIR")
        if args.out is None:
            raise OmniJepaError("train needs --out DIR (the run directory to write)")
        recipe = RECIPES.get(args.recipe)
        res = train_run(recipe, args.overrides, args.out, args.config, overwrite=args.overwrite)
        out = args.out
    if "metrics" in res:
        _print_metrics(res)
        print(f"wrote {out}/results.json")


def _cmd_embed(args: argparse.Namespace) -> None:
    from omnijepa.recipes.saved_runs import embed_run

    res = embed_run(args.run_dir, args.overrides, args.out)
    print(
        f"[{res['recipe']}] verdict encoder: {res['encoder']}, step {res['checkpoint_step']}, "
        f"pool {res['pool']}, last {res['layers']} layer(s): train {tuple(res['train'])}, "
        f"test {tuple(res['test'])}"
    )
    arrays = ", ".join(["train_x", "train_y", "test_x", "test_y", *res["names"]])
    print(f"wrote {res['out']} ({arrays}; label -1 = none)")


def _cmd_eval(args: argparse.Namespace) -> None:
    from omnijepa.recipes.saved_runs import eval_run

    res = eval_run(args.run_dir, args.overrides)
    _print_metrics(res)
    print(f"wrote {args.run_dir}/eval.json")


def _cmd_repro(args: argparse.Namespace) -> None:
    from omnijepa.recipes import REPRODUCTIONS
    from omnijepa.recipes.parallel_runs import repro_jobs, set_repro_jobs
    from omnijepa.recipes.repro_report import format_table
    from omnijepa.recipes.run import check_repro_dir

    repro = REPRODUCTIONS.get(args.name)
    seeds = getattr(repro, "default_seeds", 3) if args.seeds is None else args.seeds
    if seeds < 1:
        raise OmniJepaError("--seeds must be >= 1")
    if args.jobs is not None and args.jobs < 1:
        raise OmniJepaError("--jobs must be >= 1")
    if args.jobs is not None:  # else $OMNIJEPA_REPRO_JOBS, when set, or one run per core
        set_repro_jobs(args.jobs)
    repro_jobs(1)  # a bad $OMNIJEPA_REPRO_JOBS is one error before anything is written
    out = args.out or Path("runs") / f"repro_{args.name}"
    check_repro_dir(out, args.name)
    existed = out.exists()
    try:
        res = repro(out, seeds, args.quick, args.overrides)
    except BaseException:
        if not existed:  # a repro that could not start leaves no empty folders behind
            for d in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
                with contextlib.suppress(OSError):
                    d.rmdir()
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    print(format_table(res))
    print(f"wrote {out}/results.json")


def _cmd_report(args: argparse.Namespace) -> None:
    from omnijepa.recipes.results_table import results_table

    print(results_table(args.dirs))


def _cmd_masks(args: argparse.Namespace) -> None:
    from omnijepa.config import load_config
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.run import make_dir, refuse_inside_data

    recipe = RECIPES.get(args.recipe)
    cfg = load_config(recipe.default_config(), None, args.overrides)
    if args.out.suffix.lower() not in FIGURE_SUFFIXES or args.out.is_dir():
        raise OmniJepaError(f"--out {args.out}: give a picture file ({', '.join(FIGURE_SUFFIXES)})")
    refuse_inside_data(args.out, cfg, "the picture")
    if args.out.exists() and not args.overwrite:
        raise OmniJepaError(f"--out {args.out} exists; pass --overwrite to replace it")
    make_dir(args.out.parent)
    recipe.draw_masks(cfg, args.out, args.n)
    print(f"wrote {args.out}")


def _cmd_data(args: argparse.Namespace) -> None:
    if args.action == "export-ui":
        from omnijepa.data.ui_data import UIDataConfig, generate_ui_data
        from omnijepa.data.ui_folder import export_ui_folder

        cfg = UIDataConfig(frames=args.frames, size=args.size, pretrain_episodes=args.pretrain)
        n = export_ui_folder(generate_ui_data(cfg, args.seed), args.out)
        print(f"wrote {n} recordings and annotations.csv to {args.out}; train on them with "
              f"omnijepa train uijepa data.path={args.out}")  # fmt: skip
        return
    from omnijepa.data.image_shards import pack_image_folder

    if args.folder is None:
        raise OmniJepaError("data pack needs the image FOLDER to pack")
    shards = pack_image_folder(args.folder, args.out, args.shard_size)
    print(f"wrote {len(shards)} shard(s) to {args.out}; train on them with data.path={args.out}")


def _cmd_doctor(args: argparse.Namespace) -> None:
    from omnijepa.recipes.doctor import format_doctor, run_doctor

    rows = run_doctor(args.gpu)
    print(format_doctor(rows))
    failed = [r["check"] for r in rows if r["status"] == "FAILED"]
    if failed:
        raise OmniJepaError(f"doctor: {len(failed)} check(s) failed: {', '.join(failed)}")


def _cmd_bench(args: argparse.Namespace) -> None:
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.bench import run_bench
    from omnijepa.recipes.run import make_dir

    recipe = RECIPES.get(args.recipe)
    if (args.out / "bench.json").exists() and not args.overwrite:
        raise OmniJepaError(f"{args.out} already holds a bench.json; pass --overwrite to "
                            "replace it, or give another --out")  # fmt: skip
    make_dir(args.out)  # before the benchmark, not after it
    res = run_bench(recipe, args.overrides, args.out, args.steps, args.config)
    print(
        f"{res['recipe']} on {res['device']}: {res['train_samples_per_s']:.1f} samples/s, "
        f"{res['masks_per_s']:.0f} masks/s, {res['flops_per_sample'] / 1e9:.3f} GFLOP/sample, "
        f"matmul {res['matmul_flops_per_s'] / 1e9:.1f} GFLOP/s, MFU {res['mfu']:.1%}, "
        f"peak memory {res['peak_memory_mb']:.0f} MB"
    )
    print(f"wrote {args.out}/bench.json")


COMMANDS = {
    "list": _cmd_list,
    "train": _cmd_train,
    "eval": _cmd_eval,
    "embed": _cmd_embed,
    "repro": _cmd_repro,
    "report": _cmd_report,
    "masks": _cmd_masks,
    "bench": _cmd_bench,
    "data": _cmd_data,
    "doctor": _cmd_doctor,
}


def _user_path(text: str) -> Path:
    """An --out as given, with ``~`` expanded (``--out=~/x`` reaches us unexpanded by the
    shell; a folder literally named ``~`` is one typo from ``rm -rf ~``)."""
    return Path(text).expanduser()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``omnijepa`` command."""
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    # key=value overrides typed after an option (``--out DIR seed=1``) still count
    late = [a for a in rest if "=" in a and not a.startswith("-")]
    if late and hasattr(args, "overrides"):
        args.overrides = [*args.overrides, *late]
        rest = [a for a in rest if a not in late]
    if rest:
        _usage_error(f"omnijepa {args.command}", f"unrecognized arguments: {' '.join(rest)}")
    try:
        with one_line_warnings():
            COMMANDS[args.command](args)
    except OmniJepaError as exc:
        if first_to_say(f"error: {exc}"):  # under torchrun: once, not once per rank
            print(f"omnijepa: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system said no (an unwritable --out, a file as folder)
        if exc.filename is None:
            raise  # not about a path: a bug worth its traceback
        if first_to_say(f"error: {exc.filename}"):
            print(f"omnijepa: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("omnijepa: interrupted", file=sys.stderr)
        return 130
    return 0

"""The ``hardodt`` command line: learn a stream, print or check a configuration, show a tree."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hardodt.config import (
    EXAMPLE_TOML,
    HOEFFDING_N,
    INITIAL_QUANTILE_RULES,
    NUMBER_MODES,
    OUT_OF_RANGE_POLICIES,
    STEP_SCHEDULES,
    Config,
    ConfigError,
    read_toml_fields,
)
from hardodt.streams import GENERATORS, CSVError, bundled_electricity, generate, read_csv

__all__ = ["main"]

# (flags, config field, type, help)
_CONFIG_OPTIONS: list[tuple[tuple[str, ...], str, Any, str]] = [
    (("-q", "--quantiles"), "quantiles", int, "Q, quantiles per leaf, attribute and class"),
    (("-p", "--split-points"), "split_points", int, "P, candidate thresholds per attribute"),
    (("-n", "--grace-period"), "grace_period", int, "n_min, samples between split trials"),
    (("--delta",), "delta", float, "Hoeffding confidence"),
    (("--tau",), "tau", float, "tie threshold (0: no tie rule)"),
    (("--step",), "step", float, "lambda, the quantile step"),
    (("--step-schedule",), "step_schedule", str,
     f"quantile steps: {' or '.join(STEP_SCHEDULES)}"),
    (("--max-depth",), "max_depth", int, "deepest level (root = 0), at most 15"),
    (("--max-leaves",), "max_leaves", int, "leaves the node memories hold"),
    (("-E", "--elements"), "elements", int, "E, leaves that keep statistics"),
    (("--number",), "number", str, f"number mode: {' or '.join(NUMBER_MODES)}"),
    (("--word-bits",), "word_bits", int, "fixed point word width, 8..32"),
    (("--fraction-bits",), "fraction_bits", int, "fixed point fraction bits"),
    (("--count-bits",), "count_bits", int, "per-leaf sample counter width"),
    (("--initial-quantiles",), "initial_quantiles", str,
     f"initial quantiles of a new leaf: {', '.join(INITIAL_QUANTILE_RULES)}"),
    (("--hoeffding-n",), "hoeffding_n", str,
     f"the n of the Hoeffding test: {' or '.join(HOEFFDING_N)}"),
    (("--out-of-range",), "out_of_range", str,
     f"a value outside its declared range: {' or '.join(OUT_OF_RANGE_POLICIES)}"),
]


class CLIError(Exception):
    """A usage error worth one line on stderr."""


def _config_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("configuration (override the --config file)")
    group.add_argument("--config", metavar="FILE", type=Path,
                       help="TOML configuration file (see `hardodt config --example`)")
    choices = {"number": NUMBER_MODES, "initial_quantiles": INITIAL_QUANTILE_RULES,
               "out_of_range": OUT_OF_RANGE_POLICIES, "step_schedule": STEP_SCHEDULES,
               "hoeffding_n": HOEFFDING_N}
    for flags, dest, typ, help_ in _CONFIG_OPTIONS:
        group.add_argument(*flags, dest=dest, type=typ, default=None, help=help_,
                           choices=choices.get(dest))
    return parent


def _declared(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields the --config file sets, and those the command line sets."""
    declared = read_toml_fields(args.config) if args.config is not None else {}
    overrides = {dest: getattr(args, dest) for _f, dest, _t, _h in _CONFIG_OPTIONS
                 if getattr(args, dest) is not None}
    return declared, overrides


def _load_stream(args: argparse.Namespace):
    if args.generator:
        if args.stream:
            raise CLIError("give a CSV stream or --generator, not both")
        return generate(args.generator, args.samples, args.seed)
    if args.stream is None:
        if args.label not in (None, "class") or args.categorical:
            raise CLIError("--label and --categorical need a STREAM.csv")
        return bundled_electricity()
    if args.label is None:
        raise CLIError("--label COL is required with a STREAM.csv (the label column)")
    return read_csv(args.stream, args.label, args.categorical or ())


def _cmd_learn(args: argparse.Namespace) -> int:
    from hardodt.evaluate import prequential, warm_up
    from hardodt.progress import Progress
    from reference.tree import QuantileHoeffdingTree

    stream = _load_stream(args)
    declared, overrides = _declared(args)
    cfg = stream.config(declared, **overrides)
    warm_up(cfg)
    model = QuantileHoeffdingTree(cfg)
    show = Progress(f"learning {stream.name}",
                    enabled=None if args.progress is None else args.progress)
    result = prequential(model, stream, progress=show)
    if args.tree:
        model.save(args.tree)
    if args.plot:
        _plot(result, stream.name, cfg, args.plot)
    if args.json:
        out = result.to_dict()
        del out["curve"]
        out["stream"] = stream.name
        out["config"] = cfg.to_dict()
        print(json.dumps(out, indent=1))
        return 0
    fmt = (f"fixed ({cfg.word_bits}-bit words, {cfg.fraction_bits} fraction bits)"
           if cfg.number == "fixed" else "float")
    st = result.stats
    print(f"stream      {stream.name}: {result.samples} samples, {cfg.n_numeric} numeric and "
          f"{cfg.n_categorical} categorical attributes, {cfg.n_classes} classes")
    print(f"learner     {fmt}, Q={cfg.quantiles}, P={cfg.split_points}, "
          f"n_min={cfg.grace_period}, delta={cfg.delta}, tau={cfg.tau}, lambda={cfg.step}, "
          f"{cfg.step_schedule} steps, initial quantiles '{cfg.initial_quantiles}'")
    print(f"accuracy    {100 * result.accuracy:.2f} % (prequential)")
    print(f"kappa       {result.kappa:.4f}")
    print(f"leaves      {result.leaves} ({st['splits']} splits in {st['split_trials']} trials)")
    print(f"depth       {result.depth}")
    print(f"samples/s   {result.samples_per_s:,.0f}")
    notes = [f"{st[k]} {k.replace('_', ' ')}" for k in
             ("saturated_values", "frozen_samples", "inactive_samples", "inactive_leaves")
             if st[k]]
    if notes:
        print(f"notes       {', '.join(notes)} (see docs/algorithm.md)")
    if args.tree:
        print(f"tree        written to {args.tree}")
    return 0


def _plot(result, name: str, cfg: Config, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [c[0] for c in result.curve]
    ys = [100 * c[1] for c in result.curve]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(xs, ys, lw=1)
    ax.set_xlabel("samples")
    ax.set_ylabel("accuracy per window (%)")
    ax.set_title(f"{name}: hardodt {cfg.number}, Q={cfg.quantiles} - "
                 f"{100 * result.accuracy:.2f} % overall")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _cmd_config(args: argparse.Namespace) -> int:
    if args.example:
        print(EXAMPLE_TOML, end="")
        return 0
    declared, overrides = _declared(args)
    cfg = Config.from_dict({**declared, **overrides},
                           source=str(args.config) if args.config else "configuration")
    print(cfg.to_toml(), end="")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from reference.tree import QuantileHoeffdingTree

    try:
        model = QuantileHoeffdingTree.load(args.tree)
    except FileNotFoundError:
        raise CLIError(f"{args.tree}: no such file") from None
    print(model.to_dot() if args.format == "dot" else model.to_text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hardodt",
        description="Hard-ODT: online quantile Hoeffding trees, golden model and FPGA hardware.")
    sub = parser.add_subparsers(dest="command", required=True)
    conf = _config_parent()

    learn = sub.add_parser(
        "learn", parents=[conf], help="prequential run over a stream",
        description="Learn a stream test-then-train and report accuracy, kappa, leaves, depth "
                    "and samples/s. Without STREAM, the bundled Electricity stream.")
    learn.add_argument("stream", nargs="?", type=Path, metavar="STREAM.csv",
                       help="CSV file (header line; .gz allowed)")
    learn.add_argument("--label", help="label column of STREAM.csv")
    learn.add_argument("--categorical", action="append", metavar="COL",
                       help="a categorical column (repeat for more)")
    learn.add_argument("--generator", choices=sorted(GENERATORS),
                       help="learn a seeded synthetic stream instead of a file")
    learn.add_argument("--samples", type=int, default=100_000, help="generator samples")
    learn.add_argument("--seed", type=int, default=1, help="generator seed")
    learn.add_argument("--tree", type=Path, metavar="TREE.json",
                       help="write the learned tree (reloadable JSON)")
    learn.add_argument("--plot", type=Path, metavar="CURVE.png",
                       help="plot accuracy over the stream")
    learn.add_argument("--json", action="store_true",
                       help="print one JSON object (samples, accuracy, kappa, leaves, depth, "
                            "samples_per_s, ...)")
    learn.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress on stderr (default: when stderr is a terminal)")
    learn.set_defaults(func=_cmd_learn)

    config = sub.add_parser("config", parents=[conf], help="print a configuration as TOML",
                            description="Print the configuration the options give, validated, "
                                        "as TOML; --example prints a commented default.")
    config.add_argument("--example", action="store_true", help="print a commented default")
    config.set_defaults(func=_cmd_config)

    show = sub.add_parser("show", help="render a learned tree",
                          description="Render a tree written by `hardodt learn --tree`.")
    show.add_argument("tree", type=Path, metavar="TREE.json")
    show.add_argument("--format", choices=("text", "dot"), default="text")
    show.set_defaults(func=_cmd_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from reference.encode import InputError

    try:
        return args.func(args)
    except (CLIError, ConfigError, CSVError, InputError, ValueError) as exc:
        print(f"hardodt: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

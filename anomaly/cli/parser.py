"""The ``anomaly`` command line's grammar: subcommands, options, help and examples.

Building the parser imports nothing heavy (no pandas, scikit-learn or model code), so
``anomaly --help`` answers at once (``experiments/bench_cli.py`` measures it). The
names that ``--format`` and ``--forecaster`` accept come from their registries, which
need pandas: they are looked up only when that option is given or that subcommand's
help is shown (:class:`RegistryNames`).

Options shared by every subcommand (:data:`GLOBAL_OPTIONS`, ``--log-level``) are
accepted before and after the subcommand's name; given in both places, the later one
wins.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO

from anomaly._version import __version__
from anomaly.cli import commands
from anomaly.cli.output import emit
from anomaly.schema import CURRENCIES

__all__ = ["DEFAULT_LOG_LEVEL", "GLOBAL_OPTIONS", "Parser", "RegistryNames", "build_parser"]

#: Width of the descriptions (the formatter keeps their line breaks, for the examples).
HELP_WIDTH = 78
LOG_LEVELS = ("debug", "info", "warning", "error")
DEFAULT_LOG_LEVEL = "warning"
#: Options that every subcommand accepts too (after its name).
GLOBAL_OPTIONS = ("--log-level",)

DESCRIPTION = (
    "Find sanctions evasion in trade statistics: train counterfactual models on pre-war "
    "trade, score later months, rank explained leads. Run `anomaly COMMAND --help` for "
    "a command's options, defaults and an example."
)
WORKFLOW = """\
examples:
  anomaly demo                                  # train, score and report on built-in data
  anomaly train --data flows/ --train-end 2021-12 --out model/
  anomaly score --model model/ --data flows/ --start 2022-01 --out out/
  anomaly report out/

exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input data, 4 artifact refused,
5 a file cannot be read or written; a closed output pipe (`anomaly score ... | head`)
ends quietly with 141."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that keeps the examples' line breaks and shows every option's default.

    Like :class:`argparse.ArgumentDefaultsHelpFormatter`, but silent where a default
    says nothing: required or unset options (``None``) and on/off switches (a
    ``store_false`` switch would read "default: True").
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        shown = (
            action.option_strings
            and "%(default)" not in text
            and default is not None
            and default is not argparse.SUPPRESS
            and not isinstance(default, bool)
        )
        return f"{text} (default: %(default)s)" if shown else text


class Parser(argparse.ArgumentParser):
    """An argument parser whose help, like every command's output, ends quietly when
    standard output's reader has gone (:func:`~anomaly.cli.output.emit`); argparse's
    own would ignore the error and exit 0, or leave it to the final flush."""

    def print_help(self, file: IO[str] | None = None) -> None:
        if file is None:
            emit(self.format_help(), end="")
        else:
            super().print_help(file)


class RegistryNames(Sequence[str]):
    """The names a registry offers, looked up the first time they are needed.

    ``argparse`` reads ``choices`` to check a value given on the command line, to
    print a subcommand's help and, unless the option has a ``metavar``, to build the
    parser: with one, the registry (and pandas behind it) is not imported to build the
    parser or to print ``anomaly --help``.

    Parameters
    ----------
    load : callable
        Returns the names (any iterable of str, e.g. the registry's dict).

    Examples
    --------
    >>> names = RegistryNames(lambda: {"pooled": 1, "ets": 2})
    >>> "ets" in names, list(names)
    (True, ['pooled', 'ets'])
    """

    def __init__(self, load: Callable[[], Iterable[str]]) -> None:
        self._load = load
        self._names: tuple[str, ...] | None = None

    def _resolved(self) -> tuple[str, ...]:
        if self._names is None:
            self._names = tuple(self._load())
        return self._names

    def __getitem__(self, index):
        return self._resolved()[index]

    def __len__(self) -> int:
        return len(self._resolved())

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __contains__(self, name: object) -> bool:
        return name in self._resolved()


def _format_names() -> tuple[str, ...]:
    from anomaly.io import FORMAT_CHOICES

    return FORMAT_CHOICES


def _gib(text: str) -> float:
    """A positive number of GiB (``--memory-budget 7.5``)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of GiB")
    return value


def _forecaster_names() -> list[str]:
    from anomaly.forecast import SHORT_NAMES

    return sorted(SHORT_NAMES)


def _batch_options(batch: argparse._ArgumentGroup) -> None:
    """The options that run a command's work in partitions, on worker processes."""
    batch.add_argument(
        "--jobs", type=_positive, help="worker processes (default: 1, in this process)"
    )
    batch.add_argument(
        "--engine",
        choices=["local", "dask"],
        help="local processes or a Dask cluster, pip install 'anomaly[dask]' (default: local)",
    )
    batch.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler to use (implies --engine dask; default: start a local cluster "
        "of --jobs workers); its workers must share --work-dir",
    )
    batch.add_argument(
        "--partitions",
        type=_positive,
        help="partitions of series (default: from the input size)",
    )
    batch.add_argument(
        "--work-dir",
        help="keep each finished step here; rerunning the same command resumes a killed job "
        "(default: a temporary directory)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand.

    Returns
    -------
    argparse.ArgumentParser
        Parsing sets ``handler`` (the subcommand's function in
        :mod:`anomaly.cli.commands`), ``command`` and ``log_level`` besides the options.

    Examples
    --------
    >>> args = build_parser().parse_args(["inspect", "models/default", "--log-level", "info"])
    >>> args.command, args.model, args.log_level
    ('inspect', 'models/default', 'info')
    """
    parser = Parser(
        prog="anomaly",
        description=textwrap.fill(DESCRIPTION, HELP_WIDTH),
        epilog=WORKFLOW,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"anomaly {__version__}")
    _global_options(parser, default=DEFAULT_LOG_LEVEL)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Callable, summary: str, description: str, example: str
    ) -> argparse.ArgumentParser:
        subparser = sub.add_parser(
            name,
            help=summary,
            description=textwrap.fill(description, HELP_WIDTH),
            epilog=f"example:\n  {example}",
            formatter_class=HelpFormatter,
        )
        subparser.set_defaults(handler=handler)
        return subparser

    train = command(
        "train",
        commands.train,
        "train a model on pre-war trade and save it",
        "Read trade statistics, fit the counterfactual model and the detectors on the "
        "training window (its last 12 months calibrate the detectors as a placebo) and "
        "save the model as a verified, pickle-free artifact directory.",
        "anomaly train --data flows/ --train-start 2015-01 --train-end 2021-12 --out model/",
    )
    _data_options(train)
    train.add_argument(
        "--train-start",
        default=None,
        help="first training month (default: the first month in the data; a month "
        "before the data is refused)",
    )
    train.add_argument("--train-end", required=True, help="last training month, e.g. 2021-12")
    train.add_argument("--out", required=True, help="model directory to write (replaced)")
    train.add_argument("--archive", help="also pack the model into this single .zip file")
    train.add_argument(
        "--forecaster",
        default="pooled",
        choices=RegistryNames(_forecaster_names),
        metavar="NAME",
        help="counterfactual model, one of %(choices)s; pooled is the fast vectorised one",
    )
    train.add_argument(
        "--controlled",
        default="chp-2024-02",
        metavar="LIST",
        help="the controlled goods, whose routes into transit countries and sanctioned "
        "destinations can alert: chp-2024-02 or chp-2023-09 (a version of the Common High "
        "Priority list), all (every good; no general-demand control then), or a file of "
        "HS codes, one per line or a CSV column hs (default: %(default)s)",
    )
    train.add_argument(
        "--hs-level",
        type=int,
        default=6,
        choices=[2, 4, 6],
        help="HS digits per series; finer codes are summed up to this level",
    )
    train.add_argument(
        "--memory-budget",
        type=_gib,
        metavar="GIB",
        help="the most memory training may use, in GiB; data whose estimated peak exceeds "
        "it are refused before they are read (Parquet) or fitted (default: what the "
        "machine has available)",
    )
    _batch_options(
        train.add_argument_group(
            "training in partitions",
            textwrap.fill(
                "canonical Parquet is always read in partitions of series; any of these "
                "options also fits the model over them, on worker processes (the same model "
                "within 1e-10, the default forecaster and detectors only), and keeps the "
                "finished reading in a work directory",
                HELP_WIDTH - 2,
            ),
        )
    )
    _global_options(train)

    score = command(
        "score",
        commands.score,
        "score months with a trained model",
        "Score the months from --start to --end against a trained model's counterfactual "
        "and write OUT/leads.csv (one row per series, best first), OUT/scores.parquet "
        "(one row per series-month) and OUT/run.json. The three files replace an "
        "earlier run's only when all are written; an earlier OUT/report.html, which "
        "would describe the old run, is removed (`anomaly report OUT` writes a new one).",
        "anomaly score --model models/default --data flows/ --start 2022-01 --out out/",
    )
    score.add_argument("--model", required=True, help="model directory or .zip archive")
    _data_options(score)
    score.add_argument("--start", required=True, help="first month to score, e.g. 2022-01")
    score.add_argument("--end", help="last month to score (default: the last month in the data)")
    score.add_argument(
        "--out", required=True, help="directory for leads.csv, scores.parquet and run.json"
    )
    score.add_argument(
        "--demand",
        nargs="+",
        metavar="FILE",
        help="trade in other goods (e.g. each exporter's total exports, a Comext totals "
        "download) as the general-demand control, for data that hold only controlled goods; "
        "read like --data but in any currency (only its growth is read; --currency and "
        "--exchange-rate do not apply to it), recorded in run.json",
    )
    score.add_argument(
        "--exchange-rate",
        metavar="RATE|FILE",
        help="convert data in another currency than the model's into the model's before "
        "scoring: RATE units of the model's currency per unit of the data's (e.g. 0.92), or "
        "a CSV FILE of monthly rates with columns period,rate; recorded in run.json. "
        "Without it, data in another currency are refused (not with the batch options)",
    )
    score.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="refuse a model written by another release of anomaly (refit it) or with other "
        "major versions of numpy/pandas/scikit-learn (default: --no-strict, which loads it "
        "with a warning; integrity and format version are always checked)",
    )
    _batch_options(
        score.add_argument_group(
            "batch scoring",
            textwrap.fill(
                "any of these scores the input in partitions of series (same leads.csv), "
                "reading canonical Parquet in batches; see anomaly.batch",
                HELP_WIDTH - 2,
            ),
        )
    )
    _global_options(score)

    inspect = command(
        "inspect",
        commands.inspect,
        "show a model's manifest and check its integrity",
        "Verify every file of a model artifact against the sha256 sums of its manifest "
        "and print the training window, series count, forecaster, the anomaly release "
        "that wrote it and the library versions it was written with.",
        "anomaly inspect models/default",
    )
    inspect.add_argument("model", help="model directory or .zip archive")
    _global_options(inspect)

    report = command(
        "report",
        commands.report,
        "write OUT_DIR/report.html from a scoring output",
        "Render a self-contained HTML page (no scripts, no external files) of a scoring "
        "output: a summary of the alerts, a table of the top leads and a chart of each "
        "(charts need matplotlib: pip install 'anomaly[plot]').",
        "anomaly report out/ --top 50",
    )
    report.add_argument("out_dir", help="directory written by `anomaly score`")
    report.add_argument("--top", type=_non_negative, default=20, help="leads to list and chart")
    _global_options(report)

    demo = command(
        "demo",
        commands.demo,
        "train, score and report on the built-in real data",
        "Train on 2020-01..2021-12 of the built-in Eurostat exports of Common High "
        "Priority goods, score 2022-01..2022-11, and write the model, the leads, the "
        "scores and report.html into one directory.",
        "anomaly demo --out anomaly-demo/",
    )
    demo.add_argument("--out", default="anomaly-demo", help="output directory")
    _global_options(demo)

    simulate = command(
        "simulate",
        commands.simulate,
        "write a synthetic world with planted schemes",
        "Simulate exporters' declarations and their mirrors, 2015-2024, with planted "
        "evasion schemes and decoys, and write OUT/flows.parquet (the flows: give OUT "
        "to --data), OUT/config.json (the settings), OUT/labels/labels.csv (the planted "
        "truth: give OUT to `anomaly evaluate --labels`) and OUT/csv/flows.csv (the "
        "flows again, as CSV). Only the flows are directly in OUT, so --data OUT reads "
        "them once and nothing else.",
        "anomaly simulate --out sim/ && anomaly train --data sim/ --train-end 2021-12 --out model/",
    )
    simulate.add_argument("--out", required=True, help="directory for flows and labels")
    simulate.add_argument("--series", type=_positive, default=5000, help="exporter series")
    simulate.add_argument("--seed", type=int, default=0, help="random seed")
    _global_options(simulate)

    evaluate = command(
        "evaluate",
        commands.evaluate,
        "measure leads against planted labels",
        "Compare the leads of a scoring output with the labels of a simulated world: "
        "precision and value captured at k, recall, average precision, alert rate.",
        "anomaly evaluate --scores out/ --labels sim/",
    )
    evaluate.add_argument("--scores", required=True, help="directory written by `anomaly score`")
    evaluate.add_argument(
        "--labels",
        required=True,
        help="directory written by `anomaly simulate`, or its labels/labels.csv",
    )
    _global_options(evaluate)
    return parser


def _global_options(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """Add :data:`GLOBAL_OPTIONS` to the main parser (with their defaults) or to a
    subcommand (without: a value given before the subcommand's name must survive)."""
    parser.add_argument(
        "--log-level",
        default=argparse.SUPPRESS if default is None else default,
        choices=LOG_LEVELS,
        help="how much to log on standard error"
        + ("" if default is not None else f" (default: {DEFAULT_LOG_LEVEL})"),
    )


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _non_negative(text: str) -> int:
    number = int(text)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {number}")
    return number


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        required=True,
        nargs="+",
        help="input files or directories (CSV, CSV.GZ, Parquet; a directory stands for its files)",
    )
    parser.add_argument(
        "--format",
        choices=RegistryNames(_format_names),
        metavar="FORMAT",
        help="input format, one of %(choices)s (default: auto, told from each file's header)",
    )
    parser.add_argument(
        "--currency",
        choices=CURRENCIES,
        help="the currency of the --data values, for canonical files without a currency "
        "column (Eurostat files are EUR, Comtrade files USD: naming another is an error; "
        "default: a currency column's, else unknown)",
    )

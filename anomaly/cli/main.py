"""The ``anomaly`` command: parser, dispatch, exit codes.

Exit codes (stable; scripts depend on them):

- 0: success;
- 1: an unexpected internal error (a bug: the traceback is printed);
- 2: the command line is wrong (unknown option, missing argument);
- 3: the input cannot be used (a file, row or column is named in the message), or a
  file cannot be read or written (the system's reason is given);
- 4: a model artifact was refused (tampered, truncated, incompatible).

Errors print one line, ``anomaly: error: <what, where, what was expected>``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from anomaly._version import __version__
from anomaly.cli import commands
from anomaly.errors import AnomalyError, ArtifactError
from anomaly.forecast import SHORT_NAMES
from anomaly.io import AUTO, FORMAT_CHOICES

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_DATA, EXIT_ARTIFACT = 0, 1, 2, 3, 4

logger = logging.getLogger("anomaly")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="anomaly",
        description="Find sanctions evasion in trade statistics: train counterfactual "
        "models on pre-war trade, score later months, rank explained leads.",
        epilog="Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input data, 4 artifact refused.",
    )
    parser.add_argument("--version", action="version", version=f"anomaly {__version__}")
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="how much to log on standard error (default: warning)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a model on pre-war trade and save it")
    _data_arguments(train)
    train.add_argument("--train-start", default="2015-01", help="first training month (2015-01)")
    train.add_argument("--train-end", required=True, help="last training month, e.g. 2021-12")
    train.add_argument("--out", required=True, help="model directory to write")
    train.add_argument("--archive", help="also pack the model into this single .zip file")
    train.add_argument(
        "--forecaster",
        default="pooled",
        choices=sorted(SHORT_NAMES),
        help="counterfactual model (default: pooled, the fast vectorised one)",
    )
    train.add_argument(
        "--hs-level", type=int, default=6, choices=[2, 4, 6], help="HS digits per series"
    )
    train.set_defaults(handler=commands.train)

    score = sub.add_parser("score", help="score months with a trained model")
    score.add_argument("--model", required=True, help="model directory or .zip archive")
    _data_arguments(score)
    score.add_argument("--start", required=True, help="first month to score, e.g. 2022-01")
    score.add_argument("--end", help="last month to score (default: last month in the data)")
    score.add_argument("--out", required=True, help="directory for leads.csv and scores.parquet")
    score.add_argument(
        "--no-strict",
        dest="strict",
        action="store_false",
        help="accept a model written with other major versions of numpy/pandas/scikit-learn "
        "(warns instead of refusing)",
    )
    batch = score.add_argument_group(
        "batch scoring",
        "any of these scores the input in partitions of series (same leads.csv), reading "
        "canonical Parquet in batches; see anomaly.batch",
    )
    batch.add_argument(
        "--jobs", type=_positive, help="worker processes (default 1: in this process)"
    )
    batch.add_argument(
        "--engine",
        choices=["local", "dask"],
        help="local processes (default) or a Dask cluster (pip install 'anomaly[dask]')",
    )
    batch.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler to use (implies --engine dask; default: start a local cluster "
        "of --jobs workers); its workers must share --work-dir",
    )
    batch.add_argument(
        "--partitions", type=_positive, help="partitions of series (default: from the input size)"
    )
    batch.add_argument(
        "--work-dir",
        help="keep each finished step here; rerunning the same command resumes a killed job",
    )
    score.set_defaults(handler=commands.score)

    inspect = sub.add_parser("inspect", help="show a model's manifest and check its integrity")
    inspect.add_argument("model", help="model directory or .zip archive")
    inspect.set_defaults(handler=commands.inspect)

    report = sub.add_parser("report", help="write OUT_DIR/report.html from a scoring output")
    report.add_argument("out_dir", help="directory written by `anomaly score`")
    report.add_argument("--top", type=int, default=20, help="leads to chart (default 20)")
    report.set_defaults(handler=commands.report)

    demo = sub.add_parser("demo", help="train, score and report on the built-in real data")
    demo.add_argument("--out", default="anomaly-demo", help="output directory (anomaly-demo)")
    demo.set_defaults(handler=commands.demo)

    simulate = sub.add_parser("simulate", help="write a synthetic world with planted schemes")
    simulate.add_argument("--out", required=True, help="directory for flows and labels")
    simulate.add_argument("--series", type=int, default=5000, help="exporter series (5000)")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (0)")
    simulate.set_defaults(handler=commands.simulate)

    evaluate = sub.add_parser("evaluate", help="measure leads against planted labels")
    evaluate.add_argument("--scores", required=True, help="directory written by `anomaly score`")
    evaluate.add_argument(
        "--labels", required=True, help="labels.csv written by `anomaly simulate`"
    )
    evaluate.set_defaults(handler=commands.evaluate)
    return parser


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        required=True,
        nargs="+",
        help="input files or directories (CSV, CSV.GZ, Parquet)",
    )
    parser.add_argument(
        "--format",
        default=AUTO,
        choices=FORMAT_CHOICES,
        help="input format (default: detected from the header)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,  # a second main() in one process (tests, notebooks) sets it again
    )
    try:
        args.handler(args)
    except ArtifactError as error:
        print(f"anomaly: error: {error}", file=sys.stderr)
        return EXIT_ARTIFACT
    except AnomalyError as error:
        print(f"anomaly: error: {error}", file=sys.stderr)
        return EXIT_DATA
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"anomaly: error: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:
        print("anomaly: interrupted", file=sys.stderr)
        return 130
    return EXIT_OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

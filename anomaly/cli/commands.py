"""What each ``anomaly`` subcommand does (the parser lives in :mod:`anomaly.cli.parser`).

Each command imports what it needs when it runs: importing this module (as the parser
does) must stay cheap, so that ``anomaly --help`` does not load pandas or the model.
Everything a command prints goes through :func:`~anomaly.cli.output.emit`, which ends
the command quietly when the reader of its output has gone (``anomaly score ... | head``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from anomaly.cli.output import emit
from anomaly.errors import DataError
from anomaly.progress import step

TOP_PRINTED = 10
#: The ``score`` options that choose batch scoring (:func:`anomaly.batch.score_batch`).
BATCH_OPTIONS = ("jobs", "engine", "scheduler", "partitions", "work_dir")


def train(args: argparse.Namespace) -> None:
    """``anomaly train``: read, fit, save (and optionally pack).

    On canonical Parquet with any batch option (``--jobs``, ``--engine``,
    ``--scheduler``, ``--partitions``, ``--work-dir``) the fit runs over the read's
    partitions on the engine's workers (:func:`anomaly.batch.fit_partitioned`); else
    the panel is built in this process and fitted there.
    """
    from anomaly.artifacts import check_replaceable
    from anomaly.batch.panel_reader import native_inputs, partitions_for, read_panel
    from anomaly.forecast import SHORT_NAMES
    from anomaly.io import count_rows, read_flows
    from anomaly.model import TradeAnomalyModel, check_reading_memory, check_training_memory
    from anomaly.model.trade_model import training_window
    from anomaly.panel import build_panel

    controls = _controlled(args.controlled)  # a wrong list fails before a long read
    check_replaceable(Path(args.out))  # and so does an --out the model cannot replace
    # Data too large for memory are refused before the long read, where the files say
    # how many rows they hold, and before the fit (a kernel kill after minutes says less).
    # Only the training window's months are read: the fit uses no other.
    source = native_inputs(args.data, _format(args), (args.train_start, args.train_end))
    batch = [name for name in BATCH_OPTIONS if getattr(args, name) is not None]
    model = TradeAnomalyModel(SHORT_NAMES[args.forecaster](), hs_level=args.hs_level, **controls)
    if source is not None and batch:
        _train_partitioned(args, source, model)
        _save(args, model)
        return
    if source is not None:
        # Canonical Parquet without batch options: read in batches, pivoted partition
        # by partition in this process, stacked into one panel.
        partitions = partitions_for(source.n_rows or 0)
        check_reading_memory(source.n_rows or 0, args.memory_budget, partitions=partitions)
        panel = read_panel(
            source, hs_level=args.hs_level, currency=args.currency, partitions=partitions
        )
    elif batch:
        options = ", ".join("--" + name.replace("_", "-") for name in batch)
        raise DataError(
            f"{options}: only canonical Parquet is read in partitions, and "
            f"{', '.join(map(str, args.data))} is not",
            expected="Parquet files of the canonical columns (anomaly.read_flows(...) "
            ".to_parquet(...) writes them), or train without these options",
        )
    else:
        rows = count_rows(args.data)
        if rows is not None:
            check_reading_memory(rows, args.memory_budget)
        with step("reading input"):
            flows = read_flows(args.data, format=_format(args), currency=args.currency)
        with step("building the panel"):
            panel = build_panel(flows, hs_level=args.hs_level)
            del flows  # the panel holds all training needs: the table's memory goes back
    start, end = training_window(panel, args.train_start, args.train_end)
    check_training_memory(panel.n_series, end.ordinal - start.ordinal + 1, args.memory_budget)
    with step("training"):
        model.fit(panel, args.train_start, args.train_end)
    del panel
    _save(args, model)


def _train_partitioned(args: argparse.Namespace, source, model) -> None:
    """Read canonical Parquet into partitions kept in the work directory (a temporary
    one without ``--work-dir``) and fit ``model`` over them on the engine's workers."""
    from anomaly.batch import fit_partitioned
    from anomaly.batch.engines import engine_for
    from anomaly.batch.panel_reader import partitions_for, read_panel
    from anomaly.batch.train import check_partitionable
    from anomaly.batch.workdir import work_directory
    from anomaly.model import check_reading_memory, check_training_memory
    from anomaly.model.trade_model import training_window

    check_partitionable(model)  # before the long read
    partitions = args.partitions or partitions_for(source.n_rows or 0)
    jobs = args.jobs or 1
    # Workers of a scheduler's cluster are not this machine's.
    workers = jobs if jobs > 1 and args.scheduler is None else 0
    check_reading_memory(
        source.n_rows or 0,
        args.memory_budget,
        partitions=partitions,
        workers=workers,
        stacked=False,
    )
    engine = _engine(args)
    with work_directory(args.work_dir, "anomaly-train-") as work:
        parts = read_panel(
            source,
            hs_level=args.hs_level,
            currency=args.currency,
            partitions=partitions,
            engine=engine,
            jobs=jobs,
            scheduler=args.scheduler,
            work_dir=work.root,
            stacked=False,
        )
        start, end = training_window(parts.periods, args.train_start, args.train_end)
        check_training_memory(
            sum(len(keys) for keys in parts.keys),
            end.ordinal - start.ordinal + 1,
            args.memory_budget,
            partitions=len(parts.keys),
            workers=workers,
        )
        with step("training"), engine_for(engine, jobs, args.scheduler) as runner:
            fit_partitioned(model, parts, args.train_start, args.train_end, runner)


def _save(args: argparse.Namespace, model) -> None:
    """Save the fitted model (and pack it with ``--archive``); say what was saved."""
    from anomaly.artifacts import pack_artifact

    with step("saving"):
        path = model.save(args.out)
        if args.archive:
            pack_artifact(path, args.archive)
    start, end = model.train_window_
    emit(f"model: {path} ({len(model.keys_)} series, trained {start}..{end})")


def _engine(args: argparse.Namespace) -> str:
    """``--engine``, or dask where only ``--scheduler`` is given."""
    return args.engine or ("dask" if args.scheduler else "local")


def _controlled(value: str) -> dict[str, object]:
    """``--controlled``: a CHP list version, ``all``, or a file of codes, as the model's
    ``chp_version`` and ``controlled``."""
    from anomaly.errors import DataError
    from anomaly.reference import CHP_VERSIONS, read_code_list

    if value == "all":
        return {"controlled": "all"}
    versions = {f"chp-{version}": version for version in CHP_VERSIONS}
    if value in versions:
        return {"chp_version": versions[value], "controlled": "chp"}
    if not Path(value).is_file():
        raise DataError(
            f"--controlled {value}: no such file, and not a named list",
            expected=f"{', '.join(versions)}, all, or a file of HS codes",
        )
    return {"controlled": read_code_list(value)}


def score(args: argparse.Namespace) -> None:
    """``anomaly score``: load, read, score, write atomically (in batches with any batch
    option). Writing the outputs removes an earlier run's report (see
    :data:`anomaly.model.outputs.DERIVED_FILES`); the summary says so."""
    from anomaly.io import read_flows
    from anomaly.model import load_model
    from anomaly.model.outputs import DERIVED_FILES, check_replaceable_outputs

    out = Path(args.out)
    check_replaceable_outputs(out)  # before the long read and scoring
    derived = [out / name for name in DERIVED_FILES]
    stale = [path for path in derived if path.exists()]
    batch = [name for name in BATCH_OPTIONS if getattr(args, name) is not None]
    if batch and args.exchange_rate is not None:
        options = ", ".join(f"--{name.replace('_', '-')}" for name in batch)
        raise DataError(
            f"--exchange-rate cannot be combined with batch scoring ({options})",
            expected="files in the model's currency (convert them first with "
            "anomaly.io.convert_currency), or scoring without the batch options",
        )
    if batch:
        scores = _score_batch(args)
    else:
        with step("loading model"):
            model = load_model(args.model, strict=args.strict)
        with step("reading input"):
            flows = read_flows(args.data, format=_format(args), currency=args.currency)
            if args.exchange_rate is not None:
                flows = _converted(flows, model.currency_, args.exchange_rate)
            demand = _demand(args)
        with step("scoring"):
            scores = model.score(flows, args.start, args.end, demand=demand)
        with step("writing"):
            scores.write(args.out, extra={"model": str(args.model)})
    _print_summary(scores)
    for path in stale:
        if not path.exists():
            emit(f"\nremoved {path}: it showed the previous run (`anomaly report {args.out}`)")


def _converted(flows, currency: str | None, rates: str):
    """``--exchange-rate``: the flows in the model's ``currency``. A rate given where
    nothing needs converting is refused rather than ignored or applied."""
    from anomaly.errors import CurrencyError
    from anomaly.io import convert_currency

    found = flows.attrs.get("currency")
    if not found:
        raise CurrencyError(
            "--exchange-rate was given, but the data's currency is unknown (no currency column)",
            expected="--currency naming the currency of the --data files",
        )
    if not currency:
        raise CurrencyError(
            "--exchange-rate was given, but the model records no currency to convert into",
            expected="no --exchange-rate for this model",
        )
    if found == currency:
        raise CurrencyError(
            f"--exchange-rate was given, but the data are in {found}, as the model is",
            expected="no --exchange-rate: the data need no conversion",
        )
    try:
        rate: float | str = float(rates)
    except ValueError:
        rate = rates  # a file of monthly rates
    return convert_currency(flows, currency, rate)


def _score_batch(args: argparse.Namespace):
    """``anomaly score`` through :func:`anomaly.batch.score_batch` (which shows its own
    progress, pass by pass)."""
    from anomaly.batch import score_batch

    return score_batch(
        args.model,
        args.data,
        start=args.start,
        end=args.end,
        out_dir=args.out,
        format=_format(args),
        engine=_engine(args),
        jobs=args.jobs or 1,
        scheduler=args.scheduler,
        partitions=args.partitions,
        work_dir=args.work_dir,
        strict=args.strict,
        demand=_demand(args),
        currency=args.currency,
    )


def _demand(args: argparse.Namespace):
    """``--demand``: the external general-demand control's flows, or None."""
    from anomaly.io import read_flows

    return read_flows(args.demand) if args.demand else None


def inspect(args: argparse.Namespace) -> None:
    """``anomaly inspect``: verify integrity and print the manifest's essentials."""
    from anomaly._version import __version__
    from anomaly.artifacts import verify_artifact
    from anomaly.artifacts.manifest import package_drift

    manifest = verify_artifact(args.model)
    writer = f"anomaly {manifest.get('package', {}).get('version')}"
    if package_drift(manifest) is not None:
        writer += f" (this is anomaly {__version__}: refit the model to score as it does)"
    metadata = manifest.get("metadata", {})
    window = metadata.get("training_window", {})
    lines = {
        "artifact": str(args.model),
        "integrity": "ok (every file's sha256 matches the manifest)",
        "format version": manifest.get("format_version"),
        "model class": manifest.get("model_class"),
        "created": manifest.get("created"),
        "training window": f"{window.get('start')}..{window.get('end')}",
        "series": metadata.get("n_series"),
        "currency": metadata.get("currency"),
        "data fingerprint": metadata.get("data_fingerprint"),
        "no history": _no_history(metadata),
        "forecaster": manifest.get("config", {}).get("forecaster", {}).get("class"),
        "written by": writer,
        "written with": json.dumps(manifest.get("dependencies", {}), sort_keys=True),
    }
    width = max(len(k) for k in lines)
    for key, value in lines.items():
        emit(f"{key:<{width}}  {value}")


def _no_history(metadata: dict) -> str:
    """The model's codes new in HS2022 without history in its training data."""
    from anomaly.model.trade_model import describe_no_history

    codes = metadata.get("no_history_codes")
    if codes is None:
        return "not recorded (a model written before anomaly recorded them)"
    if not codes:
        return "none"
    return (
        f"{describe_no_history(codes)}: new in HS2022, their HS2017 predecessors absent "
        "from the training data; their series are read without history"
    )


def report(args: argparse.Namespace) -> None:
    """``anomaly report``: render OUT_DIR/report.html."""
    from anomaly.report import render_report

    with step("rendering report"):
        path = render_report(args.out_dir, top=args.top)
    emit(f"report: {path}")


def demo(args: argparse.Namespace) -> None:
    """``anomaly demo``: train on 2020–2021 of the built-in data, score 2022, report."""
    from anomaly.demo import SCORE_WINDOW, TRAIN_WINDOW, demo_flows
    from anomaly.model import TradeAnomalyModel
    from anomaly.report import render_report

    with step("reading the built-in Eurostat CHP exports"):
        flows = demo_flows()
    with step(f"training on {TRAIN_WINDOW[0]}..{TRAIN_WINDOW[1]}"):
        model = TradeAnomalyModel().fit(flows, *TRAIN_WINDOW)
    with step(f"scoring {SCORE_WINDOW[0]}..{SCORE_WINDOW[1]}"):
        scores = model.score(flows, *SCORE_WINDOW)
    out = Path(args.out)
    with step("writing model, leads and report"):
        model.save(out / "model")
        scores.write(out, extra={"model": "built-in demo (PooledForecaster)"})
        report_path = render_report(out)
    _print_summary(scores)
    emit(f"\nleads: {out / 'leads.csv'}\nreport: {report_path}\nmodel: {out / 'model'}")


def simulate(args: argparse.Namespace) -> None:
    """``anomaly simulate``: write a synthetic world with planted schemes and labels."""
    from anomaly.simulate import simulate_world, write_world
    from anomaly.simulate.write import FLOWS_FILE, LABELS_FILE

    with step(f"simulating {args.series} series"):
        world = simulate_world(args.series, seed=args.seed)
    with step("writing"):
        path = write_world(world, args.out)
    emit(
        f"flows: {path / FLOWS_FILE} ({len(world.flows)} rows; train and score with "
        f"--data {path})\nlabels: {path / LABELS_FILE} ({len(world.labels)} labelled series)"
    )


def evaluate(args: argparse.Namespace) -> None:
    """``anomaly evaluate``: detection metrics of a scoring output against labels (a
    file, or the directory ``anomaly simulate`` wrote)."""
    import pandas as pd

    from anomaly.evaluate.leads import evaluate_leads
    from anomaly.simulate.write import LABELS_FILE

    leads_path = Path(args.scores) / "leads.csv"
    if not leads_path.exists():
        raise DataError(
            "no leads.csv here",
            source=str(args.scores),
            expected="a directory written by `anomaly score`",
        )
    labels_path = Path(args.labels)
    if labels_path.is_dir():
        labels_path = labels_path / LABELS_FILE
        if not labels_path.exists():
            raise DataError(
                f"no {LABELS_FILE} here",
                source=args.labels,
                expected="a directory written by `anomaly simulate`, or a labels file",
            )
    leads = pd.read_csv(leads_path, dtype={"hs": str})
    labels = pd.read_csv(labels_path, dtype={"hs": str})
    report = evaluate_leads(leads, labels)
    width = max(len(k) for k in report)
    for key, value in report.items():
        emit(
            f"{key:<{width}}  {value:.3f}"
            if isinstance(value, float)
            else f"{key:<{width}}  {value}"
        )


def _format(args: argparse.Namespace) -> str:
    """The ``--format`` given, or the readers' automatic detection."""
    from anomaly.io import AUTO

    return args.format or AUTO


def _print_summary(scores) -> None:
    leads = scores.leads
    emit(f"\n{len(leads)} series scored, {int(leads['alert'].sum())} alerts. Top {TOP_PRINTED}:")
    top = leads.head(TOP_PRINTED)
    for row in top.itertuples():
        flag = "ALERT" if row.alert else "     "
        emit(f"{row.rank:>3}. {flag} score {row.score:6.2f}  {row.explanation}")

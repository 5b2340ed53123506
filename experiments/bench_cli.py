"""How fast the command line answers: ``anomaly --help`` beside ``import pandas``.

Run from the repository root::

    python experiments/bench_cli.py                 # 20 runs of each command
    python experiments/bench_cli.py --runs 50 --compare HEAD~1

Each command runs ``--runs`` times in a fresh process (no warm interpreter, as a user
types it), interleaved so that a slow spell of the machine affects all alike, after one
unmeasured run of each to fill the file-system cache. Reported: median, fastest and
slowest wall time, and the median over ``python -c "import pandas"`` (what every
command that reads data pays at least).

- ``anomaly --help`` and ``anomaly score --help``: the console script that pip
  installed beside this Python (and, if ``anomaly`` on ``PATH`` is another file, such
  as a pyenv shim, that one too). ``score --help`` lists the input formats, which come
  from the readers' registry, so it loads pandas; the top-level help loads nothing of
  the data stack (``tests/cli/test_parser.py`` checks that in ``sys.modules``).
- ``python -c "pass"``: the interpreter's own start, the floor of any command.
- With ``--compare REF``: the same help commands run from the package at the git
  revision ``REF`` (extracted with ``git archive`` into a temporary directory, run with
  ``python -c "from anomaly.cli import run; run()"``), for a before/after.

Writes ``experiments/results/bench_cli.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "results" / "bench_cli.md"
#: The help is correct only if it is fast for this reason: the target of issue 13.
TARGET_SECONDS = 1.0


def wall_time(command: list[str], env: dict[str, str], cwd: Path) -> float:
    """Seconds from start to exit of one fresh process (output discarded)."""
    started = time.perf_counter()
    subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        check=True,
    )
    return time.perf_counter() - started


def console_scripts() -> dict[str, str]:
    """The installed ``anomaly`` scripts to time, by label."""
    beside = Path(sys.executable).with_name("anomaly")
    scripts = {"anomaly": str(beside)} if beside.exists() else {}
    on_path = shutil.which("anomaly")
    if on_path and (not scripts or Path(on_path).resolve() != beside.resolve()):
        scripts["anomaly (PATH: " + on_path + ")"] = on_path
    if not scripts:
        raise SystemExit("the `anomaly` console script is not installed (pip install -e .)")
    return scripts


def extract(ref: str, into: Path) -> Path:
    """The package at git revision ``ref``, as files under ``into``."""
    into.mkdir()
    archive = into / "source.tar"
    with archive.open("wb") as file:
        subprocess.run(["git", "archive", ref, "anomaly"], cwd=ROOT, stdout=file, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def commands(compare: Path | None, ref: str | None) -> dict[str, tuple[list[str], dict]]:
    """Label → (argv, environment) of everything timed."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    timed: dict[str, tuple[list[str], dict]] = {}
    for label, script in console_scripts().items():
        timed[f"`{label.replace('anomaly', 'anomaly --help', 1)}`"] = ([script, "--help"], env)
        timed[f"`{label.replace('anomaly', 'anomaly score --help', 1)}`"] = (
            [script, "score", "--help"],
            env,
        )
    if compare is not None:
        old = {**env, "PYTHONPATH": str(compare)}
        run = [sys.executable, "-c", "from anomaly.cli import run; run()"]
        timed[f"`anomaly --help` at {ref}"] = ([*run, "--help"], old)
        timed[f"`anomaly score --help` at {ref}"] = ([*run, "score", "--help"], old)
    timed['`python -c "import pandas"`'] = ([sys.executable, "-c", "import pandas"], env)
    timed['`python -c "pass"`'] = ([sys.executable, "-c", "pass"], env)
    return timed


def load() -> str:
    """The 1-minute load average, if the system tells it."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def machine() -> str:
    import pandas as pd

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            cpu,
        )
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, pandas {pd.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="fresh processes per command")
    parser.add_argument("--compare", metavar="REF", help="also time the CLI at this git ref")
    args = parser.parse_args()

    load_before = load()
    revision = None
    if args.compare:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", args.compare],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        revision = f"{commit} ({args.compare})" if commit != args.compare else commit
    with tempfile.TemporaryDirectory() as tmp:
        compare = extract(args.compare, Path(tmp) / "source") if args.compare else None
        timed = commands(compare, revision)
        # Outside the repository: `python -c` puts the working directory first on
        # sys.path, where ./anomaly would shadow the revision compared.
        cwd = Path(tmp)
        for argv, env in timed.values():  # warm the file-system cache, unmeasured
            wall_time(argv, env, cwd)
        times: dict[str, list[float]] = {label: [] for label in timed}
        for _ in range(args.runs):
            for label, (argv, env) in timed.items():
                times[label].append(wall_time(argv, env, cwd))

    pandas = statistics.median(times['`python -c "import pandas"`'])
    rows = [
        "| command | median (s) | fastest (s) | slowest (s) | median ÷ `import pandas` |",
        "|---|---|---|---|---|",
    ]
    for label, seconds in times.items():
        median = statistics.median(seconds)
        rows.append(
            f"| {label} | {median:.3f} | {min(seconds):.3f} | {max(seconds):.3f} "
            f"| {median / pandas:.2f} |"
        )
    top = statistics.median(times[next(iter(timed))])
    verdict = "met" if top < TARGET_SECONDS else "NOT met"
    command_line = "python experiments/bench_cli.py" + "".join(f" {flag}" for flag in sys.argv[1:])
    text = "\n".join(
        [
            "# Command-line start-up",
            "",
            f"Command: `{command_line}`  ",
            f"Machine: {machine()}",
            "",
            f"Each command run {args.runs} times in a fresh process, interleaved, after one "
            "unmeasured run of each; wall time from start to exit, output discarded. "
            f"Load average before / after: {load_before} / {load()} (other jobs on the "
            "machine slow every row alike; compare the ratios).",
            "",
            *rows,
            "",
            f"Target (issue 13): `anomaly --help` under {TARGET_SECONDS:.0f} s — {verdict}: "
            f"median {top:.3f} s, {top / pandas:.2f}× the time to import pandas.",
            "",
            "`anomaly --help` imports no pandas, numpy, scikit-learn, SciPy, statsmodels, "
            "pyarrow or matplotlib (`tests/cli/test_parser.py`). `anomaly score --help` "
            "lists the input formats of the readers' registry, which imports pandas: it "
            "costs about one `import pandas`.",
            "",
        ]
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

"""The evaluation matrix: the active-learning simulation (the same code the page uses) over
several data sets, with the default strategy, margin, random and the plain baseline
(logistic regression on pixels, fitted on the labels of the default and the random arm).

Data sets (``--datasets``): any source spec (``mnist``, ``fashion-mnist:10000``, ``npz:…``,
``folder:…``) or one of the sets this package assembles offline (built when missing):
``glyphs``, the letters of ssvae/data/glyphs.py, and ``digits``, scikit-learn's 8×8 digits
(ssvae/data/digits.py).
A source without a test split of its own gets 20 % of each class held out (seed 0).
"""
from __future__ import annotations

import csv
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ssvae.config import Config
from ssvae.data import Dataset, load_dataset
from ssvae.paths import data_root
from ssvae.ranking import DEFAULT_STRATEGY
from ssvae.simulate import (COLUMNS, SimulationSettings, baseline_name, hold_out_test, read_rows,
                            run_simulation, settings_notes, summarize, write_outputs)

GLYPHS = "glyphs"
DIGITS = "digits"
DATASETS = ("mnist", "fashion-mnist", DIGITS, GLYPHS)
TEST_FRACTION = 0.2
ARMS = (DEFAULT_STRATEGY, "margin", "random")
BASELINE_ARMS = (DEFAULT_STRATEGY, "random")


@dataclass(frozen=True)
class Plan:
    """The settings of one data set of the matrix."""
    initial: int = 10
    step: int = 10
    budget: int = 200
    epochs_per_round: int | None = None  # None: what the page trains (ssvae/schedule.py)
    first_epochs: int | None = None


#: the published matrix (docs/results): from one label per class, 30 per round to 200, the
#: first model and every round trained as the page trains them (the config's step budgets,
#: ssvae/schedule.py); Fashion-MNIST with its whole 60 000-image pool and, as measured before,
#: a 5 000-image class-stratified subsample of it (its test split whole in both)
PLANS = {"mnist": Plan(step=30),
         "fashion-mnist": Plan(step=30),
         "fashion-mnist:5000": Plan(step=30),
         GLYPHS: Plan(step=30),
         DIGITS: Plan(step=10, budget=100)}


#: ``--quick``: minutes in all
QUICK = Plan(initial=10, step=10, budget=30, epochs_per_round=1, first_epochs=3)


def built_dataset(name: str) -> Dataset:
    """A set assembled offline (``glyphs``: 32×32 RGB letters; ``digits``: 8×8 digits at the
    default image size), under data/<name>/train, written first when it is missing."""
    root = data_root() / name
    train = root / "train"
    if name == GLYPHS:
        from ssvae.data.glyphs import SIZE, make_glyphs
        if not train.is_dir():
            make_glyphs(root)
        return load_dataset(f"folder:{train}", image_size=(SIZE, SIZE), color=True)
    from ssvae.data.digits import make_digits
    if not train.is_dir():
        make_digits(root)
    return load_dataset(f"folder:{train}")


def load_for_evaluation(spec: str, config: Config) -> Dataset:
    """The data set of ``spec``, with a held-out test split."""
    if spec in (GLYPHS, DIGITS):
        ds = built_dataset(spec)
    else:
        d = config.data
        ds = load_dataset(spec, image_size=tuple(d.image_size), color=d.color, classes=d.classes)
    return ds if ds.has_test else hold_out_test(ds, TEST_FRACTION, seed=0)


def folder_key(spec: str) -> str:
    """The results sub-folder of a data-set spec: ``fashion-mnist:10000`` → ``fashion-mnist-10000``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", spec.replace(":", "-")).strip("-") or "data"


def settings_for(spec: str, seeds: tuple[int, ...], quick: bool, **override) -> SimulationSettings:
    plan = QUICK if quick else PLANS.get(spec, Plan())
    plan = replace(plan, **{k: v for k, v in override.items() if v is not None})
    return SimulationSettings(strategies=ARMS, initial=plan.initial, step=plan.step,
                              budget=plan.budget, epochs_per_round=plan.epochs_per_round,
                              first_epochs=plan.first_epochs, seeds=seeds,
                              baseline_for=BASELINE_ARMS)


def evaluate_one(spec: str, config: Config, config_name: str, settings: SimulationSettings,
                 out: Path, progress=None) -> dict[str, Path]:
    """Run the matrix row of one data set; write REPORT.md, results.csv, accuracy.html into
    ``out`` (rows go to results.partial.csv as they come)."""
    ds = load_for_evaluation(spec, config)
    settings = settings.with_first_epochs(config, ds.size)
    settings.validate(ds)
    out.mkdir(parents=True, exist_ok=True)
    partial = out / "results.partial.csv"
    t0 = time.perf_counter()
    with open(partial, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()

        def on_row(row):
            writer.writerow(row)
            fh.flush()

        rows = run_simulation(config, ds, settings, progress=progress, on_row=on_row)
    notes = [f"data-set spec `{spec}`", *settings_notes(settings, config, config_name,
                                                       time.perf_counter() - t0, ds)]
    paths = write_outputs(rows, out, f"Active learning on {spec}", notes)
    partial.unlink()
    return paths


def _cell(s: dict | None, n: int) -> str:
    if s is None or n not in s["mean"]:
        return "—"
    sd = f" ± {100 * s['std'][n]:.1f}" if s["seeds"] > 1 else ""
    return f"{100 * s['mean'][n]:.1f}{sd}"


def matrix_table(results: dict[str, list[dict]]) -> list[str]:
    """One Markdown table: per data set and arm, accuracy at the first label count, 100, 200
    and the last."""
    arms = [*ARMS, *(baseline_name(a) for a in BASELINE_ARMS)]
    lines = ["| data set | arm | seeds | first | @ 100 | @ 200 | last |", "|---|---|---|---|---|---|---|"]
    for spec, rows in results.items():
        summary = summarize(rows)
        counts = sorted({r["labels"] for r in rows})
        first, last = counts[0], counts[-1]
        for arm in [a for a in arms if a in summary] + [a for a in summary if a not in arms]:
            s = summary[arm]
            lines.append(f"| {spec} | {arm} | {s['seeds']} | {_cell(s, first)} ({first}) | "
                         f"{_cell(s, 100)} | {_cell(s, 200)} | {_cell(s, last)} ({last}) |")
    return lines


def _title(report: Path) -> str:
    """A REPORT.md's first heading, or that it has none."""
    if report.is_file():
        for line in report.read_text().splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return "(no REPORT.md)"


def write_matrix_readme(root: Path) -> Path:
    """docs/results/README.md: the matrix over every ``<data set>/results.csv`` under ``root``."""
    results = {}
    for csv_path in sorted(Path(root).glob("*/results.csv")):
        rows = read_rows(csv_path)
        if any(r["strategy"] in {baseline_name(a) for a in BASELINE_ARMS} for r in rows):
            results[csv_path.parent.name] = rows  # an evaluation, not a plain simulation
    lines = ["# Does it save labels? The evaluation matrix", "",
             "Written by `ssvae evaluate` (docs/SIMULATION.md). Held-out test accuracy in %, mean "
             "± sample standard deviation (ddof 1) over the seeds, at the first label count, 100, "
             "200 and the last (in brackets). Arms: the default query strategy "
             f"(`{DEFAULT_STRATEGY}`), margin, random, and the plain baseline "
             f"(`{baseline_name('…')}`: logistic regression on pixels fitted on exactly that "
             "arm's labels at every round). Settings, data source, test split, machine and wall "
             "time: each data set's REPORT.md.", ""]
    lines += matrix_table(results) if results else ["(no results yet)"]
    lines += ["", "Per data set, with its report's title:", ""]
    lines += [f"- [{k}]({k}/REPORT.md): {_title(Path(root) / k / 'REPORT.md')}" for k in results]
    lines.append("")
    path = Path(root) / "README.md"
    path.write_text("\n".join(lines))
    return path



"""Active-learning simulation: the ground truth plays the oracle.

Each round ranks the pool with a query strategy (the same :func:`ssvae.ranking.rank` the
dashboard uses), labels the top ``step`` images from the ground truth, continues training
the same :class:`ssvae.train.Trainer` incrementally, and measures held-out test accuracy.
For fairness every strategy of a seed starts from the same initial labels and the same
initial model (one checkpoint, loaded once per strategy).
"""
from __future__ import annotations

import csv
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ssvae.config import Config
from ssvae.data import Dataset
from ssvae.errors import SSVAEError
from ssvae.baseline import BASELINE, logreg_accuracy, pixels
from ssvae.ranking import DEFAULT_STRATEGY, QUERY_STRATEGIES, parse_query, rank, trust_of
from ssvae.schedule import epochs_for, restart_due, restart_epochs

#: ``picked_accuracy``: how many of the images a round picked the model that picked them
#: classed right, before it saw their labels (empty in round 0 and in the baselines' rows)
COLUMNS = ("strategy", "seed", "round", "labels", "accuracy", "seconds", "picked_accuracy")
#: picks.csv: the pool images a strategy's round labeled (round 0: the initial labels) and their
#: labels, so a round's labeled set can be rebuilt and a model screened on exactly those labels
PICK_COLUMNS = ("strategy", "seed", "round", "index", "label")
THRESHOLDS = (0.80, 0.90)


def baseline_name(arm: str) -> str:
    """The rows of the plain baseline trained on the labels of ``arm``."""
    return f"{BASELINE} ({arm} labels)"


def features_of(preds, dataset: Dataset) -> np.ndarray:
    """The representation the strategies cluster: the predictions' ``embedding`` where they
    carry one, else the pixels (``rank`` reduces them by PCA). Not the latent mean: the M2
    latent is the style, with the class factored out, and clusters the classes worse than
    the pixels do (k-means NMI with the classes 0.31 against 0.47 on the bundled MNIST,
    docs/SIMULATION.md)."""
    emb = getattr(preds, "embedding", None)
    return dataset.images if emb is None else emb


@dataclass(frozen=True)
class SimulationSettings:
    strategies: tuple[str, ...] = (DEFAULT_STRATEGY, "margin", "random")
    initial: int = 10
    step: int = 10
    budget: int = 200
    epochs_per_round: int | None = None  # default: a retrain's on the page (ssvae/schedule.py)
    first_epochs: int | None = None  # epochs of the initial model (default: a first model's)
    restart_epochs: int | None = None  # epochs of a round from fresh weights (default: a restart's)
    seeds: tuple[int, ...] = (0, 1, 2)
    # arms whose labels also train the plain baseline (logistic regression on pixels)
    baseline_for: tuple[str, ...] = ()

    @property
    def rounds(self) -> int:
        return 1 + -(-(self.budget - self.initial) // self.step)

    def with_first_epochs(self, config: Config, pool_size: int) -> "SimulationSettings":
        """These settings with the epochs of the first model and of each round filled in
        where unset: what the page's first model and retrains train on this pool (the config's
        step budgets, :func:`ssvae.schedule.epochs_for`; a restart's,
        :func:`ssvae.schedule.restart_epochs`, or the first model's where that is given)."""
        return replace(self,
                       first_epochs=self.first_epochs or epochs_for(pool_size, config),
                       restart_epochs=self.fresh_epochs or restart_epochs(pool_size, config),
                       epochs_per_round=(self.epochs_per_round
                                         or epochs_for(pool_size, config, retrain=True)))

    def label_counts(self) -> list[int]:
        """Labels after each round (the first: the initial labels)."""
        return [min(self.budget, self.initial + r * self.step) for r in range(self.rounds)]

    def restarts(self, config: Config | None) -> list[bool]:
        """Per round after the first: whether it starts from fresh weights (the config's
        ``train.restart_growth``, :func:`ssvae.schedule.restart_due`); the counts are known in
        advance, so the plan is too."""
        out, start = [], self.initial
        for n in self.label_counts()[1:]:
            fresh = config is not None and restart_due(config, start, n)
            start = n if fresh else start
            out.append(fresh)
        return out

    @property
    def fresh_epochs(self) -> int:
        """Epochs of a round that restarts: ``restart_epochs``, else the first model's."""
        return self.restart_epochs or self.first_epochs or 0

    def round_epochs(self, config: Config | None = None) -> list[int]:
        """Training epochs of each round after the first: a retrain's, or a restart's where
        the round restarts."""
        return [self.fresh_epochs if fresh else (self.epochs_per_round or 0)
                for fresh in self.restarts(config)]

    def total_epochs(self, config: Config | None = None) -> int:
        """Training epochs of the whole run: what the progress bar counts."""
        first = self.first_epochs or 0
        return len(self.seeds) * (first + len(self.strategies) * sum(self.round_epochs(config)))

    def validate(self, dataset: Dataset) -> None:
        if not self.strategies:
            raise SSVAEError(f"give at least one strategy: {', '.join(QUERY_STRATEGIES)}.")
        for s in self.strategies:
            parse_query(s)
        repeated = sorted({s for s in self.strategies if self.strategies.count(s) > 1})
        if repeated:
            raise SSVAEError(f"strategy '{repeated[0]}' is given more than once in --strategies.")
        if not self.seeds:
            raise SSVAEError("give at least one seed (--seeds must be at least 1).")
        for arm in self.baseline_for:
            if arm not in self.strategies:
                raise SSVAEError(f"the baseline is asked for the labels of '{arm}', which is not "
                                 f"one of the strategies run ({', '.join(self.strategies)}).")
        if not dataset.has_truth or not dataset.has_test:
            hint = "" if not dataset.has_truth else " (--test-fraction holds out part of the pool)"
            raise SSVAEError(f"data set '{dataset.name}' needs ground truth and a held-out test "
                             "split for a simulation; this one lacks "
                             f"{'ground truth' if not dataset.has_truth else 'a test split'}{hint}.")
        for name, v, lo in (("initial", self.initial, 1), ("step", self.step, 1),
                            ("epochs-per-round", self.epochs_per_round or 1, 1),
                            ("first-epochs", 1 if self.first_epochs is None else self.first_epochs, 1)):
            if v < lo:
                raise SSVAEError(f"--{name} must be at least {lo} (got {v}).")
        if not self.initial <= self.budget <= dataset.size:
            raise SSVAEError(f"--budget must lie between --initial ({self.initial}) and the pool "
                             f"size ({dataset.size}); got {self.budget}.")


def hold_out_test(dataset: Dataset, fraction: float, seed: int = 0) -> Dataset:
    """A copy of a data set with ground truth but no test split (e.g. class-folder images)
    whose test split is ``fraction`` of its images, drawn per class with ``seed``; the pool
    keeps the rest, renumbered. A data set that has a test split is returned as it is."""
    if dataset.has_test:
        return dataset
    if not dataset.has_truth:
        raise SSVAEError(f"data set '{dataset.name}' has no ground truth, so no test split can "
                         "be held out of it for a simulation.")
    if not 0.0 < fraction < 1.0:
        raise SSVAEError(f"--test-fraction must lie strictly between 0 and 1 (got {fraction}).")
    rng = np.random.default_rng([seed, 0x7E57])
    truth = np.asarray(dataset.truth)
    test = np.zeros(truth.size, dtype=bool)
    for c in np.unique(truth):
        members = np.flatnonzero(truth == c)
        take = int(round(members.size * fraction))
        if take >= members.size:  # keep at least one image of each class in the pool
            take = members.size - 1
        test[rng.choice(members, size=take, replace=False)] = True
    if not test.any():
        raise SSVAEError(f"--test-fraction {fraction} of '{dataset.name}' ({dataset.size} images) "
                         "holds out no image; give a larger fraction.")
    return Dataset(name=dataset.name, images=dataset.images[~test], class_names=dataset.class_names,
                   source=dataset.source, truth=truth[~test], test_images=dataset.images[test],
                   test_truth=truth[test], labels_dir=dataset.labels_dir,
                   notes=(*dataset.notes, f"simulation: {int(test.sum())} images held out as a "
                                          f"test split ({fraction:g}, seed {seed})"))


def initial_labels(truth: np.ndarray, n: int, num_classes: int, seed: int) -> dict[int, int]:
    """``n`` starting labels: one per class where possible (n ≥ classes), the rest at random."""
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    if n >= num_classes:
        for c in range(num_classes):
            members = np.flatnonzero(truth == c)
            if members.size:
                chosen.append(int(rng.choice(members)))
    rest = np.setdiff1d(np.arange(truth.size), chosen)
    chosen += [int(s) for s in rng.choice(rest, size=n - len(chosen), replace=False)]
    return {s: int(truth[s]) for s in chosen}


def run_simulation(config: Config, dataset: Dataset, settings: SimulationSettings,
                   progress=None, on_row=None) -> list[dict]:
    """Run every (seed, strategy) loop; return the result rows (see :data:`COLUMNS`).

    ``progress`` is called with (epochs done, epochs in all, a short description), during
    training too, so that a progress bar knows its total and an ETA from the start;
    ``on_row`` with each result row as soon as it is measured. A strategy's rows also carry
    ``picks``: the (pool index, label) pairs that round added (round 0: the initial labels),
    written to picks.csv by :func:`write_outputs`. ``seconds`` counts from the
    start of the seed's initial model, so it includes that model's training. The arms in
    ``settings.baseline_for`` add rows of the plain baseline trained on their labels.
    """
    from ssvae.pipeline import train_and_publish
    from ssvae.train import Trainer

    settings.validate(dataset)
    settings = settings.with_first_epochs(config, dataset.size)
    first_epochs = settings.first_epochs
    truth = np.asarray(dataset.truth)
    rounds = settings.rounds
    total = settings.total_epochs(config)  # restarts included: the trainer follows the same rule
    done = 0.0
    text = ""
    rows: list[dict] = []
    test_x = pixels(dataset.test_images) if settings.baseline_for else None

    def report(epochs: float, what: str | None = None) -> None:
        nonlocal text
        text = what or text
        if progress:
            progress(min(total, epochs), total, text)

    def training(base: float):
        def on_progress(info: dict) -> None:
            steps = max(1, int(info.get("steps_per_epoch", 1)))
            run = (info["run_epoch"] - 1 + info.get("run_step", steps) / steps
                   if info.get("event") == "step" else info["run_epoch"])
            report(base + run)
        return on_progress

    def emit(row: dict) -> None:
        rows.append(row)
        if on_row:
            on_row(row)

    with tempfile.TemporaryDirectory(prefix="ssvae-sim-") as tmp:
        for seed in settings.seeds:
            cfg = config.with_overrides({"train.seed": seed})
            start = initial_labels(truth, settings.initial, dataset.num_classes, seed)
            t0 = time.perf_counter()
            report(done, f"seed {seed}: initial model, {len(start)} labels")
            ckpt = Path(tmp) / f"seed{seed}"
            base_preds = train_and_publish(Trainer(cfg, dataset), first_epochs, start,
                                           checkpoint=ckpt, on_progress=training(done),
                                           map_kind="pca").predictions
            done += first_epochs
            base_seconds = time.perf_counter() - t0
            for name in settings.strategies:
                strategy, diverse = parse_query(name)
                trainer = Trainer.from_checkpoint(ckpt, dataset)
                preds = base_preds
                labels = dict(start)
                picked = None
                new = sorted(start.items())
                t0 = time.perf_counter() - base_seconds
                for r in range(rounds):
                    if r:
                        k = min(settings.step, settings.budget - len(labels))
                        # random: one fixed random order of the pool per seed (rank's per-image
                        # random score), so each round takes the next images of that order
                        picks = rank(preds.scores, strategy, k, list(labels), diverse=diverse,
                                     latent=preds.latent, features=features_of(preds, dataset),
                                     typical_features=preds.typical_features,
                                     num_classes=dataset.num_classes,
                                     trusted=trust_of(preds.meta), seed=seed)
                        if len(picks) != k or set(picks.tolist()) & labels.keys():
                            raise RuntimeError(f"rank returned {len(picks)} images for {k} "
                                               "wanted, or an already-labeled one")
                        new = [(int(s), int(truth[s])) for s in picks]
                        labels.update(new)
                        fresh = trainer.restart_due(len(labels))
                        epochs = settings.fresh_epochs if fresh else settings.epochs_per_round
                        preds = train_and_publish(trainer, epochs, labels, previous=preds,
                                                  on_progress=training(done), map_kind="pca",
                                                  restart=fresh).predictions
                        checked = preds.meta["new_labels"]  # the picks, by the model that picked them
                        picked = checked["right"] / checked["checked"]
                        done += epochs
                    emit({"strategy": name, "seed": seed, "round": r, "labels": len(labels),
                          "accuracy": float(preds.meta["test_accuracy"]),
                          "seconds": round(time.perf_counter() - t0, 3), "picked_accuracy": picked,
                          "picks": new})
                    if name in settings.baseline_for:
                        acc = logreg_accuracy(dataset.images, labels, dataset.test_images,
                                              dataset.test_truth, test_pixels=test_x)
                        emit({"strategy": baseline_name(name), "seed": seed, "round": r,
                              "labels": len(labels), "accuracy": acc,
                              "seconds": round(time.perf_counter() - t0, 3)})
                    report(done, f"{name} seed {seed}: {len(labels)} labels, "
                                 f"acc {rows[-1 - (name in settings.baseline_for)]['accuracy']:.3f}")
    return rows


def report_counts(counts) -> list[int]:
    """The label counts a report's table shows: the first visited, every multiple of 50, the
    last."""
    counts = sorted(set(counts))
    if not counts:
        return []
    return sorted({counts[0], counts[-1], *(n for n in counts if n % 50 == 0)})


def summarize(rows: list[dict]) -> dict[str, dict]:
    """Per strategy: mean and sample standard deviation (ddof 1) of the accuracy per label
    count, the mean at the report's label counts (``at``), labels to reach each threshold
    (on the mean curve)."""
    out: dict[str, dict] = {}
    for name in dict.fromkeys(r["strategy"] for r in rows):
        mine = [r for r in rows if r["strategy"] == name]
        counts = sorted({r["labels"] for r in mine})
        accs = {n: np.array([r["accuracy"] for r in mine if r["labels"] == n]) for n in counts}
        mean = {n: float(a.mean()) for n, a in accs.items()}
        # the sample standard deviation (ddof 1): the seeds are a sample of possible runs
        std = {n: float(a.std(ddof=1)) if a.size > 1 else 0.0 for n, a in accs.items()}
        at = {n: mean[n] for n in report_counts(counts)}
        reach = {t: next((n for n in counts if mean[n] >= t), None) for t in THRESHOLDS}
        out[name] = {"labels": counts, "mean": mean, "std": std, "at": at, "reach": reach,
                     "seeds": len({r["seed"] for r in mine})}
    return out


def machine_note() -> str:
    """The machine and library versions of a run: a seed's rows are reproducible on the same
    kind of machine with the same libraries, not across them (the digits' first model of seed 0
    scored 74.1 % on one 2-CPU AMD EPYC machine and 70.5 % on another, family 23 model 1)."""
    import os
    import platform
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            info = dict(ln.split(":", 1) for ln in fh.read().split("\n\n")[0].splitlines()
                        if ":" in ln)
        info = {k.strip(): v.strip() for k, v in info.items()}
        cpu = info.get("model name", cpu)
        if "cpu family" in info:
            cpu += f", family {info['cpu family']} model {info.get('model', '?')}"
    except OSError:
        pass
    libs = []
    for name in ("jax", "jaxlib", "flax"):
        try:
            libs.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return (f"machine: {os.cpu_count()} CPUs ({cpu}), {platform.platform()}, Python "
            f"{platform.python_version()}" + "".join(f", {x}" for x in libs))


def data_notes(dataset: Dataset) -> list[str]:
    """Lines for REPORT.md on the data: its source, pool, test split and how it was made."""
    test = len(dataset.test_truth) if dataset.has_test else 0
    lines = [f"data set `{dataset.name}` from `{dataset.source}`: {dataset.size} pool images "
             f"{'×'.join(map(str, dataset.image_shape))}, {dataset.num_classes} classes; "
             f"test split {test} images"]
    made = [n for n in dataset.notes if "held out" in n or "subsample" in n or "bundled" in n]
    if not made and test:
        made = ["the source's own test split"]
    lines += made
    return lines


def settings_notes(settings: SimulationSettings, config: Config, config_name: str,
                   seconds: float | None = None, dataset: Dataset | None = None) -> list[str]:
    """Lines for REPORT.md that say how the figures were made: the data (source, test split),
    the settings, the machine and the wall time."""
    first = settings.first_epochs or config.train.epochs

    def epochs(n) -> str:
        return f"{n} epoch{'' if n == 1 else 's'}"

    lines = data_notes(dataset) if dataset is not None else []
    lines += [f"config `{config_name}`; strategies {', '.join(settings.strategies)}; "
             f"seeds {', '.join(map(str, settings.seeds))}",
             f"start from {settings.initial} labels (one per class where possible), the initial "
             f"model trained {epochs(first)}; then rounds of: rank, label the top {settings.step} "
             f"from the ground truth, retrain {epochs(settings.epochs_per_round)} from the current "
             f"weights; up to {settings.budget} labels"]
    fresh = [n for n, r in zip(settings.label_counts()[1:], settings.restarts(config)) if r]
    if fresh:
        lines.append(f"restart from fresh weights, trained {epochs(settings.fresh_epochs or first)}, at "
                     f"{', '.join(map(str, fresh))} labels (`train.restart_growth` "
                     f"{config.train.restart_growth:g}: the labels grew that many times since "
                     "the weights began)")
    if settings.baseline_for:
        lines.append(f"plain baseline `{BASELINE}`: scikit-learn's logistic regression (L2, C = 1) "
                     "on the raw pixels scaled to 0–1, fitted at every round on exactly the labels "
                     f"of {', '.join(settings.baseline_for)}")
    lines.append(machine_note())
    if seconds is not None:
        lines.append(f"wall time {seconds / 60:.1f} min")
    return lines


def read_rows(path: Path) -> list[dict]:
    """The rows of a results.csv (to redraw the outputs of an earlier run)."""
    with open(path, newline="") as fh:
        return [{"strategy": r["strategy"], "seed": int(r["seed"]), "round": int(r["round"]),
                 "labels": int(r["labels"]), "accuracy": float(r["accuracy"]),
                 "seconds": float(r["seconds"]),
                 "picked_accuracy": float(r["picked_accuracy"]) if r.get("picked_accuracy") else None}
                for r in csv.DictReader(fh)]


def add_curve(fig, summary: dict, name: str, color: str, row=None, col=None, **line) -> None:
    """One strategy's mean accuracy over its label counts (a :func:`summarize` entry), drawn
    over a band of ± the sample standard deviation; ``line`` goes to the mean's trace."""
    x = summary["labels"]
    mean = np.array([summary["mean"][n] for n in x])
    std = np.array([summary["std"][n] for n in x])
    fig.add_scatter(x=x + x[::-1], y=np.concatenate([mean + std, (mean - std)[::-1]]),
                    mode="lines", fill="toself", fillcolor=color, opacity=0.15, line_width=0,
                    hoverinfo="skip", showlegend=False, legendgroup=name, row=row, col=col)
    fig.add_scatter(x=x, y=mean, mode="lines+markers", name=name, line_color=color,
                    legendgroup=name, row=row, col=col, **line)


def write_outputs(rows: list[dict], folder: Path, title: str,
                  notes: list[str] | None = None) -> dict[str, Path]:
    import plotly.graph_objects as go

    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "results.csv"
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    paths = {"csv": csv_path}
    if any("picks" in r for r in rows):
        paths["picks"] = folder / "picks.csv"
        with open(paths["picks"], "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(PICK_COLUMNS)
            w.writerows((r["strategy"], r["seed"], r["round"], i, y)
                        for r in rows for i, y in r.get("picks", ()))
        notes = [*(notes or []), "the images each round labeled, with their labels: "
                                 "[picks.csv](picks.csv)"]
    summary = summarize(rows)
    fig = go.Figure()
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#7f7f7f", "#ff7f0e", "#17becf"]
    for i, (name, s) in enumerate(summary.items()):
        add_curve(fig, s, name, palette[i % len(palette)],
                  hovertemplate=f"{name}<br>%{{x}} labels<br>accuracy %{{y:.3f}}<extra></extra>")
    fig.update_layout(title=title, xaxis_title="labels", yaxis_title="held-out test accuracy",
                      yaxis_tickformat=".0%", template="plotly_white", hovermode="x unified")
    html_path = folder / "accuracy.html"
    # plotly.js embedded: one self-contained file that works offline and can be moved
    fig.write_html(html_path, include_plotlyjs=True, full_html=True)
    report = folder / "REPORT.md"
    report.write_text(render_report(summary, title, notes))
    return {**paths, "html": html_path, "report": report}


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.1f} %"


def render_report(summary: dict[str, dict], title: str, notes: list[str] | None = None) -> str:
    lines = [f"# {title}", ""]
    lines += [f"- {n}" for n in notes or []] + ([""] if notes else [])
    counts = report_counts([n for s in summary.values() for n in s["labels"]])
    seeds = sorted({s["seeds"] for s in summary.values()})
    lines += [f"Held-out test accuracy, mean ± sample standard deviation (ddof 1) over "
              f"{'/'.join(map(str, seeds))} seeds, at the first label count the run visited, "
              "every 50 and the last (curves in [accuracy.html](accuracy.html); every round in "
              "[results.csv](results.csv)). Labels to reach a level: the first label count "
              "where the mean curve reaches it.", "",
              "| strategy | seeds | " + " | ".join(f"acc @ {m}" for m in counts) + " | "
              + " | ".join(f"labels to {int(t * 100)} %" for t in THRESHOLDS) + " |",
              "|---|---|" + "---|" * (len(counts) + len(THRESHOLDS))]
    for name, s in summary.items():
        cells = [_pct(s["mean"].get(m)) + (f" ± {100 * s['std'][m]:.1f}" if m in s["mean"]
                                           and s["seeds"] > 1 else "") for m in counts]
        cells += [str(s["reach"][t]) if s["reach"][t] is not None else "not reached" for t in THRESHOLDS]
        lines.append(f"| {name} | {s['seeds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

"""``ssvae train``: train (or resume) a model on the current labels and write a run folder.

``artifacts/runs/<stamp>-<config>/`` receives config.yaml, history.csv, checkpoint.msgpack,
predictions.npz, the plots and REPORT.md. JAX is imported only inside :func:`run_train`.
"""
from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import yaml

from ssvae.cli.common import add_config_arg, add_data_args, config_from_args
from ssvae.workspace import dataset_from_config, open_store
from ssvae.errors import CheckpointError
from ssvae.paths import artifacts_root

CHECKPOINT = "checkpoint.msgpack"
PREDICTIONS = "predictions.npz"


def register(sub) -> None:
    p = sub.add_parser("train", help="train the model on the current labels; writes a run report")
    add_config_arg(p)
    add_data_args(p)
    p.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="epochs to train (default: train.epochs of the config)")
    p.add_argument("--resume", nargs="?", const="latest", default=None, metavar="RUN",
                   help="continue from a run folder or checkpoint file (default: the newest run "
                        "of this data set and config)")
    p.add_argument("--out", default=None, metavar="DIR", help="run folder (default: artifacts/runs/<stamp>-<config>)")
    p.set_defaults(func=run_train)


def runs_root() -> Path:
    return artifacts_root() / "runs"


def config_name(arg) -> str:
    return Path(arg).stem if arg else "default"


def find_runs(dataset_name: str | None = None, config: str | None = None) -> list[Path]:
    """Run folders holding a checkpoint, newest first, optionally for one data set / config."""
    root = runs_root()
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir(), reverse=True):
        info = d / "run.json"
        if not (d / CHECKPOINT).is_file() or not info.is_file():
            continue
        try:
            meta = json.loads(info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if dataset_name and meta.get("dataset") != dataset_name:
            continue
        if config and meta.get("config") != config:
            continue
        out.append(d)
    return out


def resolve_checkpoint(arg: str, dataset_name: str, config: str | None) -> Path:
    if arg == "latest":
        runs = find_runs(dataset_name, config)
        if not runs:
            raise CheckpointError(f"there is no earlier run of data set '{dataset_name}'"
                                  f"{f' with config {config}' if config else ''} under {runs_root()} "
                                  "to resume; train without --resume first.")
        return runs[0] / CHECKPOINT
    path = Path(arg)
    return path / CHECKPOINT if path.is_dir() else path


def run_train(args) -> int:
    from ssvae.atomic import atomic_write_text
    from ssvae.report import write_run_report

    overrides = {"train.epochs": args.epochs} if args.epochs is not None else {}
    cfg = config_from_args(args, **overrides)
    ds = dataset_from_config(cfg)
    store = open_store(cfg, ds)
    labels = store.as_dict()
    name = config_name(args.config)
    resume = resolve_checkpoint(args.resume, ds.name, name) if args.resume else None

    from tqdm import tqdm

    from ssvae.pipeline import train_and_publish  # JAX from here on
    from ssvae.train import Trainer

    t0 = time.perf_counter()
    trainer = Trainer.from_checkpoint(resume, ds, cfg) if resume else Trainer(cfg, ds)
    n = cfg.train.epochs
    steps = trainer.steps_per_epoch()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    run_dir = Path(args.out) if args.out else runs_root() / f"{stamp}-{name}"
    if not args.out and run_dir.exists():
        run_dir = run_dir.with_name(run_dir.name + f"-{int(time.time() * 1000) % 1000:03d}")
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    atomic_write_text(run_dir / "run.json", json.dumps({"dataset": ds.name, "config": name,
                                                         "resumed_from": str(resume) if resume else None}))
    print(f"training {n} epochs on {ds.name} ({ds.size} images, {len(labels)} labeled) "
          f"{'from ' + str(resume) if resume else 'from scratch'} → {run_dir}")
    if not labels:
        print("note: no labels yet — the classifier learns only from consistency; label some images first")

    interrupted = {"flag": False}

    def on_sigint(signum, frame):  # first Ctrl-C: finish cleanly, keeping whole epochs
        if interrupted["flag"]:
            raise KeyboardInterrupt
        interrupted["flag"] = True
        bar.write("stopping: keeping the epochs done so far (Ctrl-C again to abort)")

    bar = tqdm(total=n * steps, unit="step", dynamic_ncols=True, desc="epoch 1/%d" % n)
    seen = {"steps": 0}
    post: dict = {}

    def on_progress(ev: dict) -> None:
        done = (ev["run_epoch"] - 1) * steps + ev.get("run_step", steps) if ev["event"] == "step" \
            else ev["run_epoch"] * steps
        bar.update(done - seen["steps"])
        seen["steps"] = done
        post["loss"] = f"{ev['loss']:.1f}"
        if "test_accuracy" in ev:
            post["test_acc"] = f"{ev['test_accuracy']:.3f}"
        bar.set_postfix(post, refresh=False)
        bar.set_description(f"epoch {min(ev['run_epoch'] + (ev['event'] == 'epoch'), n)}/{n}")

    previous = None
    if resume is not None and (resume.parent / PREDICTIONS).is_file():
        from ssvae.predictions import Predictions

        try:
            previous = Predictions.load(resume.parent / PREDICTIONS)
        except CheckpointError:
            previous = None
    old = signal.signal(signal.SIGINT, on_sigint)
    try:
        outcome = train_and_publish(trainer, n, labels, checkpoint=run_dir / CHECKPOINT,
                                    predictions=run_dir / PREDICTIONS, previous=previous,
                                    on_progress=on_progress,
                                    should_stop=lambda: interrupted["flag"], keep=1,
                                    meta={"config": name})
    finally:
        signal.signal(signal.SIGINT, old)
        bar.close()
    result, preds = outcome.result, outcome.predictions
    if preds is None:
        print("stopped before the first epoch ended: nothing was trained or written")
        return 130
    report = write_run_report(run_dir, trainer=trainer, preds=preds, dataset=ds, config_name=name,
                              seconds=result["seconds"], stopped=result["stopped"])
    last = trainer.history[-1] if trainer.history else {}
    acc = f", test accuracy {last['test_accuracy']:.1%}" if "test_accuracy" in last else ""
    why = " (stopped on request)" if result["stopped"] else " (early stopping)" if result["early_stopped"] else ""
    print(f"trained {result['epochs']} epochs in {time.perf_counter() - t0:.1f} s{why}{acc}")
    print(f"report: {report}")
    return 0

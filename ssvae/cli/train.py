"""``ssvae train``: train (or resume) a model on the current labels and write a run folder.

``artifacts/runs/<stamp>-<config>/`` receives config.yaml, history.csv, checkpoint.msgpack,
predictions.npz, the plots and REPORT.md. The model then becomes the data set's current model
(:func:`ssvae.workspace.model_dir`, the folder the page trains in), which ``ssvae rank``,
``ssvae map``, ``--resume`` and the page use by default; ``--keep-current`` leaves it alone.
JAX is imported only inside :func:`run_train`.
"""
from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import yaml

from ssvae.cli.common import add_config_arg, add_data_args, config_from_args
from ssvae.errors import CheckpointError
from ssvae.paths import artifacts_root
from ssvae.workspace import (CHECKPOINT as MODEL_CHECKPOINT, current_checkpoint,
                             dataset_from_config, model_dir, models, open_store)

CHECKPOINT = "checkpoint.msgpack"
PREDICTIONS = "predictions.npz"
#: ``--resume`` without a value: the data set's current model
CURRENT = "(the current model)"
#: checkpoints kept in the current model's folder: the new one and two older good ones
KEEP = 3


def register(sub) -> None:
    p = sub.add_parser("train", help="train the model on the current labels; writes a run report")
    add_config_arg(p)
    add_data_args(p)
    p.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="epochs to train (default: train.epochs of the config)")
    p.add_argument("--resume", nargs="?", const=CURRENT, default=None, metavar="RUN",
                   help="continue a model: the data set's current model (the selected one, "
                        "'ssvae models list'), or the run folder or checkpoint file given")
    p.add_argument("--out", default=None, metavar="DIR", help="run folder (default: artifacts/runs/<stamp>-<config>)")
    p.add_argument("--keep-current", action="store_true",
                   help="write only the run folder: do not make this model the data set's "
                        "current one (the one rank, map, --resume and the page use)")
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


def resolve_checkpoint(arg: str, dataset_name: str) -> Path:
    """The checkpoint ``--resume`` means: the current model's, or that of the run folder, model
    folder or file given (a one-sentence :class:`CheckpointError` where there is none)."""
    if arg == CURRENT:
        return current_checkpoint(dataset_name)
    path = Path(arg)
    if path.is_dir():
        found = [path / name for name in (CHECKPOINT, MODEL_CHECKPOINT) if (path / name).is_file()]
        if not found:
            raise CheckpointError(f"--resume {arg}: the folder holds no {CHECKPOINT} or "
                                  f"{MODEL_CHECKPOINT}.")
        return found[0]
    if not path.is_file():
        raise CheckpointError(f"--resume {arg}: no such run folder or checkpoint file.")
    return path


def publish(run_dir: Path, dataset_name: str) -> Path:
    """Make the run's model the data set's current one: its checkpoint (the previous ones kept
    as ``checkpoint.1``, ``checkpoint.2``), then its predictions, each written atomically."""
    from ssvae.atomic import atomic_write_bytes
    from ssvae.pipeline import rotate

    folder = model_dir(dataset_name)
    folder.mkdir(parents=True, exist_ok=True)
    rotate(folder / MODEL_CHECKPOINT, KEEP)
    atomic_write_bytes(folder / MODEL_CHECKPOINT, (run_dir / CHECKPOINT).read_bytes())
    atomic_write_bytes(folder / PREDICTIONS, (run_dir / PREDICTIONS).read_bytes())
    return folder


def run_train(args) -> int:
    from ssvae.atomic import atomic_write_text
    from ssvae.report import write_run_report

    overrides = {"train.epochs": args.epochs} if args.epochs is not None else {}
    cfg = config_from_args(args, **overrides)
    ds = dataset_from_config(cfg)
    name = config_name(args.config)
    if args.config is None and not args.keep_current:  # the selected model's own config
        reg = models(ds.name)
        name = reg.selected()
        cfg = reg.config_for(name, cfg).with_overrides(overrides)
    store = open_store(cfg, ds)
    labels = store.as_dict()
    asked = resolve_checkpoint(args.resume, ds.name) if args.resume else None

    from tqdm import tqdm

    from ssvae.pipeline import resume as resume_trainer, train_and_publish  # JAX from here on
    from ssvae.train import Trainer

    t0 = time.perf_counter()
    resume = None
    if asked is not None:
        trainer, resume, problems = resume_trainer(asked, ds, cfg)
        if trainer is None:
            raise CheckpointError(problems[0] if problems else f"{asked}: no checkpoint to resume.")
        for problem in problems:
            print(f"note: {problem} An older good checkpoint is used.")
    else:
        trainer = Trainer(cfg, ds)
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
    checked = preds.meta.get("new_labels")
    if checked:
        print(f"the model it resumed predicted {checked['right']} of the {checked['checked']} labels "
              f"given since right ({checked['right'] / checked['checked']:.0%}) before it saw them")
    print(f"report: {report}")
    if not args.keep_current:
        folder = publish(run_dir, ds.name)
        models(ds.name).append_run(folder.name, {
            "run_id": run_dir.name, "source": "ssvae train", "status": "stopped" if result["stopped"]
            else "early-stopped" if result["early_stopped"] else "finished",
            "labels": len(labels), "epochs": result["epochs"], "seconds": result["seconds"],
            "finished_at": time.time(), "test_accuracy": last.get("test_accuracy"),
            "run_dir": str(run_dir), **({"new_labels": checked} if checked else {})})
        print(f"current model of '{ds.name}': {folder} (the selected model '{folder.name}'; "
              "rank, map, --resume and the page use it)")
    return 0

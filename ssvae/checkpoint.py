"""Self-describing checkpoints: one msgpack file, written atomically, read without pickle.

The file is ``flax.serialization.msgpack_serialize`` of a plain dict:

* ``format``   ``"ssvae-checkpoint/1"``
* ``meta``     JSON text: the whole config, a fingerprint of the data set, epoch, step, the
               training history, the labels' fingerprint and count, versions, time
* ``state``    parameters, EMA parameters, optimizer state and step (``to_state_dict``), each
               but the step with a leading axis of ``meta["members"]`` members (files
               written before members existed hold one model without that axis and are read
               as one member)
* ``key``      the base PRNG key; ``val_idx`` the fixed validation split; ``last_map`` the
               2-D map of the last prediction (so the next one stays aligned with it)

A checkpoint that does not fit the data set or the model configuration raises
:class:`ssvae.errors.CheckpointError` with one sentence saying what differs.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import jax
import numpy as np
from flax import serialization

from ssvae.atomic import atomic_write_bytes
from ssvae.errors import CheckpointError

FORMAT = "ssvae-checkpoint/1"


def dataset_fingerprint(dataset) -> dict:
    """What identifies a data set: name, size, image shape, classes and a content hash
    (of every image when up to 10 000, else of an even sample of 10 000)."""
    imgs = dataset.images
    step = max(1, imgs.shape[0] // 10_000)
    h = hashlib.sha256(np.ascontiguousarray(imgs[::step]).tobytes()).hexdigest()[:16]
    return {"name": dataset.name, "size": int(dataset.size),
            "image_shape": list(dataset.image_shape), "class_names": list(dataset.class_names),
            "content": h}


def save_checkpoint(snapshot, dataset, path) -> Path:
    """Write ``snapshot`` (a :class:`ssvae.core.Snapshot` of a model trained on ``dataset``)
    to ``path`` atomically."""
    import flax

    path = Path(path)
    meta = {
        "format": FORMAT,
        "created": time.time(),
        "config": snapshot.config.model_dump(mode="json"),
        "dataset": dataset_fingerprint(dataset),
        "epoch": int(snapshot.epoch),
        "step": int(snapshot.state.step),
        "history": snapshot.history,
        "labels_fingerprint": snapshot.labels_fingerprint,
        "num_labels": int(snapshot.num_labels),
        "start_labels": snapshot.start_labels,
        "members": snapshot.members,
        "versions": {"jax": jax.__version__, "flax": flax.__version__},
    }
    payload = {
        "format": FORMAT,
        "meta": json.dumps(meta, allow_nan=True),
        "state": jax.device_get(serialization.to_state_dict(snapshot.state)),
        "key": np.asarray(jax.device_get(snapshot.key)),
        "val_idx": np.asarray(snapshot.val_idx, dtype=np.int64),
        "last_map": (np.asarray(snapshot.last_map, dtype=np.float32)
                     if snapshot.last_map is not None else np.zeros((0, 2), np.float32)),
    }
    atomic_write_bytes(path, serialization.msgpack_serialize(payload))
    return path


def read_checkpoint(path) -> tuple[dict, dict]:
    """(meta, payload) of a checkpoint file; CheckpointError if missing or not a checkpoint."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint not found.") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file.") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror}).") from None
    try:
        payload = serialization.msgpack_restore(raw)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError("unknown format")
        meta = json.loads(payload["meta"])
        model = meta.get("config", {}).get("model")
        if isinstance(model, dict):  # written before model.classifier_view: it read the pixels
            model.setdefault("classifier_view", "pixels")
    except Exception as exc:  # truncated, corrupt or foreign file
        raise CheckpointError(f"{path}: is not a readable SSVAE checkpoint ({type(exc).__name__}: "
                              f"{str(exc)[:80]}).") from None
    return meta, payload


def _first_difference(a, b, prefix=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            d = _first_difference(a.get(k), b.get(k), f"{prefix}{k}.")
            if d:
                return d
        return None
    return None if a == b else (prefix.rstrip("."), a, b)


def check_dataset(meta: dict, dataset, where) -> None:
    have, want = meta["dataset"], dataset_fingerprint(dataset)
    for key, what in (("name", "data set"), ("size", "number of images"),
                      ("image_shape", "image shape"), ("class_names", "classes"),
                      ("content", "image content")):
        if have.get(key) != want[key]:
            if key == "content":
                raise CheckpointError(f"{where}: was trained on different images than data set "
                                      f"'{dataset.name}' holds now, so it cannot be resumed on it.")
            raise CheckpointError(f"{where}: was trained on a data set with {what} "
                                  f"{have.get(key)!r}, but '{dataset.name}' has {want[key]!r}.")


def load_checkpoint(path, dataset, config=None):
    """The :class:`ssvae.core.Snapshot` stored at ``path``, checked against ``dataset``.

    ``config`` (optional) may change training settings (its ``train`` section is used), but
    its ``model`` section and seed must match the checkpoint's."""
    from ssvae import core
    from ssvae.config import config_from_dict

    meta, payload = read_checkpoint(path)
    check_dataset(meta, dataset, path)
    saved = config_from_dict(meta["config"], f"{path} (its stored config)")
    cfg = saved
    if config is not None:
        diff = _first_difference(saved.model.model_dump(mode="json"),
                                 config.model.model_dump(mode="json"), "model.")
        if diff:
            key, a, b = diff
            raise CheckpointError(f"{path}: was trained with {key}={a!r}, but the config asks for "
                                  f"{key}={b!r}; train a new model or use the matching config.")
        if config.train.seed != saved.train.seed:
            raise CheckpointError(f"{path}: was trained with train.seed={saved.train.seed}, but the "
                                  f"config asks for train.seed={config.train.seed}.")
        cfg = config
    members = meta.get("members")
    got = payload["state"]
    if members is None:  # written before members existed: one model, no member axis
        members = 1
        if isinstance(got, dict):
            got = {k: (v if k == "step" else jax.tree_util.tree_map(lambda x: np.asarray(x)[None], v))
                   for k, v in got.items()}
    if not isinstance(members, int) or isinstance(members, bool) or not 1 <= members <= 8:
        raise CheckpointError(f"{path}: its member count {members!r} is not a count from 1 to 8.")
    template = core.new_snapshot(cfg, dataset.name, dataset.size, dataset.image_shape,
                                 dataset.num_classes, members)
    target = serialization.to_state_dict(template.state)
    t_leaves, t_tree = jax.tree_util.tree_flatten(target)
    try:
        g_leaves, g_tree = jax.tree_util.tree_flatten(got)
    except Exception:  # pragma: no cover - defensive
        g_leaves, g_tree = [], None
    if g_tree != t_tree or any(np.shape(a) != np.shape(b) for a, b in zip(t_leaves, g_leaves)):
        raise CheckpointError(f"{path}: its parameters do not fit the model built from its "
                              "config (written by another version?).")
    last_map = np.asarray(payload["last_map"])
    return template.replace(
        state=serialization.from_state_dict(template.state, jax.device_put(got)),
        key=jax.device_put(np.asarray(payload["key"])),
        val_idx=np.asarray(payload["val_idx"], dtype=np.int64),
        last_map=last_map if last_map.shape[0] == dataset.size else None,
        epoch=int(meta["epoch"]), history=list(meta["history"]),
        labels_fingerprint=meta["labels_fingerprint"], num_labels=int(meta["num_labels"]),
        start_labels=_optional_count(meta.get("start_labels")))


def _optional_count(value) -> int | None:
    """A label count from a checkpoint's facts; None where it is missing (older checkpoints)
    or not a count."""
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def checkpoint_meta(path) -> dict:
    """Only the JSON facts of a checkpoint (config, epoch, history…), for listing runs."""
    return read_checkpoint(path)[0]

"""The worker's job queue: jobs run in order, and a queued model switch does not block a run."""
import pytest

from dashboard.worker.protocol import Channel
from dashboard.worker.service import TrainingRefused, TrainingService


def test_the_newest_pending_job_is_seen_and_jobs_come_out_in_order(tmp_path):
    ch = Channel(tmp_path / "store")
    assert ch.last_pending_job() is None and not ch.has_pending_job()
    ch.submit({"type": "load", "model": "mix"})
    assert ch.last_pending_job() == {"type": "load", "model": "mix"}
    ch.submit({"type": "train", "run_id": "r1"})
    assert ch.last_pending_job()["type"] == "train"
    assert ch.next_job()["type"] == "load" and ch.next_job()["type"] == "train"
    assert ch.next_job() is None and ch.last_pending_job() is None


def test_a_run_may_follow_a_queued_model_switch_but_not_a_queued_run(tmp_path, monkeypatch):
    from model_fixtures import tiny_config

    svc = TrainingService(tmp_path / "ws", tiny_config().model_dump(mode="json"))
    monkeypatch.setattr(svc, "ensure_worker", lambda: None)  # no process: only the queue
    svc.channel.submit({"type": "load", "model": "default"})
    run_id = svc.start_run({0: 1}, 1)
    assert svc.channel.last_pending_job()["run_id"] == run_id
    with pytest.raises(TrainingRefused, match="already queued"):
        svc.start_run({0: 1}, 1)


def test_switching_again_while_a_switch_is_queued_is_allowed(tmp_path, monkeypatch):
    from model_fixtures import tiny_config

    svc = TrainingService(tmp_path / "ws", tiny_config().model_dump(mode="json"))
    monkeypatch.setattr(svc, "worker_alive", lambda: True)
    monkeypatch.setattr(svc, "status", lambda: {"status": "idle"})
    svc.load_model("a")
    svc.load_model("b")  # the worker takes both, in order: it ends on b
    assert svc.channel.last_pending_job() == {"type": "load", "model": "b"}
    svc.channel.submit({"type": "train", "run_id": "r"})
    with pytest.raises(TrainingRefused, match="before switching models"):
        svc.load_model("a")

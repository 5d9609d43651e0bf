"""The step budget of the first model and of a retrain (ssvae/schedule.py), and the cheaper
unlabeled bounds (ssvae/objective.py)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from model_fixtures import tiny_config, tiny_dataset
from ssvae.schedule import epochs_for, steps_per_epoch


def test_steps_per_epoch_counts_the_pool_less_the_validation_split():
    cfg = tiny_config(train={"batch_size": 256, "val_fraction": 0.1, "val_max": 2000})
    assert steps_per_epoch(4000, cfg) == 15       # 3 600 training images
    assert steps_per_epoch(60_000, cfg) == 227    # 58 000 (the split is capped at 2 000)


def test_without_a_budget_the_epoch_counts_are_used_unchanged():
    cfg = tiny_config(train={"epochs": 40, "retrain_epochs": 10})
    assert epochs_for(60_000, cfg) == 40 and epochs_for(60_000, cfg, retrain=True) == 10


def test_a_step_budget_gives_small_pools_many_passes_and_large_pools_few():
    cfg = tiny_config(train={"epochs": 40, "retrain_epochs": 10, "batch_size": 256,
                             "first_model_steps": 600, "retrain_steps": 150})
    assert epochs_for(4000, cfg) == 40              # 600 / 15, the same as before
    assert epochs_for(10_000, cfg) == 17            # ceil(600 / 36)
    assert epochs_for(60_000, cfg) == 3             # ceil(600 / 227)
    assert epochs_for(60_000, cfg, retrain=True) == 1
    assert epochs_for(4000, cfg, retrain=True) == 10
    assert epochs_for(100, cfg) == 40               # capped by train.epochs


def test_the_trainer_with_the_trainer_step_count_agrees():
    from ssvae.train import Trainer

    ds = tiny_dataset(n=240)
    cfg = tiny_config(train={"batch_size": 32})
    assert steps_per_epoch(ds.size, cfg) == Trainer(cfg, ds).steps_per_epoch()


def _bound(unlabeled, logits):
    from ssvae.models import SSVAE
    from ssvae.objective import Static, unlabeled_bound

    cfg = tiny_config()
    model = SSVAE.from_config(cfg.model, (12, 12, 1), 3)
    x = jax.random.uniform(jax.random.PRNGKey(1), (4, 12, 12, 1))
    params = model.init(jax.random.PRNGKey(0), x)["params"]
    m = model.bind({"params": params})
    mean, logvar = m.encode(x)
    return unlabeled_bound(m, x, logits, mean, mean, logvar, 1.0, Static(unlabeled=unlabeled))


def test_top2_bound_equals_the_m2_sum_when_the_third_class_has_no_mass():
    logits = jnp.array([[2.0, 0.5, -60.0], [0.1, -60.0, 0.3], [-60.0, 1.0, 1.0], [0.0, 3.0, -60.0]])
    full, top = _bound("sum", logits), _bound("top2", logits)
    for k in ("loss", "recon", "kl_z", "kl_y"):
        np.testing.assert_allclose(np.asarray(top[k]), np.asarray(full[k]), rtol=1e-5, err_msg=k)


def test_top2_bound_differs_from_the_sum_when_every_class_has_mass():
    logits = jnp.zeros((4, 3))
    assert not np.allclose(np.asarray(_bound("top2", logits)["recon"]),
                           np.asarray(_bound("sum", logits)["recon"]))


@pytest.mark.parametrize("unlabeled", ["top2", "top3", "expect"])
def test_cheaper_bounds_and_the_conv_classifier_train_with_finite_terms(unlabeled):
    from ssvae.train import Trainer

    ds = tiny_dataset(n=64)
    tr = Trainer(tiny_config(model={"classifier": "conv"}, train={"unlabeled": unlabeled}), ds)
    tr.train_epochs(1, {0: 0, 1: 1, 2: 2})
    assert all(np.isfinite(tr.history[-1][k]) for k in ("loss", "recon", "classification"))
    assert "Conv_0" in str(jax.tree_util.tree_structure(tr.state.params["classifier"]))


def test_auto_unlabeled_bound_is_the_full_sum_on_small_pools_and_top2_on_large_ones():
    from ssvae.schedule import resolve, unlabeled_for

    cfg = tiny_config(train={"unlabeled": "auto"})
    assert unlabeled_for(4000, cfg) == "sum" and unlabeled_for(60_000, cfg) == "top2"
    assert resolve(cfg, 60_000).train.unlabeled == "top2"
    fixed = tiny_config(train={"unlabeled": "expect"})
    assert resolve(fixed, 60_000) is fixed


def test_the_default_config_resolves_for_every_pool_size():
    from ssvae.config import load_config
    from ssvae.schedule import resolve

    cfg = load_config()
    assert resolve(cfg, 4000).train.unlabeled == "sum"
    assert resolve(cfg, 60_000).train.unlabeled == "top2"
    assert epochs_for(4000, cfg) == cfg.train.epochs


def test_a_restart_trains_the_first_models_step_budget_without_the_epoch_cap():
    from ssvae.schedule import restart_epochs

    cfg = tiny_config(train={"epochs": 4, "first_model_steps": 60, "batch_size": 10,
                             "val_fraction": 0.0})
    assert steps_per_epoch(100, cfg) == 10
    assert epochs_for(100, cfg) == 4 and restart_epochs(100, cfg) == 6     # the cap, lifted
    assert epochs_for(1000, cfg) == 1 and restart_epochs(1000, cfg) == 1   # under it: the same
    unbudgeted = tiny_config(train={"epochs": 4, "first_model_steps": None})
    assert restart_epochs(100, unbudgeted) == epochs_for(100, unbudgeted) == 4


def test_a_restart_is_due_when_the_labels_have_grown_the_configured_times():
    from ssvae.schedule import restart_due

    cfg = tiny_config(train={"restart_growth": 2.0})
    assert restart_due(cfg, 0, 1)                   # the weights began without labels
    assert not restart_due(cfg, 0, 0)
    assert not restart_due(cfg, 10, 19) and restart_due(cfg, 10, 20) and restart_due(cfg, 10, 40)
    assert not restart_due(cfg, None, 1000)          # not known (an older checkpoint): warm
    default = tiny_config(train={"restart_growth": 0.0})   # only the label-free model
    assert restart_due(default, 0, 50) and not restart_due(default, 10, 1000)
    never = tiny_config(train={"restart_growth": 0.0, "restart_unlabeled": False})
    assert not restart_due(never, 0, 50) and not restart_due(never, 10, 1000)


def test_a_restart_starts_from_fresh_weights_and_keeps_the_runs_story(tmp_path):
    """Fresh weights (the config seed's, as a new model's), the epoch count and history kept;
    the labels the weights begin with are recorded by the next run and kept by a checkpoint."""
    from ssvae.checkpoint import load_checkpoint
    from ssvae.train import Trainer

    ds = tiny_dataset(n=240)
    cfg = tiny_config(train={"batch_size": 32, "restart_growth": 2.0})
    trainer = Trainer(cfg, ds)
    init = jax.tree_util.tree_leaves(trainer.state.params)
    trainer.train_epochs(1, {0: 0, 1: 1})
    assert trainer.snapshot.start_labels == 2
    trainer.train_epochs(1, {0: 0, 1: 1, 2: 0})
    assert trainer.snapshot.start_labels == 2 and not trainer.restart_due(3) and trainer.restart_due(4)
    trainer.restart()
    assert trainer.epoch == 2 and len(trainer.history) == 2 and int(trainer.state.step) == 0
    assert all(np.array_equal(a, b) for a, b in zip(init, jax.tree_util.tree_leaves(trainer.state.params)))
    assert trainer.snapshot.start_labels is None
    trainer.train_epochs(1, {s: s % 2 for s in range(4)})
    assert trainer.snapshot.start_labels == 4 and trainer.epoch == 3
    trainer.save_checkpoint(tmp_path / "ck.msgpack")
    assert load_checkpoint(tmp_path / "ck.msgpack", ds).start_labels == 4

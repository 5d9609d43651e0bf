"""scripts/random_restart.py trains the random arm's model at a restart round on its own: its
labels must be exactly those the simulation's rounds give the random arm."""
import numpy as np
import pytest

from ssvae.ranking import rank
from ssvae.simulate import initial_labels
from script_loader import load_script


@pytest.mark.parametrize("seed", [0, 3])
def test_random_arm_labels_are_the_simulations_rounds(seed):
    truth = np.random.default_rng(1).integers(0, 5, size=300)
    labels = initial_labels(truth, 10, 5, seed)
    for _ in range(6):  # rounds of 15, as run_simulation ranks and labels them
        picks = rank(np.zeros(truth.size), "random", 15, list(labels), seed=seed)
        labels.update({int(s): int(truth[s]) for s in picks})
    got = load_script("random_restart").random_arm_labels(truth, 10, 100, 5, seed)
    assert got == labels and len(got) == 100
    assert all(truth[s] == c for s, c in got.items())


def test_another_seed_gives_other_labels():
    truth = np.random.default_rng(1).integers(0, 5, size=300)
    script = load_script("random_restart")
    assert script.random_arm_labels(truth, 10, 50, 5, 0) != script.random_arm_labels(truth, 10, 50, 5, 1)

"""Where the default's Fashion-MNIST errors are at 100 labels (2026-12-07): per-class accuracy and
the largest confusions of the restarts trained on the default loop's own 100 labels, seeds 0-2
(training seed = seed), from their saved test probabilities:

    for s in 0 1 2; do PYTHONPATH=scripts:. python docs/sweeps/restart_members_2026-12-06/restart_members.py \
        fashion60k docs/sweeps/restart_members_2026-12-06/picks_default_seeds012.csv auto 100 /tmp/defmem $s $s; done
    PYTHONPATH=scripts:. python docs/sweeps/errors_2026-12-07/confusion.py > docs/sweeps/errors_2026-12-07/confusion.txt

The same for another loop's labels: ``confusion.py PICKS.csv PROBS_DIR`` (confusion_mixed.txt:
the mixed-batch loop's picks, docs/sweeps/mixed_batch_2026-12-07/share0.33/seed{0,1,2}/picks.csv
concatenated, its restarts' probabilities in PROBS_DIR).
"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
from model_sweep import labels_from_picks, load  # noqa: E402

DEFAULT_PICKS = ROOT / "docs/sweeps/restart_members_2026-12-06/picks_default_seeds012.csv"
FIVE = [0, 2, 3, 4, 6]  # T-shirt, pullover, dress, coat, shirt
UPPER = [0, 2, 4, 6]  # T-shirt, pullover, coat, shirt

picks, probs_dir = (sys.argv[1], sys.argv[2]) if len(sys.argv) > 2 else (DEFAULT_PICKS, "/tmp/defmem")
ds = load("fashion60k")
y = np.asarray(ds.test_truth)
names = [n.split("/")[0] for n in ds.class_names]
k = ds.num_classes
tot = np.zeros((k, k))
for s in [0, 1, 2]:
    lab = labels_from_picks(picks, "auto", s, 100, ds.size)
    cnt = np.bincount(lab[lab >= 0], minlength=k)
    p = np.load(f"{probs_dir}/probs_seed{s}_t{s}.npy").astype(float).argmax(1)
    conf = np.zeros((k, k))
    np.add.at(conf, (y, p), 1)
    tot += conf
    print(f"seed {s}: acc {100 * (p == y).mean():.1f}; labels per class", dict(zip(names, cnt.tolist())))
    print("   per-class % right",
          dict(zip(names, np.round(100 * np.diag(conf) / conf.sum(1)).astype(int).tolist())))
tot /= 3
print("mean per-class % right", dict(zip(names, np.round(100 * np.diag(tot) / tot.sum(1)).astype(int).tolist())))
off = tot.copy()
np.fill_diagonal(off, 0)
err = off.sum()
for i, j in np.dstack(np.unravel_index(np.argsort(-off.ravel()), off.shape))[0][:8]:
    print(f"  {names[i]} -> {names[j]}: {off[i, j] / 100:.1f} % of the test set, "
          f"{100 * off[i, j] / err:.0f} % of the errors")
print("errors within T-shirt/pullover/dress/coat/shirt: %.0f %%" % (100 * off[np.ix_(FIVE, FIVE)].sum() / err))
print("errors among the upper-body four T-shirt/pullover/coat/shirt: %.0f %%"
      % (100 * off[np.ix_(UPPER, UPPER)].sum() / err))

"""Mixed batches in ``auto``'s margin phase (2026-12-07): a share of each batch asked as
TypiClust's typical images of the clusters with the fewest labels, the rest as the diverse
margin batch, so that a region the model is confidently wrong about (no margin image there)
still gets labels.

usage: python docs/sweeps/mixed_batch_2026-12-07/mixed_screen.py SHARE -- STRATEGY_SWEEP_ARGS...
SHARE: the typical share of a margin-phase batch (0.33: 10 of 30). Patches the simulation's
``rank`` in this process only (nothing in the product changes).
"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import strategy_sweep  # noqa: E402
from ssvae import ranking, simulate  # noqa: E402

share = float(sys.argv[1])
sys.argv = [sys.argv[0]] + sys.argv[3:]
_rank = ranking.rank


def rank(scores, strategy, k, labeled=None, **kw):
    n = len(next(iter(scores.values()))) if isinstance(scores, dict) else len(scores)
    mask = ranking._labeled_mask(labeled, n)
    phase = (ranking.auto_phase(int(mask.sum()), kw["num_classes"], kw.get("trusted"))
             if strategy == "auto" else None)
    k_t = int(round(share * k))
    if phase != "margin" or k_t == 0:
        return _rank(scores, strategy, k, labeled, **kw)
    rep = kw.get("typical_features")
    rep = rep if rep is not None else kw.get("features")
    typical = _rank(scores, "typiclust", k_t, mask, features=rep, seed=kw.get("seed", 0))
    mask2 = mask.copy()
    mask2[typical] = True
    margin = _rank(scores, "auto", k - k_t, mask2, **kw)
    return np.concatenate([margin, typical]).astype(np.int64)


simulate.rank = rank
strategy_sweep.main()

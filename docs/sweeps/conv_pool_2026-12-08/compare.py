"""The conv_pool classifier (16 / 32 channels) against the default's conv one, in the loop.

    PYTHONPATH=. python docs/sweeps/conv_pool_2026-12-08/compare.py

scripts/loop_vs_default.py over this folder's runs: the default's rows in docs/results and,
for Fashion-MNIST, its rerun to 100 labels in docs/sweeps/intensity_loop_2026-12-07, compared
unpaired (a seed fixes only the first model and the first 10 labels). Test accuracy %, mean ±
sample sd over the runs.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "scripts"))
from loop_vs_default import main  # noqa: E402

if __name__ == "__main__":
    main(HERE, "conv_pool, 16 / 32 channels")

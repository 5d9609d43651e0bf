"""The plain supervised baseline of the evaluation: logistic regression on raw pixels
(scikit-learn), trained on exactly the labels an active-learning arm has gathered."""
from __future__ import annotations

import numpy as np

BASELINE = "logreg"


def pixels(images: np.ndarray) -> np.ndarray:
    """N×H×W×C uint8 → N×(H·W·C) float32 in [0, 1]."""
    return np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255.0


def logreg_accuracy(images: np.ndarray, labels: dict[int, int], test_images: np.ndarray,
                    test_truth: np.ndarray, *, test_pixels: np.ndarray | None = None) -> float:
    """Held-out accuracy of multinomial logistic regression (scikit-learn's defaults: L2,
    C = 1, lbfgs) fitted on the pixels of the labeled images. With one class labeled it
    predicts that class."""
    from sklearn.linear_model import LogisticRegression

    serials = np.fromiter(labels.keys(), dtype=np.int64)
    y = np.fromiter(labels.values(), dtype=np.int64)
    xt = pixels(test_images) if test_pixels is None else test_pixels
    truth = np.asarray(test_truth)
    if np.unique(y).size < 2:
        return float((truth == y[0]).mean()) if y.size else 0.0
    from threadpoolctl import threadpool_limits

    # a few hundred rows: one thread, so that it does not fight the training for the cores
    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=2000)
        model.fit(pixels(images[serials]), y)
        return float((model.predict(xt) == truth).mean())

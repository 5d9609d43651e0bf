"""The digit data set: scikit-learn's 8×8 digits written as a class-folder tree."""
import numpy as np

from ssvae.data import load_dataset


def test_digit_tree_is_a_ten_class_folder_data_set(tmp_path):
    from ssvae.data.digits import make_digits

    train = make_digits(tmp_path)
    ds = load_dataset(f"folder:{train}")
    assert ds.size == 1797 and ds.num_classes == 10
    assert ds.images.shape[1:3] == (28, 28)
    assert (tmp_path / "README.md").read_text().startswith("# Digits")
    counts = np.bincount(ds.truth, minlength=10)
    assert counts.min() >= 170  # every digit about a tenth

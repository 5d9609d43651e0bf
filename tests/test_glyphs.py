"""The glyph data set: a folder tree of 32×32 RGB letters, the same for a seed."""
import numpy as np
import pytest

from ssvae.data import load_dataset
from ssvae.data.glyphs import CLASSES, font_files, make_glyphs

pytestmark = pytest.mark.skipif(len(font_files()) < 5, reason="needs Debian font packages")


def test_glyph_tree_is_a_folder_data_set_and_reproducible(tmp_path):
    train = make_glyphs(tmp_path / "a", per_class=3)
    ds = load_dataset(f"folder:{train}", image_size=(32, 32), color=True)
    assert ds.class_names == tuple(sorted(CLASSES)) and ds.size == 3 * len(CLASSES)
    assert ds.image_shape == (32, 32, 3)
    assert np.bincount(ds.truth).tolist() == [3] * len(CLASSES)
    readme = (tmp_path / "a" / "README.md").read_text()
    assert "| Debian package | licence | font files used |" in readme and "seed 0" in readme
    again = load_dataset(f"folder:{make_glyphs(tmp_path / 'b', per_class=3)}", image_size=(32, 32),
                         color=True)
    assert np.array_equal(ds.images, again.images)
    other = load_dataset(f"folder:{make_glyphs(tmp_path / 'c', seed=1, per_class=3)}",
                         image_size=(32, 32), color=True)
    assert not np.array_equal(ds.images, other.images)


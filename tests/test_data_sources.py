"""Each data source read from small files the test makes, and the bundled MNIST subset."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from ssvae.data import load_dataset
from ssvae.errors import DataError


def write_idx(path, array: np.ndarray, gz: bool = False, magic: int | None = None, trim: int = 0):
    ndim = array.ndim
    header = struct.pack(">I", magic if magic is not None else 0x0800 | ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if trim:
        data = data[:-trim]
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def make_idx_set(folder, n=12, nt=5, gz=True, h=28, w=28):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, h, w), dtype=np.uint8)
    y = (np.arange(n) % 10).astype(np.uint8)
    xt = rng.integers(0, 256, (nt, h, w), dtype=np.uint8)
    yt = (np.arange(nt) % 10).astype(np.uint8)
    write_idx(folder / "train-images-idx3-ubyte", x, gz)
    write_idx(folder / "train-labels-idx1-ubyte", y, gz)
    write_idx(folder / "t10k-images-idx3-ubyte", xt, gz)
    write_idx(folder / "t10k-labels-idx1-ubyte", yt, gz)
    return x, y, xt, yt


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("SSVAE_DATA", str(root))
    return root


def test_bundled_mnist_is_the_stratified_5k_subset(monkeypatch):
    monkeypatch.delenv("SSVAE_DATA", raising=False)
    ds = load_dataset("mnist")
    assert ds.size == 4000 and ds.image_shape == (28, 28, 1)
    assert len(ds.test_images) == 1000
    assert ds.class_counts().tolist() == [400] * 10
    assert np.bincount(ds.test_truth, minlength=10).tolist() == [100] * 10
    assert ds.class_names == tuple("0123456789")
    assert ds.source.endswith("mnist_5k.npz")
    # real digits: ink covers roughly a fifth of the pixels, not noise
    assert 0.1 < (ds.images > 127).mean() < 0.3


@pytest.mark.parametrize("gz", [False, True])
def test_full_mnist_idx_files_take_precedence(data_root, gz):
    x, y, xt, yt = make_idx_set(data_root / "mnist", gz=gz)
    ds = load_dataset("mnist")
    assert ds.size == 12 and ds.test_images.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(ds.images[..., 0], x)
    np.testing.assert_array_equal(ds.truth, y)
    np.testing.assert_array_equal(ds.test_truth, yt)
    assert ds.default_labels_path == data_root / "mnist" / "labels.csv"


def test_fashion_mnist_reads_idx_with_class_names(data_root):
    make_idx_set(data_root / "fashion-mnist", h=20, w=24)
    ds = load_dataset("fashion-mnist")
    assert ds.image_shape == (20, 24, 1)
    assert ds.class_names[0] == "T-shirt/top" and ds.num_classes == 10


def test_fashion_mnist_missing_says_how_to_get_it(data_root, monkeypatch):
    import ssvae.data.sources as sources

    monkeypatch.setattr(sources, "SYSTEM_FASHION", data_root / "nowhere")
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist")


@pytest.mark.parametrize(
    "break_it, message",
    [
        (lambda f: write_idx(f / "train-images-idx3-ubyte", np.zeros((12, 28, 28)), magic=0x0801),
         "wrong magic number"),
        (lambda f: write_idx(f / "train-images-idx3-ubyte", np.zeros((12, 28, 28)), trim=7),
         "truncated"),
        (lambda f: write_idx(f / "train-labels-idx1-ubyte", np.zeros(11)), "holds 11 labels but"),
        (lambda f: (f / "t10k-labels-idx1-ubyte").write_bytes(b"\x1f\x8b garbage"), "gzip"),
        (lambda f: (f / "t10k-images-idx3-ubyte").unlink(), "missing t10k-images"),
    ],
)
def test_bad_idx_files_name_the_file_and_problem(data_root, break_it, message):
    folder = data_root / "mnist"
    make_idx_set(folder, gz=False)
    break_it(folder)
    with pytest.raises(DataError, match=message) as info:
        load_dataset("mnist")
    assert str(folder) in str(info.value)


def test_npz_source_with_all_arrays(tmp_path, data_root):
    rng = np.random.default_rng(1)
    path = tmp_path / "toy.npz"
    np.savez(path, x=rng.random((6, 8, 9, 3)).astype(np.float32), y=np.array([0, 1, 2, 0, 1, 2]),
             x_test=rng.integers(0, 256, (2, 8, 9, 3), dtype=np.uint8), y_test=np.array([1, 2]),
             class_names=np.array(["cat", "dog", "eel"]))
    ds = load_dataset(f"npz:{path}")
    assert ds.image_shape == (8, 9, 3) and ds.images.dtype == np.uint8
    assert ds.class_names == ("cat", "dog", "eel")
    assert ds.test_truth.tolist() == [1, 2]
    assert ds.default_labels_path == data_root / "toy" / "labels.csv"


def test_npz_without_names_numbers_the_classes(tmp_path, data_root):
    path = tmp_path / "plain.npz"
    np.savez(path, x=np.zeros((4, 5, 5), dtype=np.uint8), y=np.array([0, 3, 1, 1]))
    ds = load_dataset(f"npz:{path}")
    assert ds.class_names == ("0", "1", "2", "3") and ds.image_shape == (5, 5, 1)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"y": np.zeros(3, dtype=int)}, "has no array 'x'"),
        ({"x": np.zeros((3, 4), dtype=np.uint8)}, "expected N×H×W"),
        ({"x": np.zeros((3, 4, 4), dtype=np.uint8), "y": np.zeros(2, dtype=int)}, "there are 3 images"),
        ({"x": np.full((3, 4, 4), 300)}, "must hold uint8 pixels"),
        ({"x": np.zeros((3, 4, 4), dtype=np.uint8), "x_test": np.zeros((1, 4, 4), dtype=np.uint8)},
         "must come together"),
        ({"x": np.zeros((2, 4, 4), dtype=np.uint8), "y": np.array([0, 2]),
          "class_names": np.array(["a", "b"])}, "class id 2"),
    ],
)
def test_bad_npz_files(tmp_path, data_root, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        load_dataset(f"npz:{path}")


def test_npz_that_is_not_a_zip(tmp_path, data_root):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_dataset(f"npz:{path}")


def _png(path, value, size=(10, 12), mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def test_folder_with_class_subfolders(tmp_path, data_root):
    root = tmp_path / "pets"
    _png(root / "dog" / "b.png", 200)
    _png(root / "cat" / "z.jpg", 10, mode="RGB")
    _png(root / "cat" / "a.png", 50)
    ds = load_dataset(f"folder:{root}", image_size=(7, 6))
    assert ds.class_names == ("cat", "dog")
    assert ds.paths == ("cat/a.png", "cat/z.jpg", "dog/b.png")  # Serial follows sorted paths
    assert ds.truth.tolist() == [0, 0, 1]
    assert ds.images.shape == (3, 7, 6, 1)
    assert ds.images[0].mean() == pytest.approx(50, abs=1)
    assert ds.images[2].mean() == pytest.approx(200, abs=1)


def test_folder_without_classes_in_color_and_manifest(tmp_path, data_root):
    from ssvae.labels import LabelStore

    root = tmp_path / "shots"
    _png(root / "x" / "deep" / "1.png", 80, mode="RGB")
    _png(root / "0.png", 30)
    ds = load_dataset(f"folder:{root}", color=True, classes=["good", "bad"])
    assert ds.truth is None and ds.class_names == ("good", "bad")
    assert ds.image_shape == (28, 28, 3)
    store = LabelStore.for_dataset(ds)
    store.set(1, 1)
    manifest = (store.path.parent / "manifest.csv").read_text().splitlines()
    assert manifest == ["Serial,path", "0,0.png", "1,x/deep/1.png"]
    assert store.path.read_text().splitlines() == ["Serial,label", "1,bad"]


@pytest.mark.parametrize("content, message", [(b"", "cannot be read as an image"),
                                               (None, "cannot be read as an image")])
def test_folder_with_unreadable_or_truncated_image(tmp_path, data_root, content, message):
    root = tmp_path / "imgs"
    _png(root / "ok.png", 5)
    bad = root / "bad.png"
    if content is None:  # a real PNG cut short
        _png(bad, 9, size=(64, 64))
        bad.write_bytes(bad.read_bytes()[:60])
    else:
        bad.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        load_dataset(f"folder:{root}")
    assert "bad.png" in str(info.value)


def test_empty_or_missing_folder(tmp_path, data_root):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match="holds no PNG or JPEG images"):
        load_dataset(f"folder:{tmp_path / 'empty'}")
    with pytest.raises(DataError, match="folder not found"):
        load_dataset(f"folder:{tmp_path / 'absent'}")


def test_unknown_source_lists_the_allowed_ones():
    with pytest.raises(DataError, match="use one of: mnist, fashion-mnist, mnist:N, fashion-mnist:N, npz:PATH, folder:PATH"):
        load_dataset("cifar")


def test_two_folders_of_the_same_name_never_share_labels(tmp_path, data_root):
    """A folder's data-set name carries a hash of its resolved path: two …/train trees get
    their own labels files and workspaces; the same tree, however spelled, keeps its own."""
    for part in ("a", "b"):
        _png(tmp_path / part / "train" / "cat" / "1.png", 40)
    one = load_dataset(f"folder:{tmp_path / 'a' / 'train'}")
    two = load_dataset(f"folder:{tmp_path / 'b' / 'train'}")
    assert one.name.startswith("train-") and two.name.startswith("train-")
    assert one.name != two.name and one.default_labels_path != two.default_labels_path
    (tmp_path / "a" / "x").mkdir()
    again = load_dataset(f"folder:{tmp_path / 'a' / 'x' / '..' / 'train'}")
    assert again.name == one.name


def test_subsample_is_fixed_and_stratified(monkeypatch):
    from ssvae.data.sources import subsample

    monkeypatch.delenv("SSVAE_DATA", raising=False)
    full = load_dataset("mnist")
    ds = load_dataset("mnist:1000")
    assert ds.name == "mnist-1000" and ds.size == 1000
    assert ds.default_labels_path != full.default_labels_path
    share = np.bincount(ds.truth, minlength=10) / 1000
    assert np.abs(share - np.bincount(full.truth, minlength=10) / full.size).max() < 0.002
    assert ds.test_images.shape == full.test_images.shape  # the test split stays whole
    assert np.array_equal(ds.images, subsample(full, 1000).images)  # same images every time
    # every image is one of the pool's
    pool = {img.tobytes() for img in full.images}
    assert all(img.tobytes() in pool for img in ds.images)


@pytest.mark.parametrize("spec, message", [("mnist:ten", "positive whole number"),
                                           ("mnist:0", "positive whole number"),
                                           ("mnist:999999", "pool holds")])
def test_bad_subsample_says_why(spec, message, monkeypatch):
    monkeypatch.delenv("SSVAE_DATA", raising=False)
    with pytest.raises(DataError, match=message):
        load_dataset(spec)

"""Data sources: ``mnist``, ``fashion-mnist``, ``npz:PATH`` and ``folder:PATH``.

``mnist:N`` and ``fashion-mnist:N`` are a fixed, class-stratified subsample of N images of the
pool (seed 0; the test split stays whole), named ``<source>-N`` so their labels and
workspaces are their own.
"""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from ssvae.data.dataset import Dataset, check_class_names
from ssvae.data.folder import read_image_folder
from ssvae.data.idx import idx_files_present, read_idx_split
from ssvae.data.limits import MAX_SIDE, check_bytes
from ssvae.errors import DataError
from ssvae.paths import bundled_data_root, data_root

SOURCES = ("mnist", "fashion-mnist", "mnist:N", "fashion-mnist:N", "npz:PATH", "folder:PATH")
SUBSAMPLE_SEED = 0
BUNDLED_MNIST = "mnist_5k.npz"
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")


def load_dataset(
    spec: str = "mnist",
    *,
    image_size: tuple[int, int] = (28, 28),
    color: bool = False,
    classes: tuple[str, ...] | list[str] | None = None,
) -> Dataset:
    """Load a data set from a source spec (see :data:`SOURCES`).

    ``image_size`` and ``color`` apply to image folders; ``classes`` names the classes of a
    source that does not carry its own names (a folder without class sub-folders, an npz
    without ``class_names``).
    """
    spec = str(spec).strip()
    kind, _, arg = spec.partition(":")
    if kind in ("mnist", "fashion-mnist"):
        ds = _mnist() if kind == "mnist" else _fashion_mnist()
        if not arg:
            return ds
        if not arg.isdigit() or int(arg) < 1:
            raise DataError(f"'{spec}': the subsample size after '{kind}:' must be a positive "
                            f"whole number of images, e.g. '{kind}:10000'.")
        return subsample(ds, int(arg))
    if kind == "npz" and arg:
        return _npz(Path(arg).expanduser(), classes)
    if kind == "folder" and arg:
        return _folder(Path(arg).expanduser(), image_size, color, classes)
    raise DataError(f"unknown data set '{spec}'; use one of: {', '.join(SOURCES)}.")


def subsample(ds: Dataset, n: int, seed: int = SUBSAMPLE_SEED) -> Dataset:
    """A fixed subsample of ``n`` pool images, the same share of every class (seed ``seed``),
    in their original order; the test split is kept whole. Named ``<name>-<n>``."""
    if n >= ds.size:
        raise DataError(f"'{ds.name}:{n}' asks for {n} images but the pool holds {ds.size}; "
                        f"use '{ds.name}' for all of them.")
    truth = np.asarray(ds.truth)
    rng = np.random.default_rng([seed, n])
    counts = np.bincount(truth, minlength=ds.num_classes)
    share = np.floor(counts * n / ds.size).astype(int)
    # hand the images lost to rounding down to the largest remainders
    rest = counts * n / ds.size - share
    share[np.argsort(-rest, kind="stable")[: n - int(share.sum())]] += 1
    keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(truth == c), share[c], replace=False)
                                   for c in range(ds.num_classes) if share[c]]))
    name = f"{ds.name}-{n}"
    return Dataset(name=name, images=ds.images[keep], class_names=ds.class_names, source=ds.source,
                   truth=truth[keep], test_images=ds.test_images, test_truth=ds.test_truth,
                   labels_dir=data_root() / name,
                   notes=(*ds.notes, f"subsample of {n} of the {ds.size} pool images, the same "
                                     f"share of each class (seed {seed}); test split whole"))


def folder_name(path: Path) -> str:
    """The data-set name of an image folder: its base name and a short hash of its resolved
    path, so two different ``…/train`` trees never share labels or a workspace."""
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
    return f"{resolved.name or 'images'}-{digest}"


def _nhwc(x: np.ndarray) -> np.ndarray:
    return x[..., None] if x.ndim == 3 else x


def _idx_dataset(name: str, folder: Path, class_names: tuple[str, ...]) -> Dataset:
    x, y = read_idx_split(folder, "train")
    xt, yt = read_idx_split(folder, "t10k")
    for arr, what in ((y, "train"), (yt, "t10k")):
        if arr.size and int(arr.max()) >= len(class_names):
            raise DataError(f"{folder}: {what} labels go up to {int(arr.max())}, "
                            f"but {name} has {len(class_names)} classes.")
    return Dataset(
        name=name, images=_nhwc(x), class_names=class_names, source=str(folder),
        truth=y.astype(np.int64), test_images=_nhwc(xt), test_truth=yt.astype(np.int64),
        labels_dir=data_root() / name,
    )


def _mnist() -> Dataset:
    folder = data_root() / "mnist"
    digits = tuple(str(d) for d in range(10))
    if idx_files_present(folder):  # a partial set is an error that names the missing files
        return _idx_dataset("mnist", folder, digits)
    bundled = bundled_data_root() / BUNDLED_MNIST
    if not bundled.is_file():
        raise DataError(f"neither the four MNIST IDX files in {folder} nor the bundled "
                        f"{bundled} are there; reinstall the package.")
    ds = _npz(bundled, None)
    return Dataset(name="mnist", images=ds.images, class_names=digits, source=ds.source,
                   truth=ds.truth, test_images=ds.test_images, test_truth=ds.test_truth,
                   labels_dir=folder, notes=("bundled 5000-digit subset: 4000 pool, 1000 test",))


def _fashion_mnist() -> Dataset:
    for folder in (data_root() / "fashion-mnist", SYSTEM_FASHION):
        if idx_files_present(folder):
            return _idx_dataset("fashion-mnist", folder, FASHION_CLASSES)
    raise DataError(
        f"Fashion-MNIST IDX files are in neither {data_root() / 'fashion-mnist'} nor "
        f"{SYSTEM_FASHION}; install them with 'apt-get install dataset-fashion-mnist' or copy "
        "the four *-idx?-ubyte.gz files into data/fashion-mnist/."
    )


def _as_uint8_images(x: np.ndarray, path: Path, key: str) -> np.ndarray:
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] not in (1, 3)):
        raise DataError(f"{path}: '{key}' has shape {x.shape}; expected N×H×W or N×H×W×C "
                        "with C 1 or 3.")
    if x.shape[0] == 0:
        raise DataError(f"{path}: '{key}' holds no images.")
    h, w = x.shape[1:3]
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise DataError(f"{path}: '{key}' images are {h}×{w} pixels; each side must be 1 to "
                        f"{MAX_SIDE}.")
    if x.dtype.kind not in "uif":
        raise DataError(f"{path}: '{key}' holds {x.dtype} values; it must hold uint8 pixels, "
                        "integers 0–255 or floats 0–1.")
    if x.dtype == np.uint8:
        return _nhwc(x)
    if x.dtype.kind in "ui" and x.min() >= 0 and x.max() <= 255:
        return _nhwc(x.astype(np.uint8))
    if x.dtype.kind == "f" and np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1:
        return _nhwc(np.round(x * 255).astype(np.uint8))
    raise DataError(f"{path}: '{key}' must hold uint8 pixels, integers 0–255 or floats 0–1 "
                    f"(got {x.dtype} from {x.min()} to {x.max()}).")


def _as_class_ids(y: np.ndarray, n: int, path: Path, key: str) -> np.ndarray:
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"{path}: '{key}' has shape {y.shape} but there are {n} images.")
    if y.dtype.kind not in "ui" or (y.size and int(y.min()) < 0):
        raise DataError(f"{path}: '{key}' must hold non-negative integer class ids "
                        f"(got {y.dtype}).")
    return y  # checked against the number of classes before any cast or count


def _class_names(arr: np.ndarray, path: Path) -> tuple[str, ...]:
    if arr.ndim != 1 or arr.dtype.kind not in "USiu":
        raise DataError(f"{path}: 'class_names' must be a list of names (a 1-D array of text), "
                        f"not a {arr.dtype} array of shape {arr.shape}.")
    if arr.dtype.kind == "S":
        try:
            return tuple(b.decode("utf-8") for b in arr.tolist())
        except UnicodeDecodeError:
            raise DataError(f"{path}: 'class_names' are not UTF-8 text.") from None
    return tuple(str(c) for c in arr.tolist())


NPY_MAGIC = b"\x93NUMPY"


def read_npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz archive. Every member's header (shape, dtype) is read and checked
    first, so a crafted archive is refused before anything it declares is allocated."""
    if not path.is_file():
        raise DataError(f"{path}: file not found.")
    try:
        with path.open("rb") as f:
            head = f.read(6)
        if not zipfile.is_zipfile(path):
            what = ("it is a single .npy array; save the arrays with numpy.savez(path, x=…, "
                    "y=…)" if head == NPY_MAGIC else "it is not a zip of .npy arrays")
            raise DataError(f"{path}: not a readable .npz archive ({what}).")
        declared = 0
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    shape, _, dtype = (np.lib.format.read_array_header_1_0(member)
                                       if version == (1, 0)
                                       else np.lib.format.read_array_header_2_0(member))
                key = info.filename[:-4]
                if dtype.hasobject:
                    raise DataError(f"{path}: '{key}' holds Python objects, which are not "
                                    "loaded; store numbers and text only.")
                declared += int(np.prod(shape, dtype=object)) * dtype.itemsize
        check_bytes(declared, str(path), "the arrays it declares")
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc}).") from None
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray):
            raise DataError(f"{path}: member '{key}' is not a NumPy array.")
    return arrays


def _npz(path: Path, classes) -> Dataset:
    arrays = read_npz_arrays(path)
    if "x" not in arrays:
        raise DataError(f"{path}: has no array 'x' (found: {', '.join(sorted(arrays)) or 'none'}).")
    x = _as_uint8_images(arrays["x"], path, "x")
    y = _as_class_ids(arrays["y"], len(x), path, "y") if "y" in arrays else None
    xt = yt = None
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DataError(f"{path}: 'x_test' and 'y_test' must come together.")
    if "x_test" in arrays:
        xt = _as_uint8_images(arrays["x_test"], path, "x_test")
        yt = _as_class_ids(arrays["y_test"], len(xt), path, "y_test")
        if xt.shape[1:] != x.shape[1:]:
            raise DataError(f"{path}: 'x_test' images are {xt.shape[1:]} but 'x' images are "
                            f"{x.shape[1:]}.")
    top = max((int(a.max()) for a in (y, yt) if a is not None and a.size), default=-1)
    if "class_names" in arrays:
        names = _class_names(arrays["class_names"], path)
    elif classes:
        names = tuple(str(c) for c in classes)
    elif y is not None:
        # the classes are numbered 0…top: never more of them than there are images
        images = len(x) + (len(xt) if xt is not None else 0)
        if top >= images:
            raise DataError(f"{path}: class id {top} in 'y' would make {top + 1} classes for "
                            f"{images} images; number the classes from 0 or name them "
                            "('class_names' in the file, or --classes).")
        names = tuple(str(c) for c in range(top + 1))
    else:
        names = ()
    check_class_names(names, str(path))
    for arr, key in ((y, "y"), (yt, "y_test")):
        if arr is not None and arr.size and int(arr.max()) >= len(names):
            raise DataError(f"{path}: '{key}' holds class id {int(arr.max())} but there are "
                            f"only {len(names)} classes.")
    y = y.astype(np.int64) if y is not None else None
    yt = yt.astype(np.int64) if yt is not None else None
    return Dataset(name=path.stem, images=x, class_names=names, source=str(path), truth=y,
                   test_images=xt, test_truth=yt, labels_dir=data_root() / path.stem)


def _folder(path: Path, image_size, color, classes) -> Dataset:
    images, rel_paths, class_dirs = read_image_folder(path, image_size, color)
    if class_dirs is not None:
        names = tuple(class_dirs)
        index = {c: i for i, c in enumerate(names)}
        truth = np.array([index[p.split("/", 1)[0]] for p in rel_paths], dtype=np.int64)
    else:
        names = tuple(str(c) for c in classes) if classes else ()
        truth = None
    name = folder_name(path)
    return Dataset(name=name, images=images, class_names=names, source=str(path), truth=truth,
                   paths=tuple(rel_paths), root=path.resolve(), labels_dir=data_root() / name)

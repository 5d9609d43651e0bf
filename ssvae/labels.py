"""labels.csv: the user's labels, one row per labeled image, always written atomically.

The file has exactly the columns ``Serial,label``. ``Serial`` is the image's row index in
the data set; ``label`` is the class name (for digits, the digit). Unlabeled images are
absent. In memory labels are class indices.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from filelock import FileLock, Timeout

from ssvae.atomic import atomic_write_bytes, atomic_write_text
from ssvae.errors import LabelsError

HEADER = ("Serial", "label")
_INT = re.compile(r"[+-]?[0-9]+")


def _class_index(class_names: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(class_names)}


def parse_labels(text: str, num_items: int, class_names: tuple[str, ...],
                 where: str = "labels.csv") -> dict[int, int]:
    """Parse labels.csv text into ``{serial: class index}``.

    Every problem is collected with its line number; if there is any, a :class:`LabelsError`
    names the first and counts the rest. Nothing is silently dropped (blank lines hold no
    label and are skipped).
    """
    if not class_names:
        raise LabelsError(f"{where}: the data set has no class names, so no label can be "
                          "checked; name the classes first.")
    index = _class_index(class_names)
    numeric_fallback = not any(n.lstrip("-").isdigit() for n in class_names)
    problems: list[str] = []
    out: dict[int, int] = {}
    first_line: dict[int, int] = {}
    if not text.strip():
        raise LabelsError(f"{where}: the file is empty; it must start with the header "
                          f"'{','.join(HEADER)}'.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
        if [c.strip() for c in header] != list(HEADER):
            raise LabelsError(f"{where}: line 1: the header is '{','.join(header)}' but it "
                              f"must be exactly '{','.join(HEADER)}'.")
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != 2:
                problems.append(f"line {line}: expected 2 fields (Serial,label) but found {len(row)}")
                continue
            s_raw, l_raw = row[0].strip(), row[1].strip()
            if not _INT.fullmatch(s_raw):
                problems.append(f"line {line}: Serial '{s_raw}' is not an integer")
                continue
            serial = int(s_raw)
            if not 0 <= serial < num_items:
                problems.append(f"line {line}: Serial {serial} is outside the data set "
                                f"(0–{num_items - 1})")
                continue
            if not l_raw:
                problems.append(f"line {line}: the label of Serial {serial} is empty")
                continue
            label = index.get(l_raw)
            if label is None and numeric_fallback and l_raw.isdigit() and int(l_raw) < len(class_names):
                label = int(l_raw)
            if label is None:
                shown = ", ".join(class_names[:12]) + (", …" if len(class_names) > 12 else "")
                problems.append(f"line {line}: label '{l_raw}' is not one of the classes ({shown})")
                continue
            if serial in first_line:
                problems.append(f"line {line}: Serial {serial} appears again (first on line "
                                f"{first_line[serial]})")
                continue
            first_line[serial] = line
            out[serial] = label
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: cannot be parsed as CSV ({exc})")
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise LabelsError(f"{where}: {problems[0]}{more}.")
    return out


def read_labels(path: Path, num_items: int, class_names: tuple[str, ...]) -> dict[int, int]:
    raw = _read_bytes(Path(path))
    if raw is None:
        raise LabelsError(f"{path}: file not found.")
    return parse_labels(_decode(raw, path), num_items, class_names, where=str(path))


def format_labels(labels: Mapping[int, int], class_names: tuple[str, ...]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows((s, class_names[labels[s]]) for s in sorted(labels))
    return buf.getvalue()


@dataclass
class MergeReport:
    """What an import changed: new labels, identical ones, and conflicts with their outcome."""

    added: int = 0
    unchanged: int = 0
    conflicts: list[tuple[int, str, str]] = field(default_factory=list)  # serial, ours, theirs
    kept: str = "ours"  # which side won the conflicts

    def summary(self) -> str:
        n = len(self.conflicts)
        text = f"{self.added} new, {self.unchanged} already identical, {n} conflict{'' if n == 1 else 's'}"
        if self.conflicts:
            text += " (kept the existing labels)" if self.kept == "ours" else " (took the imported labels)"
        return text


#: the value of an image set aside (skipped) in a change: neither a class nor unlabeled
SKIP = "skip"
#: how long a writer waits for another one holding the labels' lock
LOCK_TIMEOUT_S = 30.0


def skipped_path_for(path: str | Path) -> Path:
    """Where the Serials set aside beside ``labels.csv`` live: ``labels.skipped.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.skipped.csv")


def lock_path_for(path: str | Path) -> Path:
    """The lock file every writer of ``labels.csv`` takes: ``.labels.csv.lock`` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


def parse_skipped(text: str, num_items: int, where: str = "labels.skipped.csv") -> set[int]:
    """Parse the skipped file (``Serial`` header, one Serial per line) into a set."""
    lines = text.splitlines()
    if not lines or lines[0].strip().lstrip("\ufeff") != "Serial":
        raise LabelsError(f"{where}: line 1 must be the header 'Serial'.")
    out: set[int] = set()
    for n, line in enumerate(lines[1:], 2):
        raw = line.strip()
        if not raw:
            continue
        if not _INT.fullmatch(raw) or not 0 <= int(raw) < num_items:
            raise LabelsError(f"{where}: line {n}: '{raw[:40]}' is not a Serial of the data set "
                              f"(0–{num_items - 1}).")
        out.add(int(raw))
    return out


def format_skipped(skipped: Iterable[int]) -> str:
    return "Serial\n" + "".join(f"{s}\n" for s in sorted(skipped))


@dataclass
class Update:
    """What :meth:`LabelStore.update` did.

    ``applied``: ``[serial, before, after]`` for every Serial it changed (values are class
    indices, :data:`SKIP` or None); ``conflicts``: ``[serial, current, expected]`` for every
    Serial left alone because it no longer held the expected value; ``external``: whether a
    change made on disk by another writer was merged in first.
    """

    applied: list[list] = field(default_factory=list)
    conflicts: list[list] = field(default_factory=list)
    external: bool = False


class LabelStore:
    """The labels of one data set, persisted to ``path`` after every change.

    Each mutating call returns only after the new labels.csv has been atomically swapped in,
    so a label whose call returned survives any crash. Any number of writers (pages, the CLI,
    other processes) may share the file: every read-modify-write holds the lock file
    ``.labels.csv.lock`` (:mod:`filelock`), first merges what another writer put on disk since
    this store last looked, and then writes only its own changes on top of it.

    Images set aside with :data:`SKIP` are kept in ``labels.skipped.csv`` (one ``Serial`` a
    line) beside labels.csv, so labels.csv holds only real labels; a label and a skip of one
    image exclude each other.
    """

    def __init__(self, path: str | Path, num_items: int, class_names: Iterable[str]):
        self.path = Path(path)
        self.skipped_path = skipped_path_for(self.path)
        self.num_items = int(num_items)
        self.class_names = tuple(str(c) for c in class_names)
        if not self.class_names:
            raise LabelsError(f"{self.path}: the data set has no class names; name the classes "
                              "(for example with --classes) before labeling.")
        self._lock = FileLock(lock_path_for(self.path), timeout=LOCK_TIMEOUT_S)
        self._labels: dict[int, int] = {}
        self._skipped: set[int] = set()
        # what this store last read or wrote, per file: (inode, size, mtime) and a digest
        self._sigs: tuple = (None, None)
        self._digests: tuple = (None, None)
        #: how many times changes made by another writer were merged in
        self.external_changes = 0
        self._load()

    @classmethod
    def for_dataset(cls, dataset, path: str | Path | None = None) -> "LabelStore":
        path = Path(path) if path is not None else dataset.default_labels_path
        store = cls(path, dataset.size, dataset.class_names)
        if dataset.paths is not None:
            write_manifest(path.parent / "manifest.csv", dataset.paths)
        return store

    # -- the files on disk -----------------------------------------------------------------
    @staticmethod
    def _signature(path: Path):
        """(inode, size, mtime) of a file, or None when it does not exist."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LabelsError(f"{path}: cannot be read ({exc.strerror}).") from None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _load(self, thorough: bool = False) -> bool:
        """Read both files if they changed since this store last read or wrote them.

        The cheap check compares (inode, size, mtime); ``thorough`` (every write, under the
        lock) compares the bytes' digest too, so a change hidden by a reused inode within one
        clock tick is still seen. Returns True when the content changed.
        """
        sigs = (self._signature(self.path), self._signature(self.skipped_path))
        if sigs == self._sigs and not thorough:
            return False
        raw_labels = _read_bytes(self.path) if sigs[0] is not None else None
        raw_skipped = _read_bytes(self.skipped_path) if sigs[1] is not None else None
        digests = (_digest(raw_labels), _digest(raw_skipped))
        if digests == self._digests:
            self._sigs = sigs
            return False
        labels = ({} if raw_labels is None else
                  parse_labels(_decode(raw_labels, self.path), self.num_items, self.class_names,
                               where=str(self.path)))
        skipped = (set() if raw_skipped is None else
                   parse_skipped(_decode(raw_skipped, self.skipped_path), self.num_items,
                                 where=str(self.skipped_path)))
        skipped -= labels.keys()  # a label wins over a skip left by a crash between the files
        changed = labels != self._labels or skipped != self._skipped
        self._labels, self._skipped = labels, skipped
        self._sigs, self._digests = sigs, digests
        return changed

    @contextmanager
    def locked(self):
        """Hold the writers' lock and merge in what other writers changed on disk."""
        try:
            with self._lock:
                if self._load(thorough=True):
                    self.external_changes += 1
                yield
        except Timeout:
            raise LabelsError(f"{self.path}: another program has held its lock "
                              f"({self._lock.lock_file}) for more than {LOCK_TIMEOUT_S:.0f} s; "
                              "try again when it is done.") from None

    def refresh(self) -> bool:
        """Take in a change made on disk by another writer; True if there was one."""
        if (self._signature(self.path), self._signature(self.skipped_path)) == self._sigs:
            return False  # the cheap check, without the lock
        before = self.external_changes
        with self.locked():
            pass
        return self.external_changes != before

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, serial: int) -> bool:
        return serial in self._labels

    def get(self, serial: int) -> int | None:
        return self._labels.get(serial)

    def status(self, serial: int) -> int | str | None:
        """The class index of ``serial``, :data:`SKIP` if it is set aside, or None."""
        if serial in self._skipped:
            return SKIP
        return self._labels.get(serial)

    def as_dict(self) -> dict[int, int]:
        return dict(self._labels)

    def skipped(self) -> list[int]:
        """The Serials set aside (not a class), sorted."""
        return sorted(self._skipped)

    def is_skipped(self, serial: int) -> bool:
        return serial in self._skipped

    def statuses(self) -> dict[int, int | str]:
        """Every image with a label or a skip: ``{serial: class index or SKIP}``."""
        out: dict[int, int | str] = dict(self._labels)
        out.update((s, SKIP) for s in self._skipped)
        return out

    def as_array(self):
        """Labels as an int64 array of length ``num_items``; -1 marks unlabeled images."""
        import numpy as np

        arr = np.full(self.num_items, -1, dtype=np.int64)
        if self._labels:
            keys = np.fromiter(self._labels.keys(), dtype=np.int64, count=len(self._labels))
            vals = np.fromiter(self._labels.values(), dtype=np.int64, count=len(self._labels))
            arr[keys] = vals
        return arr

    def done_mask(self):
        """A boolean mask of the images not to offer again: labeled or skipped."""
        mask = self.as_array() >= 0
        if self._skipped:
            mask[sorted(self._skipped)] = True
        return mask

    def counts(self) -> list[int]:
        out = [0] * len(self.class_names)
        for label in self._labels.values():
            out[label] += 1
        return out

    def fingerprint(self) -> str:
        """A short hash of the labels' content, to tell which labels a model was trained on."""
        return labels_fingerprint(self._labels)

    # -- writing -------------------------------------------------------------------------
    def check(self, serial, label=None) -> tuple[int, int | None]:
        """Validate a (serial, label) pair from any caller; raise LabelsError if bad."""
        if isinstance(serial, bool) or not isinstance(serial, int):
            raise LabelsError(f"Serial {serial!r} is not an integer.")
        if not 0 <= serial < self.num_items:
            raise LabelsError(f"Serial {serial} is outside the data set (0–{self.num_items - 1}).")
        if label is not None and label != SKIP:
            if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(self.class_names):
                raise LabelsError(f"label {label!r} is not a class index (0–{len(self.class_names) - 1}).")
        return serial, label

    def update(self, changes: Mapping[int, int | str | None],
               expect: Mapping[int, int | str | None] | None = None) -> Update:
        """Set each Serial of ``changes`` to its value (class index, :data:`SKIP`, or None to
        clear it), in one locked read-modify-write of the files.

        With ``expect``, a Serial whose current value (after merging other writers' changes)
        differs from ``expect[serial]`` is left alone and reported as a conflict: undo uses it
        so that it never reverts a label someone else has set since.
        """
        for s, v in changes.items():
            self.check(s, v)
        before_external = self.external_changes
        with self.locked():
            result = Update(external=False)
            labels, skipped = dict(self._labels), set(self._skipped)
            for s, after in changes.items():
                before = self.status(s)
                if expect is not None and s in expect and before != expect[s]:
                    result.conflicts.append([s, before, expect[s]])
                    continue
                if before == after:
                    continue
                labels.pop(s, None)
                skipped.discard(s)
                if after == SKIP:
                    skipped.add(s)
                elif after is not None:
                    labels[s] = after
                result.applied.append([s, before, after])
            if result.applied:
                self._write(labels, skipped)
        result.external = self.external_changes != before_external
        return result

    def _write(self, labels: dict[int, int], skipped: set[int]) -> None:
        sigs, digests = list(self._sigs), list(self._digests)
        if labels != self._labels or sigs[0] is None:
            data = format_labels(labels, self.class_names).encode("utf-8")
            atomic_write_bytes(self.path, data)
            self._labels = labels
            sigs[0], digests[0] = self._signature(self.path), _digest(data)
        if skipped != self._skipped:
            data = format_skipped(skipped).encode("utf-8")
            atomic_write_bytes(self.skipped_path, data)
            self._skipped = skipped
            sigs[1], digests[1] = self._signature(self.skipped_path), _digest(data)
        self._sigs, self._digests = tuple(sigs), tuple(digests)

    def set(self, serial: int, label: int) -> None:
        self.set_many({serial: label})

    def set_many(self, labels: Mapping[int, int]) -> None:
        for s, l in labels.items():
            self.check(s, l)
            if l == SKIP:
                raise LabelsError(f"label {l!r} is not a class index (0–{len(self.class_names) - 1}).")
        self.update(labels)

    def remove(self, serial: int) -> None:
        self.remove_many([serial])

    def remove_many(self, serials: Iterable[int]) -> None:
        serials = list(serials)
        for s in serials:
            self.check(s)
        with self.locked():
            self.update({s: None for s in serials if s in self._labels})

    def replace_all(self, labels: Mapping[int, int]) -> None:
        """Make the labels exactly ``labels`` (skips of images not in it stay)."""
        for s, l in labels.items():
            self.check(s, l)
        with self.locked():
            changes: dict = {s: None for s in self._labels if s not in labels}
            changes.update(labels)
            self.update(changes)

    def save(self) -> None:
        with self.locked():
            self._write(dict(self._labels), set(self._skipped))

    # -- import / export -------------------------------------------------------------------
    def plan_merge(self, path: str | Path, prefer: str = "ours") -> tuple[dict[int, int], MergeReport]:
        """Read another labels.csv and compute the merged labels without writing anything."""
        return self.plan_merge_labels(read_labels(Path(path), self.num_items, self.class_names), prefer)

    def plan_merge_labels(self, theirs: Mapping[int, int],
                          prefer: str = "ours") -> tuple[dict[int, int], MergeReport]:
        """The merged labels of ours and ``theirs`` (already parsed), without writing anything."""
        if prefer not in ("ours", "theirs"):
            raise LabelsError(f"conflict policy '{prefer}' is not one of: ours, theirs.")
        report = MergeReport(kept=prefer)
        merged = dict(self._labels)
        for s, l in theirs.items():
            ours = self._labels.get(s)
            if ours is None:
                merged[s] = l
                report.added += 1
            elif ours == l:
                report.unchanged += 1
            else:
                report.conflicts.append((s, self.class_names[ours], self.class_names[l]))
                if prefer == "theirs":
                    merged[s] = l
        return merged, report

    def merge_file(self, path: str | Path, prefer: str = "ours") -> MergeReport:
        """Merge another labels.csv in, against the labels on disk at the moment of writing."""
        with self.locked():
            merged, report = self.plan_merge(path, prefer)
            changes = {s: l for s, l in merged.items() if self._labels.get(s) != l}
            if changes:
                self.update(changes)
        return report

    def export(self, path: str | Path) -> Path:
        path = Path(path)
        atomic_write_text(path, format_labels(self._labels, self.class_names))
        return path

    def to_csv(self) -> str:
        return format_labels(self._labels, self.class_names)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LabelsError(f"{path}: cannot be read ({exc.strerror}).") from None


def _decode(raw: bytes, path: Path) -> str:
    if b"\x00" in raw:
        raise LabelsError(f"{path}: is a binary file, not CSV text.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabelsError(f"{path}: is not UTF-8 text (byte {exc.start}).") from None


def _digest(raw: bytes | None) -> bytes | None:
    return None if raw is None else hashlib.blake2b(raw, digest_size=16).digest()


def labels_fingerprint(labels: Mapping[int, int]) -> str:
    h = hashlib.sha256()
    for s in sorted(labels):
        h.update(f"{s}:{labels[s]};".encode())
    return h.hexdigest()[:16]


def write_manifest(path: Path, rel_paths: Iterable[str]) -> None:
    """Write ``manifest.csv`` (``Serial,path``) so every label maps back to its file."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("Serial", "path"))
    writer.writerows(enumerate(rel_paths))
    text = buf.getvalue()
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)

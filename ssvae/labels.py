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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ssvae.errors import LabelsError
from ssvae.export import atomic_write_into

HEADER = ("Serial", "label")
_INT = re.compile(r"[+-]?[0-9]+")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Atomic, and into a symlink's target keeping the file's mode (issue 11, item 4)."""
    atomic_write_into(path, text.encode("utf-8"), make_parents=True)


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
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise LabelsError(f"{path}: file not found.") from None
    except OSError as exc:
        raise LabelsError(f"{path}: cannot be read ({exc.strerror}).") from None
    if b"\x00" in raw:
        raise LabelsError(f"{path}: is a binary file, not CSV text.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabelsError(f"{path}: is not UTF-8 text (byte {exc.start}).") from None
    return parse_labels(text, num_items, class_names, where=str(path))


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


class LabelStore:
    """The labels of one data set, persisted to ``path`` after every change.

    Each mutating call returns only after the new labels.csv has been atomically swapped in,
    so a label whose call returned survives any crash.
    """

    def __init__(self, path: str | Path, num_items: int, class_names: Iterable[str]):
        self.path = Path(path)
        self.num_items = int(num_items)
        self.class_names = tuple(str(c) for c in class_names)
        if not self.class_names:
            raise LabelsError(f"{self.path}: the data set has no class names; name the classes "
                              "(for example with --classes) before labeling.")
        self._labels: dict[int, int] = {}
        if self.path.exists():
            self._labels = read_labels(self.path, self.num_items, self.class_names)

    @classmethod
    def for_dataset(cls, dataset, path: str | Path | None = None) -> "LabelStore":
        path = Path(path) if path is not None else dataset.default_labels_path
        store = cls(path, dataset.size, dataset.class_names)
        if dataset.paths is not None:
            write_manifest(path.parent / "manifest.csv", dataset.paths)
        return store

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, serial: int) -> bool:
        return serial in self._labels

    def get(self, serial: int) -> int | None:
        return self._labels.get(serial)

    def as_dict(self) -> dict[int, int]:
        return dict(self._labels)

    def as_array(self):
        """Labels as an int64 array of length ``num_items``; -1 marks unlabeled images."""
        import numpy as np

        arr = np.full(self.num_items, -1, dtype=np.int64)
        if self._labels:
            keys = np.fromiter(self._labels.keys(), dtype=np.int64, count=len(self._labels))
            vals = np.fromiter(self._labels.values(), dtype=np.int64, count=len(self._labels))
            arr[keys] = vals
        return arr

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
        if label is not None:
            if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(self.class_names):
                raise LabelsError(f"label {label!r} is not a class index (0–{len(self.class_names) - 1}).")
        return serial, label

    def set(self, serial: int, label: int) -> None:
        self.set_many({serial: label})

    def set_many(self, labels: Mapping[int, int]) -> None:
        for s, l in labels.items():
            self.check(s, l)
        new = dict(self._labels)
        new.update(labels)
        self._commit(new)

    def remove(self, serial: int) -> None:
        self.remove_many([serial])

    def remove_many(self, serials: Iterable[int]) -> None:
        serials = list(serials)
        for s in serials:
            self.check(s)
        new = {s: l for s, l in self._labels.items() if s not in set(serials)}
        self._commit(new)

    def replace_all(self, labels: Mapping[int, int]) -> None:
        for s, l in labels.items():
            self.check(s, l)
        self._commit(dict(labels))

    def _commit(self, new: dict[int, int]) -> None:
        atomic_write_text(self.path, format_labels(new, self.class_names))
        self._labels = new

    def save(self) -> None:
        self._commit(dict(self._labels))

    # -- import / export -------------------------------------------------------------------
    def plan_merge(self, path: str | Path, prefer: str = "ours") -> tuple[dict[int, int], MergeReport]:
        """Read another labels.csv and compute the merged labels without writing anything."""
        if prefer not in ("ours", "theirs"):
            raise LabelsError(f"conflict policy '{prefer}' is not one of: ours, theirs.")
        theirs = read_labels(Path(path), self.num_items, self.class_names)
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
        merged, report = self.plan_merge(path, prefer)
        if merged != self._labels:
            self._commit(merged)
        return report

    def export(self, path: str | Path) -> Path:
        path = Path(path)
        atomic_write_text(path, format_labels(self._labels, self.class_names))
        return path

    def to_csv(self) -> str:
        return format_labels(self._labels, self.class_names)


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

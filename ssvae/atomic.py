"""Atomic file writes into the path named: a crash at any instant leaves either the old or the
new file, whole; a symlink stays a symlink (its target gets the content); a replaced file keeps
its mode, a new one gets the umask's; a device, a pipe or an open file named through
``/dev/stdout`` or ``/proc`` is written in place. Every file this project writes goes through
:func:`atomic_write_into` (labels, checkpoints, predictions, reports, exports)."""
from __future__ import annotations

import os
import secrets
import stat


def through_proc(given: str, target: str) -> bool:
    """Whether the path names an open file of a process (``/dev/stdout``, ``/dev/fd/3``,
    ``/proc/self/fd/1``): it must be opened as named, never resolved and replaced."""
    given = os.path.abspath(given)
    return (given.startswith(("/proc/", "/dev/fd/"))
            or given in ("/dev/stdout", "/dev/stderr", "/dev/stdin")
            or target.startswith("/proc/"))


def _write_in_place(target: str, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY)
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode):
            os.ftruncate(fd, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if stat.S_ISREG(st.st_mode):
            os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write_into(path: str | os.PathLike, data: bytes, make_parents: bool = False) -> None:
    """Write ``data`` to ``path`` the way the module doc says; raises OSError on failure.

    A plain file (or a new one) is written through a temporary file in the folder of the
    symlinks' final target, flushed and fsync'ed, then swapped in with ``os.replace``, so a
    crash leaves the old or the new content whole; the swapped-in file keeps the old file's
    mode (and owner, where allowed); a new file gets 0666 minus the umask. Anything else
    (device, pipe, hard-linked file, a file in a folder that takes no new files) is written
    in place. ``make_parents`` creates missing folders first.
    """
    given = os.fspath(path)
    target = os.path.realpath(given)  # follows a chain of symlinks, dangling ones too
    if through_proc(given, target):  # /dev/stdout and the like: the open file itself
        _write_in_place(os.path.abspath(given), data)
        return
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and (not stat.S_ISREG(st.st_mode) or st.st_nlink > 1):
        _write_in_place(target, data)
        return
    folder = os.path.dirname(target) or "."
    if make_parents and st is None:
        os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
    try:  # O_CREAT with 0666 lets the kernel apply the umask, as for any new file
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        if st is None:
            raise
        _write_in_place(target, data)  # e.g. a writable file in a read-only folder, or /proc
        return
    try:
        try:
            if st is not None:  # keep the replaced file's permissions (and owner, if allowed)
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                try:
                    os.fchown(fd, st.st_uid, st.st_gid)
                except OSError:
                    pass
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """:func:`atomic_write_into`, creating missing folders first."""
    atomic_write_into(path, data, make_parents=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))

"""Checking values that come from the browser: each check returns the clean value or raises
:class:`~dashboard.commands.base.CommandError` with one sentence naming what is allowed."""
from __future__ import annotations

import math
from typing import Any

from ssvae.models_registry import NAME_RE

from dashboard.commands.base import CommandError
from dashboard.state import AppState


def check_serial(value: Any, state: AppState, what: str = "Serial") -> int:
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
        shown = "nothing" if value is None else repr(value)
        raise CommandError(f"{what} must be a whole number from 0 to {state.size - 1}, not {shown}.")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise CommandError(f"{what} must be a whole number from 0 to {state.size - 1}, not {value!r}.")
    serial = int(value)
    if not 0 <= serial < state.size:
        raise CommandError(f"{what} {serial} is outside the data set (0–{state.size - 1}).")
    return serial


def check_serials(values: Any, state: AppState) -> tuple[int, ...]:
    """A list of Serials, each checked; sorted, without repeats."""
    if not isinstance(values, (list, tuple)):
        raise CommandError(f"a selection must be a list of Serials, not {type(values).__name__}.")
    return tuple(sorted({check_serial(s, state) for s in values}))


def check_label(value: Any, state: AppState) -> int:
    names = state.class_names
    allowed = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
        shown = "nothing" if value is None else repr(value)
        raise CommandError(f"label {shown} is not a class; the classes are {allowed} "
                           f"(indices 0–{len(names) - 1}).")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise CommandError(f"label {value!r} is not a class index (0–{len(names) - 1}).")
    label = int(value)
    if not 0 <= label < len(names):
        raise CommandError(f"label {label} is not a class index; the classes are {allowed} "
                           f"(indices 0–{len(names) - 1}).")
    return label


def check_choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise CommandError(f"{what} {value!r} is not one of: {', '.join(allowed)}.")
    return value


def check_flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise CommandError(f"{what} must be true or false, not {value!r}.")
    return value


def check_number(value: Any, what: str, kind: type) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        shown = "empty" if value is None else repr(value)
        raise CommandError(f"{what} must be a number, not {shown}.")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise CommandError(f"{what} must be a whole number, not {value!r}.")
        return int(value)
    return float(value)


def check_model_name(value: Any, what: str = "Model name") -> str:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value.strip()):
        shown = "empty" if not value else repr(value)[:60]
        raise CommandError(f"{what} must be 1 to 40 letters, digits, '.', '_' or '-', starting "
                           f"with a letter or digit, not {shown}.")
    return value.strip()

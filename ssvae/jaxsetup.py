"""Process-wide JAX settings for the programs that train (CLI, worker, simulation).

The persistent compilation cache keeps compiled train/predict steps on disk
(``artifacts/jax-cache``, or ``SSVAE_JAX_CACHE``; ``SSVAE_JAX_CACHE=0`` turns it off), so
the second start of the program reaches its first training step without recompiling.
"""
from __future__ import annotations

import os
from pathlib import Path

_done = False


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path | None:
    global _done
    if _done:
        return None
    _done = True
    setting = os.environ.get("SSVAE_JAX_CACHE", "")
    if setting == "0":
        return None
    import jax

    from ssvae.paths import artifacts_root

    folder = Path(path or setting or artifacts_root() / "jax-cache")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(folder))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    except Exception:  # a read-only place or an older JAX: run without the cache
        return None
    return folder

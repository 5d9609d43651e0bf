"""The training worker: a long-lived spawned process that owns JAX, and the web-side client.

``protocol`` is the diskcache channel both sides share, ``service`` the web process's handle
(start, stop, status, crash detection), ``process`` the worker's main loop (imports JAX lazily).
"""

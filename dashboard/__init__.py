"""The labeling workspace: a Dash app over the JAX-free parts of :mod:`ssvae`.

Every change goes through a :class:`~dashboard.commands.Command` applied by the one
:class:`~dashboard.dispatcher.Dispatcher`; callbacks are grouped per feature in
:mod:`dashboard.callbacks`. This package never imports JAX.
"""
from dashboard.app import create_app

__all__ = ["create_app"]

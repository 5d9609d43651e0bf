"""Every change a user can make, as a small command with ``validate`` and ``apply``.

A command is a dataclass of plain JSON values (so it can be logged and forged payloads can be
checked field by field); :mod:`~dashboard.commands.base` says how ``validate`` returns the
prepared change that ``apply`` takes. The modules:

- :mod:`~dashboard.commands.base` — ``Command``, ``Outcome``, ``CommandError``, ``register``
- :mod:`~dashboard.commands.checks` — checking the values a browser sends
- :mod:`~dashboard.commands.labels` — selection and label commands, import/export, and
  ``LabelWriter``, the one place that writes labels and keeps digest and history in step
- :mod:`~dashboard.commands.history` — ``Undo``/``Redo`` and ``UndoHistory``, one per tab,
  used by the dispatcher and by the restore after a restart
- :mod:`~dashboard.commands.view` — colouring, strategy, auto-advance, new predictions
- :mod:`~dashboard.commands.training` — start/stop/auto-retrain and the training form's schema
- :mod:`~dashboard.commands.models` — select, create, rename, delete a model
"""
from dashboard.commands.base import COMMANDS, Command, CommandError, Outcome, register
from dashboard.commands.checks import (check_choice, check_flag, check_label, check_model_name,
                                       check_number, check_serial, check_serials)
from dashboard.commands.labels import (ClearBatch, ExportLabels, ImportLabels, ImportPlan, Label,
                                       LabelBatch, LabelWriter, RemoveLabel, Select, SelectBatch,
                                       Skip, Step, label_name, plan_import)
from dashboard.commands.history import Redo, Replay, Undo, UndoHistory
from dashboard.commands.view import LoadPredictions, SetAutoAdvance, SetColorBy, SetStrategy
from dashboard.commands.training import (MAX_EPOCHS, MIN_EPOCHS, TRAIN_LABELS, TRAIN_SETTINGS,
                                         SetAutoRetrain, StartTraining, StopTraining,
                                         TrainingRequest, check_train_settings, require_worker)
from dashboard.commands.models import (MODEL_CONFIGS, CreateModel, DeleteModel, RenameModel,
                                       SelectModel, show_selected_model)

__all__ = [
    "COMMANDS", "Command", "CommandError", "Outcome", "register",
    "check_choice", "check_flag", "check_label", "check_model_name", "check_number",
    "check_serial", "check_serials",
    "ClearBatch", "ExportLabels", "ImportLabels", "ImportPlan", "Label", "LabelBatch",
    "LabelWriter", "RemoveLabel", "Select", "SelectBatch", "Skip", "Step", "label_name",
    "plan_import",
    "Redo", "Replay", "Undo", "UndoHistory",
    "LoadPredictions", "SetAutoAdvance", "SetColorBy", "SetStrategy",
    "MAX_EPOCHS", "MIN_EPOCHS", "TRAIN_LABELS", "TRAIN_SETTINGS", "SetAutoRetrain",
    "StartTraining", "StopTraining", "TrainingRequest", "check_train_settings", "require_worker",
    "MODEL_CONFIGS", "CreateModel", "DeleteModel", "RenameModel", "SelectModel",
    "show_selected_model",
]

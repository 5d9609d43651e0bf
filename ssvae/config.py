"""Typed configuration read from YAML (a safe loader that refuses a key given twice) and
validated with pydantic.

Every problem — an unknown key, a wrong type, a value out of range — stops with one
sentence that names the key and what is allowed. Sections: ``data``, ``model``, ``train``,
``query``. The model issue owns the fields of ``model`` and ``train``.
"""
from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from ssvae.data.dataset import class_name_problem
from ssvae.data.limits import MAX_SIDE
from ssvae.errors import ConfigError
from ssvae.paths import configs_root
from ssvae.ranking import DEFAULT_STRATEGY, STRATEGIES, TYPICAL_ON


class Section(BaseModel):
    # no infinities or NaN anywhere: every number must be one a run can use
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bools_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML's true/false are not numbers: pydantic would take ``epochs: true`` as 1."""
        field = cls.model_fields.get(info.field_name or "")
        if field is None or field.annotation is bool:
            return value
        items = value if isinstance(value, (list, tuple)) else (value,)
        if any(isinstance(v, bool) for v in items):
            raise ValueError("must be a number, not true or false")
        return value


Side = Annotated[int, Field(ge=1, le=MAX_SIDE)]
Width = Annotated[int, Field(ge=1, le=16_384)]  # units of a dense layer
Channels = Annotated[int, Field(ge=1, le=4_096)]  # features of a conv layer


class DataConfig(Section):
    dataset: str = "mnist"
    labels: str | None = None  # default: data/<dataset>/labels.csv
    image_size: tuple[Side, Side] = (28, 28)  # folder sources only
    color: bool = False  # folder sources only: RGB instead of grayscale
    classes: list[str] | None = None  # class names for sources that do not carry them

    @field_validator("classes")
    @classmethod
    def _distinct_names(cls, names: list[str] | None) -> list[str] | None:
        """labels.csv stores class names: each must read back as the class it was written as."""
        problem = class_name_problem(names or ())
        if problem:
            raise ValueError("must give each class its own non-empty name without spaces at "
                             f"either end, but {problem}")
        return names

    @field_validator("labels")
    @classmethod
    def _labels_file_path(cls, value: str | None) -> str | None:
        """A path labels.csv can be written to: not a folder, not under a file."""
        if value is None:
            return None
        if not value.strip() or "\0" in value:
            raise ValueError("must be the path of a .csv file")
        path = Path(value).expanduser()
        if path.is_dir():
            raise ValueError("is a folder; give the path of a labels .csv file")
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise ValueError(f"lies under '{parent}', which is a file, not a folder")
                break
        return value


class ModelConfig(Section):
    """The networks (see ``ssvae/models.py`` and docs/MODEL.md for why the defaults)."""

    encoder: Literal["dense", "conv"] = "dense"  # q(z|x) (the decoder mirrors it)
    latent_dim: int = Field(16, ge=2, le=512)
    # dense layers of the encoder (decoder: reversed)
    hidden: tuple[Width, ...] = Field((512, 256), max_length=16)
    # conv layers of the conv variants (each halves the image)
    conv_features: tuple[Channels, ...] = Field((32, 64), min_length=1, max_length=8)
    # what q(y|x) reads: the image through a trunk like the encoder's ("image"), through a
    # dense or a conv trunk whatever the encoder ("dense", "conv"; "conv_pool": its convolutions
    # at stride 1, each with a 2×2 max-pool: finer features, ~1.4× the step), or the latent code
    classifier: Literal["image", "dense", "conv", "conv_pool", "latent"] = "image"
    # what an image classifier sees: the pixels as they are ("pixels"), or each image's
    # luminance standardised to zero mean and unit sd ("shape": blind to colour, brightness
    # and contrast); auto: shape for colour images, the pixels for grey ones (docs/MODEL.md)
    classifier_view: Literal["auto", "pixels", "shape"] = "auto"
    classifier_hidden: tuple[Width, ...] = Field((512, 256), max_length=16)
    classifier_dropout: float = Field(0.2, ge=0, lt=1)  # also drives BALD's MC samples
    decoder_uses_y: bool = True  # p(x|z,y), the M2 form; False: p(x|z)
    prior: Literal["normal", "mixture"] = "normal"
    components: int | None = Field(None, ge=2, le=1024)  # mixture K; default: one per class
    dirichlet_alpha: float | None = Field(None, gt=0)  # Dirichlet prior on the mixture weights
    likelihood: Literal["bernoulli", "mse"] = "bernoulli"
    mse_sigma: float = Field(0.1, gt=0)  # fixed std of the Gaussian likelihood ("mse")


class TrainConfig(Section):
    """Optimisation and the weights of the loss terms (see ``ssvae/losses.py``)."""

    epochs: int = Field(40, ge=1, le=100_000)  # a full training (ssvae train, the first model)
    retrain_epochs: int = Field(10, ge=1, le=100_000)  # each retrain from the dashboard
    # step budgets (ssvae/schedule.py: epochs_for): the first model / a retrain trains
    # ceil(budget / steps per epoch) epochs, at most `epochs` / `retrain_epochs`; None: the cap
    first_model_steps: int | None = Field(None, ge=1, le=10_000_000)
    retrain_steps: int | None = Field(None, ge=1, le=10_000_000)
    # a run starts from fresh weights, with the first model's budget (ssvae/schedule.py:
    # restart_due): a model trained without labels at its first labeled run (the page's first
    # model), and with restart_growth > 0 whenever the labels have grown that many times since
    # the weights began (default 2: whenever the labels doubled); 0: only the label-free
    # model restarts
    restart_unlabeled: bool = True
    restart_growth: float = Field(2.0, ge=0, le=1_000_000)
    # models trained side by side on the labels, each from its own seed: the classes are their
    # average, the queue ranks by the first one's doubts (ssvae/core.py: TrainState); a
    # label-free model is always one (docs/MODEL.md)
    members: int = Field(1, ge=1, le=8)
    batch_size: int = Field(256, ge=8, le=65_536)  # unlabeled images per step
    labeled_batch_size: int = Field(64, ge=1, le=65_536)  # labeled images per step (oversampled)
    learning_rate: float = Field(3e-3, gt=0, le=1)
    weight_decay: float = Field(1e-4, ge=0, le=1)
    grad_clip: float = Field(5.0, gt=0)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    classification_weight: float = Field(50.0, gt=0)  # alpha on the labeled cross-entropy
    unlabeled_weight: float = Field(1.0, ge=0)  # weight of the unlabeled ELBO term
    # the unlabeled bound: M2's sum over every y (K decoder passes per image), over the N
    # likeliest y under q(y|x) ("top2", "top3": N passes), one pass decoding E[y] ("expect"),
    # or "auto": sum below 10 000 images, top2 from there (ssvae/schedule.py: resolve)
    unlabeled: Literal["sum", "top2", "top3", "expect", "auto"] = "sum"
    kl_weight: float = Field(1.0, ge=0)
    kl_warmup_epochs: float = Field(0.0, ge=0)
    consistency_weight: float = Field(0.0, ge=0)  # q(y|aug x) should match q(y|x), unlabeled
    consistency_temperature: float = Field(0.25, gt=0)  # sharpening of the consistency target
    consistency_threshold: float = Field(0.9, ge=0, lt=1)  # only confident targets count
    augment_shift: int = Field(2, ge=0, le=8)  # random translation (pixels) of classifier inputs
    augment_rotate: float = Field(15.0, ge=0, le=180)  # random rotation (degrees); >0 uses affine
    augment_scale: float = Field(0.1, ge=0, lt=1)  # random zoom (fraction); >0 uses affine
    augment_intensity: float = Field(0.0, ge=0, lt=1)  # labeled views: a random gamma and gain, each within ±this (0 = off; docs/MODEL.md)
    ema_decay: float = Field(0.9, ge=0, lt=1)  # predict with an exponential moving average of weights
    val_fraction: float = Field(0.1, ge=0, lt=1)  # images (never labels) held out for validation
    val_max: int = Field(2000, ge=0)
    early_stopping_patience: int = Field(0, ge=0)  # epochs without val improvement; 0 = off
    progress_every: int = Field(20, ge=1)  # steps between on_progress calls
    eval_batch_size: int = Field(2048, ge=16, le=65_536)
    mc_samples: int = Field(16, ge=2, le=256)  # Monte-Carlo samples for BALD


class QueryConfig(Section):
    """The next images to label (``ssvae.ranking``: the strategies and why ``auto``)."""

    strategy: Literal[STRATEGIES] = DEFAULT_STRATEGY  # type: ignore[valid-type]
    k: int = Field(20, ge=1, le=10_000)
    diverse: bool = False
    # what the typical phase (``typiclust``, ``auto`` before it trusts the model) clusters: the
    # model's features, the images' own principal components, which hold none of the first
    # model's confusions, or both side by side (the default since 2026-12-05: docs/SIMULATION.md
    # "What the typical phase clusters")
    typical_on: Literal[TYPICAL_ON] = "both"  # type: ignore[valid-type]

    @property
    def needs_image_components(self) -> bool:
        """Whether the typical phase clusters the images' principal components (alone or
        beside the model's features), which predictions must then carry."""
        return self.typical_on != "model"


class Config(Section):
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    query: QueryConfig = QueryConfig()

    def with_overrides(self, overrides: dict[str, Any], where: str = "command line") -> "Config":
        """A copy with dotted-key overrides (``{"train.epochs": 5}``) applied and re-validated."""
        raw = self.model_dump(mode="json")
        for dotted, value in overrides.items():
            if value is None:
                continue
            node = raw
            *parents, leaf = dotted.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
        return config_from_dict(raw, where)


def _describe(err: dict, where: str, model: type[BaseModel]) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(model, err["loc"][:-1])
        return (f"{where}: unknown key '{loc}'; allowed keys"
                f"{' in ' + '.'.join(map(str, err['loc'][:-1])) if len(err['loc']) > 1 else ''}"
                f" are: {', '.join(allowed)}.")
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:]
    msg = msg.replace("input should be", "must be").replace("value error, ", "")
    return f"{where}: '{loc}' {msg} (got {_shown(err.get('input'))})."


def _shown(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters: an error never echoes a huge input."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _allowed_keys(model: type[BaseModel], loc) -> list[str]:
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None or not isinstance(field.annotation, type) or not issubclass(field.annotation, BaseModel):
            break
        model = field.annotation
    return sorted(model.model_fields)


def config_from_dict(raw: Any, where: str = "config") -> Config:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping of sections (data, model, train, query), "
                          f"not {type(raw).__name__}.")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = _describe(errors[0], where, Config)
        if len(errors) > 1:
            more = len(errors) - 1
            first = first[:-1] + f" (and {more} more problem{'s' if more > 1 else ''})."
        raise ConfigError(first) from None


def resolve_config_path(name: str | Path) -> Path:
    """Accept a path, or the name of a shipped config: ``quick``, ``quick.yaml`` or
    ``configs/quick.yaml`` (where no such file exists) mean the package's ``quick.yaml``."""
    path = Path(name)
    if not path.exists():
        shipped = configs_root() / (path.name if path.suffix else f"{path.name}.yaml")
        if shipped.is_file() and (len(path.parts) == 1 or path.parent.name == "configs"):
            return shipped
    return path


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader, but a key given twice in one mapping is an error: YAML
    would keep the last silently, and the setting read would not be the one first seen."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base class says what is wrong with it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read a YAML config (default: the shipped ``default.yaml``) and apply dotted overrides."""
    path = resolve_config_path(path) if path is not None else configs_root() / "default.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}).") from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: is not valid YAML{at} ({getattr(exc, 'problem', exc)}).") from None
    cfg = config_from_dict(raw, str(path))
    if not overrides:
        return cfg
    return cfg.with_overrides(overrides, f"{path} with the command-line options")

"""The interface every transfer method implements.

A method is a subclass of :class:`TransferMethod` that declares what it is (``name``, ``title``, ``description``,
whether it takes a style, the model kinds it loads, its phase plan) and an ``Options`` dataclass of its settings,
each field made with :func:`setting` so that its help text, range and web-app control travel with it: the CLI's
``transfer`` flags, the web app's controls, the demo page and the experiment are generated from these
declarations (:mod:`spectrostyle.methods.registry` lists the methods). Calls run one way: the pipeline calls
:meth:`TransferMethod.prepare_styles` once, then :meth:`TransferMethod.stylise_images` on batches of images.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from spectrostyle.core.device import resolve_device
from spectrostyle.core.shaping import BALANCE_LIMIT_DB, PITCH_BAND_HZ
from spectrostyle.core.spectrogram import DEFAULT_ITERATIONS, Spectrogram, SpectrogramConfig
from spectrostyle.core.vocabulary import DIRECTIONS

PHASE_INITS = ("content", "random")
CONTROLS = ("slider", "number", "model", "direction")  # how the web app shows a setting


def setting(default: Any = dataclasses.MISSING, *, help: str, low: float | None = None,  # noqa: A002
            high: float | None = None, choices: Sequence[str] | None = None, control: str | None = None,
            flag: str | None = None, step: float | None = None, default_factory: Any = dataclasses.MISSING) -> Any:
    """A field of a method's ``Options`` with what the user interfaces need to know of it.

    ``help``: one line for ``--help`` and the page; ``low``/``high``: the allowed range (inclusive);
    ``choices``: the allowed values; ``control``: how the web app offers it (one of :data:`CONTROLS`, or None:
    not on the page); ``flag``: the CLI flag when it is not ``--field-name``; ``step``: the web app slider's step.
    """
    if control is not None and control not in CONTROLS:
        raise ValueError(f"control must be one of {CONTROLS}, got {control!r}")
    metadata = {"help": help, "low": low, "high": high, "choices": tuple(choices) if choices else None,
                "control": control, "flag": flag, "step": step}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def check_settings(options: Any) -> None:
    """Refuse values outside a setting's declared range or choices (:class:`InputError`, naming the setting)."""
    from spectrostyle.core.errors import InputError

    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        meta = field.metadata
        if value is None or not meta:
            continue
        if meta.get("choices") and value not in meta["choices"]:
            raise InputError(f"{field.name} must be one of {', '.join(meta['choices'])}, got '{value}'")
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = meta.get("low"), meta.get("high")
            if (low is not None and value < low) or (high is not None and value > high):
                allowed = f"in {low:g}..{high:g}" if low is not None and high is not None else \
                    f">= {low:g}" if low is not None else f"<= {high:g}"
                raise InputError(f"{field.name} must be {allowed}, got {value:g}")


@dataclass
class CommonOptions:
    """Settings every method has."""

    seed: int = setting(0, help="Random seed (phase reconstruction, noise starts).")
    device: str = setting("cpu", help="cpu, cuda, cuda:N or auto.")

    def __post_init__(self) -> None:
        check_settings(self)


class TransferMethod(abc.ABC):
    """A way of making a new spectrogram image from a content image and style images.

    Subclasses declare the class attributes below and implement :meth:`stylise_images`; those that work out
    something of the styles once (AdaIN's feature statistics) override :meth:`prepare_styles`.
    """

    name: ClassVar[str]  # the registry's name, ``--method NAME``
    title: ClassVar[str]  # one line for pages and listings
    short: ClassVar[str]  # the method in captions
    description: ClassVar[str]  # a paragraph for the demo page and the web app
    needs_style: ClassVar[bool]  # whether it takes style sounds (False: its model is the style)
    model_kinds: ClassVar[tuple[str, ...]] = ()  # kinds of model files it loads (their checksums key caches)
    model_choice: ClassVar[str | None] = None  # the kind whose shipped models the ``model`` setting names
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()  # (kind, name) of shipped models it cannot run without
    directions: ClassVar[tuple[str, ...]] = DIRECTIONS  # the experiment's directions it can make (a2b, b2a)
    page_order: ClassVar[int] = 100  # position on the web app's list: fastest first
    # Phase reconstruction of the result: Griffin-Lim from random phase ("random"), or warm-started from the
    # content's own STFT phase ("content"; for methods whose output keeps the content's time structure, where
    # a few iterations then reach what 64 from random phase do), and its default number of iterations.
    phase_init: ClassVar[str] = "random"
    phase_iterations: ClassVar[int] = DEFAULT_ITERATIONS
    # How much of the content's harmonic fine structure (its pitch) the result takes by default (0..1, the
    # pipeline's keep_pitch): 0 leaves the method's own result
    keep_pitch: ClassVar[float] = 0.0
    # where that fine structure goes (Hz): in full below the first frequency, faded out up to the second
    pitch_band_hz: ClassVar[tuple[float, float]] = PITCH_BAND_HZ
    # the most its balance equaliser lifts or cuts a frequency (dB; with_style_balance)
    balance_limit_db: ClassVar[float] = BALANCE_LIMIT_DB
    Options: ClassVar[type] = CommonOptions

    def __init__(self, options: Any = None):
        self.options = options if options is not None else self.Options()
        self.device = resolve_device(self.options.device)

    @classmethod
    def settings_for(cls, content_family: str, style_family: str) -> list[dict[str, Any]]:
        """Settings to try, in order, to make content of one family sound like another (the demo page and the
        experiment use the first whose models load). Default: the method's own defaults."""
        return [{}]

    def prepare_styles(self, styles: Sequence[Tensor]) -> Any:
        """What :meth:`stylise_images` needs of the style images (each ``(1, 1, F, T')``), worked out once for
        many calls. Default: the images themselves."""
        return list(styles)

    @abc.abstractmethod
    def stylise_images(self, images: Tensor, styles: Any, *, progress: bool = False
                       ) -> tuple[Tensor, dict[str, list[float]]]:
        """Result images ``(B, 1, F, T)`` in [0, 1] for content images ``(B, 1, F, T)``, all with the same
        ``styles`` (what :meth:`prepare_styles` made), and loss curves by name (empty for one-pass methods)."""

    @property
    def spectrogram_config(self) -> SpectrogramConfig:
        """The spectrogram config this method's models were made for."""
        return SpectrogramConfig()

    def style_share(self) -> float:
        """How much of the result's timbre comes from the style sounds (0..1; the rest from the content): the band
        above the model's, which the pipeline makes, follows the styles' and the content's high bands in this
        proportion. Methods that take a style: 1; the others: 0 (their model is the style)."""
        return 1.0 if self.needs_style else 0.0

    def style_weights(self, count: int) -> np.ndarray:
        """How much each of ``count`` style sounds counts in the mix ``(count,)``, summing to 1: equal by default."""
        return np.full(count, 1.0 / max(count, 1))

    def balance_share(self) -> float:
        """How far the result's spectral balance moves toward the styles' by default (0..1, the pipeline's
        ``balance``): the style share."""
        return self.style_share()


def to_batch(spec: Spectrogram, device: torch.device) -> Tensor:
    """A spectrogram's image as a ``(1, 1, F, T)`` float32 batch on ``device``."""
    return spec.image.to(device, torch.float32)[None, None]

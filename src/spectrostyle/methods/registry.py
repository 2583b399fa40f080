"""The registry of transfer methods: name to class."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from spectrostyle.core.errors import InputError
from spectrostyle.methods.base import TransferMethod

# name -> "module:Class"; the Fast, AdaIN, CycleGAN and pix2pix methods add themselves here.
METHODS: dict[str, str] = {
    "gatys": "spectrostyle.methods.gatys:GatysMethod",
    "fast": "spectrostyle.methods.fast:FastMethod",
    "adain": "spectrostyle.methods.adain:AdainMethod",
    "cyclegan": "spectrostyle.methods.cyclegan:CycleGANMethod",
    "pix2pix": "spectrostyle.methods.pix2pix:Pix2PixMethod",
}


def method_class(name: str) -> type[TransferMethod]:
    """The class of a registered method; unknown names list the valid ones."""
    if name not in METHODS:
        raise InputError(f"unknown method '{name}'; choose from: {', '.join(METHODS)}")
    module_name, class_name = METHODS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_options(name: str, **settings: Any) -> Any:
    """The method's ``Options`` filled from keyword settings; unknown settings are refused by name."""
    options_class = method_class(name).Options
    known = {f.name for f in dataclasses.fields(options_class)}
    unknown = sorted(k for k in settings if k not in known)
    if unknown:
        raise InputError(f"method '{name}' has no setting(s) {', '.join(unknown)}; "
                         f"it takes: {', '.join(sorted(known))}")
    return options_class(**settings)


def shipped_settings(name: str, content_family: str, style_family: str) -> dict[str, Any] | None:
    """The first of the method's :meth:`~TransferMethod.settings_for` candidates whose models ship with the
    package, or None (a method's ``requires`` must ship too)."""
    from spectrostyle.store import is_shipped

    cls = method_class(name)
    if not all(is_shipped(kind, model) for kind, model in cls.requires):
        return None
    default_model = {f.name: f.default for f in dataclasses.fields(cls.Options)}.get("model")
    for candidate in cls.settings_for(content_family, style_family):
        if cls.model_choice is None or is_shipped(cls.model_choice, candidate.get("model", default_model)):
            return candidate
    return None

"""Model files: weights as safetensors plus a JSON description; loading never unpickles.

``NAME.safetensors`` holds the tensors; ``NAME.json`` holds ``{"kind", "config", "sha256", "metadata"}`` where
``config`` rebuilds the architecture (and includes the spectrogram config) and ``sha256`` is the checksum of
the safetensors file, verified on load.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from spectrostyle.core.errors import InputError
from spectrostyle.core.outputs import staged_outputs
from spectrostyle.core.spectrogram import SpectrogramConfig

# kind -> "module:Class"; each class has config_dict() and from_config(dict). Later methods add theirs here.
MODEL_KINDS: dict[str, str] = {
    "audio_cnn": "spectrostyle.nets.audio_cnn:AudioCNN",
    "random_spectrum_cnn": "spectrostyle.nets.audio_cnn:RandomSpectrumCNN",
    "fast_transformer": "spectrostyle.nets.transform_net:TransformNet",
    "adain_decoder": "spectrostyle.nets.adain:AdainDecoder",
    "cyclegan_generator": "spectrostyle.nets.cyclegan:CycleGANGenerators",
    "pix2pix_generator": "spectrostyle.nets.unet:UNet",
}


FORMAT_VERSION = 1


def model_class(kind: str) -> type:
    """The class registered for ``kind``; unknown kinds list the known ones."""
    if kind not in MODEL_KINDS:
        raise InputError(f"unknown model kind '{kind}'; known kinds: {', '.join(sorted(MODEL_KINDS))}")
    module_name, class_name = MODEL_KINDS[kind].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def _paths(path: str | os.PathLike) -> tuple[Path, Path]:
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in {".safetensors", ".json"} else path
    return stem.with_suffix(".safetensors"), stem.with_suffix(".json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(model: nn.Module, path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``PATH.safetensors`` and ``PATH.json`` together (temporary files renamed at the end, so an interrupted
    save changes neither; both with the usual file mode, or that of the files they replace); returns the JSON path.

    ``model`` must have ``kind`` and ``config_dict()``; ``metadata`` (JSON-able) records how it was made.
    """
    weights_path, json_path = _paths(path)
    if not weights_path.parent.exists():
        raise InputError(f"model folder '{weights_path.parent}' does not exist")
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    with staged_outputs(weights_path, json_path) as (weights_tmp, json_tmp):
        save_file(state, str(weights_tmp))
        description = {"format_version": FORMAT_VERSION, "kind": model.kind, "config": model.config_dict(),
                       "sha256": sha256_of(weights_tmp), "metadata": metadata or {}}
        json_tmp.write_text(json.dumps(description, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return json_path


def read_description(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON description of a model file (no weights loaded)."""
    weights_path, json_path = _paths(path)
    if not json_path.exists():
        raise InputError(f"no model description '{json_path}' (a model is NAME.json + NAME.safetensors)")
    try:
        description = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"model description '{json_path}' is not valid JSON ({exc})") from None
    if not isinstance(description, dict) or not {"kind", "config", "sha256"} <= set(description):
        raise InputError(f"model description '{json_path}' lacks kind, config or sha256")
    return description


def load_model(path: str | os.PathLike, *, expect_kind: str | None = None,
               spectrogram: SpectrogramConfig | None = None, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from ``PATH.json`` and ``PATH.safetensors``, in eval mode.

    Verifies the checksum; ``expect_kind`` refuses a model of another kind; ``spectrogram`` refuses a model
    made for another spectrogram config (:class:`ConfigMismatchError`).
    """
    weights_path, json_path = _paths(path)
    description = read_description(json_path)
    kind = description["kind"]
    if expect_kind is not None and kind != expect_kind:
        raise InputError(f"'{json_path}' is a {kind} model, not a {expect_kind}")
    if not weights_path.exists():
        raise InputError(f"missing weights file '{weights_path}'")
    if sha256_of(weights_path) != description["sha256"]:
        raise InputError(f"'{weights_path}' does not match the checksum in '{json_path}' (damaged or replaced)")
    model = model_class(kind).from_config(description["config"])
    if spectrogram is not None:
        spectrogram.require_same(model.spectrogram, f"model '{json_path.stem}'")
    try:
        state = load_file(str(weights_path), device="cpu")
    except (SafetensorError, OSError) as exc:
        raise InputError(f"cannot read weights '{weights_path}' ({exc})") from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise InputError(f"'{weights_path}' does not fit a {kind} of this config "
                         f"(missing {len(missing)} tensors, unexpected {len(unexpected)})")
    model.metadata = description.get("metadata", {})
    return model.to(device).eval()


def weights_dir() -> Path:
    """Folder of the shipped model files inside the installed package."""
    return Path(__file__).resolve().parent / "weights"


@dataclass(frozen=True)
class ShippedModel:
    name: str
    kind: str
    path: Path
    description: dict[str, Any]

    @property
    def size_bytes(self) -> int:
        return self.path.with_suffix(".safetensors").stat().st_size

    @property
    def trained_on(self) -> str:
        return str(self.description.get("metadata", {}).get("trained_on", "unknown"))

    @property
    def spectrogram_summary(self) -> str:
        config = self.description["config"]
        spec = config.get("spectrogram", config.get("spectrogram_config", {}))
        if not spec:
            return "?"
        return f"{spec['sample_rate']} Hz, n_fft {spec['n_fft']}, hop {spec['hop_length']}, floor {spec['db_floor']} dB"


def shipped_models(folder: Path | None = None) -> list[ShippedModel]:
    """Every shipped model, sorted by kind then name."""
    folder = folder or weights_dir()
    models = []
    for json_path in sorted(folder.glob("*.json")):
        description = read_description(json_path)
        kind = description["kind"]
        prefix = f"{kind}-"
        name = json_path.stem[len(prefix):] if json_path.stem.startswith(prefix) else json_path.stem
        models.append(ShippedModel(name=name, kind=kind, path=json_path, description=description))
    return sorted(models, key=lambda m: (m.kind, m.name))


def is_shipped(kind: str, name: str) -> bool:
    """Whether the package ships the model ``kind-name`` (its recipe has been run and the weights committed)."""
    return any(m.kind == kind and m.name == name for m in shipped_models())


def resolve_model(name_or_path: str | os.PathLike, kind: str) -> Path:
    """Path of a model given a shipped name (for ``kind``) or a file path."""
    text = str(name_or_path)
    candidate = Path(text)
    looks_like_path = os.sep in text or candidate.suffix in {".json", ".safetensors"} or candidate.exists()
    if looks_like_path:
        has_suffix = candidate.suffix in {".json", ".safetensors"}
        json_path = candidate.with_suffix(".json") if has_suffix else Path(f"{text}.json")
        if not json_path.exists():
            raise InputError(f"no model at '{text}' (expected {json_path})")
        return json_path
    for model in shipped_models():
        if model.kind == kind and model.name == text:
            return model.path
    names = [m.name for m in shipped_models() if m.kind == kind]
    raise InputError(f"no shipped {kind} model named '{text}'; shipped: {', '.join(names) or 'none'}")


def load_named_model(name_or_path: str | os.PathLike, kind: str, **kwargs: Any):
    """:func:`resolve_model` then :func:`load_model` with ``expect_kind=kind``."""
    return load_model(resolve_model(name_or_path, kind), expect_kind=kind, **kwargs)

"""Shipped models, addressed by name: ``src/spectrostyle/weights/KIND-NAME.{json,safetensors}``.

``resolve_model("default", kind="audio_cnn")`` finds a shipped model; a path to a ``.json`` or
``.safetensors`` file (or its stem) works too. Unknown names list the valid ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spectrostyle.checkpoint import load_model, read_description
from spectrostyle.errors import InputError


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

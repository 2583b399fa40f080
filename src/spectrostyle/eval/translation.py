"""Quality of instrument-to-instrument translation on held-out notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from spectrostyle.core.errors import InputError
from spectrostyle.data.selection import domain_index
from spectrostyle.methods.network import TranslationMethod


@dataclass
class TranslationQuality:
    """How one direction of a translation model does on notes: the fraction the audio CNN classifies as the
    target family, the median over notes of each output's median f0 error against its input note (cents), the
    per-note records, and the mean time per note (transfer incl. phase reconstruction)."""

    direction: str
    target_family: str
    classified_as_target: float
    median_f0_error_cents: float
    seconds_per_note: float
    notes: list[dict[str, Any]] = field(default_factory=list)

    def off_pitch(self) -> list[dict[str, Any]]:
        """The records of the notes whose f0 was measured and whose output lost the pitch: more than
        :data:`~spectrostyle.core.metrics.PITCH_OFF_CENTS` off the input note, or unvoiced (NaN)."""
        from spectrostyle.core.metrics import PITCH_OFF_CENTS

        return [r for r in self.notes if "f0_error_cents" in r and not r["f0_error_cents"] <= PITCH_OFF_CENTS]


def translation_quality(method: TranslationMethod, notes: Sequence[Any], target_family: str, *,
                        classifier: Any = None, f0_notes: int | None = None) -> TranslationQuality:
    """Translate ``notes`` (NSynth examples) with ``method`` and measure the outputs (see
    :class:`TranslationQuality`); f0 on the first ``f0_notes`` only (pYIN is slow; None: all)."""
    from spectrostyle.core.audio import load_audio
    from spectrostyle.core.metrics import note_pitch_range, pitch_error_to_note_cents
    from spectrostyle.core.spectrogram import Spectrogram
    from spectrostyle.eval.classify import classify
    from spectrostyle.pipeline import transfer
    from spectrostyle.store import load_named_model

    classifier = classifier if classifier is not None else load_named_model("default", "audio_cnn")
    records, seconds = [], 0.0
    for k, example in enumerate(notes):
        audio = load_audio(example.audio_path, sample_rate=method.spectrogram_config.sample_rate)
        result = transfer(audio, None, method)
        seconds += result.seconds
        image = Spectrogram.from_audio(result.audio, classifier.spectrogram).image[None, None]
        family = classify(image, classifier, top_k=1)[0][0][0]
        record = {"note": example.note_str, "pitch": example.pitch, "classified_as": family}
        if f0_notes is None or k < f0_notes:
            record["f0_error_cents"] = pitch_error_to_note_cents(result.audio, result.spectrogram.config.sample_rate,
                                                                 example.pitch, **note_pitch_range(example.pitch))
        records.append(record)
    errors = [r["f0_error_cents"] for r in records if "f0_error_cents" in r]
    return TranslationQuality(
        direction=method.options.direction, target_family=target_family,
        classified_as_target=float(np.mean([r["classified_as"] == target_family for r in records])),
        median_f0_error_cents=float(np.median(errors)) if errors else float("nan"),
        seconds_per_note=seconds / max(1, len(records)), notes=records)


def cycle_convergence_db(generators: Any, images: Tensor, direction: str = "a2b") -> Tensor:
    """Spectral convergence (dB; lower is better) of the cycle reconstructions of ``images`` ``(B, 1, F, T)``:
    ``G_ba(G_ab(x))`` for ``direction`` ``a2b`` (A notes), ``G_ab(G_ba(x))`` for ``b2a``, against ``x``, on linear
    magnitudes (each image at its own 0 dB peak): ``20 log10(||M_rec - M|| / ||M||)`` -> ``(B,)``."""
    from spectrostyle.core.spectrogram import image_to_magnitude

    back = "b2a" if direction == "a2b" else "a2b"
    with torch.inference_mode():
        rebuilt = generators(generators(images, direction), back)
    config = generators.spectrogram
    target, rebuilt = (image_to_magnitude(x.float(), config, 0.0) for x in (images, rebuilt))
    error = torch.linalg.vector_norm((rebuilt - target).flatten(1), dim=1)
    reference = torch.linalg.vector_norm(target.flatten(1), dim=1).clamp_min(1e-12)
    return 20.0 * torch.log10(error.clamp_min(1e-12) / reference)


def render_held_out(metadata: dict[str, Any], folder: Path, *, progress: bool = False) -> Path:
    """Render with FluidSynth (an NSynth-format dataset in ``folder``) the notes of a model's two domains at its
    held-out pitches and velocities: what :func:`held_out_examples` reads when the training data is not at hand.
    Resumable (notes already there are kept)."""
    from spectrostyle.core.vocabulary import FAMILIES, NSYNTH_VELOCITIES
    from spectrostyle.data.render import render_dataset

    families = []
    for domain in (metadata["domain_a"], metadata["domain_b"]):
        family = domain if domain in FAMILIES else next((f for f in FAMILIES if domain.startswith(f"{f}_")), None)
        if family is None:
            raise InputError(f"cannot tell the family of domain '{domain}'")
        families.append(family)
    for pitch in metadata["held_out_pitches"]:
        render_dataset(folder, families=families, pitches=(pitch, pitch),
                       velocities=metadata.get("velocities") or NSYNTH_VELOCITIES, progress=progress)
    return folder


def held_out_examples(metadata: dict[str, Any], data: Path, domain: str) -> list[Any]:
    """The notes of ``domain`` (a model's ``domain_a`` or ``domain_b``) at the model's held-out pitches, within its
    velocities, in the NSynth-format dataset ``data`` (e.g. the FluidR3 rendering it was trained on)."""
    from spectrostyle.data.nsynth import NSynthIndex

    index = NSynthIndex.load(data).filter(velocities=metadata.get("velocities"))
    held = set(metadata["held_out_pitches"])
    return [e for e in domain_index(index, domain) if e.pitch in held]


def family_of(domain: str, examples: Sequence[Any]) -> str:
    """The family of a domain name (a family, or an instrument whose notes are ``examples``)."""
    from spectrostyle.core.vocabulary import FAMILIES

    if domain in FAMILIES:
        return domain
    families = {e.instrument_family_str for e in examples}
    if len(families) != 1:
        raise InputError(f"cannot tell the family of domain '{domain}' from its notes ({sorted(families)})")
    return families.pop()

"""Training the AdaIN decoder."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from spectrostyle.core.errors import InputError
from spectrostyle.data.selection import NoteSelection, load_training_notes, recording_pieces
from spectrostyle.methods.adain import ENCODER_LAYER, STYLE_LAYERS, stylise_images
from spectrostyle.nets.adain import AdainDecoder, AdainDecoderConfig, adain, channel_stats, encoder_blocks
from spectrostyle.nets.audio_cnn import AudioCNN
from spectrostyle.train.loop import LoopOptions, Sample, describe_options, finish_run, fit, model_record
from spectrostyle.train.runtime import begin_run, seed_everything


@dataclass
class AdainTrainingOptions:
    """Everything ``spectrostyle train adain`` takes. Content and style notes are both drawn from ``data``
    (each content note with a random other note as style, reseeded every step)."""

    data: Path
    out: Path
    notes: NoteSelection = field(default_factory=NoteSelection)
    encoder: str = "default"
    content_weight: float = 1.0
    style_weight: float = 10.0
    # not in the paper: a pixel loss between each content and the decoding of its own features, which teaches the
    # decoder to invert the encoder (harmonics in place, pitch kept) within a CPU budget; 0 = the paper's losses
    identity_weight: float = 200.0
    loop: LoopOptions = field(default_factory=lambda: LoopOptions(learning_rate=1e-3, final_learning_rate=1e-4))
    # recordings of any kind (folders, searched recursively) cut into note-long pieces that join the training notes,
    # as contents and as styles, each piece ``extra_repeat`` times: so that the decoder that meets any sound has heard
    # melodies, chords, drum loops and speech, not only single notes
    extra_audio: tuple[Path, ...] = ()
    extra_repeat: int = 1
    device: str = "cpu"
    resume: bool = False


def _mse(a: Tensor, b: Tensor) -> Tensor:
    """Mean squared difference per item: ``(B, ...)`` -> ``(B,)``."""
    return ((a - b) ** 2).flatten(1).mean(1)


class AdainTask:
    """Training task (see :class:`spectrostyle.train.loop.TrainingTask`): the decoder under the AdaIN losses,
    with style notes drawn from ``style_pool`` ``(N, 1, F, T)``."""

    term_names = ("content", "style", "identity")

    def __init__(self, encoder: AudioCNN, decoder: AdainDecoder, style_pool: Tensor, content_weight: float,
                 style_weight: float, fingerprint: dict[str, Any], identity_weight: float = 0.0):
        self.encoder = encoder.eval().requires_grad_(False)
        self.model = decoder
        self.style_pool = style_pool
        self.content_weight, self.style_weight, self.identity_weight = content_weight, style_weight, identity_weight
        self._fingerprint = fingerprint

    def losses(self, forward, content: Tensor, generator: torch.Generator) -> dict[str, Tensor]:
        picks = torch.randint(0, len(self.style_pool), (len(content),), generator=generator)
        style = self.style_pool[picks].to(content.device, torch.float32).contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            content_features = self.encoder.extract(content, [ENCODER_LAYER])[ENCODER_LAYER]
            style_stats = {layer: channel_stats(f) for layer, f in self.encoder.extract(style, STYLE_LAYERS).items()}
            target = adain(content_features, *style_stats[ENCODER_LAYER])
        if self.identity_weight:  # decode the content's own features too, next to the stylised ones
            decoded = forward(torch.cat([target, content_features]), clamp=False)
            decoded, identity = decoded[:len(content)], decoded[len(content):]
            identity_loss = self.identity_weight * _mse(identity, content)
        else:
            decoded, identity_loss = forward(target, clamp=False), content.new_zeros(len(content))
        output = self.encoder.extract(decoded, STYLE_LAYERS)
        style_loss = sum(_mse(mean, style_stats[layer][0]) + _mse(std, style_stats[layer][1])
                         for layer in STYLE_LAYERS for mean, std in [channel_stats(output[layer])])
        return {"content": self.content_weight * _mse(output[ENCODER_LAYER], target),
                "style": self.style_weight * style_loss, "identity": identity_loss}

    def samples(self, val: Tensor, count: int) -> list[Sample]:
        results = []
        for i in range(count):
            style = val[(i + 1) % len(val)][None]
            mean, std = channel_stats(self.encoder.extract(style, [ENCODER_LAYER])[ENCODER_LAYER])
            results.append(Sample(content=val[i:i + 1], styles=[style],
                                  result=stylise_images(self.encoder, self.model, val[i:i + 1], mean, std),
                                  content_index=i))
        return results

    def fingerprint(self) -> dict[str, Any]:
        return self._fingerprint


def train_adain(options: AdainTrainingOptions) -> dict[str, Any]:
    """Train an :class:`AdainDecoder` for the audio CNN ``options.encoder`` on the notes of ``options.data``.

    Writes to ``options.out``: ``model.json``/``model.safetensors`` (the decoder; its config records the encoder's
    name and SHA-256), ``checkpoint.pt``, ``metrics.csv``, ``samples/``, ``report.json``. Runs unchanged under
    torchrun. Returns the report.
    """
    from spectrostyle.store import load_named_model

    started, settings, device, dist_ctx = begin_run(options)  # a resume that changes the run is refused
    loop = options.loop
    encoder = load_named_model(options.encoder, "audio_cnn", device=device).to(memory_format=torch.channels_last)
    record = model_record(options.encoder, "audio_cnn")
    config = encoder.spectrogram
    notes = load_training_notes(options.data, options.notes, config, seed=loop.seed,
                                progress=loop.progress and dist_ctx.is_main)
    trained_on = f"FluidR3 GM {notes.description}"
    if options.extra_audio:
        if options.extra_repeat < 1:
            raise InputError(f"extra_repeat must be >= 1, got {options.extra_repeat}")
        pieces, names = recording_pieces(options.extra_audio, config, notes.train.shape[-1],
                                         progress=loop.progress and dist_ctx.is_main)
        notes.train = torch.cat([notes.train] + [pieces] * options.extra_repeat)
        notes.train_names = notes.train_names + names * options.extra_repeat
        trained_on += (f", and {len(names)} note-long pieces of {len(options.extra_audio)} folder(s) of recordings "
                       f"({', '.join(p.name for p in options.extra_audio)}; each {options.extra_repeat}x)")
    seed_everything(loop.seed)
    decoder = AdainDecoder(AdainDecoderConfig(encoder_blocks=encoder_blocks(encoder), encoder_name=record["name"],
                                              encoder_sha256=record["sha256"], spectrogram=config))
    fingerprint = {"architecture": decoder.config_dict(), "notes": describe_options(options.notes),
                   "data": str(options.data), "extra_audio": [str(p) for p in options.extra_audio],
                   "extra_repeat": options.extra_repeat,
                   "weights": [options.content_weight, options.style_weight, options.identity_weight],
                   "batch_size": loop.batch_size, "seed": loop.seed, "steps": loop.steps,
                   "learning_rate": [loop.learning_rate, loop.final_learning_rate]}
    task = AdainTask(encoder, decoder, notes.train, options.content_weight, options.style_weight, fingerprint,
                     identity_weight=options.identity_weight)
    summary = fit(task, notes, options.out, loop, config=config, method="adain", device=device,
                  resume=options.resume, dist_ctx=dist_ctx, settings=settings)
    report = {"steps": summary.steps, "final_val_loss": summary.final_val_total,
              "seconds_per_step": summary.seconds_per_step, "seconds": time.perf_counter() - started,
              "notes": notes.description, "val_notes": notes.val_names, "options": describe_options(options)}
    metadata = {"name": options.out.name, "encoder": record,
                "trained_on": f"{trained_on}, each with a random other one as style",
                "steps": summary.steps, "final_val_loss": summary.final_val_total,
                "loss_weights": {"content": options.content_weight, "style": options.style_weight,
                                 "identity": options.identity_weight}}
    finish_run(decoder, options.out, metadata, report, dist_ctx)
    return report

"""Training Fast's transformation network for one style."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig, heard_image, stft_phase
from spectrostyle.data.selection import NoteSelection, load_training_notes
from spectrostyle.methods.losses import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, LossWeights, PerceptualLoss
from spectrostyle.nets.transform_net import TransformNet, TransformNetConfig
from spectrostyle.train.loop import LoopOptions, Sample, describe_options, finish_run, fit, model_record
from spectrostyle.train.runtime import begin_run, seed_everything

LOSS_ON = ("image", "heard")


@dataclass
class FastTrainingOptions:
    """Everything ``spectrostyle train fast`` takes. ``style``: the one style sound; ``data``: an NSynth-format
    dataset of content notes; ``feature_net``: the loss network (shipped audio CNN name or model path)."""

    style: Path
    data: Path
    out: Path
    notes: NoteSelection = field(default_factory=NoteSelection)
    feature_net: str = "default"
    channels: tuple[int, ...] = (16, 32, 64)
    residual_blocks: int = 4
    content_weight: float = 1.0
    style_weight: float = LossWeights.style
    energy_weight: float = 10.0
    frequency_weight: float = 10.0
    tv_weight: float = 0.0
    spectrum_weight: float = 0.0
    spectrum_emphasis: float = 0.0
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    loop: LoopOptions = field(default_factory=LoopOptions)
    device: str = "cpu"
    resume: bool = False
    init: str | None = None  # start from this transformation network (shipped name or model path), same architecture
    loss_on: str = "image"  # one of LOSS_ON: the output image, or the sound it makes with the content's phase

    def __post_init__(self) -> None:
        if self.loss_on not in LOSS_ON:
            raise InputError(f"loss_on must be one of {', '.join(LOSS_ON)}, got '{self.loss_on}'")

    def loss_weights(self) -> LossWeights:
        return LossWeights(content=self.content_weight, style=self.style_weight, energy=self.energy_weight,
                           frequency=self.frequency_weight, total_variation=self.tv_weight,
                           spectrum=self.spectrum_weight, spectrum_emphasis=self.spectrum_emphasis,
                           content_layers=tuple(self.content_layers),
                           style_layers=tuple(self.style_layers))


class FastTask:
    """Training task (see :class:`spectrostyle.train.loop.TrainingTask`): a transformation network under the
    perceptual loss towards one style image ``(1, 1, F, T')``. With ``heard``, the notes come as ``(B, 2, F, T)``:
    each image and its audio's phase angles (:func:`with_content_phase`), and the loss scores what the output
    sounds like with that phase (:func:`spectrostyle.core.spectrogram.heard_image`)."""

    term_names = ("content", "style", "energy", "frequency", "spectrum", "total_variation")

    def __init__(self, model: TransformNet, loss: PerceptualLoss, style_image: Tensor, fingerprint: dict[str, Any],
                 heard: bool = False):
        self.model = model
        self.loss = loss
        self.style_image = style_image
        self.style_targets = loss.style_targets(style_image)
        self.heard = heard
        self._fingerprint = fingerprint

    def losses(self, forward, content: Tensor, generator: torch.Generator) -> dict[str, Tensor]:
        images = content[:, :1]
        targets = self.loss.content_targets(images, self.style_targets)
        # under --precision bf16 only the loss network runs in bfloat16: this network (reflection padding, group
        # norms) ran slower in it on CPU (0.33 against 0.27 s for a forward and backward of 4 notes); the STFTs of
        # the heard image stay in float32 too
        with torch.autocast(content.device.type, enabled=False):
            output = forward(images)
            if self.heard:
                output = heard_image(output, content[:, 1].float(), self.model.spectrogram)
        terms = self.loss(output, targets)
        return {name: terms[name] for name in self.term_names}

    def samples(self, val: Tensor, count: int) -> list[Sample]:
        images = val[:, :1]
        return [Sample(content=images[i:i + 1], styles=[self.style_image], result=self.model(images[i:i + 1]),
                       content_index=i) for i in range(count)]

    def fingerprint(self) -> dict[str, Any]:
        return self._fingerprint


def with_content_phase(images: Tensor, audio_paths: list[Path], config: SpectrogramConfig) -> Tensor:
    """Notes' images ``(N, 1, F, T)`` with the STFT phase angles of their audio files as a second channel:
    ``(N, 2, F, T)`` in the images' dtype (float16 keeps a phase to ~2e-3 rad)."""
    from spectrostyle.core.audio import load_audio

    phases = torch.stack([stft_phase(torch.as_tensor(load_audio(path, sample_rate=config.sample_rate)), config,
                                     num_frames=images.shape[-1]) for path in audio_paths])
    return torch.cat([images, phases[:, None].to(images.dtype)], dim=1)


def initialise_from(model: TransformNet, init: str) -> dict[str, Any]:
    """Copy the weights of the saved transformation network ``init`` (shipped name or model path) into ``model``,
    to train on from them (a longer schedule in stages, or another style from a trained one). Refuses a network
    of another architecture or spectrogram config. Returns ``{"name", "sha256"}`` of ``init``."""
    from spectrostyle.store import load_named_model

    start = load_named_model(init, TransformNet.kind)
    if start.config_dict() != model.config_dict():
        raise InputError(f"--init model '{init}' has another architecture or spectrogram config "
                         f"({start.config_dict()}) than the one to train ({model.config_dict()})")
    model.load_state_dict(start.state_dict())
    return model_record(init, TransformNet.kind)


def train_fast(options: FastTrainingOptions) -> dict[str, Any]:
    """Train a :class:`TransformNet` for ``options.style`` over the content notes of ``options.data``.

    Writes to ``options.out``: ``model.json``/``model.safetensors`` (the last step; style file and hash, feature
    network and hash, and the training record in its metadata), ``checkpoint.pt``, ``metrics.csv``, ``samples/``
    and ``report.json``. Runs unchanged under torchrun. Returns the report.
    """
    from spectrostyle.core.audio import load_audio
    from spectrostyle.methods.gatys import load_feature_net
    from spectrostyle.store import resolve_model, sha256_of

    started, settings, device, dist_ctx = begin_run(options)  # a resume that changes the run is refused
    loop = options.loop
    feature_net = load_feature_net(options.feature_net, device=device)
    feature_net.to(memory_format=torch.channels_last)
    config = feature_net.spectrogram
    if not Path(options.style).is_file():
        raise InputError(f"style sound '{options.style}' does not exist")
    if options.init is not None:
        resolve_model(options.init, TransformNet.kind)  # a wrong --init fails before the notes are loaded
    style_image = Spectrogram.from_audio(load_audio(options.style, sample_rate=config.sample_rate), config).image
    style_image = style_image.to(device, torch.float32)[None, None]
    notes = load_training_notes(options.data, options.notes, config, seed=loop.seed,
                                progress=loop.progress and dist_ctx.is_main)
    if options.loss_on == "heard":
        notes.train = with_content_phase(notes.train, notes.train_paths, config)
        notes.val = with_content_phase(notes.val, notes.val_paths, config)
    seed_everything(loop.seed)
    model = TransformNet(TransformNetConfig(channels=tuple(options.channels),
                                            residual_blocks=options.residual_blocks, spectrogram=config))
    init_record = initialise_from(model, options.init) if options.init is not None else None
    style_record = {"file": Path(options.style).name, "sha256": sha256_of(Path(options.style))}
    feature_record = model_record(options.feature_net, "audio_cnn")
    fingerprint = {"architecture": model.config_dict(), "style": style_record, "feature_net": feature_record,
                   "init": init_record, "loss_on": options.loss_on,
                   "weights": options.loss_weights().to_dict(), "notes": describe_options(options.notes),
                   "data": str(options.data), "batch_size": loop.batch_size, "seed": loop.seed,
                   "steps": loop.steps, "learning_rate": [loop.learning_rate, loop.final_learning_rate]}
    task = FastTask(model, PerceptualLoss(feature_net, options.loss_weights()), style_image, fingerprint,
                    heard=options.loss_on == "heard")
    summary = fit(task, notes, options.out, loop, config=config, method="fast", device=device,
                  resume=options.resume, dist_ctx=dist_ctx, settings=settings)
    report = {"steps": summary.steps, "final_val_loss": summary.final_val_total,
              "seconds_per_step": summary.seconds_per_step, "seconds": time.perf_counter() - started,
              "notes": notes.description, "val_notes": notes.val_names, "options": describe_options(options)}
    metadata = {"name": options.out.name, "style": style_record, "feature_net": feature_record,
                "trained_on": f"style {style_record['file']}; content: FluidR3 GM {notes.description}",
                "steps": summary.steps, "final_val_loss": summary.final_val_total,
                "loss_weights": options.loss_weights().to_dict(), "loss_on": options.loss_on, "init": init_record}
    finish_run(model, options.out, metadata, report, dist_ctx)
    return report

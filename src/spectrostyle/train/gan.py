"""What the CycleGAN and pix2pix trainers share: GAN losses, image pool, domain data, the run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.core.vocabulary import DIRECTIONS
from spectrostyle.data.selection import DomainSelection, load_domain_notes
from spectrostyle.nets.base import SpectrogramModel
from spectrostyle.train.loop import LoopOptions, Sample, describe_options, finish_run, fit
from spectrostyle.train.runtime import begin_run, seed_everything


def lsgan_loss(prediction: Tensor, real: bool) -> Tensor:
    """Least-squares GAN loss per item: mean of ``(prediction - 1)^2`` (real) or ``prediction^2`` (fake) over a
    patch map ``(B, 1, H, W)`` -> ``(B,)``."""
    return ((prediction - float(real)) ** 2).flatten(1).mean(1)


def l1_loss(output: Tensor, target: Tensor) -> Tensor:
    """Mean absolute difference per item: ``(B, ...)`` -> ``(B,)``."""
    return (output - target).abs().flatten(1).mean(1)


def frozen(module: nn.Module) -> Callable[[Tensor], Tensor]:
    """``module`` as a function of its input only: its parameters (and buffers) enter detached, so gradients
    reach the input (the generated image) but not the module. How the generators' adversarial terms see the
    discriminators."""
    constants = {name: t.detach() for name, t in [*module.named_parameters(), *module.named_buffers()]}
    return lambda x: torch.func.functional_call(module, constants, (x,))


class ImagePool:
    """Shrivastava et al.'s history of generated images, as CycleGAN uses it: the discriminator sees, for each
    new image, with probability 1/2 an older one (which the new one replaces in the pool), once ``size`` images
    are stored; before that, and always with ``size`` 0, the new images themselves. Images are kept on the CPU
    as float16; the choices come from the step's generator, so a resumed run draws the same."""

    def __init__(self, size: int = 50):
        if size < 0:
            raise InputError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.images: list[Tensor] = []

    def query(self, images: Tensor, generator: torch.Generator) -> Tensor:
        """``(B, C, F, T)`` new images -> ``(B, C, F, T)`` to show the discriminator (on ``images``' device)."""
        if self.size == 0:
            return images
        chosen = []
        for image in images:
            stored = image.detach().to("cpu", torch.float16)
            if len(self.images) < self.size:
                self.images.append(stored)
                chosen.append(image)
            elif float(torch.rand((), generator=generator)) < 0.5:
                k = int(torch.randint(0, self.size, (), generator=generator))
                chosen.append(self.images[k].to(image.device, image.dtype))
                self.images[k] = stored
            else:
                chosen.append(image)
        return torch.stack(chosen).contiguous(memory_format=torch.channels_last)

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size, "images": torch.stack(self.images) if self.images else torch.zeros(0)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state["size"]) != self.size:
            raise InputError(f"image pool of size {state['size']} in the checkpoint, {self.size} asked for")
        self.images = list(state["images"].unbind(0)) if state["images"].numel() else []


class GanModel(nn.Module):
    """Generators and discriminators of one GAN, for training. ``forward(images, generator)`` takes a batch
    ``(B, 2, F, T)`` (channel 0 a domain-A note, channel 1 a domain-B note: its pair, or any B note when
    unpaired) and returns every loss term ``(B,)`` by name (weighted; see the module docstring); in eval mode it
    leaves the image pools alone. ``generators`` is what ships (a :class:`SpectrogramModel`)."""

    generators: SpectrogramModel
    term_names: tuple[str, ...] = ()

    def translate(self, images: Tensor, direction: str) -> Tensor:
        """Generated images ``(B, 1, F, T)`` for ``direction`` (``a2b`` or ``b2a``)."""
        raise NotImplementedError

    def directions(self) -> tuple[str, ...]:
        """The directions this model translates."""
        return DIRECTIONS

    def pool_state(self) -> dict[str, Any]:
        return {}

    def load_pool_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`pool_state` returned."""


def gan_loop() -> LoopOptions:
    """The GAN papers' optimisation: Adam at 2e-4 with beta1 0.5, constant for half the steps, then linearly to
    0; one note (pair) per step."""
    return LoopOptions(batch_size=1, learning_rate=2e-4, final_learning_rate=0.0, schedule="linear",
                       decay_start=0.5, betas=(0.5, 0.999), checkpoint_every=200)


@dataclass
class GanTrainingOptions:
    """What every GAN trainer takes: ``data`` (an NSynth-format dataset), ``out`` (the run folder), the two
    ``domains``, the spectrogram config, the discriminator's widths, an optional random crop of the notes to
    ``crop_frames`` frames in training (None: whole notes), and the loop."""

    data: Path
    out: Path
    domains: DomainSelection
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)
    discriminator_channels: tuple[int, ...] = (16, 32, 64, 128)
    crop_frames: int | None = None
    loop: LoopOptions = field(default_factory=gan_loop)
    device: str = "cpu"
    resume: bool = False

    def __post_init__(self) -> None:
        if self.crop_frames is not None and self.crop_frames < 32:
            raise InputError(f"crop_frames must be >= 32, got {self.crop_frames}")

    def loss_weights(self) -> dict[str, float]:
        """The method's loss weights by name (for the fingerprint and the model's metadata)."""
        return {}


class GanTask:
    """Training task (see :class:`spectrostyle.train.loop.TrainingTask`) of a :class:`GanModel`."""

    def __init__(self, model: GanModel, fingerprint: dict[str, Any]):
        self.model = model
        self.term_names = model.term_names
        self._fingerprint = fingerprint

    def losses(self, forward, content: Tensor, generator: torch.Generator) -> dict[str, Tensor]:
        return forward(content, generator)

    def samples(self, val: Tensor, count: int) -> list[Sample]:
        """Each direction's result on the first ``count`` held-out pairs (content indices: A notes first)."""
        samples = []
        for direction in self.model.directions():
            side = 0 if direction == "a2b" else 1
            for i in range(count):
                content = val[i:i + 1, side:side + 1]
                samples.append(Sample(content=content, styles=[], result=self.model.translate(content, direction),
                                      content_index=i + side * len(val)))
        return samples

    def fingerprint(self) -> dict[str, Any]:
        return self._fingerprint

    def state_dict(self) -> dict[str, Any]:
        return self.model.pool_state()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_pool_state(state)


def train_gan(options: GanTrainingOptions, method: str, build: Callable[[SpectrogramConfig], GanModel], *,
              paired: bool) -> dict[str, Any]:
    """Train the :class:`GanModel` that ``build(config)`` makes on the domains of ``options``.

    Writes to ``options.out``: ``model.json``/``model.safetensors`` (the generators only; the domains, held-out
    pitches and training record in the metadata), ``checkpoint.pt`` (everything: generators, discriminators,
    optimiser, image pools), ``metrics.csv`` and ``metrics.png``, ``samples/`` and ``report.json``. Runs unchanged
    under torchrun. Returns the report.
    """
    started, settings, device, dist_ctx = begin_run(options)  # a resume that changes the run is refused
    loop = options.loop
    config = options.spectrogram
    notes = load_domain_notes(options.data, options.domains, config, paired=paired, seed=loop.seed,
                              crop_frames=options.crop_frames, progress=loop.progress and dist_ctx.is_main)
    seed_everything(loop.seed)
    model = build(config)
    domains = describe_options(options.domains)
    fingerprint = {"architecture": model.generators.config_dict(),
                   "discriminator": list(options.discriminator_channels), "weights": options.loss_weights(),
                   "domains": domains, "data": str(options.data),
                   "crop_frames": options.crop_frames, "batch_size": loop.batch_size, "seed": loop.seed,
                   "steps": loop.steps, "learning_rate": [loop.learning_rate, loop.final_learning_rate],
                   "schedule": [loop.schedule, loop.decay_start, list(loop.betas)]}
    summary = fit(GanTask(model, fingerprint), notes, options.out, loop, config=config, method=method, device=device,
                  resume=options.resume, dist_ctx=dist_ctx, settings=settings)
    report = {"steps": summary.steps, "final_val_loss": summary.final_val_total,
              "seconds_per_step": summary.seconds_per_step, "seconds": time.perf_counter() - started,
              "notes": notes.description, "held_out_pitches": notes.held_out, "val_notes": notes.val_names,
              "options": describe_options(options)}
    a, b = options.domains.domain_a, options.domains.domain_b
    metadata = {"name": options.out.name, "domain_a": a, "domain_b": b,
                "directions": {d: f"{a} -> {b}" if d == "a2b" else f"{b} -> {a}" for d in model.directions()},
                "held_out_pitches": notes.held_out, "pitches": domains["pitches"],
                "velocities": domains["velocities"], "data": options.data.name,
                "trained_on": f"FluidR3 GM: {notes.description}", "steps": summary.steps,
                "final_val_loss": summary.final_val_total, "loss_weights": options.loss_weights()}
    finish_run(model.generators, options.out, metadata, report, dist_ctx)
    return report

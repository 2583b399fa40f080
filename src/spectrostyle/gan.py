"""What CycleGAN and pix2pix share: instrument domains and their notes, the PatchGAN discriminator, the
least-squares adversarial loss, the image pool, the translation method, the training driver and the
evaluation on held-out pitches.

- Domains: a domain is a family (``flute``) or one instrument (``keyboard_acoustic_000``) of an NSynth-format
  dataset, within a pitch range and set of velocities (:class:`DomainSelection`). Every ``hold_out_every``-th
  pitch of the domains is held out of training, so quality is measured on pitches the networks never saw; the
  held-out pitches are recorded in the model's metadata. pix2pix trains on exact pairs: a domain-A note and a
  domain-B note of the same pitch and velocity (NSynth-style data renders every instrument at the same pitches
  and velocities).
- Training: generators and discriminators sit in one module (:class:`GanModel`) whose ``forward`` returns every
  loss term per note. The generators' adversarial terms go through the discriminators with their parameters
  detached (:func:`frozen`), and the discriminators' terms see the generated images detached, so one backward
  pass of the sum gives each network the gradients of its own objective, and one Adam step updates both: the
  same updates as the reference's alternating G then D steps (whose D step also uses the images made before the
  G step). So :func:`spectrostyle.feedforward.fit` trains GANs unchanged: checkpoints, exact ``--resume`` (image
  pools included), seeds, progress, samples, loss curves and torchrun/DDP.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from spectrostyle.errors import InputError
from spectrostyle.fast import instance_norm
from spectrostyle.feedforward import (
    LoopOptions,
    NetworkMethod,
    NetworkOptions,
    Sample,
    TrainingNotes,
    describe_options,
    finish_run,
    fit,
)
from spectrostyle.models import SpectrogramModel
from spectrostyle.spectrogram import SpectrogramConfig
from spectrostyle.training import Distributed, resolve_device, seed_everything

DIRECTIONS = ("a2b", "b2a")


# ------------------------------------------------------------------------------------------------ networks


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


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator (Isola et al.): ``(B, in_channels, F, T)`` -> a map of real/fake scores
    ``(B, 1, ~F/8, ~T/8)``, each judging one patch (70 x 70 pixels with the default four levels).

    4 x 4 convolutions: the first ``len(channels) - 1`` with stride 2, the last with stride 1, then one to a
    single channel; instance norm on all but the first, LeakyReLU(0.2). No output squashing (least squares).
    """

    def __init__(self, in_channels: int = 1, channels: Sequence[int] = (16, 32, 64, 128)):
        super().__init__()
        if len(channels) < 2 or any(c < 1 for c in channels):
            raise InputError(f"discriminator channels must be two or more positive widths, got {tuple(channels)}")
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for k, (a, b) in enumerate(zip(channels, channels[1:], strict=False)):
            stride = 2 if k < len(channels) - 2 else 1
            layers += [nn.Conv2d(a, b, 4, stride, 1), instance_norm(b), nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(channels[-1], 1, 4, 1, 1))
        self.layers = nn.Sequential(*layers)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):  # the reference's initialisation: N(0, 0.02), zero bias
                nn.init.normal_(module.weight, 0.0, 0.02)
                nn.init.zeros_(module.bias)

    def forward(self, images: Tensor) -> Tensor:
        return self.layers(images)


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


# ------------------------------------------------------------------------------------------------- domains


@dataclass
class DomainSelection:
    """The two domains of a translation and which of their notes train it.

    ``domain_a``/``domain_b``: a family name or an ``instrument_str`` of the dataset; ``pitches``: inclusive MIDI
    range for both (None = all); ``velocities`` (None = all); every ``hold_out_every``-th of the domains' distinct
    pitches (sorted; the 4th, 8th, ... with 4) is held out of training, or the ``hold_out_pitches`` named (e.g. the
    same test pitches in a denser dataset); ``val_notes``: held-out notes (or pairs)
    per domain for the validation loss and the samples; ``max_notes``: a seeded subset of at most this many
    training notes per domain.
    """

    domain_a: str
    domain_b: str
    pitches: tuple[int, int] | None = None
    velocities: tuple[int, ...] | None = None
    hold_out_every: int = 4
    val_notes: int = 8
    max_notes: int | None = None
    hold_out_pitches: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.domain_a == self.domain_b:
            raise InputError(f"the two domains must differ (both are '{self.domain_a}')")
        if self.hold_out_every < 2:
            raise InputError(f"hold_out_every must be >= 2, got {self.hold_out_every}")
        if self.hold_out_pitches is not None and not self.hold_out_pitches:
            raise InputError("no held-out pitches given: name at least one")
        if self.val_notes < 1:
            raise InputError(f"val_notes must be >= 1, got {self.val_notes}")


def domain_index(index: Any, name: str) -> Any:
    """The notes of domain ``name`` in an :class:`~spectrostyle.data.NSynthIndex`: a family, else an instrument;
    :class:`InputError` naming what there is when neither."""
    from spectrostyle.render import FAMILIES

    if name in FAMILIES:
        return index.filter(families=name)
    if name in index.instruments:
        return index.filter(instruments=name)
    raise InputError(f"domain '{name}' is neither a family ({', '.join(FAMILIES)}) nor an instrument of "
                     f"'{index.root}' (e.g. {', '.join(index.instruments[:3])})")


def held_out_pitches(pitches: Sequence[int], every: int) -> list[int]:
    """Every ``every``-th of the sorted distinct ``pitches``, starting with the ``every``-th."""
    distinct = sorted(set(pitches))
    return distinct[every - 1::every]


@dataclass
class DomainNotes(TrainingNotes):
    """Notes of two domains as cached images ``(N, 1, F, T)`` float16: ``train`` holds domain A's training notes
    (an epoch is one pass over them), ``train_b`` domain B's; with ``partners`` (pix2pix), the B notes of the same
    pitch and velocity as each A note, else any B note goes with any A note. ``val`` ``(n, 2, F, T)``: held-out
    (A, B) pairs; ``val_names``/``val_paths`` list their A notes, then their B notes."""

    train_b: Tensor = field(default_factory=lambda: torch.zeros(0))
    partners: list[list[int]] | None = None
    held_out: list[int] = field(default_factory=list)
    crop_frames: int | None = None

    def train_batch(self, indices: Sequence[int], generator: torch.Generator) -> Tensor:
        """``(b, 2, F, T)``: the A notes at ``indices``, each with a B note drawn with ``generator`` (its partner,
        or any), cut to a random ``crop_frames`` window when set (the same for both)."""
        picks = []
        for i in indices:
            choices = self.partners[i] if self.partners is not None else range(len(self.train_b))
            picks.append(choices[int(torch.randint(0, len(choices), (), generator=generator))])
        batch = torch.cat([self.train[list(indices)], self.train_b[picks]], dim=1)
        if self.crop_frames is not None and self.crop_frames < batch.shape[-1]:
            start = int(torch.randint(0, batch.shape[-1] - self.crop_frames + 1, (), generator=generator))
            batch = batch[..., start:start + self.crop_frames]
        return batch


def load_domain_notes(data: Path, selection: DomainSelection, config: SpectrogramConfig, *, paired: bool,
                      seed: int = 0, crop_frames: int | None = None, progress: bool = False) -> DomainNotes:
    """Select, split and load the notes of two domains (see :class:`DomainSelection`, :class:`DomainNotes`);
    with ``paired``, only A notes that have a B note of the same pitch and velocity. :class:`InputError` when a
    side of the split is empty."""
    from spectrostyle.classifier import note_images
    from spectrostyle.data import NSynthIndex

    index = NSynthIndex.load(data).filter(pitches=selection.pitches, velocities=selection.velocities)
    sides = [list(domain_index(index, name)) for name in (selection.domain_a, selection.domain_b)]
    for name, notes in zip((selection.domain_a, selection.domain_b), sides, strict=True):
        if not notes:
            raise InputError(f"no notes of domain '{name}' in '{data}' within the chosen pitches and velocities")
    pitches_there = sorted({e.pitch for side in sides for e in side})
    if selection.hold_out_pitches is not None:
        missing = sorted(set(selection.hold_out_pitches) - set(pitches_there))
        if missing:
            raise InputError(f"held-out pitch(es) {', '.join(map(str, missing))} not among the domains' pitches "
                             f"in '{data}': {pitches_there}")
        held = sorted(set(selection.hold_out_pitches))
    else:
        held = held_out_pitches(pitches_there, selection.hold_out_every)
    if not held:
        raise InputError(f"too few pitches to hold every {selection.hold_out_every}th out: the domains have "
                         f"{pitches_there}")
    (train_a, train_b), (val_a, val_b) = ([[e for e in side if (e.pitch in held) == held_side] for side in sides]
                                          for held_side in (False, True))
    rng = random.Random(seed)
    if selection.max_notes is not None:
        train_a, train_b = (sorted(rng.sample(side, min(len(side), selection.max_notes)), key=lambda e: e.note_str)
                            for side in (train_a, train_b))

    def key(example: Any) -> tuple[int, int]:
        return example.pitch, example.velocity

    partners = None
    if paired:
        by_key: dict[tuple[int, int], list[int]] = {}
        for k, example in enumerate(train_b):
            by_key.setdefault(key(example), []).append(k)
        train_a = [e for e in train_a if key(e) in by_key]
        partners = [by_key[key(e)] for e in train_a]
        val_b_by_key: dict[tuple[int, int], list[Any]] = {}
        for example in val_b:
            val_b_by_key.setdefault(key(example), []).append(example)
        val_pairs = [(a, rng.choice(val_b_by_key[key(a)])) for a in val_a if key(a) in val_b_by_key]
        rng.shuffle(val_pairs)
        val_pairs = val_pairs[:selection.val_notes]
    else:
        val_a, val_b = (rng.sample(side, min(len(side), selection.val_notes)) for side in (val_a, val_b))
        val_pairs = list(zip(val_a, val_b, strict=False))
    what = "pairs of the same pitch and velocity" if paired else "notes"
    if not train_a or not train_b:
        raise InputError(f"no training {what} of '{selection.domain_a}' and '{selection.domain_b}' in '{data}' "
                         f"outside the held-out pitches {held}")
    if not val_pairs:
        raise InputError(f"no {what} of '{selection.domain_a}' and '{selection.domain_b}' at the held-out pitches "
                         f"{held} in '{data}' for validation")
    val_sides = [[pair[0] for pair in val_pairs], [pair[1] for pair in val_pairs]]
    everything = train_a + train_b + val_sides[0] + val_sides[1]
    images = note_images([e.audio_path for e in everything], config, progress=progress, desc="loading notes")
    n_a, n_b, n_val = len(train_a), len(train_b), len(val_pairs)
    val = torch.cat([images[n_a + n_b:n_a + n_b + n_val], images[n_a + n_b + n_val:]], dim=1)
    description = (f"{n_a} {selection.domain_a} and {n_b} {selection.domain_b} notes of {data.name} "
                   f"({'paired by pitch and velocity; ' if paired else ''}pitches "
                   f"{min(e.pitch for e in train_a + train_b)}-{max(e.pitch for e in train_a + train_b)} but "
                   f"{', '.join(map(str, held))}, which are held out)")
    return DomainNotes(train=images[:n_a], val=val, train_names=[e.note_str for e in train_a + train_b],
                       val_names=[e.note_str for side in val_sides for e in side],
                       val_paths=[e.audio_path for side in val_sides for e in side], description=description,
                       train_b=images[n_a:n_a + n_b], partners=partners, held_out=held, crop_frames=crop_frames)


# ------------------------------------------------------------------------------------------------ training


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
    """Training task (see :class:`spectrostyle.feedforward.TrainingTask`) of a :class:`GanModel`."""

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
    started = time.perf_counter()
    loop = options.loop
    device = resolve_device(options.device)
    dist_ctx = Distributed.from_environment(device)
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
                  resume=options.resume, dist_ctx=dist_ctx)
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


# ------------------------------------------------------------------------------------------------- method


@dataclass
class TranslationOptions(NetworkOptions):
    """Settings of a :class:`TranslationMethod`: ``direction`` ``a2b`` (the model's domain A to B, e.g. flute ->
    keyboard for ``flute-keyboard``) or ``b2a``."""

    model: str = "flute-keyboard"
    direction: str = "a2b"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.direction not in DIRECTIONS:
            raise InputError(f"direction must be one of {', '.join(DIRECTIONS)}, got '{self.direction}'")


class TranslationMethod(NetworkMethod):
    """Instrument-to-instrument translation by a trained generator (the shipped model of ``model_kind`` named
    by ``options.model``, or a path) in ``options.direction``; no style sound: the model is the style."""

    Options = TranslationOptions

    def domains(self) -> tuple[str, str]:
        """(domain A, domain B) of the loaded model."""
        metadata = getattr(self.model, "metadata", {})
        return str(metadata.get("domain_a", "domain A")), str(metadata.get("domain_b", "domain B"))

    def style_refusal(self) -> str:
        a, b = self.domains()
        return (f"a {self.name} model translates between its domains ({a} and {b}) and takes no style sound; "
                "give none, and choose the --direction")

    def network(self) -> Callable[[Tensor], Tensor]:
        direction = self.options.direction
        return lambda images: self.model(images, direction)


# --------------------------------------------------------------------------------------------- evaluation


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
        :data:`~spectrostyle.evaluation.PITCH_OFF_CENTS` off the input note, or unvoiced (NaN)."""
        from spectrostyle.evaluation import PITCH_OFF_CENTS

        return [r for r in self.notes if "f0_error_cents" in r and not r["f0_error_cents"] <= PITCH_OFF_CENTS]


def translation_quality(method: TranslationMethod, notes: Sequence[Any], target_family: str, *,
                        classifier: Any = None, f0_notes: int | None = None) -> TranslationQuality:
    """Translate ``notes`` (NSynth examples) with ``method`` and measure the outputs (see
    :class:`TranslationQuality`); f0 on the first ``f0_notes`` only (pYIN is slow; None: all)."""
    from spectrostyle.audio import load_audio
    from spectrostyle.classifier import classify
    from spectrostyle.evaluation import note_pitch_range, pitch_error_to_note_cents
    from spectrostyle.registry import load_named_model
    from spectrostyle.spectrogram import Spectrogram
    from spectrostyle.transfer import transfer

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
    from spectrostyle.spectrogram import image_to_magnitude

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
    from spectrostyle.render import FAMILIES, NSYNTH_VELOCITIES, render_dataset

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
    from spectrostyle.data import NSynthIndex

    index = NSynthIndex.load(data).filter(velocities=metadata.get("velocities"))
    held = set(metadata["held_out_pitches"])
    return [e for e in domain_index(index, domain) if e.pitch in held]


def family_of(domain: str, examples: Sequence[Any]) -> str:
    """The family of a domain name (a family, or an instrument whose notes are ``examples``)."""
    from spectrostyle.render import FAMILIES

    if domain in FAMILIES:
        return domain
    families = {e.instrument_family_str for e in examples}
    if len(families) != 1:
        raise InputError(f"cannot tell the family of domain '{domain}' from its notes ({sorted(families)})")
    return families.pop()

"""The step loop shared by the Fast, AdaIN, CycleGAN and pix2pix trainers."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor, nn
from tqdm import tqdm

from spectrostyle.core.audio import atomic_output, load_audio, save_audio
from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import Spectrogram, SpectrogramConfig, griffin_lim, stft_phase
from spectrostyle.data.selection import TrainingNotes
from spectrostyle.train.runtime import (
    Distributed,
    MetricsLog,
    autocast,
    check_precision,
    epoch_generator,
    load_checkpoint,
    prepare_out_dir,
    save_checkpoint,
    seed_everything,
    settings_changes,
    shard,
)

SAMPLE_PHASE_ITERATIONS = 32


SCHEDULES = ("cosine", "linear")


@dataclass
class LoopOptions:
    """Settings of :func:`fit`. ``batch_size`` is per process; the learning rate falls from ``learning_rate`` to
    ``final_learning_rate`` along a cosine over ``steps`` (``schedule="cosine"``), or stays at ``learning_rate``
    for the first ``decay_start`` of the steps and then falls linearly (``"linear"``, CycleGAN's schedule); Adam
    with ``betas``; a checkpoint, a metrics row and samples are written every ``checkpoint_every`` steps and at
    the end."""

    steps: int = 1000
    batch_size: int = 4
    learning_rate: float = 1e-3
    final_learning_rate: float = 1e-4
    checkpoint_every: int = 100
    samples: int = 2
    seed: int = 0
    progress: bool = True
    schedule: str = "cosine"
    decay_start: float = 0.5
    betas: tuple[float, float] = (0.9, 0.999)
    precision: str = "fp32"  # a key of training.PRECISIONS: "bf16" runs the losses (networks included) under autocast

    def __post_init__(self) -> None:
        check_precision(self.precision)
        for name in ("steps", "batch_size", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.learning_rate <= 0 or self.final_learning_rate < 0:
            raise InputError("learning rates must be positive")
        if self.schedule not in SCHEDULES:
            raise InputError(f"schedule must be one of {', '.join(SCHEDULES)}, got '{self.schedule}'")
        if not 0.0 <= self.decay_start < 1.0:
            raise InputError(f"decay_start must be in [0, 1), got {self.decay_start}")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise InputError(f"betas must be two numbers in [0, 1), got {self.betas}")

    def learning_rate_at(self, step: int) -> float:
        progress = min(1.0, step / max(1, self.steps - 1))
        if self.schedule == "linear":
            decay = max(0.0, progress - self.decay_start) / (1.0 - self.decay_start)
            return self.learning_rate + (self.final_learning_rate - self.learning_rate) * decay
        return self.final_learning_rate + 0.5 * (self.learning_rate - self.final_learning_rate) * (
            1 + math.cos(math.pi * progress))


@dataclass
class Sample:
    """One sample for the progress files: content and style images ``(1, 1, F, T)`` and the result."""

    content: Tensor
    styles: list[Tensor]
    result: Tensor
    content_index: int


class TrainingTask(Protocol):
    """What :func:`fit` needs from a trainer."""

    model: nn.Module  # the trainable network (saved at the end)
    term_names: tuple[str, ...]  # names of the loss terms, as logged

    def losses(self, forward: Callable[[Tensor], Tensor], content: Tensor, generator: torch.Generator
               ) -> dict[str, Tensor]:
        """Loss terms ``(B,)`` by name (weighted; their sum is minimised) for content images ``(B, 1, F, T)``;
        ``forward`` is the (maybe DDP-wrapped) model; ``generator`` seeds any random choice of this step."""

    def samples(self, val: Tensor, count: int) -> list[Sample]:
        """Results on ``count`` held-out images, for the progress files."""

    def fingerprint(self) -> dict[str, Any]:
        """What a run's checkpoint must agree with to be resumed (architecture, style, loss weights)."""


@dataclass
class FitSummary:
    steps: int
    final_val_total: float
    seconds_per_step: float
    rows: list[dict[str, str]] = field(default_factory=list)


def _mean_terms(task: TrainingTask, images: Tensor, device: torch.device, batch_size: int, seed: int
                ) -> dict[str, float]:
    """Loss terms averaged over ``images`` (no gradients; fixed generator, so the same every time)."""
    sums = {name: 0.0 for name in task.term_names}
    generator = torch.Generator().manual_seed(seed)
    task.model.eval()
    with torch.no_grad():
        for first in range(0, len(images), batch_size):
            batch = images[first:first + batch_size].to(device, torch.float32).contiguous(
                memory_format=torch.channels_last)
            terms = task.losses(task.model, batch, generator)
            for name in task.term_names:
                sums[name] += float(terms[name].sum())
    task.model.train()
    means = {name: total / len(images) for name, total in sums.items()}
    means["total"] = sum(means.values())
    return means


def write_samples(samples: Sequence[Sample], notes: TrainingNotes, config: SpectrogramConfig, folder: Path,
                  step: int, method: str) -> None:
    """``folder/step-NNNNNN-K.png`` (content | style | result) and ``.wav`` (Griffin-Lim warm-started from the
    content's phase) for each sample."""
    from spectrostyle.core.audio import limit_peak
    from spectrostyle.pipeline import TransferResult, comparison_png

    folder.mkdir(exist_ok=True)
    for k, sample in enumerate(samples):
        audio_in = load_audio(notes.val_paths[sample.content_index], sample_rate=config.sample_rate)
        content = Spectrogram.from_audio(audio_in, config)
        frames = content.image.shape[-1]
        image = sample.result[0, 0, :, :frames].detach().cpu().float().clamp(0, 1)
        result = Spectrogram(image=image, gain_db=content.gain_db, num_samples=content.num_samples, config=config)
        phase = stft_phase(torch.as_tensor(audio_in), config, num_frames=frames)
        audio = limit_peak(griffin_lim(result.magnitude(), config, n_iter=SAMPLE_PHASE_ITERATIONS, init=phase,
                                       num_samples=content.num_samples).numpy())
        styles = [Spectrogram(s[0, 0].detach().cpu().float(), 0.0, config.padded_samples(s.shape[-1]), config)
                  for s in sample.styles]
        stem = folder / f"step-{step:06d}-{k}"
        comparison_png(TransferResult(audio=audio, spectrogram=result, method=f"{method}, step {step}", settings={},
                                      content=content, styles=styles), stem.with_suffix(".png"))
        save_audio(stem.with_suffix(".wav"), audio, sample_rate=config.sample_rate)


def fit(task: TrainingTask, notes: TrainingNotes, out_dir: Path, loop: LoopOptions, *, config: SpectrogramConfig,
        method: str, device: torch.device, resume: bool = False, dist_ctx: Distributed | None = None,
        settings: dict[str, Any] | None = None) -> FitSummary:
    """Train ``task.model`` on ``notes.train`` for ``loop.steps`` steps (see the module docstring). ``settings``
    (:func:`~spectrostyle.train.runtime.run_settings` of the trainer's options) are recorded in ``run.json``, and a
    resume with others is refused.

    Writes to ``out_dir``: ``checkpoint.pt`` (resume state), ``metrics.csv`` (a row per checkpoint: train terms
    averaged since the last row and over ranks, validation terms on ``notes.val``) and ``metrics.png`` (its loss
    curves), ``samples/``. The model is left in eval mode with the last step's weights.
    """
    dist_ctx = dist_ctx or Distributed()
    if dist_ctx.is_main:
        prepare_out_dir(out_dir, resume, settings)
    dist_ctx.barrier()
    seed_everything(loop.seed)
    model = task.model.to(device, memory_format=torch.channels_last)  # faster convolutions on CPU
    model.train()
    wrapped = dist_ctx.wrap(model, device)
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=loop.learning_rate,
                                 betas=tuple(loop.betas))
    fields = ["step", "epoch", "train_total", *[f"train_{n}" for n in task.term_names], "val_total",
              *[f"val_{n}" for n in task.term_names], "learning_rate", "seconds_per_step"]
    metrics = MetricsLog(out_dir / "metrics.csv", fields, key="step")
    fingerprint = json.dumps(task.fingerprint(), sort_keys=True, default=str)
    step = 0
    state = load_checkpoint(out_dir) if resume else None
    if state is not None:
        if state.get("fingerprint") != fingerprint:
            changes = settings_changes(json.loads(state.get("fingerprint") or "{}"), json.loads(fingerprint))
            raise InputError(f"the run in '{out_dir}' was started with other settings: {'; '.join(changes)}. A "
                             "resume continues the run as it started: give its settings, or train anew in another "
                             "--out")
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step = int(state["step"])
        if state.get("task") is not None:  # one per process of the run
            task.load_state_dict(state["task"][min(dist_ctx.rank, len(state["task"]) - 1)])
        if dist_ctx.is_main:
            metrics.truncate_after(step)
    per_rank = len(shard(list(range(len(notes.train))), dist_ctx))
    if per_rank < 1:
        raise InputError(f"{len(notes.train)} training notes cannot be shared among {dist_ctx.world_size} processes")
    steps_per_epoch = math.ceil(per_rank / loop.batch_size)
    order_epoch, order = -1, []
    sums = torch.zeros(len(task.term_names) + 1)
    counted, interval_started, steps_in_interval = 0, time.perf_counter(), 0
    seconds_per_step = float("nan")
    bar = tqdm(total=loop.steps, initial=step, desc=f"train {method}", leave=False,
               disable=not (loop.progress and dist_ctx.is_main))
    val_total = float("nan")
    while step < loop.steps:
        epoch, position = divmod(step, steps_per_epoch)
        if epoch != order_epoch:
            order_epoch = epoch
            order = shard(torch.randperm(len(notes.train), generator=epoch_generator(loop.seed, epoch)).tolist(),
                          dist_ctx)
        indices = order[position * loop.batch_size:(position + 1) * loop.batch_size]
        generator = torch.Generator().manual_seed(loop.seed * 1_000_003 + step * 7_919 + dist_ctx.rank)
        for group in optimiser.param_groups:
            group["lr"] = loop.learning_rate_at(step)
        content = notes.train_batch(indices, generator).to(device, torch.float32).contiguous(
            memory_format=torch.channels_last)
        with autocast(device, loop.precision):
            terms = task.losses(wrapped, content, generator)
        per_note = torch.stack([terms[name].float() for name in task.term_names])  # (terms, B)
        objective = per_note.sum(0).mean()
        optimiser.zero_grad(set_to_none=True)
        objective.backward()
        optimiser.step()
        step += 1
        steps_in_interval += 1
        with torch.no_grad():
            sums += torch.cat([per_note.sum(1), per_note.sum().reshape(1)]).detach().cpu()
        counted += len(indices)
        bar.update(1)
        bar.set_postfix(loss=f"{float(objective.detach()):.4g}")
        if step % loop.checkpoint_every and step != loop.steps:
            continue
        seconds_per_step = (time.perf_counter() - interval_started) / steps_in_interval
        totals = dist_ctx.sum(torch.cat([sums, torch.tensor([float(counted)])]))
        means = (totals[:-1] / totals[-1]).tolist()
        task_states = dist_ctx.gather(task.state_dict()) if hasattr(task, "state_dict") else None
        if dist_ctx.is_main:
            val = _mean_terms(task, notes.val, device, loop.batch_size, loop.seed)
            val_total = val["total"]
            row: dict[str, Any] = {"step": step, "epoch": epoch, "train_total": means[-1],
                                   **{f"train_{n}": v for n, v in zip(task.term_names, means, strict=False)},
                                   "val_total": val_total, **{f"val_{n}": val[n] for n in task.term_names},
                                   "learning_rate": loop.learning_rate_at(step - 1),
                                   "seconds_per_step": seconds_per_step}
            metrics.append(row)
            plot_metrics(metrics.rows(), task.term_names, out_dir / "metrics.png", method)
            if loop.samples:
                model.eval()
                with torch.no_grad():
                    samples = task.samples(notes.val.to(device, torch.float32), min(loop.samples, len(notes.val)))
                model.train()
                write_samples(samples, notes, config, out_dir / "samples", step, method)
            save_checkpoint(out_dir, {"model": model.state_dict(), "optimiser": optimiser.state_dict(), "step": step,
                                      "fingerprint": fingerprint, "task": task_states})
            if loop.progress:
                tqdm.write(f"step {step}/{loop.steps}: train loss {means[-1]:.4g} | validation {val_total:.4g} | "
                           f"{seconds_per_step:.2f} s/step")
        dist_ctx.barrier()
        sums.zero_()
        counted, interval_started, steps_in_interval = 0, time.perf_counter(), 0
    bar.close()
    if dist_ctx.is_main and math.isnan(val_total):  # resumed a finished run: nothing trained, still report
        val_total = _mean_terms(task, notes.val, device, loop.batch_size, loop.seed)["total"]
    model.eval()
    return FitSummary(steps=step, final_val_total=val_total, seconds_per_step=seconds_per_step,
                      rows=metrics.rows() if dist_ctx.is_main else [])


def plot_metrics(rows: Sequence[dict[str, str]], term_names: Sequence[str], path: Path, method: str) -> Path:
    """Loss curves of a ``metrics.csv``: each training term (solid) and its validation value (dashed) against
    the step, on a log scale, written atomically as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = [int(row["step"]) for row in rows]
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for k, name in enumerate(term_names):
        train = [abs(float(row[f"train_{name}"])) for row in rows]
        if not any(train):
            continue  # a term switched off
        colour = f"C{k % 10}"
        axis.plot(steps, train, color=colour, label=name, marker="." if len(rows) < 30 else None)
        axis.plot(steps, [abs(float(row[f"val_{name}"])) for row in rows], color=colour, linestyle="--")
    axis.set_yscale("log")
    axis.set_xlabel("step")
    axis.set_title(f"{method}: training (solid) and validation (dashed) loss terms")
    axis.legend(fontsize=8, ncol=2)
    figure.tight_layout()
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=90)
    plt.close(figure)
    return path


TRAINING_RECORD_SKIP = ("progress", "checkpoint_every", "samples")  # loop options that do not change the weights


def finish_run(model: nn.Module, out_dir: Path, metadata: dict[str, Any], report: dict[str, Any],
               dist_ctx: Distributed) -> None:
    """Write ``model.json``/``model.safetensors`` (``metadata`` plus ``training``: the loop options of
    ``report["options"]["loop"]`` that shape the weights) and ``report.json`` (main process), and under DDP a
    ``rankN.json`` with each process's parameter checksum (they must agree); then leave the process group."""
    from spectrostyle.store import save_model
    from spectrostyle.train.classifier import parameter_checksum

    checksum = parameter_checksum(model)
    if dist_ctx.enabled:
        with atomic_output(out_dir / f"rank{dist_ctx.rank}.json") as tmp:
            tmp.write_text(json.dumps({"rank": dist_ctx.rank, "parameter_sha256": checksum}))
    loop = report.get("options", {}).get("loop")
    if loop:  # how it was trained, in the model file itself
        metadata = {**metadata, "training": {k: v for k, v in loop.items() if k not in TRAINING_RECORD_SKIP}}
    if dist_ctx.is_main:
        save_model(model.cpu(), out_dir / "model", metadata=metadata)
        with atomic_output(out_dir / "report.json") as tmp:
            tmp.write_text(json.dumps({**report, "parameter_sha256": checksum, "world_size": dist_ctx.world_size},
                                      indent=2, default=str) + "\n")
    dist_ctx.close()


def model_record(name: str, kind: str) -> dict[str, Any]:
    """``{"name", "sha256"}`` of a shipped model or model path (the checksum of its weights file, from its JSON),
    as recorded by a trainer that depends on it; ``"random"`` (the random 1-D CNN) has no weights file."""
    from spectrostyle.store import read_description, resolve_model

    if name == "random" and kind == "audio_cnn":
        return {"name": name, "sha256": None}
    return {"name": str(name), "sha256": read_description(resolve_model(name, kind))["sha256"]}


def describe_options(options: Any) -> dict[str, Any]:
    """A JSON-able record of a (nested) options dataclass (paths as strings)."""
    from dataclasses import asdict

    def convert(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    return convert(asdict(options))

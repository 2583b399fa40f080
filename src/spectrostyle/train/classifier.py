"""Training the audio CNN as an instrument-family classifier."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from tqdm import tqdm

from spectrostyle.core.audio import atomic_output
from spectrostyle.core.device import resolve_device
from spectrostyle.core.errors import InputError
from spectrostyle.core.metrics import confusion_matrix
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.core.vocabulary import DEFAULT_FAMILIES
from spectrostyle.data.selection import extra_training_notes, note_images, split_instruments
from spectrostyle.eval.classify import plot_confusion_matrix
from spectrostyle.nets.audio_cnn import AudioCNN, AudioCNNConfig
from spectrostyle.store import save_model
from spectrostyle.train.runtime import (
    Distributed,
    MetricsLog,
    autocast,
    check_precision,
    check_resume,
    epoch_generator,
    load_checkpoint,
    prepare_out_dir,
    run_settings,
    save_checkpoint,
    seed_everything,
    shard,
)

METRIC_FIELDS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")


def augment(images: Tensor, generator: torch.Generator, max_shift: int = 8, max_level_drop: float = 0.15) -> Tensor:
    """Label-preserving augmentation of ``(B, 1, F, T)`` images: a small delay (0..max_shift frames, silence
    filled) and a level drop (the sound sits lower above the floor, as a quieter recording would)."""
    batch = images.shape[0]
    shifts = torch.randint(0, max_shift + 1, (batch,), generator=generator)
    drops = torch.rand(batch, generator=generator) * max_level_drop
    out = torch.zeros_like(images)
    for i in range(batch):
        shift = int(shifts[i])
        out[i, ..., shift:] = images[i, ..., : images.shape[-1] - shift]
    return (out - drops.view(-1, 1, 1, 1).to(images.dtype)).clamp_min(0.0)


def timbre_augment(images: Tensor, generator: torch.Generator, *, max_shift: int = 8,
                   max_level_drop: float = 0.15, max_semitones: float = 2.0, max_stretch: float = 1.25,
                   max_tilt_db: float = 12.0, bumps: int = 2, max_bump_db: float = 9.0, db_range: float = 80.0,
                   freq_masks: int = 1, max_freq_mask: int = 24, time_masks: int = 1, max_time_mask: int = 16
                   ) -> Tensor:
    """Stronger label-preserving augmentation of ``(B, 1, F, T)`` images in [0, 1] (``db_range`` dB per unit),
    meant to make the family generalise to instruments not heard in training: each image is
    resampled in frequency by up to ``max_semitones`` (a pitch and formant shift), in time by a factor up to
    ``max_stretch`` either way (a faster or slower envelope) and delayed by up to ``max_shift`` frames; an
    equaliser curve (a tilt of up to ``max_tilt_db`` across the band plus ``bumps`` smooth peaks or dips of up to
    ``max_bump_db``) changes the brightness of what sounds (silence stays silent); the level drops as in
    :func:`augment`; and bands of frequency and time are masked (SpecAugment)."""
    batch, _, freq, frames = images.shape
    dtype = images.dtype

    def uniform(low: float, high: float, *shape: int) -> Tensor:
        return low + (high - low) * torch.rand(*shape, generator=generator)

    pitch_ratio = 2.0 ** (uniform(-max_semitones, max_semitones, batch) / 12.0)
    stretch = max_stretch ** uniform(-1.0, 1.0, batch)
    shift = torch.randint(0, max_shift + 1, (batch,), generator=generator).float()
    # sampling grid in [-1, 1] (align_corners): output bin f reads input bin f / pitch_ratio, output frame t
    # reads input frame (t - shift) / stretch; outside the image reads the floor (0)
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = 1.0 / stretch
    theta[:, 0, 2] = 1.0 / stretch - 1.0 - 2.0 * shift / (frames - 1) / stretch
    theta[:, 1, 1] = 1.0 / pitch_ratio
    theta[:, 1, 2] = 1.0 / pitch_ratio - 1.0
    grid = nn.functional.affine_grid(theta, [batch, 1, freq, frames], align_corners=True)
    out = nn.functional.grid_sample(images.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    position = torch.linspace(0.0, 1.0, freq).view(1, freq)
    curve_db = uniform(-max_tilt_db, max_tilt_db, batch, 1) * (position - 0.5)
    for _ in range(bumps):
        centre, width = uniform(0.0, 1.0, batch, 1), uniform(0.03, 0.25, batch, 1)
        curve_db = curve_db + uniform(-max_bump_db, max_bump_db, batch, 1) * torch.exp(
            -0.5 * ((position - centre) / width) ** 2)
    level_db = uniform(0.0, max_level_drop * db_range, batch, 1)
    gain = ((curve_db - level_db) / db_range).view(batch, 1, freq, 1)
    sounding = out > 0
    out = torch.where(sounding, (out + gain).clamp(0.0, 1.0), out)
    for size, count, axis in ((max_freq_mask, freq_masks, 2), (max_time_mask, time_masks, 3)):
        length = out.shape[axis]
        for _ in range(count):
            widths = torch.randint(0, size + 1, (batch,), generator=generator)
            starts = (torch.rand(batch, generator=generator) * (length - widths)).long()
            index = torch.arange(length).view(1, length)
            mask = (index >= starts.view(-1, 1)) & (index < (starts + widths).view(-1, 1))
            shape = (batch, 1, length, 1) if axis == 2 else (batch, 1, 1, length)
            out = out.masked_fill(mask.view(shape), 0.0)
    return out.to(dtype)


AUGMENTATIONS = {"none": None, "light": augment, "timbre": timbre_augment}


@dataclass
class FitOptions:
    """Settings of :func:`fit_classifier`."""

    epochs: int = 30
    batch_size: int = 8  # small batches run fastest per image on CPU (cache-bound convolutions)
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 6
    seed: int = 0
    augmentation: str = "light"  # a key of AUGMENTATIONS
    precision: str = "fp32"  # a key of training.PRECISIONS
    progress: bool = True

    def __post_init__(self) -> None:
        check_precision(self.precision)


def _accuracy_and_loss(model: nn.Module, images: Tensor, labels: Tensor, device: torch.device,
                       batch_size: int = 64) -> tuple[float, float, Tensor]:
    """Accuracy, mean cross-entropy and predictions ``(N,)`` of ``model`` on a labelled set."""
    model.eval()
    predictions, losses = [], []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size].to(device, torch.float32)
            logits = model(batch)
            losses.append(nn.functional.cross_entropy(logits, labels[start:start + batch_size].to(device),
                                                      reduction="sum").cpu())
            predictions.append(logits.argmax(1).cpu())
    predicted = torch.cat(predictions)
    return float((predicted == labels).float().mean()), float(torch.stack(losses).sum()) / len(labels), predicted


def fit_classifier(model: AudioCNN, train: tuple[Tensor, Tensor], val: tuple[Tensor, Tensor], out_dir: Path,
                   options: FitOptions, *, device: torch.device, resume: bool = False,
                   dist_ctx: Distributed | None = None) -> dict[str, Any]:
    """Train ``model`` on ``train`` images/labels, validating on ``val`` each epoch, with early stopping.

    Each epoch writes ``out_dir/checkpoint.pt`` (resume state) and a row of ``metrics.csv``; the best
    epoch's weights stay in memory and are loaded into ``model`` at the end. Returns a summary dict.
    """
    dist_ctx = dist_ctx or Distributed()
    train_images, train_labels = train
    val_images, val_labels = val
    seed_everything(options.seed)
    model.to(device, memory_format=torch.channels_last)  # ~1.4x faster convolutions on CPU
    wrapped = dist_ctx.wrap(model, device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=options.learning_rate, weight_decay=options.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(train_images) // dist_ctx.world_size / options.batch_size))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=options.learning_rate,
                                                    total_steps=options.epochs * steps_per_epoch, pct_start=0.15)
    augmentation = AUGMENTATIONS[options.augmentation]
    metrics = MetricsLog(out_dir / "metrics.csv", METRIC_FIELDS)
    start_epoch, best_accuracy, best_epoch, stale_epochs = 0, -1.0, -1, 0
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    state = load_checkpoint(out_dir) if resume else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        best_state = state["best_model"]
        start_epoch, best_accuracy = int(state["epoch"]) + 1, float(state["best_accuracy"])
        best_epoch, stale_epochs = int(state["best_epoch"]), int(state["stale_epochs"])
        if dist_ctx.is_main:
            metrics.truncate_after(int(state["epoch"]))
    for epoch in range(start_epoch, options.epochs):
        if stale_epochs >= options.patience:
            break
        started = time.perf_counter()
        torch.manual_seed(options.seed * 1_000_003 + epoch)  # dropout: per-epoch seed, so resume replays exactly
        generator = epoch_generator(options.seed, epoch)
        order = shard(torch.randperm(len(train_images), generator=generator).tolist(), dist_ctx)
        aug_generator = epoch_generator(options.seed, epoch, rank=1 + dist_ctx.rank)
        wrapped.train()
        total_loss, correct, seen = torch.zeros(()), torch.zeros(()), torch.zeros(())
        batches = [order[i:i + options.batch_size] for i in range(0, len(order), options.batch_size)]
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{options.epochs}", leave=False,
                   disable=not (options.progress and dist_ctx.is_main))
        for batch_indices in bar:
            images = train_images[batch_indices].to(torch.float32)
            if augmentation is not None:
                images = augmentation(images, aug_generator)
            labels = train_labels[batch_indices].to(device)
            with autocast(device, options.precision):
                logits = wrapped(images.to(device).contiguous(memory_format=torch.channels_last))
                loss = nn.functional.cross_entropy(logits.float(), labels, label_smoothing=0.05)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if scheduler.last_epoch < scheduler.total_steps - 1:
                scheduler.step()
            total_loss += loss.detach().cpu() * len(batch_indices)
            correct += (logits.argmax(1) == labels).sum().cpu()
            seen += len(batch_indices)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        totals = dist_ctx.sum(torch.stack([total_loss, correct, seen]))
        val_accuracy, val_loss, _ = _accuracy_and_loss(model, val_images, val_labels, device)
        row = {"epoch": epoch, "train_loss": float(totals[0] / totals[2]),
               "train_accuracy": float(totals[1] / totals[2]),
               "val_loss": val_loss, "val_accuracy": val_accuracy, "learning_rate": scheduler.get_last_lr()[0],
               "seconds": time.perf_counter() - started}
        if val_accuracy > best_accuracy:
            best_accuracy, best_epoch, stale_epochs = val_accuracy, epoch, 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            stale_epochs += 1
        if dist_ctx.is_main:
            metrics.append(row)
            save_checkpoint(out_dir, {"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                                      "scheduler": scheduler.state_dict(), "best_model": best_state, "epoch": epoch,
                                      "best_accuracy": best_accuracy, "best_epoch": best_epoch,
                                      "stale_epochs": stale_epochs})
            if options.progress:
                tqdm.write(f"epoch {epoch + 1}: train loss {row['train_loss']:.3f} acc {row['train_accuracy']:.3f}"
                           f" | val loss {val_loss:.3f} acc {val_accuracy:.3f} | {row['seconds']:.0f} s")
        dist_ctx.barrier()
    model.load_state_dict(best_state)
    model.eval()
    return {"best_epoch": best_epoch, "best_val_accuracy": best_accuracy, "epochs_run": len(metrics.rows())}


def parameter_checksum(model: nn.Module) -> str:
    """SHA-256 of all trainable parameters (to check that DDP ranks agree)."""
    digest = hashlib.sha256()
    for name, parameter in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(parameter.detach().cpu().float().numpy().tobytes())
    return digest.hexdigest()


@dataclass
class ClassifierTrainingOptions:
    """Everything ``spectrostyle train classifier`` takes."""

    data: Path
    out: Path
    families: tuple[str, ...] = DEFAULT_FAMILIES
    # more renderings (e.g. another SoundFont) of the same instruments: training notes only, and only of the
    # instruments ``data`` puts in training, so the validation and test instruments stay unheard in every rendering
    extra_data: tuple[Path, ...] = ()
    width: float = 0.125
    batch_norm: bool = True
    pitch_head: bool = False
    val_instruments_per_family: int = 1
    test_instruments_per_family: int = 1
    fold: int = 0
    device: str = "cpu"
    resume: bool = False
    fit: FitOptions = field(default_factory=FitOptions)


def train_classifier(options: ClassifierTrainingOptions) -> dict[str, Any]:
    """The classifier recipe: split by instrument, fit, test on unseen instruments, write model and report.

    Writes to ``options.out``: ``model.json``/``model.safetensors`` (best epoch), ``checkpoint.pt``,
    ``metrics.csv``, ``confusion_test.png``, ``report.json``. Returns the report.
    """
    from spectrostyle.data.nsynth import NSynthIndex

    started = time.perf_counter()
    settings = run_settings(options)
    check_resume(options.out, options.resume, settings)  # before any work: a resume must not change the run
    device = resolve_device(options.device)
    dist_ctx = Distributed.from_environment(device)
    config = SpectrogramConfig()
    index = NSynthIndex.load(options.data)
    present = sorted({e.instrument_family_str for e in index.examples})
    missing = [f for f in options.families if f not in present]
    if missing:
        raise InputError(f"families not in '{options.data}': {', '.join(missing)} (present: {', '.join(present)})")
    splits = split_instruments(index.examples, options.families, options.val_instruments_per_family,
                               options.test_instruments_per_family, options.fit.seed, options.fold)
    extra_notes = extra_training_notes(options.extra_data, splits, options.families)
    if dist_ctx.is_main:  # only once the input is known to be good: a bad one leaves no empty run folder
        prepare_out_dir(options.out, options.resume, settings)
    dist_ctx.barrier()
    splits["train"] += extra_notes
    label_of = {family: i for i, family in enumerate(options.families)}
    tensors = {}
    for name, examples in splits.items():
        images = note_images([e.audio_path for e in examples], config, progress=options.fit.progress and
                             dist_ctx.is_main, desc=f"loading {name} notes")
        labels = torch.tensor([label_of[e.instrument_family_str] for e in examples])
        tensors[name] = (images, labels)
    seed_everything(options.fit.seed)  # the initial weights too
    model = AudioCNN(AudioCNNConfig(class_names=tuple(options.families), width=options.width,
                                    batch_norm=options.batch_norm, pitch_head=options.pitch_head,
                                    spectrogram=config))
    summary = fit_classifier(model, tensors["train"], tensors["val"], options.out, options.fit, device=device,
                             resume=options.resume, dist_ctx=dist_ctx)
    test_accuracy, test_loss, predicted = _accuracy_and_loss(model, *tensors["test"], device)
    matrix = confusion_matrix(tensors["test"][1], predicted, len(options.families))
    per_class = {family: float(matrix[i, i] / max(1, matrix[i].sum())) for i, family in enumerate(options.families)}
    report = {
        **summary,
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "test_per_family_recall": per_class,
        "confusion_matrix": matrix.tolist(),
        "families": list(options.families),
        "notes": {name: len(examples) for name, examples in splits.items()},
        "extra_training_notes": len(extra_notes),
        "instruments": {name: sorted({e.instrument_str for e in examples}) for name, examples in splits.items()},
        "seconds": time.perf_counter() - started,
        "world_size": dist_ctx.world_size,
        "parameter_sha256": parameter_checksum(model),
        "options": {k: (str(v) if isinstance(v, Path) else [str(p) for p in v] if k == "extra_data" else v)
                    for k, v in asdict(options).items()},
    }
    if dist_ctx.enabled:
        with atomic_output(options.out / f"rank{dist_ctx.rank}.json") as tmp:
            tmp.write_text(json.dumps({"rank": dist_ctx.rank, "parameter_sha256": report["parameter_sha256"],
                                       "best_val_accuracy": summary["best_val_accuracy"],
                                       "test_accuracy": test_accuracy}))
    if dist_ctx.is_main:
        trained_on = (f"FluidR3 GM notes, families {', '.join(options.families)}; "
                      f"{len(splits['train'])} training notes from {len(report['instruments']['train'])} instruments")
        if extra_notes:
            trained_on += (f" ({len(extra_notes)} of them from other renderings: "
                           f"{', '.join(Path(root).name for root in options.extra_data)})")
        save_model(model.cpu(), options.out / "model", metadata={
            "name": options.out.name, "trained_on": trained_on, "test_accuracy_unseen_instruments": test_accuracy,
            "held_out_instruments": report["instruments"]["test"], "best_epoch": summary["best_epoch"],
            "seed": options.fit.seed, "fold": options.fold,
            "training": {k: v for k, v in asdict(options.fit).items() if k != "progress"}})
        plot_confusion_matrix(matrix, options.families, options.out / "confusion_test.png",
                              f"test (unseen instruments): accuracy {test_accuracy:.1%}")
        with atomic_output(options.out / "report.json") as tmp:
            tmp.write_text(json.dumps(report, indent=2) + "\n")
    dist_ctx.close()
    return report

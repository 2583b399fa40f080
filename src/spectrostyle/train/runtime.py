"""Shared training machinery: seeds, devices, torchrun/DDP, resumable checkpoints, metrics CSV.

Every trainer (classifier, Fast, AdaIN, CycleGAN, pix2pix) uses these so that ``--resume``, ``--seed`` and
``torchrun --nproc_per_node N`` behave the same everywhere. Resume checkpoints (``checkpoint.pt``) are this
program's own files and are read with ``torch.load(weights_only=True)``, which refuses arbitrary objects;
the shipped models are safetensors (see :mod:`spectrostyle.checkpoint`).
"""

from __future__ import annotations

import csv
import json
import os
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from spectrostyle.core.device import resolve_device
from spectrostyle.core.errors import InputError
from spectrostyle.core.outputs import atomic_output

CHECKPOINT_NAME = "checkpoint.pt"


# arithmetic of a training step: "bf16" runs the forward pass and the loss under bfloat16 autocast (weights, optimiser
# and validation stay float32). On this project's CPU (AVX512-BF16) a classifier epoch took 103-116 s instead of
# 150-160 s and a Fast step 0.37 s instead of 0.42 s, but a CycleGAN step 0.69-0.71 s instead of 0.57-0.60 s; a CPU
# without bfloat16 instructions runs it slower
PRECISIONS = ("fp32", "bf16")


def check_precision(precision: str) -> None:
    """Refuse a precision that is not one of :data:`PRECISIONS`."""
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")


def autocast(device: torch.device, precision: str) -> torch.autocast:
    """The autocast context of a training step at ``precision`` (a no-op for "fp32")."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_generator(seed: int, epoch: int, rank: int = 0) -> torch.Generator:
    """A generator for one epoch's shuffling and augmentation: resuming at an epoch replays it exactly."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch * 1_009 + rank)


@dataclass
class Distributed:
    """torchrun environment: rank, world size; ``enabled`` when WORLD_SIZE > 1."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: torch.device) -> Distributed:
        """Join the process group that torchrun set up (gloo on CPU, nccl on CUDA); single process otherwise."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        return cls(rank=dist.get_rank(), world_size=dist.get_world_size(),
                   local_rank=int(os.environ.get("LOCAL_RANK", "0")))

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        if not self.enabled:
            return model
        device_ids = [device.index if device.index is not None else self.local_rank] if device.type == "cuda" \
            else None
        return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """Mean of a tensor over ranks (identity when single-process)."""
        if not self.enabled:
            return values
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values / self.world_size

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return values
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values

    def gather(self, value: Any) -> list[Any] | None:
        """Every rank's ``value`` (any picklable object), in rank order, on the main process; None elsewhere.
        Every rank must call it."""
        if not self.enabled:
            return [value]
        values: list[Any] | None = [None] * self.world_size if self.is_main else None
        dist.gather_object(value, values, dst=0)
        return values

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


def shard(indices: list[int], dist_ctx: Distributed) -> list[int]:
    """This rank's share of an (already shuffled) index list; every rank gets the same count."""
    usable = len(indices) - len(indices) % dist_ctx.world_size if dist_ctx.enabled else len(indices)
    return indices[dist_ctx.rank:usable:dist_ctx.world_size]


def save_checkpoint(out_dir: Path, state: dict[str, Any]) -> Path:
    """Write the resume checkpoint atomically (a kill mid-write leaves the previous one intact)."""
    path = out_dir / CHECKPOINT_NAME
    with atomic_output(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(out_dir: Path) -> dict[str, Any] | None:
    """The resume checkpoint in ``out_dir``, or None. Read with ``weights_only=True`` (no arbitrary unpickling)."""
    path = out_dir / CHECKPOINT_NAME
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means the file cannot be trusted
        first = (str(exc).strip().splitlines() or [""])[0].split(". ")[0][:120]
        raise InputError(f"cannot resume from '{path}': not a checkpoint this program can read "
                         f"({type(exc).__name__}: {first})") from None


RUN_SETTINGS_NAME = "run.json"


# settings a resume may change: they do not change the weights (where the run runs, how it reports)
NEUTRAL_SETTINGS = frozenset({"out", "device", "resume", "progress", "quiet", "checkpoint_every", "samples"})


_FLAG_NAMES = {"learning_rate": "lr", "final_learning_rate": "final-lr", "val_instruments_per_family":
               "val-instruments", "test_instruments_per_family": "test-instruments"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_settings(options: Any) -> dict[str, Any]:
    """The settings of a run that shape its weights, flat (``loop.learning_rate``) and JSON-able (paths made
    absolute): the fields of ``options`` (a nested dataclass) less :data:`NEUTRAL_SETTINGS`."""
    flat: dict[str, Any] = {}

    def visit(value: Any, prefix: str) -> None:
        for item in fields(value):
            if item.name in NEUTRAL_SETTINGS:
                continue
            inner = getattr(value, item.name)
            if is_dataclass(inner) and not isinstance(inner, type):
                visit(inner, f"{prefix}{item.name}.")
            else:
                flat[prefix + item.name] = _jsonable(inner)

    visit(options, "")
    return flat


def setting_name(key: str) -> str:
    """A run setting as the user gave it: ``loop.learning_rate`` -> ``--lr``, ``notes.families`` -> ``--families``;
    a setting without a flag keeps its dotted name."""
    parts = key.split(".")
    while len(parts) > 1 and parts[0] in ("fit", "loop", "notes", "domains"):
        parts = parts[1:]
    if len(parts) > 1:
        return key
    return "--" + _FLAG_NAMES.get(parts[0], parts[0]).replace("_", "-")


def settings_changes(recorded: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """``NAME OLD -> NEW`` for each setting that differs between a run's recorded settings and ``settings``."""
    def shown(value: Any) -> str:
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."

    missing = object()
    return [f"{setting_name(key)} {shown(recorded.get(key))} -> {shown(settings.get(key))}"
            for key in sorted(set(recorded) | set(settings))
            if recorded.get(key, missing) != settings.get(key, missing)]


def read_run_settings(out_dir: Path) -> dict[str, Any] | None:
    """The settings a run in ``out_dir`` was started with (its ``run.json``), or None (a run from before they were
    recorded)."""
    path = out_dir / RUN_SETTINGS_NAME
    if not path.exists():
        return None
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot resume: '{path}' is unreadable ({exc})") from None
    if not isinstance(recorded, dict):
        raise InputError(f"cannot resume: '{path}' is not a record of settings")
    return recorded


def check_run_folder(out_dir: Path) -> None:
    """Refuse a run folder that cannot be made or written: under a file, or in an unwritable folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output '{out_dir}' exists and is not a folder")
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot make the run folder '{out_dir}': '{existing}' is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write the run folder '{out_dir}': '{existing}' is not writable")


def check_resume(out_dir: Path, resume: bool, settings: dict[str, Any] | None = None) -> None:
    """Refuse, before any work, a run that cannot start as asked: a folder that cannot be written; without
    ``resume``, a folder that holds a run; with it, a folder without a checkpoint, or ``settings`` (see
    :func:`run_settings`) other than those the run was started with, naming each."""
    check_run_folder(out_dir)
    if not resume:
        if (out_dir / CHECKPOINT_NAME).exists():
            raise InputError(f"'{out_dir}' already holds a training run; pass --resume to continue it or choose "
                             "another --out")
        return
    if not out_dir.is_dir():
        raise InputError(f"--resume: there is no run folder '{out_dir}' to resume; leave out --resume to start one")
    if not (out_dir / CHECKPOINT_NAME).exists():
        raise InputError(f"--resume: '{out_dir}' holds no checkpoint to resume; leave out --resume to start the "
                         "run again")
    recorded = read_run_settings(out_dir)
    if settings is None or recorded is None:
        return
    changes = settings_changes(recorded, settings)
    if changes:
        raise InputError(f"the run in '{out_dir}' was started with other settings: {'; '.join(changes)}. A resume "
                         f"continues the run as it started: give its settings ({out_dir / RUN_SETTINGS_NAME}), or "
                         "train anew in another --out")


def prepare_out_dir(out_dir: Path, resume: bool, settings: dict[str, Any] | None = None) -> None:
    """Create ``out_dir`` after :func:`check_resume`; record ``settings`` in its ``run.json`` when the run starts
    (or when an older run without one is resumed)."""
    check_resume(out_dir, resume, settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    if settings is not None and not (resume and (out_dir / RUN_SETTINGS_NAME).exists()):
        with atomic_output(out_dir / RUN_SETTINGS_NAME) as tmp:
            tmp.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class MetricsLog:
    """Append-only CSV of per-epoch (or per-``key``, e.g. per-step) metrics; on resume, rows after the resumed
    epoch (step) are dropped."""

    def __init__(self, path: Path, fieldnames: Iterable[str], key: str = "epoch"):
        self.path = path
        self.fieldnames = list(fieldnames)
        self.key = key

    def truncate_after(self, epoch: int) -> None:
        if not self.path.exists():
            return
        with open(self.path, newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if int(row[self.key]) <= epoch]
        with atomic_output(self.path) as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.fieldnames)
            writer.writeheader()
            writer.writerows(rows)

    def append(self, row: dict[str, Any]) -> None:
        new_file = not self.path.exists()
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.fieldnames)
            if new_file:
                writer.writeheader()
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})

    def rows(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        with open(self.path, newline="") as handle:
            return list(csv.DictReader(handle))


def begin_run(options: Any) -> tuple[float, dict[str, Any], torch.device, Distributed]:
    """What a trainer does first: the clock starts, a resume that would change the run is refused (before any
    work), the device is resolved and the process group (DDP under torchrun) found. Returns (start time from
    ``time.perf_counter``, the run's settings as :func:`run_settings` records them, device, process group)."""
    started = time.perf_counter()
    settings = run_settings(options)
    check_resume(options.out, options.resume, settings)
    device = resolve_device(options.device)
    return started, settings, device, Distributed.from_environment(device)

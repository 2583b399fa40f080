"""Shared training machinery: seeds, devices, torchrun/DDP, resumable checkpoints, metrics CSV.

Every trainer (classifier, Fast, AdaIN, CycleGAN, pix2pix) uses these so that ``--resume``, ``--seed`` and
``torchrun --nproc_per_node N`` behave the same everywhere. Resume checkpoints (``checkpoint.pt``) are this
program's own files and are read with ``torch.load(weights_only=True)``, which refuses arbitrary objects;
the shipped models are safetensors (see :mod:`spectrostyle.checkpoint`).
"""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from spectrostyle.core.audio import atomic_output
from spectrostyle.core.errors import InputError

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
        raise InputError(f"cannot resume from '{path}' ({type(exc).__name__}: {exc})") from None


def prepare_out_dir(out_dir: Path, resume: bool) -> None:
    """Create ``out_dir``; refuse to train over an earlier run unless resuming."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output '{out_dir}' exists and is not a folder")
    if (out_dir / CHECKPOINT_NAME).exists() and not resume:
        raise InputError(f"'{out_dir}' already holds a training run; pass --resume to continue it or choose "
                         "another --out")
    out_dir.mkdir(parents=True, exist_ok=True)


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

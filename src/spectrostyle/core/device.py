"""Torch devices: names to devices, with a clear error where the device is missing; the precision a frozen network
runs in; items side by side on threads of one torch thread each."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import torch

from spectrostyle.core.errors import InputError


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when present) -> device; clear error when unavailable."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InputError(f"unknown device '{name}' (use cpu, cuda, cuda:N or auto)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but torch sees no CUDA GPU on this machine")
    return device


PRECISIONS = ("auto", "fp32", "bf16")  # the words of the trainers' --precision, and auto


def native_bfloat16(device: str | torch.device) -> bool:
    """Whether ``device`` computes bfloat16 convolutions in hardware: a CUDA GPU that supports it, or a processor
    with AMX tiles or AVX512-BF16 (oneDNN's bfloat16 kernels; elsewhere they are emulated and slower than float32).
    torch exposes the processor's flags only as ``torch.cpu._is_*_supported``: read where present."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    flags = (getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"))
    return any(flag is not None and flag() for flag in flags)


def feature_dtype(precision: str, device: str | torch.device) -> torch.dtype | None:
    """The dtype of a frozen feature network's pass for ``precision`` (:data:`PRECISIONS`; ``auto``: bfloat16 where
    :func:`native_bfloat16`) on ``device``; None for float32 (``fp32``)."""
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision '{precision}'; choose from {', '.join(PRECISIONS)}")
    wanted = "bf16" if precision == "auto" and native_bfloat16(device) else precision
    return torch.bfloat16 if wanted == "bf16" else None


def default_workers(device: str | torch.device) -> int:
    """How many items to run side by side on ``device``: on CPU as many as torch's threads (each item then on one
    torch thread: small operations side by side use the cores better than one item's split among them), else one."""
    return torch.get_num_threads() if torch.device(device).type == "cpu" else 1


def on_threads(function: Callable[[Any], Any], items: Sequence[Any], workers: int) -> Iterator[tuple[int, Any]]:
    """``(index, function(item))`` for every item of ``items`` as each finishes, on ``workers`` threads that run
    torch with one thread each (in order on this thread when ``workers <= 1`` or there is one item). Torch's thread
    count is restored at the end; on an interrupt (Ctrl-C, a signal) the items not started are cancelled and the
    running ones finish."""
    if workers <= 1 or len(items) <= 1:
        yield from ((index, function(item)) for index, item in enumerate(items))
        return
    threads = torch.get_num_threads()
    pool = ThreadPoolExecutor(min(workers, len(items)), initializer=torch.set_num_threads, initargs=(1,))
    try:
        futures = {pool.submit(function, item): index for index, item in enumerate(items)}
        for done in as_completed(futures):
            yield futures[done], done.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(threads)  # a worker's setting becomes the default of new threads too: restore it

"""Many files and folders through one method in one run: models loaded once, a progress bar, outputs named after
the inputs (sub-folders mirrored), files whose outputs exist skipped (a killed run continues where it stopped),
one failure reported without stopping the others.

Under ``torchrun --nproc_per_node N`` (or any launcher that sets ``RANK`` and ``WORLD_SIZE``) each process takes
every N-th file of the sorted list, so a library too big for one machine is shared out without coordination.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from spectrostyle.core.audio import AUDIO_SUFFIXES
from spectrostyle.core.device import default_workers, on_threads
from spectrostyle.core.errors import InputError, SpectrostyleError
from spectrostyle.methods.base import TransferMethod
from spectrostyle.pipeline import LONG_SECONDS, PreparedStyles, Source, transfer


@dataclass(frozen=True)
class Job:
    """One input file and the output it makes."""

    source: Path
    out: Path


@dataclass
class FolderSummary:
    """What a run over many files did: outputs written, skipped (already there), and failures with their
    one-line messages; ``audio_seconds`` of content made in ``seconds``."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    audio_seconds: float = 0.0
    seconds: float = 0.0

    def line(self) -> str:
        speed = f", {self.audio_seconds / self.seconds:.0f}x real time" if self.seconds > 0 and self.written else ""
        return (f"{len(self.written)} written, {len(self.skipped)} skipped (output exists), "
                f"{len(self.failed)} failed in {self.seconds:.2f} s{speed}")


def plan_jobs(inputs: Sequence[str | os.PathLike], out_dir: str | os.PathLike, *, suffix: str | None = None
              ) -> list[Job]:
    """The jobs for files and folders: a file as given goes to ``out_dir/NAME.EXT``; a folder is searched
    recursively for audio files (:data:`AUDIO_SUFFIXES`), each going to ``out_dir/FOLDER/SUB/NAME.EXT``. ``EXT`` is
    ``suffix``, or by default the input's own for FLAC and WAV and ``.wav`` for other formats. Sorted by output
    path; two inputs that would write one output are refused."""
    out_dir = Path(out_dir)
    jobs: dict[Path, Job] = {}
    for given in map(Path, inputs):
        if given.is_dir():
            found = sorted(p for p in given.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            pairs = [(p, Path(given.resolve().name) / p.relative_to(given)) for p in found]
        elif given.exists():
            pairs = [(given, Path(given.name))]
        else:
            raise InputError(f"no such file or folder: '{given}'")
        for source, relative in pairs:
            own = source.suffix.lower() if source.suffix.lower() in (".wav", ".flac") else ".wav"
            out = out_dir / relative.with_suffix(suffix or own)
            if out in jobs and jobs[out].source != source:
                raise InputError(f"'{jobs[out].source}' and '{source}' would both write '{out}'")
            jobs[out] = Job(source, out)
    return [jobs[out] for out in sorted(jobs)]


def my_share(jobs: Sequence[Job], rank: int | None = None, world_size: int | None = None) -> list[Job]:
    """This process's jobs: every ``world_size``-th from ``rank`` (from ``RANK``/``WORLD_SIZE`` when not given,
    as torchrun sets them; all jobs in a plain run)."""
    rank = int(os.environ.get("RANK", 0)) if rank is None else rank
    world_size = int(os.environ.get("WORLD_SIZE", 1)) if world_size is None else world_size
    if not 0 <= rank < world_size:
        raise InputError(f"rank {rank} is outside a world of {world_size} processes")
    return list(jobs[rank::world_size])


def transfer_files(jobs: Sequence[Job], method: TransferMethod,
                   style: Source | Sequence[Source] | PreparedStyles | None = None, *,
                   overwrite: bool = False, progress: bool = True, save: Any = None, bit_depth: str | None = None,
                   workers: int | None = None, **transfer_options: Any) -> FolderSummary:
    """Run ``method`` (a ready method object: its models load once) over ``jobs``; ``save(result, job)`` writes
    each result (default: its WAV at ``job.out``). A job whose output exists is skipped unless ``overwrite``;
    a :class:`SpectrostyleError` of one file is recorded in the summary and the run goes on.

    Files go through ``workers`` at a time on threads of one torch thread each (default: as many as torch's threads,
    on CPU): two notes side by side keep both cores busy through the single-threaded steps (phase reconstruction,
    the studio stage, reading and writing) and run the networks' small layers better than one note split in two.
    The first file runs alone, so that whatever a method loads on first use is loaded once; files longer than
    :data:`~spectrostyle.pipeline.LONG_SECONDS` run one at a time after the others (each is held in memory whole).
    Interrupted, the files in flight are finished and written whole, the others left for a run that continues."""
    from spectrostyle.pipeline import prepare_styles, save_result

    if not isinstance(style, PreparedStyles):  # the styles are loaded and prepared once for every file
        style = prepare_styles(method, style, max_seconds=transfer_options.get("max_seconds", 600.0))

    def default_save(result, job: Job) -> None:
        job.out.parent.mkdir(parents=True, exist_ok=True)
        save_result(result, job.out, inputs=[job.source], overwrite=overwrite, bit_depth=bit_depth)

    save = save or default_save
    summary = FolderSummary()
    started = time.perf_counter()
    todo = [job for job in jobs if overwrite or not job.out.exists()]
    waiting = set(todo)
    summary.skipped = [job.out for job in jobs if job not in waiting]

    def run(job: Job) -> tuple[Job, float | None, str]:
        try:
            result = transfer(job.source, style, method, **transfer_options)
            save(result, job)
        except SpectrostyleError as exc:
            return job, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return job, result.spectrogram.duration, ""

    def record(done: tuple[Job, float | None, str]) -> None:
        job, seconds, message = done
        if seconds is None:
            summary.failed.append((job.source, message))
        else:
            summary.written.append(job.out)
            summary.audio_seconds += seconds
        bar.update()

    # files longer than a segmented content go one at a time, on torch's threads: two held at once would double
    # the memory that segments keep bounded
    long = {job for job in todo if _seconds(job.source) > LONG_SECONDS}
    short = [job for job in todo if job not in long]
    bar = tqdm(total=len(todo), desc=f"transfer ({method.name})", unit="file", disable=not progress)
    with bar:
        if short:
            record(run(short[0]))
        workers = default_workers(method.device) if workers is None else workers
        for _, done in on_threads(run, short[1:], workers):
            record(done)
        for job in (job for job in todo if job in long):
            record(run(job))
    summary.written.sort()
    summary.failed.sort()
    summary.seconds = time.perf_counter() - started
    return summary


def _seconds(path: Path) -> float:
    """The length of an audio file from its header (0 when it cannot be read: its transfer reports why)."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, OSError, TypeError):
        return 0.0
    return info.frames / info.samplerate if info.samplerate else 0.0

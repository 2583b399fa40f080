"""Translation methods (CycleGAN, pix2pix): speed and quality of the shipped ``flute-keyboard`` models.

Usage: python benchmarks/bench_gan.py [--threads 2] [--method cyclegan|pix2pix|both] [--data DIR]
                                      [--f0-notes 100] [--repeats 5] [--classifier NAME_OR_PATH]
                                      [--model NAME_OR_PATH]   (a trained model to measure instead of the shipped)
Speed: end to end on a 4 s note (spectrogram, generator, 8 Griffin-Lim iterations from the content's phase, peak
limiting), as a multiple of real time; the one-off model load apart. Goal (issue 6): >= 50x real time on 2 CPU
cores.
Quality, on the notes of the pitches each model held out of training (read from ``--data``, a FluidR3 dataset with
those pitches, default ./runs/fluidr3-classifier, the classifier recipe's, which holds the held-out notes of the
recipes' models; rendered into a temporary folder when absent): the
fraction of outputs the shipped audio CNN classifies as the target family (goal >= 80 %, each direction), the
median f0 error against the input note and how many outputs are more than 50 cents off (pYIN, first
``--f0-notes`` notes: all of them by default; goal <= 50 cents), and for CycleGAN the spectral convergence of the
cycle reconstruction G_ba(G_ab(x)) (and back) against x. For reference, the same classifier on the inputs and on
the real notes of the target domain at those pitches.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from spectrostyle.core.audio import load_audio
from spectrostyle.data.examples import example_path
from spectrostyle.data.selection import note_images
from spectrostyle.eval.classify import classify
from spectrostyle.eval.translation import (
    cycle_convergence_db,
    family_of,
    held_out_examples,
    render_held_out,
    translation_quality,
)
from spectrostyle.methods.registry import make_options, method_class
from spectrostyle.pipeline import transfer
from spectrostyle.store import load_named_model

KINDS = {"cyclegan": "cyclegan_generator", "pix2pix": "pix2pix_generator"}
SHIPPED_MODEL = "flute-keyboard"


def by_pitch(pitches: list[int], heard_as_target: list[bool]) -> str:
    """'69: 8/10, 81: 13/16': how many notes of each pitch are heard as the target family."""
    counts: dict[int, list[int]] = {}
    for pitch, hit in zip(pitches, heard_as_target, strict=True):
        counts.setdefault(pitch, [0, 0])
        counts[pitch][0] += hit
        counts[pitch][1] += 1
    return ", ".join(f"{pitch}: {hits}/{total}" for pitch, (hits, total) in sorted(counts.items()))


def speed(method_name: str, model: str, direction: str, repeats: int) -> tuple[float, float]:
    """(median seconds per 4 s note end to end, seconds to load the model)."""
    options = make_options(method_name, model=model, direction=direction)
    method = method_class(method_name)(options)
    started = time.perf_counter()
    _ = method.model
    load_seconds = time.perf_counter() - started
    audio = load_audio(example_path("flute" if direction == "a2b" else "keyboard", 60))
    transfer(audio, None, method)  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        transfer(audio, None, method)
        times.append(time.perf_counter() - started)
    return statistics.median(times), load_seconds


def quality(method_name: str, model: str, metadata: dict, data: Path, f0_notes: int,
            classifier_name: str = "default") -> None:
    """Print the quality figures of ``model`` (its ``metadata`` says the domains and held-out pitches)."""
    classifier = load_named_model(classifier_name, "audio_cnn")
    directions = list(metadata["directions"])
    print(f"  held-out pitches {metadata['held_out_pitches']}; {metadata.get('steps')} training steps")
    for direction in directions:
        source, target = ("domain_a", "domain_b") if direction == "a2b" else ("domain_b", "domain_a")
        notes = held_out_examples(metadata, data, metadata[source])
        target_family = family_of(metadata[target], held_out_examples(metadata, data, metadata[target]))
        method = method_class(method_name)(make_options(method_name, model=model, direction=direction))
        result = translation_quality(method, notes, target_family, classifier=classifier, f0_notes=f0_notes)
        wrong = sorted({r["classified_as"] for r in result.notes if r["classified_as"] != target_family})
        print(f"  {direction} ({metadata['directions'][direction]}): {len(notes)} notes; classified as "
              f"{target_family}: {100 * result.classified_as_target:.1f} % (goal >= 80 %; others: "
              f"{', '.join(wrong) or 'none'}); median f0 error {result.median_f0_error_cents:.1f} cents over "
              f"{min(f0_notes, len(notes))} notes (goal <= 50)")
        print("    by pitch: " + by_pitch([r["pitch"] for r in result.notes],
                                          [r["classified_as"] == target_family for r in result.notes]))
        off = result.off_pitch()
        print(f"    more than 50 cents off (or unvoiced): {len(off)} of {min(f0_notes, len(notes))}"
              + (f" (pitches {', '.join(str(r['pitch']) for r in off)})" if off else ""))
        config = method.spectrogram_config
        images = note_images([e.audio_path for e in notes], config).float()
        inputs_as_target = sum(top[0][0] == target_family for top in classify(images, classifier, top_k=1))
        print(f"    the inputs themselves: {inputs_as_target} of {len(notes)} classified as {target_family}")
        targets = held_out_examples(metadata, data, metadata[target])
        target_images = note_images([e.audio_path for e in targets], config)
        real_hits = [top[0][0] == target_family for top in classify(target_images, classifier, top_k=1)]
        real_as_target = sum(real_hits)
        print(f"    real {metadata[target]} notes at these pitches (for reference): {real_as_target} "
              f"of {len(targets)} = {100 * real_as_target / len(targets):.1f} % classified as {target_family}; "
              f"by pitch: {by_pitch([e.pitch for e in targets], real_hits)}")
        if method_name == "cyclegan":
            convergence = cycle_convergence_db(method.model, images, direction)
            print(f"    cycle reconstruction spectral convergence: median {float(convergence.median()):.1f} dB "
                  f"(range {float(convergence.min()):.1f} .. {float(convergence.max()):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--method", choices=["cyclegan", "pix2pix", "both"], default="both")
    parser.add_argument("--data", type=Path, default=Path("runs/fluidr3-classifier"))
    parser.add_argument("--f0-notes", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--classifier", default="default", help="audio CNN that judges the outputs: name or path")
    parser.add_argument("--model", default=SHIPPED_MODEL, help="the model to measure: shipped name or model path "
                        "(with --method cyclegan or pix2pix)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads")
    methods = ["cyclegan", "pix2pix"] if args.method == "both" else [args.method]
    if args.model != SHIPPED_MODEL and len(methods) > 1:
        parser.error("--model needs --method cyclegan or --method pix2pix")
    with tempfile.TemporaryDirectory() as scratch:
        for name in methods:
            metadata = load_named_model(args.model, KINDS[name]).metadata
            data = args.data
            if not (data / "examples.json").exists():
                data = render_held_out(metadata, Path(scratch) / name)
                print(f"{args.data} not found: rendered the held-out notes into a temporary folder")
            print(f"{name} ({f'{KINDS[name]}-{args.model}' if args.model == SHIPPED_MODEL else args.model}):")
            for direction in metadata["directions"]:
                seconds, load_seconds = speed(name, args.model, direction, args.repeats)
                print(f"  speed {direction}: {1000 * seconds:.0f} ms per 4 s note end to end = "
                      f"{4.0 / seconds:.0f}x real time (goal >= 50x); model load {1000 * load_seconds:.0f} ms")
            quality(name, args.model, metadata, data, args.f0_notes, args.classifier)


if __name__ == "__main__":
    main()

"""Fast against Slow as heard, over many notes not seen in training: for each content note, the style loss of
each method's output audio analysed again (what a listener's spectrogram of OUT.wav holds), next to the loss of
its output image, the share of power above 4 kHz and the f0 error to the note's pitch - and the content note's
own f0 error, since pYIN hears some rendered notes off their pitch before any method touches them.

Usage: python benchmarks/bench_fast_heard.py [--data DIR] [--every 3] [--styles keyboard,flute]
                                             [--model STYLE=NAME_OR_PATH ...] [--out NOTES.jsonl] [--threads 2]
``--data``: an NSynth-format dataset of content notes; when the folder holds none, the evaluation set is rendered
into it (FluidR3 GM, nine families, every program, MIDI 44/56/68/80 - off the training grid 36, 39, ... 96 -
velocity 100: 225 notes). ``--every N`` takes every N-th note by name. Each style's Fast model is the shipped one
of that name unless ``--model STYLE=...`` names another; Slow is Gatys at its defaults with the style note
``STYLE`` 60 of the shipped examples. ``--out`` keeps one JSON line per note and method, and a rerun with the
same file skips what it holds. About 10 s per note on 2 CPU cores (Slow's 60 L-BFGS steps are most of it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from spectrostyle.core.audio import load_audio
from spectrostyle.core.metrics import pitch_error_to_note_cents, power_share_above
from spectrostyle.core.spectrogram import Spectrogram
from spectrostyle.core.vocabulary import DEFAULT_FAMILIES
from spectrostyle.data.examples import example_path
from spectrostyle.data.render import render_dataset
from spectrostyle.methods.gatys import load_feature_net
from spectrostyle.methods.losses import LossWeights, PerceptualLoss
from spectrostyle.pipeline import transfer

EVAL_PITCHES = (44, 80)
EVAL_PITCH_STEP = 12
SAMPLE_RATE = 16_000


def measure_contents(notes: list[str], data: Path, known: set[tuple[str, str, str]], out) -> None:
    """Append a record per content note not in ``known``: how far pYIN hears the note itself off its own pitch."""
    for name in notes:
        if ("", "content", name) not in known:
            content = load_audio(data / "audio" / f"{name}.wav")
            out.write(json.dumps({"style": "", "method": "content", "model": "", "note": name,
                                  "hf": power_share_above(content, 4000, SAMPLE_RATE),
                                  "f0_cents": pitch_error_to_note_cents(content, SAMPLE_RATE,
                                                                        int(name.split("-")[1]))}) + "\n")


def of_model(record: dict, model: str) -> bool:
    """Whether a record belongs to a run with Fast model ``model``: its Fast records, and every Slow and content
    record (those do not depend on the Fast model)."""
    return record["method"] in ("slow", "content") or record["model"] == model


def measure(style: str, model: str, notes: list[str], data: Path, known: set[tuple[str, str, str]], out) -> None:
    """Append a record per note for Slow and Fast (``model``) towards ``style`` 60 to ``out`` (skips ``known``)."""
    loss = PerceptualLoss(load_feature_net("default"), LossWeights(content=0, energy=0, frequency=0))
    style_audio = load_audio(example_path(style, 60))
    style_targets = loss.style_targets(Spectrogram.from_audio(style_audio).image[None, None])
    for index, name in enumerate(notes, 1):
        content = load_audio(data / "audio" / f"{name}.wav")
        pitch = int(name.split("-")[1])
        content_share = power_share_above(content, 4000, SAMPLE_RATE)
        for method in ("slow", "fast"):
            if (style, method, name) in known:
                continue
            started = time.perf_counter()
            result = transfer(content, style_audio, "gatys", balance=0.0) if method == "slow" else \
                transfer(content, None, "fast", model=model, keep_pitch=0.0)  # the methods' own results
            content_image = result.content.image[None, None]
            targets = loss.content_targets(content_image, style_targets)
            heard = Spectrogram.from_audio(result.audio).image[None, None][..., :content_image.shape[-1]]
            with torch.no_grad():
                image_loss, heard_loss, content_loss = (float(loss(x, targets)["style"]) for x in (
                    result.spectrogram.image[None, None], heard, content_image))
            record = {"style": style, "method": method, "model": model if method == "fast" else "gatys",
                      "note": name, "image": image_loss, "heard": heard_loss, "content": content_loss,
                      "hf": power_share_above(result.audio, 4000, SAMPLE_RATE), "content_hf": content_share,
                      "f0_cents": pitch_error_to_note_cents(result.audio, SAMPLE_RATE, pitch),
                      "seconds": time.perf_counter() - started}
            out.write(json.dumps(record) + "\n")
            out.flush()
        print(f"  {style}: {index}/{len(notes)} {name}", flush=True)


def summarise(records: list[dict], style: str, notes: list[str]) -> None:
    by = {(r["method"], r["note"]): r for r in records if r["style"] == style and r["note"] in notes}
    names = [n for n in notes if ("slow", n) in by and ("fast", n) in by]
    if not names:
        return
    content = {r["note"]: r for r in records if r["method"] == "content"}
    on_pitch = np.array([content[n]["f0_cents"] <= 50 for n in names]) if all(n in content for n in names) else None
    if on_pitch is not None:
        print(f"{style} style: the content notes themselves, as pYIN hears them: > 50 cents off their pitch on "
              f"{int((~on_pitch).sum())} of {len(names)}")
    for method in ("slow", "fast"):
        rows = [by[(method, n)] for n in names]
        heard, image = np.array([r["heard"] for r in rows]), np.array([r["image"] for r in rows])
        bright = sum(r["hf"] > 0.02 and r["content_hf"] < 0.02 for r in rows)
        f0 = np.array([r["f0_cents"] for r in rows])
        lost = f"> 50 cents on {int((f0 > 50).sum())}"
        if on_pitch is not None:
            lost += f" ({int((f0[on_pitch] > 50).sum())} of the {int(on_pitch.sum())} pYIN hears on pitch as content)"
        print(f"{style} style, {method:4s} ({rows[0]['model']}), {len(rows)} notes: heard style loss median "
              f"{np.median(heard):.3g} mean {heard.mean():.3g}; image median {np.median(image):.3g}; content median "
              f"{np.median([r['content'] for r in rows]):.3g}; > 2% power above 4 kHz (content < 2%) on {bright}; "
              f"f0 error median {np.median(f0):.1f} cents, {lost}")
    heard_ratio = np.array([by[("fast", n)]["heard"] / by[("slow", n)]["heard"] for n in names])
    image_ratio = np.array([by[("fast", n)]["image"] / by[("slow", n)]["image"] for n in names])
    print(f"{style} style, Fast / Slow per note: heard median {np.median(heard_ratio):.2f} (within 2x on "
          f"{int((heard_ratio <= 2).sum())} of {len(names)}); image median {np.median(image_ratio):.2f} (within 2x "
          f"on {int((image_ratio <= 2).sum())})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("runs/fluidr3-eval"))
    parser.add_argument("--every", type=int, default=3)
    parser.add_argument("--styles", default="keyboard,flute")
    parser.add_argument("--model", action="append", default=[], help="STYLE=NAME_OR_PATH")
    parser.add_argument("--out", type=Path, help="JSON lines, one per note and method (reruns skip them)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models = dict(item.split("=", 1) for item in args.model)
    if not (args.data / "examples.json").is_file():
        render_dataset(args.data, families=list(DEFAULT_FAMILIES), pitches=EVAL_PITCHES, pitch_step=EVAL_PITCH_STEP,
                       velocities=(100,), progress=False)
    notes = sorted(json.loads((args.data / "examples.json").read_text()))[::args.every]
    out_path = args.out or Path(args.data) / "bench_fast_heard.jsonl"
    records = [json.loads(line) for line in out_path.read_text().splitlines()] if out_path.exists() else []
    styles = args.styles.split(",")
    with out_path.open("a") as out:
        measure_contents(notes, args.data, {(r["style"], r["method"], r["note"]) for r in records}, out)
        for style in styles:
            model = models.get(style, style)
            known = {(r["style"], r["method"], r["note"]) for r in records if of_model(r, model)}
            measure(style, model, notes, args.data, known, out)
    records = [json.loads(line) for line in out_path.read_text().splitlines()]
    print(f"content notes: 1 in {args.every} of {args.data} ({len(notes)})")
    for style in styles:
        model = models.get(style, style)
        summarise([r for r in records if of_model(r, model)], style, notes)


if __name__ == "__main__":
    main()

"""Every method on real recordings: the corpus that ``scripts/make_real_corpus.py`` builds (recorded drums, piano,
LMMS samples, speech, SoundFont melodies and chords at 44.1/48 kHz, mono and stereo).

For each clip, the round trip (``spectrogram`` then ``invert`` at the clip's own rate and channels: full-band
spectral convergence, worst channel); then for each method, its result against the content and the style:
- format: the result has the content's rate, channels and bit depth;
- high band: the result's share of energy above 8 kHz minus the style's (methods that take a style; the content's
  for the others, whose models are the style), in dB, a share under -60 dB counted as -60 (none);
- loudness: result minus content, LU (BS.1770); true peak;
- onsets: F-measure of the result's onsets against the content's (50 ms);
- pitch: the content's own pitch accuracy against its score minus the result's (pitched clips with a score);
- timbre: the distance of the result's mean MFCCs to the style's over the content's (methods that take a style);
- stereo: per-band level difference error (dB) and correlation error against the content (stereo clips);
- clicks: the result's clicks minus the content's;
- silence: the result's level against its body where the content is silent (its 50 ms frames 50 dB or more under
  its body), dB, the loudest clip of a row (none where no clip has a silence);
- seconds per clip (end to end, models loaded once).

Usage: python benchmarks/bench_real.py [--corpus data/real] [--methods gatys,fast,adain,cyclegan,pix2pix]
                                       [--limit N] [--kinds K,..] [--threads 2] [--json results.json]
                                       [--model METHOD=MODEL] [--no-round-trip] [--keep-pitch 1] [--balance 0]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from spectrostyle.core.audio import file_format, read_audio
from spectrostyle.core.loudness import integrated_loudness, true_peak_db
from spectrostyle.core.metrics import (
    clicks,
    high_band_share_db,
    mean_mfcc,
    onset_f_measure,
    onsets,
    pitch_accuracy,
    silence_level_db,
    stereo_image_error,
)
from spectrostyle.core.spectrogram import (
    INVERT_ITERATIONS,
    Spectrogram,
    SpectrogramConfig,
    invert_magnitudes,
    magnitude,
    spectral_convergence_db,
)
from spectrostyle.data.examples import example_path
from spectrostyle.methods.registry import make_options, method_class
from spectrostyle.pipeline import prepare_styles, transfer

METHODS = ("gatys", "fast", "adain", "cyclegan", "pix2pix")
FAST_MODEL = "keyboard"  # Fast's style is its model's: the keyboard note it was trained on
NO_HIGH_BAND_DB = -60.0  # a share of the energy above 8 kHz below this is none (leakage no one hears): counted as this


def round_trip_db(recording: np.ndarray, rate: int) -> float:
    """``spectrogram`` then ``invert`` as the commands do them: the worst channel's spectral convergence, dB."""
    config = SpectrogramConfig.for_rate(rate)
    channels = Spectrogram.from_channels(recording, config)
    magnitudes = torch.stack([c.magnitude() for c in channels])
    back = invert_magnitudes(magnitudes, config, num_samples=len(recording)).numpy().T
    return max(float(spectral_convergence_db(magnitude(torch.from_numpy(np.ascontiguousarray(recording[:, c])),
                                                       config), torch.from_numpy(np.ascontiguousarray(back[:, c])),
                                             config)) for c in range(recording.shape[1]))


def style_for(clip: dict, clips: list[dict], corpus: Path) -> Path:
    """The style of a clip for the methods that take one: a recorded piano note, or for piano clips a recorded
    instrument note of another source."""
    notes = [c for c in clips if c["kind"] == "note"]
    piano = [c for c in notes if "piano" in c["source"]]
    others = [c for c in notes if "piano" not in c["source"]]
    chosen = (others or notes)[0] if "piano" in clip["source"] else (piano or notes)[0]
    return corpus / chosen["path"]


def measure(clip: dict, corpus: Path, method: str, runner, styles: dict, style_path: Path | None,
            keep_pitch: float | None = None, balance: float | None = None) -> dict:
    path = corpus / clip["path"]
    content, rate = read_audio(path)
    started = time.perf_counter()
    result = transfer(path, styles.get(str(style_path)), runner, keep_pitch=keep_pitch, balance=balance)
    seconds = time.perf_counter() - started
    out, out_rate = result.output, result.output_rate
    record = {"clip": clip["path"], "kind": clip["kind"], "method": method, "seconds": seconds,
              "format_kept": bool(out_rate == rate and out.shape == content.shape
                                  and result.output_bit_depth == file_format(path).bit_depth),
              "loudness_lu": integrated_loudness(out, rate) - integrated_loudness(content, rate),
              "true_peak_db": true_peak_db(out, rate),
              "onset_f": onset_f_measure(onsets(content, rate), onsets(out, rate)),
              "clicks_added": clicks(out, rate) - clicks(content, rate),
              "silence_db": silence_level_db(content, out, rate)}
    reference, reference_rate = read_audio(style_path if runner.needs_style else path)
    shares = [max(high_band_share_db(x, r), NO_HIGH_BAND_DB) for x, r in ((out, rate), (reference, reference_rate))]
    record["high_band_db"] = shares[0] - shares[1]
    if method in ("gatys", "adain", "fast"):
        style_audio, style_rate = read_audio(style_path)
        target = mean_mfcc(style_audio, style_rate)
        record["mfcc_ratio"] = float(np.linalg.norm(mean_mfcc(out, rate) - target)
                                     / max(np.linalg.norm(mean_mfcc(content, rate) - target), 1e-9))
    if clip.get("notes") and clip.get("pitched"):
        record["pitch_drop"] = pitch_accuracy(content, rate, clip["notes"]) - pitch_accuracy(out, rate, clip["notes"])
    if content.shape[1] == 2:
        record["stereo_level_db"], record["stereo_correlation"] = stereo_image_error(content, out, rate)
    return record


def summary(records: list[dict], keys: list[str]) -> str:
    """A markdown table: one row per method and kind, the mean of each measure (the worst for loudness, true peak and
    silence)."""
    lines = ["| method | kind | clips | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 3)]
    methods = list(dict.fromkeys(r["method"] for r in records))
    kinds = sorted({r["kind"] for r in records})
    for method in methods:
        for kind in kinds + ["all"]:
            rows = [r for r in records if r["method"] == method and (kind == "all" or r["kind"] == kind)]
            if not rows:
                continue
            cells = []
            for key in keys:
                values = [r[key] for r in rows if r.get(key) is not None and np.isfinite(r[key])]
                if key == "format_kept":
                    cells.append(f"{sum(values)}/{len(rows)}")
                elif not values:
                    cells.append("")
                elif key == "loudness_lu":
                    cells.append(f"{max(values, key=abs):+.2f}")
                elif key in ("true_peak_db", "silence_db"):
                    cells.append(f"{max(values):.2f}")
                else:
                    cells.append(f"{np.mean(values):.2f}")
            lines.append(f"| {method} | {kind} | {len(rows)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/real"))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--limit", type=int, default=None, help="Only the first N clips.")
    parser.add_argument("--kinds", default=None, help="Only clips of these kinds (comma-separated).")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="Also write every clip's numbers here.")
    parser.add_argument("--model", action="append", default=[], metavar="METHOD=MODEL",
                        help="Another model for a method (a shipped name or a model path), e.g. "
                             "adain=runs/adain/model.json. Repeatable.")
    parser.add_argument("--no-round-trip", action="store_true", help="Leave out the round trip.")
    parser.add_argument("--keep-pitch", type=float, default=None,
                        help="transfer's keep_pitch (0..1) for every method (default: each method's own).")
    parser.add_argument("--balance", type=float, default=None,
                        help="transfer's balance (0..1) for every method (default: each method's own).")
    args = parser.parse_args()
    models = dict(item.split("=", 1) for item in args.model)
    torch.set_num_threads(args.threads)
    manifest = args.corpus / "manifest.json"
    if not manifest.exists():
        raise SystemExit(f"bench_real: no corpus at {args.corpus} (python scripts/make_real_corpus.py)")
    clips = json.loads(manifest.read_text())
    chosen = [c for c in clips if args.kinds is None or c["kind"] in args.kinds.split(",")][: args.limit]
    print(f"{len(chosen)} clips of {args.corpus}: "
          + ", ".join(f"{k} {sum(c['kind'] == k for c in chosen)}" for k in sorted({c['kind'] for c in chosen})))
    trips = [] if args.no_round_trip else [round_trip_db(*read_audio(args.corpus / c["path"])) for c in chosen]
    if trips:
        print(f"round trip (spectrogram, invert: Griffin-Lim from random and zero phase, {INVERT_ITERATIONS // 2} "
              f"iterations each, {INVERT_ITERATIONS} more from the better): spectral convergence "
              f"worst channel: median {np.median(trips):.1f} dB, worst {max(trips):.1f} dB, "
              f"{sum(t <= -25 for t in trips)}/{len(trips)} at or below -25 dB", flush=True)
    records = []
    for method in args.methods.split(","):
        settings = {"model": FAST_MODEL} if method == "fast" else {}
        settings.update({"model": models[method]} if method in models else {})
        runner = method_class(method)(make_options(method, **settings))
        takes_style = runner.needs_style
        styles: dict = {}
        for clip in chosen:
            style_path = style_for(clip, clips, args.corpus) if takes_style else \
                example_path("keyboard", 60) if method == "fast" else None
            if takes_style and str(style_path) not in styles:
                styles[str(style_path)] = prepare_styles(runner, style_path)
            records.append(measure(clip, args.corpus, method, runner, styles, style_path, args.keep_pitch,
                                   args.balance))
        done = [r for r in records if r["method"] == method]
        print(f"{method}: {len(done)} clips in {sum(r['seconds'] for r in done):.1f} s", flush=True)
    keys = ["format_kept", "high_band_db", "loudness_lu", "true_peak_db", "onset_f", "pitch_drop", "mfcc_ratio",
            "stereo_level_db", "stereo_correlation", "clicks_added", "silence_db", "seconds"]
    print(summary(records, keys))
    if args.json is not None:
        args.json.write_text(json.dumps({"round_trip_db": dict(zip([c["path"] for c in chosen], trips, strict=False)),
                                         "records": records}, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""The experiment's report: JSON, Markdown table and HTML page."""

from __future__ import annotations

import html
import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectrostyle.core.audio import atomic_output, load_audio
from spectrostyle.core.vocabulary import DIRECTIONS
from spectrostyle.experiment.config import ExperimentConfig
from spectrostyle.experiment.generation import Sound, spread


def _thumbnail(audio_path: Path, png_path: Path, size: tuple[int, int] = (256, 160)) -> None:
    """An 8-bit grey thumbnail of a sound's spectrogram (low frequencies at the bottom)."""
    from PIL import Image

    from spectrostyle.core.spectrogram import Spectrogram

    image = Spectrogram.from_audio(load_audio(audio_path)).image.flip(0).numpy()
    picture = Image.fromarray(np.round(image * 255).astype(np.uint8)).resize(size, Image.Resampling.BILINEAR)
    with atomic_output(png_path) as tmp:
        picture.save(tmp, format="PNG")


def _write_examples(out: Path, sounds: Sequence[Sound], groups: Sequence[str], pairs: Sequence[tuple[Any, Any]],
                    config: ExperimentConfig) -> list[dict[str, Any]]:
    """Thumbnails and WAV copies in ``out/examples`` for a few pairs: both sources and every new sound made
    from them. Returns ``[{pair, pitch, velocity, sounds: [{group, direction, png, wav}]}]``."""
    folder = out / "examples"
    folder.mkdir(exist_ok=True)
    made_from = {(s.group, s.direction, s.note): s for s in sounds}
    shown = []
    # prefer pairs every new group used (the ones spread for the two-direction methods)
    usable = [p for p in pairs if all(any((g, d, n) in made_from for d, n in (("a2b", p[0].note_str),
                                                                              ("b2a", p[1].note_str)))
                                      for g in groups[2:])] or list(pairs)
    for a, b in spread(usable, config.examples) if config.examples else []:
        cells = []
        candidates = [(groups[0], "", a.note_str), (groups[1], "", b.note_str)]
        candidates += [(g, d, a.note_str if d == "a2b" else b.note_str) for g in groups[2:] for d in DIRECTIONS]
        for group, direction, note in candidates:
            sound = made_from.get((group, direction, note))
            if sound is None:
                continue
            stem = f"{group}-{direction or 'source'}-{note}"
            wav, png = folder / f"{stem}.wav", folder / f"{stem}.png"
            if not wav.exists():
                shutil.copyfile(sound.path, wav)
            if not png.exists():
                _thumbnail(sound.path, png)
            cells.append({"group": group, "direction": direction, "note": note, "wav": f"examples/{wav.name}",
                          "png": f"examples/{png.name}"})
        shown.append({"pair": [a.note_str, b.note_str], "pitch": a.pitch, "velocity": a.velocity, "sounds": cells})
    return shown


def _fmt(value: Any, spec: str = ".2f", suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:{spec}}{suffix}"


def _fmt_ci(value: Any, ci: Any, percent: bool = True) -> str:
    if value is None:
        return "–"
    if percent:
        text = f"{value:.0%}"
        if ci and None not in ci:
            text += f" [{ci[0]:.0%}, {ci[1]:.0%}]"
        return text
    text = f"{value:.2f}"
    if ci and None not in ci:
        text += f" [{ci[0]:.2f}, {ci[1]:.2f}]"
    return text


MAIN_COLUMNS = ("group", "sounds", "accuracy {A, B, M} [95% CI]", "recall of M", "M vs A", "M vs B",
                "silhouette", "pitch error (cents)", "position A→B (a2b / b2a)", "spectral conv. (dB)", "s / sound")


def main_table_rows(metrics: dict[str, Any]) -> list[list[str]]:
    """The main table: one row per group (sources first), cells as text."""
    rows = []
    for group, entry in metrics["summary"].items():
        errors = _fmt(entry.get("pitch_error_cents_median"), ".0f")
        if entry.get("pitch_off_fraction"):
            errors += f" ({entry['pitch_off_fraction']:.0%} off)"
        positions = " / ".join(_fmt(entry.get(f"position_{d}"), ".2f") for d in DIRECTIONS
                               if f"position_{d}" in entry) or _fmt(entry.get("position"), ".2f")
        directions = ", ".join(entry["directions"])
        rows.append([
            group if not directions else f"{group} ({directions})", str(entry["sounds"]),
            _fmt_ci(entry.get("accuracy"), entry.get("accuracy_ci")),
            _fmt(entry.get("recall"), ".0%"),
            _fmt_ci(entry.get("vs_a"), entry.get("vs_a_ci"), percent=False),
            _fmt_ci(entry.get("vs_b"), entry.get("vs_b_ci"), percent=False),
            _fmt(entry.get("silhouette"), ".2f"), errors, positions,
            _fmt(entry.get("spectral_convergence_db_median"), ".1f"),
            _fmt(entry.get("seconds_per_sound_median"), ".2f"),
        ])
    return rows


def main_columns(metrics: dict[str, Any]) -> tuple[str, ...]:
    """The main table's header: with several classifier seeds, accuracy and separabilities are the mean over the
    seeds and the brackets their range."""
    seeds = metrics["config"].get("classifier_seeds", 1)
    if seeds == 1:
        return MAIN_COLUMNS
    return tuple(f"accuracy {{A, B, M}}, mean [min, max] of {seeds} classifiers" if c.startswith("accuracy")
                 else f"{c} (mean [min, max])" if c in ("M vs A", "M vs B") else c for c in MAIN_COLUMNS)


def main_table_markdown(metrics: dict[str, Any]) -> str:
    """The main table as Markdown (for the README), with a line on what was run."""
    columns = main_columns(metrics)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in main_table_rows(metrics)]
    config = metrics["config"]
    lines.append("")
    lines.append(f"Sources {metrics['pair']['a']} (A) and {metrics['pair']['b']} (B); seed {metrics['seed']}; test "
                 f"pitches {', '.join(map(str, metrics['split_pitches']['test']))}; {len(metrics['sounds'])} "
                 f"sounds; {metrics['timings_s']['total'] / 60:.1f} min on {metrics['torch_threads']} torch "
                 f"threads. Sounds per method asked for: {config['sounds_per_method']}.")
    if metrics["skipped"]:
        lines.append("Skipped: " + "; ".join(f"{m}: {why}" for m, why in metrics["skipped"].items()))
    return "\n".join(lines) + "\n"


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(metrics: dict[str, Any]) -> str:
    """``report.html``: the main table, the classifiers, the t-SNE plot, examples, configuration and timings."""
    a, b = metrics["pair"]["a"], metrics["pair"]["b"]
    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>spectrostyle experiment</title><style>"
             "body{font-family:sans-serif;margin:2em;max-width:1250px}table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #ccc;padding:.25em .5em;font-size:.9em;text-align:right}"
             "td:first-child,th:first-child{text-align:left}.warn{background:#fff3cd;padding:.5em}"
             ".ex td{text-align:center;vertical-align:top}.ex img{width:192px;height:120px;display:block}"
             ".ex audio{width:192px}pre{background:#f6f6f6;padding:.5em;overflow:auto}</style></head><body>",
             f"<h1>New sounds from {esc(a)} (A) and {esc(b)} (B): consistent and distinguishable?</h1>",
             "<p>Reproduces the evaluation of Liu, Delany &amp; McKeever (CAIP 2019): classifiers trained on the two "
             "sources and the new sounds of each method, and t-SNE of audio-CNN feature maps; plus pitch kept, "
             "timbre position, phase reconstruction and speed. Classifier tests are on pitches held out of "
             f"training ({', '.join(map(str, metrics['split_pitches']['test']))}). A control group "
             f"<b>copy</b> (exact copies of A's notes, when present) shows what “not distinguishable” looks "
             "like.</p>"]
    if metrics["skipped"]:
        items = "".join(f"<li><b>{esc(m)}</b>: {esc(why)}</li>" for m, why in metrics["skipped"].items())
        parts.append(f"<div class='warn'>Methods asked for but not (fully) run here:<ul>{items}</ul></div>")
    parts.append("<h2>Main table</h2>")
    parts.append(_html_table(main_columns(metrics), main_table_rows(metrics)))
    parts.append(
        "<p><b>accuracy</b>: a fresh classifier over {A, B, M} on the held-out pitches (chance 33%), 95% "
        "bootstrap interval. <b>recall of M</b>: new sounds recognised as their own group (consistency). "
        "<b>M vs A</b>: on the test notes of M and A, the balanced accuracy of the same classifier's decision "
        "“this is A” (0.5: cannot tell them apart; 1: always can); <b>M vs B</b> likewise. <b>silhouette</b>: of "
        "each group in the standardised feature space of the t-SNE (+1 tight and apart; ≤ 0 mixed with another "
        "group). <b>pitch error</b>: median absolute pYIN f0 error against the content note (in brackets: sounds "
        "more than 50 cents off, or unvoiced; the source rows show the rendered notes' own tuning). "
        "<b>position</b>: distance to A's centre / (to A + to B) in the shipped CNN's embedding; 0 = A, 1 = B. "
        "<b>spectral conv.</b>: the sound against the image it was rebuilt from (lower is better).</p>")
    parts.append("<h2>t-SNE of feature maps</h2><img src='tsne.png' alt='t-SNE plot' style='max-width:100%'>")
    sil = metrics["silhouette"]
    rows = []
    for g in [*metrics["groups"], "all"]:
        directions = [f"{d} {_fmt(sil['features_by_direction'].get(f'{g} {d}'))}" for d in DIRECTIONS
                      if f"{g} {d}" in sil["features_by_direction"]]
        rows.append([g, _fmt(sil["features"].get(g)), _fmt(sil["tsne"].get(g)), ", ".join(directions) or "–"])
    parts.append(_html_table(["group", "silhouette (features)", "silhouette (t-SNE plane)",
                              "each direction its own group (features)"], rows))
    parts.append("<h2>Classifiers</h2>")
    for name, test in metrics["classification"].items():
        title = "all groups together" if name == "all" else f"{{{a}, {b}, {name}}}"
        parts.append(f"<h3>{esc(title)}: accuracy {_fmt_ci(test['accuracy'], test['accuracy_ci'])} "
                     f"(chance {test['chance']:.0%})</h3>")
        rows = [[c, _fmt(test["precision"][c], ".0%"), _fmt(test["recall"][c], ".0%"),
                 str(test["notes"]["train"][c]), str(test["notes"]["test"][c])] for c in test["classes"]]
        parts.append("<div style='display:flex;gap:2em;align-items:flex-start'><div>")
        parts.append(_html_table(["class", "precision", "recall", "train notes", "test notes"], rows))
        parts.append(_html_table(["pair of classes", "balanced accuracy [95% CI]"],
                                 [[p, _fmt_ci(v["balanced_accuracy"], v["ci"], percent=False)]
                                  for p, v in test["separability"].items()]))
        parts.append(f"<p>best epoch {test['training']['best_epoch'] + 1} of {test['training']['epochs_run']}; "
                     f"{test['seconds']:.0f} s</p></div>")
        parts.append(f"<img src='{esc(test['confusion_png'])}' alt='confusion matrix' style='max-width:420px'>"
                     "</div>")
    parts.append("<h2>Examples</h2>")
    for example in metrics["examples"]:
        parts.append(f"<h3>pair {esc(' + '.join(example['pair']))} (MIDI {example['pitch']})</h3><table class='ex'>"
                     "<tr>")
        for cell in example["sounds"]:
            label = cell["group"] + (f" ({cell['direction']})" if cell["direction"] else "")
            parts.append(f"<td><b>{esc(label)}</b><br><img src='{esc(cell['png'])}' alt='{esc(label)}'>"
                         f"<audio controls preload='none' src='{esc(cell['wav'])}'></audio></td>")
        parts.append("</tr></table>")
    parts.append("<h2>Reproduce</h2><p>Configuration and seed (<code>config.json</code>; pass it back with "
                 "<code>--config</code>); every number is in <code>metrics.json</code>.</p>")
    parts.append(f"<pre>{esc(json.dumps(metrics['config'], indent=1))}</pre>")
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in metrics["timings_s"].items())
    parts.append(f"<p>Data: {esc(metrics['data'])}. Time: {esc(timings)} ({metrics['torch_threads']} torch "
                 "threads).</p></body></html>")
    return "\n".join(parts)

"""The experiment's analysis: classification tests, features and t-SNE."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spectrostyle.core.audio import atomic_output
from spectrostyle.experiment.config import CONTROL, ExperimentConfig
from spectrostyle.experiment.generation import Sound


def _predict(model, images: torch.Tensor, device: torch.device, batch_size: int = 32) -> torch.Tensor:
    """Logits ``(N, C)`` of ``images`` ``(N, 1, F, T)``."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            out.append(model(images[start:start + batch_size].to(device, torch.float32)).cpu())
    return torch.cat(out) if out else torch.zeros(0, len(model.config.class_names))


def pairwise_separability(predicted: torch.Tensor, labels: torch.Tensor, group: int, reference: int, *,
                          resamples: int, seed: int) -> dict[str, Any]:
    """How well a classifier tells the sounds of ``group`` from those of ``reference``: on the test notes of the
    two classes, the balanced accuracy of the decision "the classifier says ``reference``" (so a ``group`` note
    taken for any third class still counts as told apart). 0.5: not at all (identical sounds give exactly 0.5,
    whatever the classifier learnt); 1: always. With a bootstrap interval. ``predicted``/``labels``: ``(N,)``."""
    from spectrostyle.core.metrics import balanced_accuracy, bootstrap_ci

    mask = (labels == group) | (labels == reference)
    rows = np.stack([(labels[mask] == reference).numpy(), (predicted[mask] == reference).numpy()], 1).astype(int)
    value = balanced_accuracy(rows) if len(rows) else float("nan")
    return {"balanced_accuracy": value, "ci": list(bootstrap_ci(rows, balanced_accuracy, resamples=resamples,
                                                                 seed=seed)), "notes": int(mask.sum())}


def classification_test(name: str, class_names: Sequence[str], images: torch.Tensor, sounds: Sequence[Sound],
                        split: dict[str, list[int]], config: ExperimentConfig, out_dir: Path, *,
                        pairs: Sequence[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Train a fresh audio-CNN classifier over ``class_names`` (groups of ``sounds``) on the train pitches (early
    stopping on the validation pitches) and test it on the held-out pitches. ``images`` ``(N, 1, F, T)`` line up
    with ``sounds``. Writes ``out_dir/classifiers/<name>/`` (metrics.csv, confusion.png); returns its numbers.

    With ``config.classifier_seeds`` > 1, as many classifiers are trained (initial weights and shuffling from
    seeds ``config.seed``, ``+ 1``, ...; same sounds and split): the confusion matrix, precision, recall and
    bootstrap intervals are the first one's, and ``over_seeds`` holds every seed's accuracy and separabilities
    with their mean, min and max."""
    from spectrostyle.core.device import resolve_device
    from spectrostyle.core.metrics import bootstrap_ci, confusion_matrix, precision_recall
    from spectrostyle.core.spectrogram import SpectrogramConfig
    from spectrostyle.eval.classify import plot_confusion_matrix
    from spectrostyle.nets.audio_cnn import AudioCNN, AudioCNNConfig
    from spectrostyle.train.classifier import FitOptions, fit_classifier
    from spectrostyle.train.runtime import seed_everything

    started = time.perf_counter()
    device = resolve_device(config.device)
    label_of = {group: i for i, group in enumerate(class_names)}
    frames = config.classifier_frames or images.shape[-1]
    parts = {}
    for part, pitches in split.items():
        chosen = [i for i, s in enumerate(sounds) if s.group in label_of and s.pitch in set(pitches)]
        parts[part] = (images[chosen][..., :frames], torch.tensor([label_of[sounds[i].group] for i in chosen],
                                                                  dtype=torch.long))
    pairs = pairs if pairs is not None else [(class_names[i], class_names[j]) for i in range(len(class_names))
                                             for j in range(i + 1, len(class_names))]
    test_images, labels = parts["test"]
    runs = []
    for k in range(config.classifier_seeds):
        seed = config.seed + k
        run_dir = out_dir / "classifiers" / (name if k == 0 else f"{name}-seed{seed}")
        run_dir.mkdir(parents=True, exist_ok=True)
        for stale in ("metrics.csv", "checkpoint.pt"):
            (run_dir / stale).unlink(missing_ok=True)
        seed_everything(seed)  # the initial weights
        model = AudioCNN(AudioCNNConfig(class_names=tuple(class_names), width=config.classifier_width,
                                        spectrogram=SpectrogramConfig()))
        options = FitOptions(epochs=config.classifier_epochs, batch_size=config.classifier_batch_size,
                             learning_rate=config.classifier_learning_rate,
                             patience=config.classifier_patience or config.classifier_epochs,
                             seed=seed, progress=False)
        summary = fit_classifier(model, parts["train"], parts["val"], run_dir, options, device=device)
        (run_dir / "checkpoint.pt").unlink(missing_ok=True)  # resume state, not needed afterwards
        runs.append((seed, summary, _predict(model, test_images, device).argmax(1)))
    _, summary, predicted = runs[0]
    run_dir = out_dir / "classifiers" / name
    matrix = confusion_matrix(labels, predicted, len(class_names))
    precision, recall = precision_recall(matrix)
    correct = (predicted == labels).numpy().astype(np.float64)
    accuracy = float(correct.mean()) if len(correct) else float("nan")
    plot_confusion_matrix(matrix, list(class_names), run_dir / "confusion.png",
                          f"{name}: held-out pitches, accuracy {accuracy:.0%}")
    over_seeds = None
    if len(runs) > 1:
        def mean_and_range(values: list[float]) -> dict[str, Any]:
            return {"values": values, "mean": float(np.mean(values)), "min": min(values), "max": max(values)}

        over_seeds = {
            "seeds": [seed for seed, _, _ in runs],
            "accuracy": mean_and_range([float((p == labels).float().mean()) for _, _, p in runs]),
            "separability": {f"{x} vs {y}": mean_and_range([
                pairwise_separability(p, labels, label_of[x], label_of[y], resamples=1,
                                      seed=config.seed)["balanced_accuracy"] for _, _, p in runs]) for x, y in pairs},
        }
    return {
        "classes": list(class_names),
        "accuracy": accuracy,
        "accuracy_ci": list(bootstrap_ci(correct, resamples=config.bootstrap_resamples, seed=config.seed)),
        "chance": 1.0 / len(class_names),
        "precision": dict(zip(class_names, precision.tolist(), strict=True)),
        "recall": dict(zip(class_names, recall.tolist(), strict=True)),
        "confusion_matrix": matrix.tolist(),
        "separability": {f"{x} vs {y}": pairwise_separability(predicted, labels, label_of[x], label_of[y],
                                                              resamples=config.bootstrap_resamples,
                                                              seed=config.seed) for x, y in pairs},
        "notes": {part: {group: int((data[1] == i).sum()) for group, i in label_of.items()}
                  for part, data in parts.items()},
        "training": summary,
        "over_seeds": over_seeds,
        "confusion_png": os.path.relpath(run_dir / "confusion.png", out_dir),
        "seconds": time.perf_counter() - started,
    }


def extract_features(images: torch.Tensor, config: ExperimentConfig, batch_size: int = 8
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Feature maps of the shipped audio CNN for ``images`` ``(N, 1, F, T)``: the t-SNE features ``(N, D)`` from
    ``feature_layer`` pooled by ``feature_pooling``, and the embedding ``(N, E)`` (global mean and max of
    ``pool5``, what the classifier head reads)."""
    from spectrostyle.core.device import resolve_device
    from spectrostyle.store import load_named_model

    device = resolve_device(config.device)
    model = load_named_model(config.feature_model, "audio_cnn", device=device).eval()
    layer = config.feature_layer
    features, embeddings = [], []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size].to(device, torch.float32)
            taps = model.extract(batch, [layer, "pool5"])
            maps = taps[layer]  # (B, C, F', T')
            if config.feature_pooling == "mean_std":
                pooled = torch.cat([maps.mean(dim=(2, 3)), maps.std(dim=(2, 3))], dim=1)
            else:
                pooled = maps.mean(dim=3).flatten(1)
            features.append(pooled.cpu())
            deep = taps["pool5"]
            embeddings.append(torch.cat([deep.mean(dim=(2, 3)), deep.amax(dim=(2, 3))], dim=1).cpu())
    return torch.cat(features).numpy().astype(np.float64), torch.cat(embeddings).numpy().astype(np.float64)


def _standardise(values: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    reference = values if reference is None else reference
    return (values - reference.mean(0)) / np.maximum(reference.std(0), 1e-6)


def tsne_embedding(features: np.ndarray, config: ExperimentConfig) -> tuple[np.ndarray, float]:
    """2-D t-SNE of standardised features ``(N, D)`` (PCA to 50 dimensions first when larger), seeded; returns
    the points ``(N, 2)`` and the perplexity used."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    data = _standardise(features)
    if data.shape[1] > 50 and len(data) > 50:
        data = PCA(50, random_state=config.seed).fit_transform(data)
    perplexity = config.tsne_perplexity or min(30.0, max(2.0, (len(data) - 1) / 3))
    perplexity = min(perplexity, len(data) - 1.0)
    points = TSNE(2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=config.seed
                  ).fit_transform(data)
    return points, perplexity


def plot_tsne(points: np.ndarray, sounds: Sequence[Sound], groups: Sequence[str], path: Path, title: str) -> Path:
    """Scatter of the t-SNE points by group: sources as squares, a2b sounds as circles, b2a as triangles (the
    control group as hollow circles)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    colours = plt.get_cmap("tab10")
    markers = {"": "s", "a2b": "o", "b2a": "^"}
    figure, axes = plt.subplots(figsize=(7.5, 5.5))
    for g, group in enumerate(groups):
        for direction, marker in markers.items():
            rows = [i for i, s in enumerate(sounds) if s.group == group and s.direction == direction]
            if not rows:
                continue
            label = group if direction == "" else f"{group} ({direction})"
            colour = colours(g % 10)
            if group == CONTROL:  # on top of source A's points: hollow, so both show
                axes.scatter(points[rows, 0], points[rows, 1], s=70, marker=marker, facecolors="none",
                             edgecolors=[colour], linewidths=1.2, label=label)
            else:
                axes.scatter(points[rows, 0], points[rows, 1], s=22, marker=marker, color=colour, alpha=0.8,
                             label=label, edgecolors="none")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_title(title, fontsize=10)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    figure.tight_layout()
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    plt.close(figure)
    return path


def _median(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return float(np.median(finite)) if finite else None


def _summarise(groups: Sequence[str], sounds: Sequence[Sound], position: dict[str, np.ndarray],
               classification: dict[str, Any], silhouette: dict[str, Any], made: dict[str, Any]) -> dict[str, Any]:
    """Per group: the numbers of the main table."""
    from spectrostyle.core.metrics import PITCH_OFF_CENTS

    name_a, name_b = groups[:2]
    table = {}
    for group in groups:
        rows = [i for i, s in enumerate(sounds) if s.group == group]
        errors = [sounds[i].pitch_error_cents for i in rows]
        entry: dict[str, Any] = {
            "sounds": len(rows),
            "directions": sorted({sounds[i].direction for i in rows if sounds[i].direction}),
            "pitch_error_cents_median": float(np.median(errors)) if errors else None,
            "pitch_lost_fraction": float(np.mean([not math.isfinite(e) for e in errors])) if errors else None,
            "pitch_off_fraction": float(np.mean([not e <= PITCH_OFF_CENTS for e in errors])) if errors else None,
            "silhouette": silhouette["features"].get(group),
            "silhouette_tsne": silhouette["tsne"].get(group),
            "position": float(position["position"][rows].mean()),
            "to_a": float(position["to_a"][rows].mean()),
            "to_b": float(position["to_b"][rows].mean()),
        }
        for direction in ("a2b", "b2a"):
            chosen = [i for i in rows if sounds[i].direction == direction]
            if chosen:
                entry[f"position_{direction}"] = float(position["position"][chosen].mean())
        if group in made:
            entry["seconds_per_sound_median"] = _median([sounds[i].seconds for i in rows])
            entry["spectral_convergence_db_median"] = _median([sounds[i].spectral_convergence_db for i in rows])
            test = classification.get(group)
            if test is not None:
                entry.update({
                    "accuracy": test["accuracy"], "accuracy_ci": test["accuracy_ci"],
                    "recall": test["recall"][group], "precision": test["precision"][group],
                    "vs_a": test["separability"][f"{group} vs {name_a}"]["balanced_accuracy"],
                    "vs_a_ci": test["separability"][f"{group} vs {name_a}"]["ci"],
                    "vs_b": test["separability"][f"{group} vs {name_b}"]["balanced_accuracy"],
                    "vs_b_ci": test["separability"][f"{group} vs {name_b}"]["ci"],
                })
                seeds = test.get("over_seeds")
                if seeds:  # several classifiers: their mean, and the range over seeds instead of one's interval
                    for key, values in (("accuracy", seeds["accuracy"]),
                                        ("vs_a", seeds["separability"][f"{group} vs {name_a}"]),
                                        ("vs_b", seeds["separability"][f"{group} vs {name_b}"])):
                        entry[key], entry[f"{key}_ci"] = values["mean"], [values["min"], values["max"]]
            if "all" in classification:
                entry["recall_all_groups"] = classification["all"]["recall"][group]
        table[group] = entry
    return table

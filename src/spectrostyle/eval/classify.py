"""What the audio CNN hears: family predictions and confusion-matrix plots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from spectrostyle.core.audio import atomic_output
from spectrostyle.nets.audio_cnn import AudioCNN


def plot_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], path: Path, title: str) -> Path:
    """Save a confusion-matrix PNG (rows: true class, columns: predicted), atomically."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(1.0 + 0.6 * len(class_names), 0.8 + 0.55 * len(class_names)))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    axes.set_yticks(range(len(class_names)), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for (row, col), count in np.ndenumerate(matrix):
        axes.text(col, row, str(count), ha="center", va="center",
                  color="white" if count > matrix.max() / 2 else "black", fontsize=8)
    figure.tight_layout()
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    plt.close(figure)
    return path


def min_frames(model: nn.Module) -> int:
    """The narrowest image ``model`` takes: one frame per 2x pooling, doubled at each."""
    return 2 ** sum(isinstance(module, nn.MaxPool2d) for module in model.modules())


def pad_frames(images: Tensor, frames: int) -> Tensor:
    """``(..., F, T)`` images padded with silence (pixel 0) on the right to at least ``frames`` frames."""
    short = frames - images.shape[-1]
    return nn.functional.pad(images, (0, short)) if short > 0 else images


def classify(images: Tensor, model: AudioCNN, top_k: int = 3) -> list[list[tuple[str, float]]]:
    """Top-k (family, probability) for each image of ``(B, 1, F, T)``; an image narrower than the network takes
    (a sound shorter than about 0.5 s) is padded with silence."""
    model.check_input(images)
    images = pad_frames(images, min_frames(model))
    with torch.no_grad():
        probabilities = torch.softmax(model(images.float()), dim=1)
    values, indices = probabilities.topk(min(top_k, probabilities.shape[1]), dim=1)
    names = model.config.class_names
    return [[(names[int(i)], float(v)) for v, i in zip(row_v, row_i, strict=True)] for row_v, row_i in
            zip(values, indices, strict=True)]

"""Where a method's style loss sits: the weighted style term of each style layer, for a content note's own image,
Fast's output image (one or more models) and Slow's, towards a style note - with each image's share of near-silent
pixels, since the Gram matrices of the deep layers grow with how much of the image sounds.

Usage: python benchmarks/bench_style_layers.py NOTE [NOTE ...] [--data DIR] [--style keyboard]
                                               [--model NAME_OR_PATH ...] [--no-slow] [--threads 2]
``NOTE``: note names of the NSynth-format dataset ``--data`` (default runs/fluidr3-eval, the evaluation set of
bench_fast_heard.py); ``--style``: the style note, ``STYLE`` 60 of the shipped examples; ``--model``: Fast models
(shipped names or model paths; default the shipped one named ``--style``). The terms are those of the default
loss (the style weight times the layer's weight times the mean squared Gram difference), so a row's sum is the
image style loss that bench_fast_heard.py reports. About 30-110 s per note for Slow, 1 s per Fast model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from spectrostyle.core.audio import load_audio
from spectrostyle.core.spectrogram import Spectrogram
from spectrostyle.data.examples import example_path
from spectrostyle.methods.gatys import load_feature_net
from spectrostyle.methods.losses import LossWeights, gram_matrix
from spectrostyle.pipeline import transfer

SILENT_LEVEL = 0.02  # pixel value (0 = the dB floor, 1 = the peak) under which a pixel counts as near-silent


def layer_terms(feature_net, weights: LossWeights, grams: dict[str, torch.Tensor], image: torch.Tensor
                ) -> list[float]:
    """The weighted style term per style layer of ``image`` ``(1, 1, F, T)`` against the style ``grams``."""
    layer_weights = weights.style_layer_weights or (1.0 / len(weights.style_layers),) * len(weights.style_layers)
    with torch.no_grad():
        features = feature_net.extract(image, weights.style_layers)
        return [weights.style * weight * float(((gram_matrix(features[layer]) - grams[layer]) ** 2).mean())
                for layer, weight in zip(weights.style_layers, layer_weights, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notes", nargs="+")
    parser.add_argument("--data", type=Path, default=Path("runs/fluidr3-eval"))
    parser.add_argument("--style", default="keyboard")
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--no-slow", action="store_true", help="Leave Slow (Gatys) out.")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    feature_net = load_feature_net("default")
    weights = LossWeights()
    style_audio = load_audio(example_path(args.style, 60))
    with torch.no_grad():
        style_features = feature_net.extract(Spectrogram.from_audio(style_audio).image[None, None],
                                             weights.style_layers)
    grams = {layer: gram_matrix(style_features[layer]) for layer in weights.style_layers}
    models = args.model or [args.style]
    print(f"style {args.style} 60; terms per layer ({', '.join(weights.style_layers)}), their sum, and the share "
          f"of pixels under {SILENT_LEVEL}")
    for name in args.notes:
        content = load_audio(args.data / "audio" / f"{name}.wav")
        images: dict[str, torch.Tensor] = {}
        for model in models:
            result = transfer(content, None, "fast", model=model)
            images.setdefault("content", result.content.image)
            images[f"fast {model}"] = result.spectrogram.image
        if not args.no_slow:
            images["slow"] = transfer(content, style_audio, "gatys").spectrogram.image
        print(name)
        for label, image in images.items():
            terms = layer_terms(feature_net, weights, grams, image[None, None])
            silent = float((image < SILENT_LEVEL).float().mean())
            print(f"  {label:40s} " + " ".join(f"{t:8.3f}" for t in terms) + f" = {sum(terms):8.3f}   "
                  f"silent {silent:.3f}")


if __name__ == "__main__":
    main()

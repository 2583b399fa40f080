"""Feed-forward methods (Fast, AdaIN): end-to-end speed on a 4 s note and a 60 s file, per-note speed in a batch
of 64 against one at a time, the networks' forward time, and the spectral convergence of the phase
reconstruction at the chosen number of Griffin-Lim iterations (warm-started from the content's phase).

Usage: python benchmarks/bench_fast.py [--threads 2] [--method fast|adain|both] [--model NAME_OR_PATH]
                                       [--phase-iterations N] [--untrained [--fast-channels 16,32,64]
                                       [--fast-residual-blocks 4]] [--skip-long] [--repeats 5]
End to end = from a loaded audio array to the output audio (spectrogram, network, Griffin-Lim, peak limiting);
the one-off model load is reported apart. ``--model`` picks the model of the one ``--method`` (default: the
shipped ``fast_transformer-keyboard`` and ``adain_decoder-default``); ``--untrained`` times untrained networks of
the default architectures (the speed does not depend on the weights), for use before any model is shipped, or
with ``--fast-channels`` / ``--fast-residual-blocks`` a Fast network of other widths (what a wider one would cost).
Targets (issue 5, 2 CPU cores): 4 s note <= 80 ms, 60 s file <= 1.2 s, batch of 64 faster per note than one.
``--quality`` adds, on content notes at MIDI 65 (not among the training notes): Fast's style loss against what
Slow (Gatys, default settings) reaches for the same content and style (goal: within 2x), after how many of Slow's
L-BFGS steps Slow's style loss is down to Fast's (Johnson et al.'s comparison), and the pitch kept; then the same
style loss averaged over the images delayed by 0-7 frames (Slow's plain result is fitted to one placement in the
loss network and loses most of its fit 16 ms later, so it is compared with Slow optimised over those delays too)
and the style loss of what is heard (the output audio analysed again); AdaIN's style distance as alpha goes 0 -> 1
and its alpha-0 reconstruction error against the content image.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from spectrostyle.core.audio import load_audio
from spectrostyle.core.spectrogram import DEFAULT_ITERATIONS, griffin_lim, spectral_convergence_db, stft_phase
from spectrostyle.data.examples import example_path
from spectrostyle.methods.base import TransferMethod
from spectrostyle.methods.registry import make_options, method_class
from spectrostyle.pipeline import transfer, transfer_batch

DEFAULT_MODELS = {"fast": "keyboard", "adain": "default"}
STYLE = ("flute", 65)
CONTENT = ("keyboard", 60)
BATCH = 64


def median_ms(run: Callable[[], object], repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def untrained_models(folder: Path, fast_channels: tuple[int, ...] = (16, 32, 64), fast_residual_blocks: int = 4
                     ) -> dict[str, str]:
    """Models with random weights: a Fast network of the given widths (default: the default architecture), the
    default AdaIN decoder and an untrained audio CNN as its encoder."""
    from spectrostyle.nets.adain import AdainDecoder, AdainDecoderConfig, encoder_blocks
    from spectrostyle.nets.audio_cnn import AudioCNN
    from spectrostyle.nets.transform_net import TransformNet, TransformNetConfig
    from spectrostyle.store import save_model, sha256_of

    torch.manual_seed(0)
    fast = save_model(TransformNet(TransformNetConfig(channels=fast_channels, residual_blocks=fast_residual_blocks)),
                      folder / "fast")
    encoder = AudioCNN().eval()
    encoder_path = save_model(encoder, folder / "encoder")
    decoder = AdainDecoder(AdainDecoderConfig(encoder_blocks=encoder_blocks(encoder), encoder_name=str(encoder_path),
                                              encoder_sha256=sha256_of(encoder_path.with_suffix(".safetensors"))))
    return {"fast": str(fast), "adain": str(save_model(decoder, folder / "decoder"))}


def networks_ms(runner: TransferMethod, repeats: int) -> str:
    """Forward time of the networks alone on one 512 x 256 image (AdaIN: content encoder + decoder)."""
    image = torch.rand(1, 1, 512, 256).contiguous(memory_format=torch.channels_last)  # as the methods run them
    with torch.inference_mode():
        if runner.name == "fast":
            return f"transformation network {median_ms(lambda: runner.model(image), repeats):.1f} ms"
        from spectrostyle.methods.adain import ENCODER_LAYER, stylise_images
        from spectrostyle.nets.adain import channel_stats

        encoder, decoder = runner.models
        mean, std = channel_stats(encoder.extract(image, [ENCODER_LAYER])[ENCODER_LAYER])
        both = median_ms(lambda: stylise_images(encoder, decoder, image, mean, std), repeats)
        alone = median_ms(lambda: encoder.extract(image, [ENCODER_LAYER]), repeats)
        return f"encoder + AdaIN + decoder {both:.1f} ms (encoder alone {alone:.1f} ms)"


def spectral_convergence(result, content_audio: np.ndarray, iterations: int) -> str:
    """SC (dB) of the result's reconstruction: warm start at ``iterations`` and at 0, and 64 from random phase."""
    magnitude = result.spectrogram.magnitude()
    config = result.spectrogram.config
    phase = stft_phase(torch.as_tensor(content_audio), config, num_frames=magnitude.shape[-1])
    warm = spectral_convergence_db(magnitude, griffin_lim(magnitude, config, n_iter=iterations, init=phase), config)
    none = spectral_convergence_db(magnitude, griffin_lim(magnitude, config, n_iter=0, init=phase), config)
    cold = spectral_convergence_db(magnitude, griffin_lim(magnitude, config, n_iter=DEFAULT_ITERATIONS), config)
    return (f"spectral convergence {float(warm):.1f} dB at {iterations} warm-started iterations "
            f"({float(none):.1f} dB at 0; {float(cold):.1f} dB at {DEFAULT_ITERATIONS} from random phase)")


def fast_quality(model: str) -> None:
    """Fast vs Slow: style term of the same perceptual loss, for both directions of the shipped pair."""
    from spectrostyle.core.metrics import pitch_error_to_note_cents
    from spectrostyle.core.spectrogram import Spectrogram
    from spectrostyle.methods.gatys import load_feature_net
    from spectrostyle.methods.losses import LossWeights, PerceptualLoss
    from spectrostyle.store import is_shipped, load_named_model

    loss = PerceptualLoss(load_feature_net("default"), LossWeights(content=0, energy=0, frequency=0))
    given_model = model not in DEFAULT_MODELS.values()
    # a model given by --model is measured on the pair whose style note it was trained for (it records the file)
    style_file = load_named_model(model, "fast_transformer").metadata["style"]["file"] if given_model else None
    for style_family, content_family in [("keyboard", "flute"), ("flute", "keyboard")]:
        if given_model and example_path(style_family, 60).name != style_file:
            print(f"  quality {content_family} 65 as {style_family} 60: model {model} has another style, skipped")
            continue
        name = model if given_model else style_family
        if name == style_family and not is_shipped("fast_transformer", name):
            print(f"  quality {content_family} 65 as {style_family} 60: no shipped fast_transformer-{name}, skipped")
            continue
        content = load_audio(example_path(content_family, 65))
        style_audio = load_audio(example_path(style_family, 60))
        fast = transfer(content, None, "fast", model=name, keep_pitch=0.0)  # the methods' own images
        slow = transfer(content, style_audio, "gatys", balance=0.0)
        style = Spectrogram.from_audio(style_audio).image[None, None]
        content_image = fast.content.image[None, None]
        targets = loss.targets(content_image, style)
        with torch.no_grad():
            before, fast_loss, slow_loss = (float(loss(image, targets)["style"]) for image in (
                content_image, fast.spectrogram.image[None, None], slow.spectrogram.image[None, None]))
        print(f"  quality {content_family} 65 as {style_family} 60 (model {name}): style loss content {before:.3g}, "
              f"Fast {fast_loss:.3g}, Slow {slow_loss:.3g} (Fast / Slow {fast_loss / slow_loss:.2f}); f0 error "
              f"Fast {pitch_error_to_note_cents(fast.audio, 16_000, 65):.1f} cents, "
              f"Slow {pitch_error_to_note_cents(slow.audio, 16_000, 65):.1f} cents; Fast {fast.seconds:.2f} s, "
              f"Slow {slow.seconds:.1f} s")
        print(f"    {slow_steps_to_reach(slow.history['style'], loss.weights.style, fast_loss, slow.seconds)}")
        print(f"    {placement_robust(loss, targets, content_image, fast, slow, content, style_audio)}")


def placement_robust(loss, targets, content_image, fast, slow, content, style_audio) -> str:
    """The style term averaged over the images delayed by 0-7 frames (a 16-112 ms later start, which the sound's
    style does not depend on), for the content, Fast, plain Slow and Slow optimised over the same delays
    (``delays=8``); and the style term of what is heard: each output's audio analysed again."""
    from spectrostyle.core.spectrogram import Spectrogram

    robust = transfer(content, style_audio, "gatys", delays=8, balance=0.0)
    with torch.no_grad():
        over = [float(loss.style_over_delays(image, targets, delays=8)) for image in (
            content_image, fast.spectrogram.image[None, None], slow.spectrogram.image[None, None],
            robust.spectrogram.image[None, None])]
        heard = [float(loss(Spectrogram.from_audio(r.audio).image[None, None][..., :content_image.shape[-1]],
                            targets)["style"]) for r in (fast, slow, robust)]
    return (f"over 0-7 frame delays: style loss content {over[0]:.3g}, Fast {over[1]:.3g}, Slow {over[2]:.3g}, "
            f"Slow optimised over the delays {over[3]:.3g} ({robust.seconds:.0f} s; "
            f"Fast / it {over[1] / over[3]:.2f}); "
            f"heard (output audio analysed again): Fast {heard[0]:.3g}, Slow {heard[1]:.3g}, "
            f"Slow over the delays {heard[2]:.3g}")


def slow_steps_to_reach(slow_style_history: list[float], style_weight: float, fast_loss: float,
                        slow_seconds: float) -> str:
    """Johnson et al.'s comparison: after how many of Slow's L-BFGS steps its style loss is down to Fast's.

    ``slow_style_history``: Slow's style term before its first step and after each (at Slow's own style weight,
    rescaled here to ``style_weight``, the measuring loss's).
    """
    from spectrostyle.methods.gatys import GatysMethod

    scale = style_weight / GatysMethod.Options().style_weight
    curve = [value * scale for value in slow_style_history]
    steps = len(curve) - 1
    reached = next((step for step, value in enumerate(curve) if value <= fast_loss), None)
    if reached is None:
        return f"Slow's style loss stays above Fast's for all its {steps} L-BFGS steps"
    return (f"Slow's style loss is down to Fast's after {reached} of its {steps} L-BFGS steps "
            f"({curve[reached]:.3g}; about {slow_seconds * reached / steps:.1f} s of its {slow_seconds:.1f} s)")


def adain_quality(runner: TransferMethod) -> None:
    """AdaIN: style distance (channel mean/std at relu1_1..relu4_1) against alpha; alpha-0 reconstruction."""
    from spectrostyle.core.metrics import pitch_error_to_note_cents
    from spectrostyle.methods.adain import STYLE_LAYERS
    from spectrostyle.nets.adain import channel_stats

    encoder = runner.models[0]
    for content_key, style_key in [(("keyboard", 65), ("flute", 60)), (("flute", 65), ("keyboard", 60))]:
        content, style_audio = load_audio(example_path(*content_key)), load_audio(example_path(*style_key))
        distances, results = [], {}
        for alpha in (0.0, 0.25, 0.5, 0.75, 1.0):
            runner.options.alpha = alpha
            results[alpha] = result = transfer(content, style_audio, runner, keep_pitch=0.0, balance=0.0)  # its own
            with torch.no_grad():
                ours = encoder.extract(result.spectrogram.image[None, None], STYLE_LAYERS)
                theirs = encoder.extract(result.styles[0].image[None, None], STYLE_LAYERS)
                distance = 0.0
                for layer in STYLE_LAYERS:
                    (m1, s1), (m2, s2) = channel_stats(ours[layer]), channel_stats(theirs[layer])
                    distance += float(((m1 - m2) ** 2).mean() + ((s1 - s2) ** 2).mean())
            distances.append(distance)
        runner.options.alpha = 1.0
        error = (results[0.0].spectrogram.image - results[0.0].content.image).abs().mean()
        db_floor = -results[0.0].spectrogram.config.db_floor
        print(f"  quality {content_key[0]} {content_key[1]} with {style_key[0]} {style_key[1]} style: style distance "
              f"at alpha 0, .25, .5, .75, 1: {', '.join(f'{d:.3g}' for d in distances)}; alpha 0 reconstruction "
              f"error {float(error):.4f} mean |pixel| ({float(error) * db_floor:.2f} dB); f0 error at alpha 1 "
              f"{pitch_error_to_note_cents(results[1.0].audio, 16_000, content_key[1]):.1f} cents")


def bench(method: str, model: str, args: argparse.Namespace) -> None:
    cls = method_class(method)
    started = time.perf_counter()
    runner = cls(make_options(method, model=model))
    config = runner.spectrogram_config  # loads the model(s)
    load_ms = 1000 * (time.perf_counter() - started)
    iterations = runner.phase_iterations if args.phase_iterations is None else args.phase_iterations
    style = [load_audio(example_path(*STYLE))] if cls.needs_style else None
    note = load_audio(example_path(*CONTENT))
    print(f"\n{method} (model {model}; loaded in {load_ms:.0f} ms): {networks_ms(runner, args.repeats)}")

    def one(audio: np.ndarray):
        return transfer(audio, style, runner, phase_iterations=iterations)

    single_ms = median_ms(lambda: one(note), args.repeats)
    print(f"  4 s note end to end: {single_ms:.1f} ms ({4000 / single_ms:.0f}x real time)")
    print("  " + spectral_convergence(one(note), note, iterations))
    notes = np.stack([load_audio(example_path(f, p)) for f, p in
                      [("flute", 60), ("flute", 65), ("keyboard", 60), ("keyboard", 65), ("guitar", 60),
                       ("string", 60), ("brass", 60), ("reed", 60)]] * (BATCH // 8))
    batch_ms = median_ms(lambda: transfer_batch(notes, style, runner, phase_iterations=iterations),
                         max(1, args.repeats // 2))
    one_by_one = median_ms(lambda: [one(n) for n in notes[:8]], max(1, args.repeats // 2)) / 8
    print(f"  batch of {BATCH}: {batch_ms / BATCH:.1f} ms per note; one at a time {one_by_one:.1f} ms per note "
          f"({one_by_one / (batch_ms / BATCH):.2f}x)")
    if not args.skip_long:
        parts = [load_audio(example_path(f, p)) for f, p in [("flute", 60), ("keyboard", 65), ("guitar", 60)]]
        long = np.concatenate([parts[i % 3] for i in range(15)])[: 60 * config.sample_rate]
        long_ms = median_ms(lambda: one(long), max(1, args.repeats // 2))
        print(f"  60 s file end to end: {long_ms:.0f} ms ({60_000 / long_ms:.0f}x real time)")
    if args.quality:
        if method == "fast":
            fast_quality(model)
        else:
            adain_quality(runner)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--method", choices=["fast", "adain", "both"], default="both")
    parser.add_argument("--model", default=None, help="Model of --method (a shipped name or a path).")
    parser.add_argument("--phase-iterations", type=int, default=None,
                        help="Griffin-Lim iterations (default: the method's).")
    parser.add_argument("--untrained", action="store_true", help="Time untrained default-architecture networks.")
    parser.add_argument("--fast-channels", default="16,32,64",
                        help="With --untrained: widths of the untrained Fast network's levels.")
    parser.add_argument("--fast-residual-blocks", type=int, default=4,
                        help="With --untrained: residual blocks of the untrained Fast network.")
    parser.add_argument("--skip-long", action="store_true", help="Skip the 60 s file.")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quality", action="store_true",
                        help="Also the quality figures (runs Slow four times, twice over 8 delays: minutes).")
    args = parser.parse_args()
    if args.model is not None and args.method == "both":
        parser.error("--model needs --method fast or --method adain")
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; content {CONTENT[0]} {CONTENT[1]}, "
          f"AdaIN style {STYLE[0]} {STYLE[1]}")
    methods = ["fast", "adain"] if args.method == "both" else [args.method]
    with tempfile.TemporaryDirectory() as tmp:
        models = untrained_models(Path(tmp), tuple(int(c) for c in args.fast_channels.split(",")),
                                  args.fast_residual_blocks) if args.untrained else dict(DEFAULT_MODELS)
        if args.model is not None:
            models[args.method] = args.model
        for method in methods:
            bench(method, models[method], args)


if __name__ == "__main__":
    main()

"""AdaIN: Huang & Belongie (2017) arbitrary style transfer on spectrogram images, in one feed-forward pass.

The encoder is the shipped audio CNN up to ``relu4_1`` (frozen). Adaptive instance normalisation gives the
content's ``relu4_1`` features the channel means and standard deviations of the style's; a decoder (the
encoder's mirror: nearest-neighbour upsampling, reflection padding, no normalisation layers) turns them back
into an image. ``alpha`` interpolates between the content's own features (0) and the fully stylised ones (1);
several style sounds are mixed by mixing their statistics (which, AdaIN being linear in them, is the same as
mixing the stylised features). The decoder is trained on dataset notes with the paper's losses: content loss
to the AdaIN target features, style loss on the means and standard deviations at ``relu1_1`` .. ``relu4_1``;
and, by default, an identity loss (the decoding of a content's own features against the content image, in
pixels), without which a decoder trained for minutes on 2 CPU cores still paints blobs instead of harmonics.

A decoder only fits the encoder it was trained with: its JSON records that encoder's name and the SHA-256 of
its weights, and :func:`load_adain` refuses any other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from spectrostyle.core.errors import InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.methods.base import CommonOptions, TransferMethod, setting
from spectrostyle.methods.network import FEEDFORWARD_KEEP_PITCH, FEEDFORWARD_PHASE_ITERATIONS, check_tiling, run_tiled
from spectrostyle.nets.adain import STATS_EPS, AdainDecoder, adain, encoder_blocks
from spectrostyle.nets.audio_cnn import AudioCNN
from spectrostyle.nets.layers import pad_to_multiple

ENCODER_LAYER = "relu4_1"


STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


ENCODER_MULTIPLE = 8  # three 2 x 2 poolings before relu4_1


SILENT_BORDER = 32  # pixels of silence before the content and above it while stylising (see stylise_images)


SILENT_BORDER_AFTER = 48  # pixels of silence after the content (the decoder's end band lies 30-50 px in)


def _find_encoder(decoder: AdainDecoder, encoder: str | None, decoder_name: str) -> Path:
    """The audio CNN file for ``decoder``: ``encoder`` if given, else the one it records, else a shipped audio CNN
    with the recorded checksum; :class:`InputError` when none is found or the checksum differs."""
    from spectrostyle.store import read_description, resolve_model, shipped_models

    wanted = decoder.config.encoder_sha256
    if encoder is None:
        try:
            path = resolve_model(decoder.config.encoder_name, "audio_cnn")
        except InputError:
            matches = [m.path for m in shipped_models() if m.kind == "audio_cnn" and m.description["sha256"] == wanted]
            if not matches:
                raise InputError(f"adain decoder '{decoder_name}' was trained with the audio CNN "
                                 f"'{decoder.config.encoder_name}' (sha256 {wanted[:12]}...), which is not here; "
                                 "pass the encoder it was trained with") from None
            path = matches[0]
    else:
        path = resolve_model(encoder, "audio_cnn")
    found = read_description(path)["sha256"]
    if found != wanted:
        raise InputError(f"adain decoder '{decoder_name}' was trained with the audio CNN "
                         f"'{decoder.config.encoder_name}' (sha256 {wanted[:12]}...), but the encoder '{path.stem}' "
                         f"has sha256 {found[:12]}...: a decoder only fits its own encoder; retrain the decoder "
                         "(recipes/adain.sh) or use the encoder it was trained with")
    return path


def load_adain(model: str = "default", encoder: str | None = None, *, device: str | torch.device = "cpu"
               ) -> tuple[AudioCNN, AdainDecoder]:
    """The (encoder, decoder) pair of an AdaIN model: ``model`` a shipped ``adain_decoder`` name or a path;
    ``encoder`` (default: the one the decoder records) must be the audio CNN it was trained with (same SHA-256)."""
    from spectrostyle.store import load_model, load_named_model

    decoder = load_named_model(model, AdainDecoder.kind, device=device)
    path = _find_encoder(decoder, encoder, str(model))
    cnn = load_model(path, expect_kind="audio_cnn", device=device)
    cnn.spectrogram.require_same(decoder.spectrogram, f"adain decoder '{model}'")
    if encoder_blocks(cnn) != decoder.config.encoder_blocks:
        raise InputError(f"adain decoder '{model}' mirrors encoder channels {decoder.config.encoder_blocks}, "
                         f"but the encoder has {encoder_blocks(cnn)}")
    return cnn, decoder


def mix_weights(mix: Sequence[float] | None, count: int) -> np.ndarray:
    """The weights of ``count`` style sounds ``(count,)`` float64 summing to 1: ``mix`` normalised (default equal);
    :class:`InputError` when their numbers differ, or a weight is negative, or all are 0."""
    weights = np.asarray(list(mix) if mix is not None else [1.0] * count, dtype=np.float64)
    if len(weights) != count or not count:
        raise InputError(f"{count} style sounds but {len(weights)} style_mix weights")
    if (weights < 0).any() or float(weights.sum()) <= 0:
        raise InputError(f"style_mix weights must be >= 0 and not all 0, got {weights.tolist()}")
    return weights / weights.sum()


def style_statistics(encoder: AudioCNN, styles: Sequence[Tensor], mix: Sequence[float] | None = None, *,
                     tile_frames: int = 256, layers: Sequence[str] = (ENCODER_LAYER,)
                     ) -> dict[str, tuple[Tensor, Tensor]]:
    """Mixed channel means and standard deviations ``(1, C, 1, 1)`` at ``layers`` of style images, each
    ``(1, 1, F, T')`` of any length (encoded ``tile_frames`` at a time, so memory stays bounded); ``mix`` weights
    the styles (normalised to sum to 1; default equal)."""
    weights = mix_weights(mix, len(styles))
    mixed: dict[str, tuple[Tensor, Tensor]] = {}
    for style, weight in zip(styles, weights.tolist(), strict=True):
        sums: dict[str, list[Tensor]] = {}
        for start in range(0, style.shape[-1], tile_frames):
            chunk = style[..., start:start + tile_frames]
            padded = pad_to_multiple(chunk, ENCODER_MULTIPLE).contiguous(memory_format=torch.channels_last)
            features = encoder.extract(padded, layers)
            for layer in layers:
                values = features[layer]
                scale = padded.shape[-1] // values.shape[-1]  # crop what came from the padding
                values = values[..., : max(1, chunk.shape[-2] // scale), : max(1, chunk.shape[-1] // scale)]
                flat = values.double().flatten(2)
                part = [flat.sum(2), (flat ** 2).sum(2), torch.tensor(float(flat.shape[-1]), dtype=torch.float64)]
                sums[layer] = [a + b for a, b in zip(sums[layer], part, strict=True)] if layer in sums else part
        for layer, (total, squares, count) in sums.items():
            mean = total / count
            std = ((squares / count - mean ** 2).clamp_min(0) + STATS_EPS).sqrt()
            mean, std = mean.float()[..., None, None], std.float()[..., None, None]
            if layer in mixed:
                mixed[layer] = (mixed[layer][0] + weight * mean, mixed[layer][1] + weight * std)
            else:
                mixed[layer] = (weight * mean, weight * std)
    return mixed


ALPHA_LEVELS = 4  # an alpha curve is drawn between the results at alpha 0, 1/4, 1/2, 3/4 and 1
ALPHA_SCALES = ("linear", "even")


@dataclass(frozen=True)
class StyleStatistics:
    """Mixed channel means and standard deviations ``(1, C, 1, 1)`` of the style sound(s) at ``relu4_1``; for a style
    curve, each style's own as well (``parts``)."""

    mean: Tensor
    std: Tensor
    parts: tuple[tuple[Tensor, Tensor], ...] = ()


def stylise_images(encoder: AudioCNN, decoder: AdainDecoder, images: Tensor, style_mean: Tensor, style_std: Tensor,
                   alpha: float = 1.0, border: int = SILENT_BORDER, border_after: int = SILENT_BORDER_AFTER) -> Tensor:
    """Content images ``(B, 1, F, T)`` -> decoded ``alpha * AdaIN(f(c), style) + (1 - alpha) * f(c)``, ``(B, 1, F, T)``.

    The content gets ``border`` pixels of silence before it in time and above its top frequency, ``border_after``
    after it, then up to multiples of 8 for the encoder, and the result is cropped back. The encoder's convolutions
    pad with mid-grey (0 on their [-1, 1] scale, -40 dB), so without the margin the decoder drew that edge into the
    sound at full style: a line inside the image's top and a band of frames near its end, heard as a tone near 7.7
    kHz and a click (keyboard 65 as flute 60 with the shipped decoder: mean pixel of frames 236-250 0.129 with no
    margin, 0.125 with 32 after the content, 0.023 with 48; the content 0.001)."""
    freq, frames = images.shape[-2:]
    padded = pad_to_multiple(nn.functional.pad(images, (border, border_after, 0, border)), ENCODER_MULTIPLE
                             ).contiguous(memory_format=torch.channels_last)
    content = encoder.extract(padded, [ENCODER_LAYER], check_input=False)[ENCODER_LAYER]
    target = alpha * adain(content, style_mean, style_std) + (1.0 - alpha) * content
    return decoder(target)[..., :freq, border:border + frames]


class AdainMethod(TransferMethod):
    """Arbitrary style transfer in one pass: any style sound(s), a strength ``alpha``."""

    name = "adain"
    title = "AdaIN: arbitrary style in one pass"
    short = "AdaIN"
    description = ("The content's audio-CNN features take the style's channel means and deviations (adaptive "
                   "instance normalisation); a trained decoder turns them back into a spectrogram. Any style sound, "
                   "no training. Alpha blends from the content (0) to the full style (1).")
    needs_style = True
    model_kinds = ("adain_decoder", "audio_cnn")
    model_choice = "adain_decoder"
    page_order = 0  # the first on the web app: any style, in one pass
    phase_init = "content"
    phase_iterations = FEEDFORWARD_PHASE_ITERATIONS
    keep_pitch = FEEDFORWARD_KEEP_PITCH

    @dataclass
    class Options(CommonOptions):
        alpha: float = setting(1.0, help="Style strength: 0 = the content, 1 = full style.", low=0.0, high=1.0,
                               control="slider", step=0.05)
        alpha_curve: str | None = setting(None, help="Alpha that moves along the sound: SECONDS:ALPHA points, linear "
                                          "between them and held beyond, e.g. 0:0,2:1,4:0.3 (overrides --alpha).")
        alpha_scale: str = setting("linear", help="How --alpha and --alpha-curve map to the blend: linear (the "
                                   "network's own alpha) or even (measured on each sound, so that equal steps of "
                                   "alpha give equal steps of timbre from the content to the style; five extra "
                                   "passes).", choices=ALPHA_SCALES)
        style_curve: str | None = setting(None, help="With two --style sounds: the second one's weight along the "
                                          "sound, SECONDS:WEIGHT points (0: the first style, 1: the second), linear "
                                          "between them, e.g. 0:0,4:1 (overrides --style-mix).")
        style_mix: tuple[float, ...] | None = setting(None, help="Comma-separated weights of the --style sounds "
                                                      "(normalised; default equal).")
        model: str = setting("default", help="Shipped adain_decoder name or a model path.")
        encoder: str | None = setting(None, help="Audio CNN of the decoder (default: the one it was trained with).")
        tile_frames: int = setting(256, help="Frames per network pass over long content (the training length: "
                                   "4 s).", low=1)
        tile_overlap: int = setting(32, help="Frames where tiles overlap.", low=0)
        # tiles per network pass (one runs fastest per tile on CPU)
        batch_size: int = setting(1, help="Tiles per network pass.", low=1)

        def __post_init__(self) -> None:
            super().__post_init__()
            check_tiling(self.tile_frames, self.tile_overlap)
            if self.alpha_curve is not None:
                parse_alpha_curve(self.alpha_curve)
            if self.style_curve is not None:
                parse_alpha_curve(self.style_curve, "style weight")
                if self.alpha_curve is not None:
                    raise InputError("give an alpha curve or a style curve, not both")

    def __init__(self, options: Options | None = None):
        super().__init__(options)
        self._models: tuple[AudioCNN, AdainDecoder] | None = None

    @property
    def models(self) -> tuple[AudioCNN, AdainDecoder]:
        """(encoder, decoder), loaded on first use."""
        if self._models is None:
            encoder, decoder = load_adain(self.options.model, self.options.encoder, device=self.device)
            # channels-last: 2-3x faster convolutions on CPU
            self._models = (encoder.to(memory_format=torch.channels_last),
                            decoder.to(memory_format=torch.channels_last))
        return self._models

    @property
    def spectrogram_config(self) -> SpectrogramConfig:
        return self.models[1].spectrogram

    def style_share(self) -> float:
        """The strength: ``alpha``, or the alpha curve's mean over its span."""
        if self.options.alpha_curve is None:
            return float(self.options.alpha)
        points = parse_alpha_curve(self.options.alpha_curve)
        if len(points) == 1:
            return points[0][1]
        times = [p[0] for p in points]
        return float(np.mean(np.interp(np.linspace(times[0], times[-1], 101), times, [p[1] for p in points])))

    def style_weights(self, count: int) -> np.ndarray:
        """``style_mix``, normalised (equal without it)."""
        return super().style_weights(count) if self.options.style_mix is None else \
            mix_weights(self.options.style_mix, count)

    def balance_share(self) -> float:
        """``alpha`` (a curve's one point); none along a curve (one balance for the whole sound cannot follow a morph
        in time)."""
        moving = self.options.style_curve is not None or (
            self.options.alpha_curve is not None and len(parse_alpha_curve(self.options.alpha_curve)) > 1)
        return 0.0 if moving else self.style_share()

    def prepare_styles(self, styles: Sequence[Tensor]) -> StyleStatistics:
        """The mixed ``relu4_1`` statistics of style images ``(1, 1, F, T')`` (see :func:`style_statistics`)."""
        if not len(styles):
            raise InputError("adain needs at least one style sound")
        encoder = self.models[0]
        with torch.inference_mode():
            styles = [s.to(self.device, torch.float32) for s in styles]
            for style in styles:
                encoder.check_input(style)
            mean, std = style_statistics(encoder, styles, self.options.style_mix,
                                         tile_frames=self.options.tile_frames)[ENCODER_LAYER]
            parts: tuple[tuple[Tensor, Tensor], ...] = ()
            if self.options.style_curve is not None:
                if len(styles) != 2:
                    raise InputError(f"a style curve moves between two style sounds, got {len(styles)}")
                parts = tuple(style_statistics(encoder, [style], tile_frames=self.options.tile_frames)[ENCODER_LAYER]
                              for style in styles)
        return StyleStatistics(mean, std, parts)

    def stylise_images(self, images: Tensor, styles: StyleStatistics, *, progress: bool = False
                       ) -> tuple[Tensor, dict[str, list[float]]]:
        """``(B, 1, F, T)`` content images -> ``(B, 1, F, T)`` results, with the styles' statistics from
        :meth:`prepare_styles` (content in tiles, see :func:`run_tiled`)."""
        o = self.options
        stats = styles
        encoder, decoder = self.models
        encoder.check_input(images)
        images = images.to(self.device, torch.float32)

        def fresh(alpha: float) -> Tensor:
            with torch.inference_mode():
                return run_tiled(lambda x: stylise_images(encoder, decoder, x, stats.mean, stats.std, alpha), images,
                                 tile_frames=o.tile_frames, tile_overlap=o.tile_overlap, batch_size=o.batch_size)

        config = self.spectrogram_config
        at: Callable[[float], Tensor] = fresh
        knob: Callable[[Tensor], Tensor] = lambda alpha: alpha  # noqa: E731
        if o.alpha_scale == "even":  # the results at the blend's levels serve the calibration and the blend
            made = {level / ALPHA_LEVELS: fresh(level / ALPHA_LEVELS) for level in range(ALPHA_LEVELS + 1)}
            knob = even_alpha(made, config)
            at = made.get  # type: ignore[assignment]
        seconds = torch.arange(images.shape[-1], dtype=torch.float64) * config.hop_length / config.sample_rate
        if o.style_curve is not None:  # the styles' statistics blended at the levels, the results along the sound
            (first_mean, first_std), (second_mean, second_std) = stats.parts
            alpha = float(knob(torch.tensor([o.alpha]))[0])

            def mixed(weight: float) -> Tensor:
                with torch.inference_mode():
                    mean = (1 - weight) * first_mean + weight * second_mean
                    std = (1 - weight) * first_std + weight * second_std
                    return run_tiled(lambda x: stylise_images(encoder, decoder, x, mean, std, alpha), images,
                                     tile_frames=o.tile_frames, tile_overlap=o.tile_overlap, batch_size=o.batch_size)

            return blend_along(mixed, alpha_along(parse_alpha_curve(o.style_curve, "style weight"), seconds)), {}
        if o.alpha_curve is None:
            alpha = float(knob(torch.tensor([o.alpha]))[0])
            return blend_along(at, torch.full((images.shape[-1],), alpha)) if o.alpha_scale == "even" \
                else at(alpha), {}
        return blend_along(at, knob(alpha_along(parse_alpha_curve(o.alpha_curve), seconds))), {}




def timbre_positions(levels: dict[float, Tensor], config: SpectrogramConfig) -> np.ndarray:
    """Where each result of ``levels`` (alpha -> ``(B, 1, F, T)`` images) lies between the level-0 result (0)
    and the last level's (1): its mean MFCCs (from the image's mel spectrum, loud frames weighted) projected on the
    line between theirs, for the first image of the batch."""
    import librosa

    # as the MFCCs of librosa.feature.mfcc (128 mel bands, dB with an 80 dB range, orthonormal DCT-II) on the image's
    # magnitudes, frames weighted by their RMS level: the timbre distance the morph benchmark measures on the audio
    mel = torch.as_tensor(librosa.filters.mel(sr=config.sample_rate, n_fft=config.n_fft)[:, :-1], dtype=torch.float32)
    bands = mel.shape[0]
    dct = torch.as_tensor(np.sqrt(2.0 / bands) * np.cos(np.pi / bands * (np.arange(bands) + 0.5)[None, :]
                                                         * np.arange(1, 20)[:, None]), dtype=torch.float32)

    def mean_mfcc(image: Tensor) -> Tensor:
        power = 10.0 ** ((image[0, 0].float().cpu() - 1.0) * -config.db_floor / 10.0)  # (F, T), peak 1
        decibels = 10.0 * torch.log10((mel @ power).clamp_min(1e-10))
        decibels = torch.maximum(decibels, decibels.max() - 80.0)
        loud = power.mean(dim=0).sqrt()
        return (dct @ decibels * (loud / loud.sum())).sum(dim=1)

    points = {level: mean_mfcc(image) for level, image in levels.items()}
    first, last = points[min(points)], points[max(points)]
    line = last - first
    scale = (line @ line).clamp_min(1e-12)
    return np.array([float((points[level] - first) @ line / scale) for level in sorted(points)])


def even_alpha(levels: dict[float, Tensor], config: SpectrogramConfig) -> Callable[[Tensor], Tensor]:
    """The knob that sounds even for one sound: knob value -> the alpha whose result lies that far along the way from
    the content's timbre to the style's (:func:`timbre_positions` of the results at the alpha ``levels``, made
    rising, inverted by linear interpolation)."""
    alphas = np.array(sorted(levels), dtype=np.float64)
    positions = np.maximum.accumulate(np.clip(timbre_positions(levels, config), 0.0, 1.0))
    positions[0], positions[-1] = 0.0, 1.0
    positions = positions + np.arange(len(positions)) * 1e-9  # strictly rising for the inversion

    def knob(values: Tensor) -> Tensor:
        return torch.from_numpy(np.interp(values.double().numpy(), positions, alphas)).float()

    return knob


def parse_alpha_curve(text: str, what: str = "alpha") -> list[tuple[float, float]]:
    """``"0:0,2:1,4:0.3"`` -> ``[(0.0, 0.0), (2.0, 1.0), (4.0, 0.3)]``: (seconds, value) points, seconds rising,
    values (``what``: alpha, or a style's weight) in [0, 1]; :class:`InputError` naming what is wrong."""
    name = what.upper().replace(" ", "_")
    points = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        try:
            seconds, value = (float(number) for number in item.split(":"))
        except ValueError:
            raise InputError(f"{what} curve point '{item}' is not SECONDS:{name} (e.g. 0:0,2:1,4:0.3)") from None
        if not 0.0 <= value <= 1.0 or seconds < 0 or not np.isfinite(seconds):
            raise InputError(f"{what} curve point '{item}': seconds must be >= 0 and {what} in 0..1")
        if points and seconds <= points[-1][0]:
            raise InputError(f"{what} curve points must rise in time ('{item}' after {points[-1][0]:g} s)")
        points.append((seconds, value))
    if not points:
        raise InputError(f"the {what} curve has no points (e.g. 0:0,2:1,4:0.3)")
    return points


def alpha_along(points: Sequence[tuple[float, float]], seconds: Tensor) -> Tensor:
    """Alpha at each time of ``seconds`` ``(T,)``: linear between the curve's points, held before the first and
    after the last."""
    times = np.array([p[0] for p in points])
    alphas = np.array([p[1] for p in points])
    return torch.from_numpy(np.interp(seconds.numpy(), times, alphas)).float()


def blend_along(result_at: Callable[[float], Tensor], alpha: Tensor) -> Tensor:
    """The result for an alpha that changes along time ``alpha`` ``(T,)``: each frame between the results at the two
    nearest of the levels 0, 1/4, ..., 1 (``result_at(level)``: ``(B, 1, F, T)``), linearly; only the levels the
    curve passes are made."""
    scaled = alpha.clamp(0, 1) * ALPHA_LEVELS
    low = scaled.floor().clamp(max=ALPHA_LEVELS - 1).long()  # (T,)
    weight = (scaled - low).view(1, 1, 1, -1)
    needed = sorted(set(low.tolist()) | {level + 1 for level in set(low.tolist())})
    results = {level: result_at(level / ALPHA_LEVELS) for level in needed}
    unused = torch.zeros_like(next(iter(results.values())))
    stacked = torch.stack([results.get(level, unused) for level in range(ALPHA_LEVELS + 1)])  # (levels, B, 1, F, T)
    frames = torch.arange(alpha.shape[0])
    below = stacked[low, ..., frames].permute(1, 2, 3, 0)  # (B, 1, F, T)
    above = stacked[low + 1, ..., frames].permute(1, 2, 3, 0)
    return below * (1 - weight) + above * weight

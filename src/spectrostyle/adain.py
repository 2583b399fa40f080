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

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from spectrostyle.errors import InputError
from spectrostyle.feedforward import (
    FEEDFORWARD_PHASE_ITERATIONS,
    LoopOptions,
    NoteSelection,
    Sample,
    check_tiling,
    describe_options,
    finish_run,
    fit,
    load_training_notes,
    model_record,
    pad_to_multiple,
    run_tiled,
)
from spectrostyle.models import AudioCNN, SpectrogramModel
from spectrostyle.spectrogram import Spectrogram, SpectrogramConfig
from spectrostyle.training import Distributed, resolve_device, seed_everything
from spectrostyle.transfer import TransferMethod

ENCODER_LAYER = "relu4_1"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
STATS_EPS = 1e-5
ENCODER_MULTIPLE = 8  # three 2 x 2 poolings before relu4_1
SILENT_BORDER = 32  # pixels of silence before the content and above it while stylising (see stylise_images)
SILENT_BORDER_AFTER = 48  # pixels of silence after the content (the decoder's end band lies 30-50 px in)


def channel_stats(features: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel mean and standard deviation over positions: ``(B, C, H, W)`` -> two ``(B, C, 1, 1)``."""
    flat = features.flatten(2)
    mean = flat.mean(2)
    std = (flat.var(2, unbiased=False) + STATS_EPS).sqrt()
    return mean[..., None, None], std[..., None, None]


def adain(content: Tensor, style_mean: Tensor, style_std: Tensor) -> Tensor:
    """Adaptive instance normalisation: ``content`` ``(B, C, H, W)`` normalised per channel, then scaled by
    ``style_std`` and shifted by ``style_mean`` (each ``(B or 1, C, 1, 1)``)."""
    mean, std = channel_stats(content)
    return (content - mean) / std * style_std + style_mean


def encoder_blocks(encoder: AudioCNN) -> tuple[tuple[int, ...], ...]:
    """Channels of the encoder's convolutions up to ``relu4_1``, by block: ``((8, 8), (16, 16), (32,) * 4, (64,))``
    for the width-1/8 audio CNN."""
    blocks = encoder.config.channels()
    return tuple(tuple(block) for block in blocks[:3]) + ((blocks[3][0],),)


@dataclass(frozen=True)
class AdainDecoderConfig:
    """Architecture of an :class:`AdainDecoder` (the mirror of ``encoder_blocks``), and the encoder it fits:
    ``encoder_name`` (shipped name or path at training time) and ``encoder_sha256`` (of its weights file)."""

    encoder_blocks: tuple[tuple[int, ...], ...] = ((8, 8), (16, 16), (32, 32, 32, 32), (64,))
    encoder_name: str = "default"
    encoder_sha256: str = ""
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)

    def to_dict(self) -> dict[str, Any]:
        return {"encoder_blocks": [list(b) for b in self.encoder_blocks], "encoder_name": self.encoder_name,
                "encoder_sha256": self.encoder_sha256, "spectrogram": self.spectrogram.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AdainDecoderConfig:
        return cls(encoder_blocks=tuple(tuple(int(c) for c in b) for b in values["encoder_blocks"]),
                   encoder_name=str(values["encoder_name"]), encoder_sha256=str(values["encoder_sha256"]),
                   spectrogram=SpectrogramConfig.from_dict(values["spectrogram"]))


class AdainDecoder(SpectrogramModel):
    """Decoder: ``relu4_1`` features ``(B, C, F / 8, T / 8)`` -> images ``(B, 1, F, T)`` clamped into [0, 1].

    Mirrors the encoder: each of its 3 x 3 convolutions reversed (ReLU after all but the last), nearest-neighbour
    upsampling where the encoder pooled, reflection padding, no normalisation. The last convolution is linear, as
    in the paper: training reads the unclamped output (``clamp=False``), since a squashing output (sigmoid, or
    a clamp during training) lets the mostly-silent spectrogram images drive it into saturation, where the
    gradients vanish and the decoder learns nothing.
    """

    kind = "adain_decoder"

    def __init__(self, config: AdainDecoderConfig | None = None):
        super().__init__()
        self.config = config or AdainDecoderConfig()
        self.spectrogram = self.config.spectrogram
        blocks = self.config.encoder_blocks
        pairs, in_channels = [], 1
        for block in blocks:  # the encoder's (in, out) channels, block by block
            pairs.append([])
            for out_channels in block:
                pairs[-1].append((in_channels, out_channels))
                in_channels = out_channels
        self.in_channels = in_channels
        layers: list[nn.Module] = []
        for b in reversed(range(len(blocks))):
            for encoder_in, encoder_out in reversed(pairs[b]):
                layers.append(nn.Conv2d(encoder_out, encoder_in, 3, padding=1, padding_mode="reflect"))
                layers.append(nn.ReLU(inplace=True))
            if b > 0:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        self.layers = nn.Sequential(*layers[:-1])  # no ReLU after the last convolution (to 1 channel)

    def forward(self, features: Tensor, clamp: bool = True) -> Tensor:
        if features.ndim != 4 or features.shape[1] != self.in_channels:
            raise InputError(f"adain_decoder expects features of shape (batch, {self.in_channels}, freq, frames), "
                             f"got {tuple(features.shape)}")
        images = self.layers(features)
        return images.clamp(0.0, 1.0) if clamp else images

    def config_dict(self) -> dict[str, Any]:
        return self.config.to_dict()

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> AdainDecoder:
        return cls(AdainDecoderConfig.from_dict(values))


def _find_encoder(decoder: AdainDecoder, encoder: str | None, decoder_name: str) -> Path:
    """The audio CNN file for ``decoder``: ``encoder`` if given, else the one it records, else a shipped audio CNN
    with the recorded checksum; :class:`InputError` when none is found or the checksum differs."""
    from spectrostyle.checkpoint import read_description
    from spectrostyle.registry import resolve_model, shipped_models

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
    from spectrostyle.checkpoint import load_model
    from spectrostyle.registry import load_named_model

    decoder = load_named_model(model, AdainDecoder.kind, device=device)
    path = _find_encoder(decoder, encoder, str(model))
    cnn = load_model(path, expect_kind="audio_cnn", device=device)
    cnn.spectrogram.require_same(decoder.spectrogram, f"adain decoder '{model}'")
    if encoder_blocks(cnn) != decoder.config.encoder_blocks:
        raise InputError(f"adain decoder '{model}' mirrors encoder channels {decoder.config.encoder_blocks}, "
                         f"but the encoder has {encoder_blocks(cnn)}")
    return cnn, decoder


def style_statistics(encoder: AudioCNN, styles: Sequence[Tensor], mix: Sequence[float] | None = None, *,
                     tile_frames: int = 256, layers: Sequence[str] = (ENCODER_LAYER,)
                     ) -> dict[str, tuple[Tensor, Tensor]]:
    """Mixed channel means and standard deviations ``(1, C, 1, 1)`` at ``layers`` of style images, each
    ``(1, 1, F, T')`` of any length (encoded ``tile_frames`` at a time, so memory stays bounded); ``mix`` weights
    the styles (normalised to sum to 1; default equal)."""
    weights = torch.tensor(list(mix) if mix is not None else [1.0] * len(styles), dtype=torch.float64)
    if len(weights) != len(styles) or not len(styles):
        raise InputError(f"{len(styles)} style sounds but {len(weights)} style_mix weights")
    if (weights < 0).any() or float(weights.sum()) <= 0:
        raise InputError(f"style_mix weights must be >= 0 and not all 0, got {weights.tolist()}")
    weights = weights / weights.sum()
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


@dataclass(frozen=True)
class StyleStatistics:
    """Mixed channel means and standard deviations ``(1, C, 1, 1)`` of the style sound(s) at ``relu4_1``."""

    mean: Tensor
    std: Tensor


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


# ------------------------------------------------------------------------------------------------- method


class AdainMethod(TransferMethod):
    """Arbitrary style transfer in one pass: any style sound(s), a strength ``alpha``."""

    name = "adain"
    needs_style = True
    phase_init = "content"
    phase_iterations = FEEDFORWARD_PHASE_ITERATIONS

    @dataclass
    class Options:
        alpha: float = 1.0  # 0: the content decoded as it is; 1: full style
        style_mix: tuple[float, ...] | None = None  # weights of several style sounds (normalised; default equal)
        model: str = "default"  # shipped adain_decoder name or a model path
        encoder: str | None = None  # default: the audio CNN the decoder was trained with
        tile_frames: int = 256
        tile_overlap: int = 32
        batch_size: int = 1  # tiles per network pass (one runs fastest per tile on CPU)
        seed: int = 0
        device: str = "cpu"

        def __post_init__(self) -> None:
            if not 0.0 <= self.alpha <= 1.0:
                raise InputError(f"alpha must be in [0, 1], got {self.alpha}")
            check_tiling(self.tile_frames, self.tile_overlap)
            if self.batch_size < 1:
                raise InputError(f"batch_size must be >= 1, got {self.batch_size}")

    def __init__(self, options: Options | None = None):
        super().__init__(options)
        self.device = resolve_device(self.options.device)
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

    def stylise(self, content: Spectrogram, styles: Sequence[Spectrogram], *, progress: bool = False
                ) -> tuple[Tensor, dict[str, list[float]]]:
        config = self.spectrogram_config
        config.require_same(content.config, "content")
        for style in styles:
            config.require_same(style.config, "style")
        image = self.stylise_batch(content.image.to(self.device, torch.float32)[None, None],
                                   [s.image.to(self.device, torch.float32)[None, None] for s in styles])
        return image[0, 0].cpu(), {}

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
        return StyleStatistics(mean, std)

    def stylise_batch(self, images: Tensor, styles: Sequence[Tensor] | StyleStatistics = ()) -> Tensor:
        """``(B, 1, F, T)`` content images -> ``(B, 1, F, T)`` results, with style images each ``(1, 1, F, T')`` or
        their :meth:`prepare_styles` (statistics computed once for the batch; content in tiles, see
        :func:`run_tiled`)."""
        o = self.options
        stats = styles if isinstance(styles, StyleStatistics) else self.prepare_styles(styles)
        encoder, decoder = self.models
        encoder.check_input(images)
        with torch.inference_mode():
            return run_tiled(lambda x: stylise_images(encoder, decoder, x, stats.mean, stats.std, o.alpha),
                             images.to(self.device, torch.float32), tile_frames=o.tile_frames,
                             tile_overlap=o.tile_overlap, batch_size=o.batch_size)


# ---------------------------------------------------------------------------------------------- training


@dataclass
class AdainTrainingOptions:
    """Everything ``spectrostyle train adain`` takes. Content and style notes are both drawn from ``data``
    (each content note with a random other note as style, reseeded every step)."""

    data: Path
    out: Path
    notes: NoteSelection = field(default_factory=NoteSelection)
    encoder: str = "default"
    content_weight: float = 1.0
    style_weight: float = 10.0
    # not in the paper: a pixel loss between each content and the decoding of its own features, which teaches the
    # decoder to invert the encoder (harmonics in place, pitch kept) within a CPU budget; 0 = the paper's losses
    identity_weight: float = 200.0
    loop: LoopOptions = field(default_factory=lambda: LoopOptions(learning_rate=1e-3, final_learning_rate=1e-4))
    device: str = "cpu"
    resume: bool = False


def _mse(a: Tensor, b: Tensor) -> Tensor:
    """Mean squared difference per item: ``(B, ...)`` -> ``(B,)``."""
    return ((a - b) ** 2).flatten(1).mean(1)


class AdainTask:
    """Training task (see :class:`spectrostyle.feedforward.TrainingTask`): the decoder under the AdaIN losses,
    with style notes drawn from ``style_pool`` ``(N, 1, F, T)``."""

    term_names = ("content", "style", "identity")

    def __init__(self, encoder: AudioCNN, decoder: AdainDecoder, style_pool: Tensor, content_weight: float,
                 style_weight: float, fingerprint: dict[str, Any], identity_weight: float = 0.0):
        self.encoder = encoder.eval().requires_grad_(False)
        self.model = decoder
        self.style_pool = style_pool
        self.content_weight, self.style_weight, self.identity_weight = content_weight, style_weight, identity_weight
        self._fingerprint = fingerprint

    def losses(self, forward, content: Tensor, generator: torch.Generator) -> dict[str, Tensor]:
        picks = torch.randint(0, len(self.style_pool), (len(content),), generator=generator)
        style = self.style_pool[picks].to(content.device, torch.float32).contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            content_features = self.encoder.extract(content, [ENCODER_LAYER])[ENCODER_LAYER]
            style_stats = {layer: channel_stats(f) for layer, f in self.encoder.extract(style, STYLE_LAYERS).items()}
            target = adain(content_features, *style_stats[ENCODER_LAYER])
        if self.identity_weight:  # decode the content's own features too, next to the stylised ones
            decoded = forward(torch.cat([target, content_features]), clamp=False)
            decoded, identity = decoded[:len(content)], decoded[len(content):]
            identity_loss = self.identity_weight * _mse(identity, content)
        else:
            decoded, identity_loss = forward(target, clamp=False), content.new_zeros(len(content))
        output = self.encoder.extract(decoded, STYLE_LAYERS)
        style_loss = sum(_mse(mean, style_stats[layer][0]) + _mse(std, style_stats[layer][1])
                         for layer in STYLE_LAYERS for mean, std in [channel_stats(output[layer])])
        return {"content": self.content_weight * _mse(output[ENCODER_LAYER], target),
                "style": self.style_weight * style_loss, "identity": identity_loss}

    def samples(self, val: Tensor, count: int) -> list[Sample]:
        results = []
        for i in range(count):
            style = val[(i + 1) % len(val)][None]
            mean, std = channel_stats(self.encoder.extract(style, [ENCODER_LAYER])[ENCODER_LAYER])
            results.append(Sample(content=val[i:i + 1], styles=[style],
                                  result=stylise_images(self.encoder, self.model, val[i:i + 1], mean, std),
                                  content_index=i))
        return results

    def fingerprint(self) -> dict[str, Any]:
        return self._fingerprint


def train_adain(options: AdainTrainingOptions) -> dict[str, Any]:
    """Train an :class:`AdainDecoder` for the audio CNN ``options.encoder`` on the notes of ``options.data``.

    Writes to ``options.out``: ``model.json``/``model.safetensors`` (the decoder; its config records the encoder's
    name and SHA-256), ``checkpoint.pt``, ``metrics.csv``, ``samples/``, ``report.json``. Runs unchanged under
    torchrun. Returns the report.
    """
    from spectrostyle.registry import load_named_model

    started = time.perf_counter()
    loop = options.loop
    device = resolve_device(options.device)
    dist_ctx = Distributed.from_environment(device)
    encoder = load_named_model(options.encoder, "audio_cnn", device=device).to(memory_format=torch.channels_last)
    record = model_record(options.encoder, "audio_cnn")
    config = encoder.spectrogram
    notes = load_training_notes(options.data, options.notes, config, seed=loop.seed,
                                progress=loop.progress and dist_ctx.is_main)
    seed_everything(loop.seed)
    decoder = AdainDecoder(AdainDecoderConfig(encoder_blocks=encoder_blocks(encoder), encoder_name=record["name"],
                                              encoder_sha256=record["sha256"], spectrogram=config))
    fingerprint = {"architecture": decoder.config_dict(), "notes": describe_options(options.notes),
                   "data": str(options.data),
                   "weights": [options.content_weight, options.style_weight, options.identity_weight],
                   "batch_size": loop.batch_size, "seed": loop.seed, "steps": loop.steps,
                   "learning_rate": [loop.learning_rate, loop.final_learning_rate]}
    task = AdainTask(encoder, decoder, notes.train, options.content_weight, options.style_weight, fingerprint,
                     identity_weight=options.identity_weight)
    summary = fit(task, notes, options.out, loop, config=config, method="adain", device=device,
                  resume=options.resume, dist_ctx=dist_ctx)
    report = {"steps": summary.steps, "final_val_loss": summary.final_val_total,
              "seconds_per_step": summary.seconds_per_step, "seconds": time.perf_counter() - started,
              "notes": notes.description, "val_notes": notes.val_names, "options": describe_options(options)}
    metadata = {"name": options.out.name, "encoder": record,
                "trained_on": f"FluidR3 GM {notes.description}, each with a random other note as style",
                "steps": summary.steps, "final_val_loss": summary.final_val_total,
                "loss_weights": {"content": options.content_weight, "style": options.style_weight,
                                 "identity": options.identity_weight}}
    finish_run(decoder, options.out, metadata, report, dist_ctx)
    return report

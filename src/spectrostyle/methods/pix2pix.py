"""pix2pix: instrument-to-instrument translation learnt from paired notes."""

from __future__ import annotations

from dataclasses import dataclass

from spectrostyle.core.errors import InputError
from spectrostyle.core.vocabulary import DIRECTIONS
from spectrostyle.methods.base import setting
from spectrostyle.methods.network import TranslationMethod, TranslationOptions
from spectrostyle.nets.unet import UNet


class Pix2PixMethod(TranslationMethod):
    """Translation by a pix2pix generator, domain A to B (``direction`` ``a2b``; ``b2a`` is refused)."""

    name = "pix2pix"
    title = "pix2pix: paired translation, one way"
    short = "pix2pix"
    description = ("A U-Net trained on pairs of notes of the same pitch and velocity, one way (A to B). The model "
                   "is the style: the style sound is not used.")
    model_kinds = (UNet.kind,)
    model_choice = UNet.kind
    one_way = True
    # its partials drift off the content's on melodies (pitch accuracy 0.12 under the content's on the real
    # recordings' melodies): the content's fine structure goes back around the fundamental and lowest partials only,
    # where the pitch is heard, and the generator's own partials above keep the translation (flute notes heard as
    # keyboard: 65 %, against 68 % with none put back and 9 % with it up to 3 kHz)
    keep_pitch = 1.0
    pitch_band_hz = (400.0, 700.0)

    @dataclass
    class Options(TranslationOptions):
        direction: str = setting("a2b", help="a2b: the model's domain A to B (b2a is refused: one way only).",
                                 choices=DIRECTIONS)

    def network(self):
        if self.options.direction != "a2b":
            a, b = self.domains()
            raise InputError(f"a pix2pix model translates one way only: '{self.options.model}' turns {a} into {b} "
                             "(--direction a2b); for the other way use --method cyclegan, or train a pix2pix model "
                             "with the domains swapped")
        return super().network()

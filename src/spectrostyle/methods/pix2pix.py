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

"""pix2pix: instrument-to-instrument translation learnt from paired notes."""

from __future__ import annotations

from spectrostyle.core.errors import InputError
from spectrostyle.methods.network import TranslationMethod
from spectrostyle.nets.unet import UNet


class Pix2PixMethod(TranslationMethod):
    """Translation by a pix2pix generator, domain A to B (``direction`` ``a2b``; ``b2a`` is refused)."""

    name = "pix2pix"
    model_kind = UNet.kind

    def network(self):
        if self.options.direction != "a2b":
            a, b = self.domains()
            raise InputError(f"a pix2pix model translates one way only: '{self.options.model}' turns {a} into {b} "
                             "(--direction a2b); for the other way use --method cyclegan, or train a pix2pix model "
                             "with the domains swapped")
        return super().network()

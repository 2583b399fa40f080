"""CycleGAN: instrument-to-instrument translation without paired notes."""

from __future__ import annotations

from spectrostyle.methods.network import TranslationMethod
from spectrostyle.nets.cyclegan import CycleGANGenerators


class CycleGANMethod(TranslationMethod):
    """Translation by one of a CycleGAN's generators: ``direction`` ``a2b`` or ``b2a``."""

    name = "cyclegan"
    title = "CycleGAN: instrument-to-instrument translation, both ways"
    short = "CycleGAN"
    description = ("Generators trained without paired notes to turn one instrument's spectrograms into the "
                   "other's, either way. The model is the style: the style sound is not used.")
    model_kinds = (CycleGANGenerators.kind,)
    model_choice = CycleGANGenerators.kind

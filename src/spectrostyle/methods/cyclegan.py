"""CycleGAN: instrument-to-instrument translation without paired notes."""

from __future__ import annotations

from spectrostyle.methods.network import TranslationMethod
from spectrostyle.nets.cyclegan import CycleGANGenerators


class CycleGANMethod(TranslationMethod):
    """Translation by one of a CycleGAN's generators: ``direction`` ``a2b`` or ``b2a``."""

    name = "cyclegan"
    model_kind = CycleGANGenerators.kind

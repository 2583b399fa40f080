"""Fast: one pass of a transformation network trained for one style (Johnson et al. 2016)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spectrostyle.methods.base import setting
from spectrostyle.methods.network import NetworkMethod, NetworkOptions
from spectrostyle.nets.transform_net import TransformNet


class FastMethod(NetworkMethod):
    """Feed-forward style transfer with a network trained for one style (its ``model`` names the style)."""

    name = "fast"
    title = "Fast: feed-forward style transfer (Johnson et al.)"
    short = "Fast"
    description = ("One forward pass of a transformation network trained for one style note, with the same "
                   "perceptual loss as Slow. The model is the style: the style sound is not used.")
    model_kinds = (TransformNet.kind, "audio_cnn")
    model_choice = TransformNet.kind
    page_order = 10

    @dataclass
    class Options(NetworkOptions):
        model: str = setting("keyboard", help="Shipped fast_transformer name (the style it was trained for: "
                             "keyboard, flute) or a model path.", control="model")

    @classmethod
    def settings_for(cls, content_family: str, style_family: str) -> list[dict[str, Any]]:
        """A Fast model carries its style: the shipped ones are named after the style's family."""
        return [{"model": style_family}]

    def style_refusal(self) -> str:
        style = self.model.metadata.get("style", {}).get("file", "its training style")
        return (f"a fast model carries its style (model '{self.options.model}' was trained on {style}); "
                "give no style sound, or choose another --model")

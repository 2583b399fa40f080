"""Fast: one pass of a transformation network trained for one style (Johnson et al. 2016)."""

from __future__ import annotations

from dataclasses import dataclass

from spectrostyle.methods.network import NetworkMethod, NetworkOptions
from spectrostyle.nets.transform_net import TransformNet


class FastMethod(NetworkMethod):
    """Feed-forward style transfer with a network trained for one style (its ``model`` names the style)."""

    name = "fast"
    model_kind = TransformNet.kind

    @dataclass
    class Options(NetworkOptions):
        model: str = "keyboard"  # shipped fast_transformer name (the style it was trained for) or a model path

    def style_refusal(self) -> str:
        style = self.model.metadata.get("style", {}).get("file", "its training style")
        return (f"a fast model carries its style (model '{self.options.model}' was trained on {style}); "
                "give no style sound, or choose another --model")

"""SFZ, the open sampler format: a text file of regions, each a sample with its keys, velocities and loop.

Written by hand: the format is a few lines of text (https://sfzformat.com); no library is needed to write it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RELEASE_S = 0.3  # every region fades out over this after the key is let go


@dataclass(frozen=True)
class Region:
    """One sample as an SFZ region: its file (relative to the SFZ), root key, key and velocity ranges, loop points in
    samples (None: one shot, played while the key is held)."""

    sample: str
    root: int
    keys: tuple[int, int]
    velocities: tuple[int, int]
    loop: tuple[int, int] | None


def sfz_text(name: str, regions: list[Region]) -> str:
    """The SFZ file of ``regions``: one ``<group>`` per velocity layer."""
    lines = [f"// {name}: made by spectrostyle (https://sfzformat.com)", "<control>", "<global>",
             f"ampeg_release={RELEASE_S:g}", ""]
    for layer in sorted({r.velocities for r in regions}):
        lines += [f"<group> lovel={layer[0]} hivel={layer[1]}"]
        for region in sorted((r for r in regions if r.velocities == layer), key=lambda r: r.root):
            opcodes = [f"sample={region.sample}", f"pitch_keycenter={region.root}", f"lokey={region.keys[0]}",
                       f"hikey={region.keys[1]}"]
            if region.loop is not None:
                opcodes += ["loop_mode=loop_continuous", f"loop_start={region.loop[0]}",
                            f"loop_end={region.loop[1] - 1}"]  # SFZ's loop_end is the last sample of the loop
            else:
                opcodes += ["loop_mode=no_loop"]
            lines.append("<region> " + " ".join(opcodes))
        lines.append("")
    return "\n".join(lines)


def parse_sfz_regions(path: Path) -> list[dict[str, str]]:
    """The regions of an SFZ file as opcode dictionaries, each with its ``<group>``'s opcodes (enough to read back
    what :func:`sfz_text` writes)."""
    regions: list[dict[str, str]] = []
    group: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("//")[0].strip()
        if not line:
            continue
        header, _, rest = line.partition(" ") if line.startswith("<") else ("", "", line)
        opcodes = dict(item.split("=", 1) for item in rest.split() if "=" in item)
        if header == "<group>":
            group = opcodes
        elif header == "<region>":
            regions.append({**group, **opcodes})
    return regions

"""Copy a trained model (NAME.json + NAME.safetensors) into the package as a shipped model KIND-NAME.

Usage: python scripts/ship_model.py RUN/model.json KIND NAME
Checks the checksum and the kind, refuses files over 20 MB, and records the shipped name in the JSON.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from spectrostyle.store import load_model, read_description, weights_dir

MAX_BYTES = 20 * 1024 * 1024


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    source, kind, name = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    load_model(source, expect_kind=kind)  # verifies checksum and that it builds
    weights = source.with_suffix(".safetensors")
    if weights.stat().st_size > MAX_BYTES:
        print(f"{weights} is {weights.stat().st_size / 1e6:.1f} MB, over the 20 MB limit", file=sys.stderr)
        return 2
    description = read_description(source)
    description["metadata"]["name"] = name
    target = weights_dir() / f"{kind}-{name}"
    shutil.copyfile(weights, target.with_suffix(".safetensors"))
    target.with_suffix(".json").write_text(json.dumps(description, indent=2, sort_keys=True) + "\n")
    print(f"shipped {target.with_suffix('.json')} ({weights.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

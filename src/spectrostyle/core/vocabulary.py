"""Names shared by every layer: instrument families, sources, qualities, velocities, directions."""

from __future__ import annotations

# NSynth's vocabularies; the index in each tuple is NSynth's integer id.
FAMILIES: tuple[str, ...] = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed",
                             "string", "synth_lead", "vocal")


SOURCES: tuple[str, ...] = ("acoustic", "electronic", "synthetic")


QUALITIES: tuple[str, ...] = ("bright", "dark", "distortion", "fast_decay", "long_release", "multiphonic",
                              "nonlinear_env", "percussive", "reverb", "tempo-synced")


NSYNTH_VELOCITIES: tuple[int, ...] = (25, 50, 75, 100, 127)


DIRECTIONS = ("a2b", "b2a")


PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_name(pitch: int) -> str:
    """MIDI pitch -> note name with octave (60 -> ``C4``)."""
    return f"{PITCH_CLASSES[pitch % 12]}{pitch // 12 - 1}"


MIDI_PITCHES = 128


DEFAULT_FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string")

"""The General MIDI programs rendered as NSynth-style instruments, by family."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spectrostyle.core.errors import InputError
from spectrostyle.core.vocabulary import FAMILIES, SOURCES


@dataclass(frozen=True)
class GMProgram:
    """One General MIDI program as an NSynth instrument: family, source and playable pitch range (MIDI,
    inclusive)."""

    program: int
    name: str
    family: str
    source: str
    low: int
    high: int

    @property
    def family_id(self) -> int:
        return FAMILIES.index(self.family)

    @property
    def source_id(self) -> int:
        return SOURCES.index(self.source)

    @property
    def instrument_str(self) -> str:
        """NSynth-style name, ``family_source_NNN``, numbered by GM program within family and source."""
        return INSTRUMENT_STRS[self.program]

    def plays(self, pitch: int) -> bool:
        return self.low <= pitch <= self.high


A, E, S = "acoustic", "electronic", "synthetic"


# Within each family the programs are listed most typical first: ``programs_per_family=n`` takes the
# first n. Ranges are the instruments' real compasses (ensembles and synths: a wide practical range).
GM_PROGRAMS: tuple[GMProgram, ...] = (
    # bass: GM 32-39
    GMProgram(33, "Electric Bass (finger)", "bass", E, 28, 67),
    GMProgram(32, "Acoustic Bass", "bass", A, 28, 67),
    GMProgram(38, "Synth Bass 1", "bass", S, 24, 67),
    GMProgram(35, "Fretless Bass", "bass", E, 28, 67),
    GMProgram(34, "Electric Bass (pick)", "bass", E, 28, 67),
    GMProgram(36, "Slap Bass 1", "bass", E, 28, 67),
    GMProgram(39, "Synth Bass 2", "bass", S, 24, 67),
    GMProgram(37, "Slap Bass 2", "bass", E, 28, 67),
    # brass: GM 56-63
    GMProgram(56, "Trumpet", "brass", A, 54, 86),
    GMProgram(57, "Trombone", "brass", A, 40, 77),
    GMProgram(60, "French Horn", "brass", A, 34, 77),
    GMProgram(58, "Tuba", "brass", A, 28, 65),
    GMProgram(62, "Synth Brass 1", "brass", S, 36, 96),
    GMProgram(61, "Brass Section", "brass", A, 40, 84),
    GMProgram(59, "Muted Trumpet", "brass", A, 54, 84),
    GMProgram(63, "Synth Brass 2", "brass", S, 36, 96),
    # flute: GM 72-79
    GMProgram(73, "Flute", "flute", A, 60, 96),
    GMProgram(72, "Piccolo", "flute", A, 74, 108),
    GMProgram(74, "Recorder", "flute", A, 72, 96),
    GMProgram(75, "Pan Flute", "flute", A, 60, 91),
    GMProgram(77, "Shakuhachi", "flute", A, 62, 88),
    GMProgram(79, "Ocarina", "flute", A, 69, 89),
    GMProgram(78, "Whistle", "flute", A, 74, 98),
    GMProgram(76, "Blown Bottle", "flute", A, 60, 84),
    # guitar: GM 24-31
    GMProgram(24, "Acoustic Guitar (nylon)", "guitar", A, 40, 83),
    GMProgram(27, "Electric Guitar (clean)", "guitar", E, 40, 86),
    GMProgram(25, "Acoustic Guitar (steel)", "guitar", A, 40, 86),
    GMProgram(30, "Distortion Guitar", "guitar", E, 40, 86),
    GMProgram(26, "Electric Guitar (jazz)", "guitar", E, 40, 86),
    GMProgram(29, "Overdriven Guitar", "guitar", E, 40, 86),
    GMProgram(28, "Electric Guitar (muted)", "guitar", E, 40, 84),
    GMProgram(31, "Guitar Harmonics", "guitar", E, 52, 84),
    # keyboard: GM 0-7 (Electric Piano 2 is the DX7 FM piano, hence synthetic)
    GMProgram(0, "Acoustic Grand Piano", "keyboard", A, 21, 108),
    GMProgram(4, "Electric Piano 1", "keyboard", E, 28, 100),
    GMProgram(6, "Harpsichord", "keyboard", A, 29, 89),
    GMProgram(7, "Clavinet", "keyboard", E, 29, 88),
    GMProgram(2, "Electric Grand Piano", "keyboard", E, 28, 100),
    GMProgram(1, "Bright Acoustic Piano", "keyboard", A, 21, 108),
    GMProgram(5, "Electric Piano 2", "keyboard", S, 28, 100),
    GMProgram(3, "Honky-tonk Piano", "keyboard", A, 21, 108),
    # mallet: GM 8-15
    GMProgram(12, "Marimba", "mallet", A, 45, 96),
    GMProgram(11, "Vibraphone", "mallet", A, 53, 89),
    GMProgram(13, "Xylophone", "mallet", A, 65, 108),
    GMProgram(9, "Glockenspiel", "mallet", A, 79, 108),
    GMProgram(8, "Celesta", "mallet", A, 60, 108),
    GMProgram(14, "Tubular Bells", "mallet", A, 60, 77),
    GMProgram(10, "Music Box", "mallet", A, 60, 96),
    GMProgram(15, "Dulcimer", "mallet", A, 50, 88),
    # organ: GM 16-23
    GMProgram(16, "Drawbar Organ", "organ", E, 36, 96),
    GMProgram(19, "Church Organ", "organ", A, 24, 96),
    GMProgram(18, "Rock Organ", "organ", E, 36, 96),
    GMProgram(21, "Accordion", "organ", A, 53, 93),
    GMProgram(17, "Percussive Organ", "organ", E, 36, 96),
    GMProgram(20, "Reed Organ", "organ", A, 41, 89),
    GMProgram(22, "Harmonica", "organ", A, 60, 96),
    GMProgram(23, "Tango Accordion", "organ", A, 53, 93),
    # reed: GM 64-71
    GMProgram(65, "Alto Sax", "reed", A, 49, 81),
    GMProgram(71, "Clarinet", "reed", A, 50, 94),
    GMProgram(68, "Oboe", "reed", A, 58, 91),
    GMProgram(66, "Tenor Sax", "reed", A, 44, 76),
    GMProgram(70, "Bassoon", "reed", A, 34, 75),
    GMProgram(64, "Soprano Sax", "reed", A, 56, 87),
    GMProgram(67, "Baritone Sax", "reed", A, 36, 69),
    GMProgram(69, "English Horn", "reed", A, 52, 84),
    # string: GM 40-46 and the ensembles 48-51 (47 is timpani)
    GMProgram(40, "Violin", "string", A, 55, 100),
    GMProgram(42, "Cello", "string", A, 36, 84),
    GMProgram(48, "String Ensemble 1", "string", A, 28, 96),
    GMProgram(41, "Viola", "string", A, 48, 91),
    GMProgram(43, "Contrabass", "string", A, 28, 67),
    GMProgram(46, "Orchestral Harp", "string", A, 24, 103),
    GMProgram(50, "SynthStrings 1", "string", S, 36, 96),
    GMProgram(45, "Pizzicato Strings", "string", A, 28, 96),
    GMProgram(44, "Tremolo Strings", "string", A, 28, 96),
    GMProgram(49, "String Ensemble 2", "string", A, 28, 96),
    GMProgram(51, "SynthStrings 2", "string", S, 36, 96),
    # synth_lead: GM 80-87
    GMProgram(81, "Lead 2 (sawtooth)", "synth_lead", S, 36, 96),
    GMProgram(80, "Lead 1 (square)", "synth_lead", S, 36, 96),
    GMProgram(84, "Lead 5 (charang)", "synth_lead", S, 36, 96),
    GMProgram(87, "Lead 8 (bass + lead)", "synth_lead", S, 28, 84),
    GMProgram(82, "Lead 3 (calliope)", "synth_lead", S, 48, 96),
    GMProgram(83, "Lead 4 (chiff)", "synth_lead", S, 48, 96),
    GMProgram(85, "Lead 6 (voice)", "synth_lead", S, 48, 96),
    GMProgram(86, "Lead 7 (fifths)", "synth_lead", S, 36, 84),
    # vocal: GM 52-54
    GMProgram(52, "Choir Aahs", "vocal", A, 40, 84),
    GMProgram(53, "Voice Oohs", "vocal", A, 40, 81),
    GMProgram(54, "Synth Voice", "vocal", S, 40, 84),
)


del A, E, S


def _number_instruments(programs: Sequence[GMProgram]) -> dict[int, str]:
    """``{gm_program: "family_source_NNN"}``, NNN counting up by GM program within family and source."""
    names: dict[int, str] = {}
    for family in FAMILIES:
        for source in SOURCES:
            group = sorted(p.program for p in programs if p.family == family and p.source == source)
            for number, program in enumerate(group):
                names[program] = f"{family}_{source}_{number:03d}"
    return names


INSTRUMENT_STRS: dict[int, str] = _number_instruments(GM_PROGRAMS)


PROGRAMS_BY_NUMBER: dict[int, GMProgram] = {p.program: p for p in GM_PROGRAMS}


def family_programs(family: str) -> tuple[GMProgram, ...]:
    """The GM programs of an NSynth family, most typical first."""
    if family not in FAMILIES:
        raise InputError(f"unknown instrument family '{family}' (valid: {', '.join(FAMILIES)})")
    return tuple(p for p in GM_PROGRAMS if p.family == family)

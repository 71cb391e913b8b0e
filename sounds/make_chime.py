"""Make sounds/chime.wav: the two-tone "ding-dong" played before every announcement.

Standard library only, deterministic: running it again gives the same bytes.
    python sounds/make_chime.py [OUTPUT]
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

SAMPLE_RATE = 22050  # the same rate as the offline voice, so players need no resampling
# A major third down (E5 then C5), the classic public-address "ding-dong".
TONES = ((659.25, 0.0), (523.25, 0.55))  # (frequency in Hz, start in seconds)
TONE_SECONDS = 1.1
TOTAL_SECONDS = 1.8
PEAK = 0.6  # of full scale: loud enough to get attention, with room for two overlapping tones
# A bell is a fundamental plus quieter, faster-decaying partials.
PARTIALS = ((1.0, 1.0, 3.0), (2.0, 0.35, 5.0), (3.0, 0.12, 8.0))  # (multiple, level, decay/s)


def bell(t: float, frequency: float) -> float:
    """One bell stroke at time t after it was struck."""
    attack = min(1.0, t / 0.005)  # 5 ms rise: no click at the start
    return attack * sum(
        level * math.exp(-decay * t) * math.sin(2 * math.pi * frequency * multiple * t)
        for multiple, level, decay in PARTIALS
    )


def render() -> list[float]:
    samples = [0.0] * int(SAMPLE_RATE * TOTAL_SECONDS)
    for frequency, start in TONES:
        first = int(start * SAMPLE_RATE)
        for i in range(int(TONE_SECONDS * SAMPLE_RATE)):
            if first + i < len(samples):
                samples[first + i] += bell(i / SAMPLE_RATE, frequency)
    # Fade the last 50 ms so the file never ends on a click.
    fade = int(0.05 * SAMPLE_RATE)
    for i in range(fade):
        samples[-fade + i] *= 1 - i / fade
    scale = PEAK / max(abs(s) for s in samples)
    return [s * scale for s in samples]


def write_wav(path: Path, samples: list[float]) -> None:
    frames = b"".join(struct.pack("<h", round(s * 32767)) for s in samples)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(frames)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("chime.wav")
    write_wav(out, render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

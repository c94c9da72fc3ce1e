"""Make the display's bundled voice: one Indonesian clip per word, and a chime.

The waiting-room TV plays these when its browser has no Indonesian speech synthesis; they are
made once and committed under static/voice/, so no TV ever needs the internet. Run again after
changing the words in checkin/words/spoken.py:

    apt-get install espeak-ng opus-tools
    .venv/bin/python deploy/make_voice.py

Clips are 16 kbit/s mono Ogg Opus (speech stays clear; every clip together is a few dozen KB).
Tests check that a clip exists for every word; they never run this script.
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checkin.words.spoken import CLIPS  # noqa: E402  (the script runs from a checkout, not installed)

VOICE_DIR = ROOT / "static" / "voice"
VOICE = "id"
# Words per minute: a little slower than espeak's 175, for a noisy waiting room.
SPEED = "150"
BITRATE_KBPS = "16"
SAMPLE_RATE = 16_000


def say(text: str, target: Path) -> None:
    """Speak ``text`` with espeak-ng's Indonesian voice into an Opus file at ``target``."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as spoken:
        subprocess.run(["espeak-ng", "-v", VOICE, "-s", SPEED, "-w", spoken.name, text], check=True)
        encode(Path(spoken.name), target)


def encode(source: Path, target: Path) -> None:
    """Encode a WAV file as small mono Ogg Opus, without the encoder's tags."""
    subprocess.run(
        [
            "opusenc",
            "--quiet",
            "--bitrate",
            BITRATE_KBPS,
            "--downmix-mono",
            "--discard-comments",
            str(source),
            str(target),
        ],
        check=True,
    )


def chime(target: Path) -> None:
    """Write a two-note chime (E5 then C5, softly fading), the sound of a call without words."""
    notes = ((659.25, 0.45), (523.25, 0.7))
    frames = bytearray()
    for frequency, seconds in notes:
        count = int(SAMPLE_RATE * seconds)
        for index in range(count):
            fade = math.exp(-4 * index / count)
            sample = 0.5 * fade * math.sin(2 * math.pi * frequency * index / SAMPLE_RATE)
            frames += struct.pack("<h", int(sample * 32767))
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        with wave.open(raw.name, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(bytes(frames))
        encode(Path(raw.name), target)


def main() -> None:
    """Write every clip the announcements use, and the chime, then print their total size."""
    (VOICE_DIR / VOICE).mkdir(parents=True, exist_ok=True)
    for clip in CLIPS:
        say(clip.replace("-", " "), VOICE_DIR / VOICE / f"{clip}.ogg")
    chime(VOICE_DIR / "chime.ogg")
    total = sum(path.stat().st_size for path in VOICE_DIR.rglob("*.ogg"))
    print(f"{len(CLIPS)} clips and a chime in {VOICE_DIR}: {total / 1024:.1f} KB")


if __name__ == "__main__":
    main()

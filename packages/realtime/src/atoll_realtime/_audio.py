"""PCM16 audio for realtime sessions: framing, chunking, base64 and WAV, with the standard library.

Realtime APIs speak raw little-endian 16-bit PCM (OpenAI: ``audio/pcm`` at 24 kHz, mono), sent as
base64 text inside JSON events. These helpers keep the byte arithmetic in one place: chunks are
always whole sample frames (a split sample would shift every later one by a byte), WAV files
are read and written with :mod:`wave` (no codec, no resampling).
"""

from __future__ import annotations

import base64
import io
import os
import wave
from collections.abc import Iterator
from dataclasses import dataclass

from ._exceptions import AudioFormatError

__all__ = [
    "PCM16_RATE",
    "PcmAudio",
    "chunk_pcm16",
    "pcm16_duration_ms",
    "read_wav",
    "write_wav",
]

PCM16_RATE = 24_000
"""The sample rate of OpenAI's ``audio/pcm`` format (the only one it accepts)."""
_SAMPLE_BYTES = 2


@dataclass(frozen=True, slots=True)
class PcmAudio:
    """Raw little-endian signed 16-bit PCM with its sample rate and channel count.

    Attributes:
        pcm: The samples, interleaved when ``channels > 1``.
        rate: Samples per second per channel.
        channels: 1 for mono (what realtime APIs take).
    """

    pcm: bytes
    rate: int = PCM16_RATE
    channels: int = 1

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.channels <= 0:
            raise AudioFormatError(
                f"rate and channels must be positive, got {self.rate}, {self.channels}"
            )
        if len(self.pcm) % (_SAMPLE_BYTES * self.channels):
            raise AudioFormatError(
                f"{len(self.pcm)} bytes is not a whole number of {self.channels}-channel "
                "16-bit frames"
            )

    @property
    def duration_ms(self) -> float:
        """How long the audio plays, in milliseconds."""
        return pcm16_duration_ms(self.pcm, rate=self.rate, channels=self.channels)

    def chunks(self, chunk_ms: int = 100) -> Iterator[bytes]:
        """The samples in chunks of ``chunk_ms`` milliseconds (the last one may be shorter)."""
        return chunk_pcm16(self.pcm, chunk_ms=chunk_ms, rate=self.rate, channels=self.channels)

    def base64(self) -> str:
        """The samples as base64 text, the form realtime events carry."""
        return base64.b64encode(self.pcm).decode("ascii")


def pcm16_duration_ms(pcm: bytes, *, rate: int = PCM16_RATE, channels: int = 1) -> float:
    """Milliseconds of audio in ``pcm`` (16-bit samples at ``rate`` with ``channels``)."""
    return len(pcm) / (_SAMPLE_BYTES * channels * rate) * 1000


def chunk_pcm16(
    pcm: bytes, *, chunk_ms: int = 100, rate: int = PCM16_RATE, channels: int = 1
) -> Iterator[bytes]:
    """Split PCM16 into chunks of ``chunk_ms`` milliseconds, cut on whole sample frames.

    Args:
        pcm: Little-endian 16-bit samples.
        chunk_ms: Chunk length; 100 ms at 24 kHz mono is 4,800 bytes.
        rate: Sample rate.
        channels: Channel count.

    Raises:
        AudioFormatError: ``pcm`` is not a whole number of frames, or ``chunk_ms`` < 1.
    """
    frame = _SAMPLE_BYTES * channels
    if chunk_ms < 1:
        raise AudioFormatError(f"chunk_ms must be at least 1, got {chunk_ms}")
    if len(pcm) % frame:
        raise AudioFormatError(f"{len(pcm)} bytes is not a whole number of 16-bit frames")
    size = max(frame, rate * chunk_ms // 1000 * frame)
    view = memoryview(pcm)
    for start in range(0, len(pcm), size):
        yield bytes(view[start : start + size])


def read_wav(source: str | os.PathLike[str] | bytes) -> PcmAudio:
    """Read a 16-bit PCM WAV file (a path, or the file's bytes).

    Raises:
        AudioFormatError: Not a WAV file, or not 16-bit PCM (8/24/32-bit and float WAVs are
            refused rather than converted: realtime APIs take 16-bit).
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    try:
        with wave.open(stream, "rb") as reader:
            width = reader.getsampwidth()
            if width != _SAMPLE_BYTES:
                raise AudioFormatError(f"the WAV holds {8 * width}-bit samples, not 16-bit PCM")
            pcm = reader.readframes(reader.getnframes())
            return PcmAudio(pcm, rate=reader.getframerate(), channels=reader.getnchannels())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"not a PCM WAV file: {exc}") from exc
    finally:
        stream.close()


def write_wav(
    target: str | os.PathLike[str] | None,
    audio: PcmAudio | bytes,
    *,
    rate: int = PCM16_RATE,
    channels: int = 1,
) -> bytes:
    """Write PCM16 as a WAV file and return the file's bytes.

    Args:
        target: Where to write; ``None`` only returns the bytes.
        audio: A :class:`PcmAudio`, or raw samples described by ``rate`` and ``channels``.
        rate: Sample rate of raw samples.
        channels: Channel count of raw samples.
    """
    if not isinstance(audio, PcmAudio):
        audio = PcmAudio(audio, rate=rate, channels=channels)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(audio.channels)
        writer.setsampwidth(_SAMPLE_BYTES)
        writer.setframerate(audio.rate)
        writer.writeframes(audio.pcm)
    data = buffer.getvalue()
    if target is not None:
        with open(target, "wb") as file:
            file.write(data)
    return data

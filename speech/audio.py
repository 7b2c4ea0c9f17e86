"""Telephone audio: G.711 mu-law <-> 16-bit PCM, resampling, WAV files, 20 ms media-stream frames."""

from __future__ import annotations

import math
import os
import struct
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soxr

TELEPHONE_RATE = 8000
# Twilio media streams send 20 ms of audio/x-mulaw at 8 kHz per "media" message: 160 bytes.
FRAME_MS = 20
FRAME_BYTES = TELEPHONE_RATE * FRAME_MS // 1000
MULAW_SILENCE = 0xFF  # mu-law code of 0 (the bits are stored inverted)

_BIAS = 0x84  # ITU-T G.711 mu-law bias on the 16-bit scale (Sun's g711.c)
_BIAS14 = _BIAS >> 2  # the same bias on the 14-bit scale the encoder works in


def _decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    magnitude = (((codes & 0x0F) << 3) + _BIAS) << ((codes & 0x70) >> 4)
    return np.where(codes & 0x80, _BIAS - magnitude, magnitude - _BIAS).astype(np.int16)


_DECODE = _decode_table()
_SQUARES = _DECODE.astype(np.float64) ** 2  # a frame's energy is a table look-up and a sum, no multiplying


def mulaw_to_pcm(data: bytes) -> np.ndarray:
    """Decode mu-law bytes to 16-bit PCM samples."""
    return _DECODE[np.frombuffer(data, dtype=np.uint8)]


def mulaw_level_db(data: bytes) -> float:
    """Loudness of mu-law audio: 10 log10 of the mean square sample (0 for silence, ~90 for full scale)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    return 10 * math.log10(float(_SQUARES[codes].mean()) + 1.0) if len(codes) else 0.0


def pcm_to_mulaw(samples: np.ndarray) -> bytes:
    """Encode 16-bit PCM samples to mu-law bytes, bit-exact with the deprecated audioop.lin2ulaw."""
    # G.711 works on 14-bit magnitudes: drop two bits (floor, as audioop does), add the bias, clip.
    pcm14 = np.asarray(samples, dtype=np.int32) >> 2
    sign = np.where(pcm14 < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(pcm14) + _BIAS14, 0x1FFF)
    # The segment (exponent) is the position of the highest set bit above bit 5: 0..7.
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 5
    mantissa = (magnitude >> (exponent + 1)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample 16-bit PCM with soxr (high quality; its anti-alias filter does the band limiting)."""
    if from_rate == to_rate:
        return np.asarray(samples, dtype=np.int16)
    return soxr.resample(np.asarray(samples, dtype=np.int16), from_rate, to_rate, quality="HQ")


def _pcm_from_chunk(raw: bytes, format_tag: int, bits: int, channels: int) -> np.ndarray:
    """Samples of a WAV data chunk as float in [-1, 1], averaged to mono."""
    if format_tag == 7:  # mu-law, as telephone recordings often are
        mono = mulaw_to_pcm(raw).astype(np.float64) / 32768
    elif format_tag == 3:
        mono = np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8").astype(np.float64)
    elif bits == 8:
        mono = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) / 128
    elif bits == 24:
        triples = np.frombuffer(raw[: len(raw) // 3 * 3], dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        mono = np.where(values >= 1 << 23, values - (1 << 24), values).astype(np.float64) / (1 << 23)
    elif bits in (16, 32):
        mono = np.frombuffer(raw, dtype=f"<i{bits // 8}").astype(np.float64) / float(1 << (bits - 1))
    else:
        raise ValueError(f"unsupported WAV sample size: {bits} bits")
    usable = len(mono) // channels * channels
    return mono[:usable].reshape(-1, channels).mean(axis=1)


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read a WAV file (PCM 8/16/24/32 bit, float, mu-law, any channels) as mono 16-bit PCM and its rate."""
    # Our own RIFF walk: Python 3.11's wave module refuses float, mu-law and WAVE_FORMAT_EXTENSIBLE,
    # which recorded human prompts and telephone recordings often use.
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a WAV file")
    fmt = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = data[offset + 8 : offset + 8 + size]
        if chunk_id == b"fmt ":
            format_tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if format_tag == 0xFFFE:  # extensible: the real tag starts the SubFormat GUID
                format_tag = struct.unpack_from("<H", body, 24)[0]
            fmt = (format_tag, bits, channels, rate)
        elif chunk_id == b"data" and fmt is not None:
            format_tag, bits, channels, rate = fmt
            mono = _pcm_from_chunk(body, format_tag, bits, channels)
            return np.clip(np.round(mono * 32768), -32768, 32767).astype(np.int16), rate
        offset += 8 + size + (size & 1)  # chunks are padded to an even size
    raise ValueError(f"{path}: no audio data")


def write_wav(path: str | os.PathLike, samples: np.ndarray, rate: int) -> Path:
    """Write mono 16-bit PCM atomically: a reader never sees a half-written file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle, wave.open(handle, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(np.asarray(samples, dtype="<i2").tobytes())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def to_telephone(samples: np.ndarray, rate: int) -> np.ndarray:
    """Any mono PCM to 8 kHz: what a phone line carries."""
    return resample(samples, rate, TELEPHONE_RATE)


def convert_to_telephone_wav(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Convert any WAV file to an 8 kHz mono 16-bit WAV file."""
    samples, rate = read_wav(source)
    return write_wav(target, to_telephone(samples, rate), TELEPHONE_RATE)


def frames(mulaw: bytes, frame_bytes: int = FRAME_BYTES) -> Iterator[bytes]:
    """Slice mu-law audio into 20 ms frames; the last one is padded with silence as a phone line would be."""
    for start in range(0, len(mulaw), frame_bytes):
        frame = mulaw[start : start + frame_bytes]
        yield frame + bytes([MULAW_SILENCE]) * (frame_bytes - len(frame))


def wav_to_frames(path: str | os.PathLike) -> list[bytes]:
    """A WAV file as the 20 ms mu-law frames a Twilio media stream would carry."""
    samples, rate = read_wav(path)
    return list(frames(pcm_to_mulaw(to_telephone(samples, rate))))

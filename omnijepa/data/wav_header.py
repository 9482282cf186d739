"""What a WAV file's header promises against what the file holds.

libsndfile reads a WAV cut off mid-data (a copy that stopped, a recorder that crashed) as a
shorter sound without a word; the RIFF header still says how many bytes of audio there were.
"""

from __future__ import annotations

from pathlib import Path

PLACEHOLDERS = (0, 0xFFFFFFFF)  # sizes streaming writers leave when the length is unknown


def missing_share(path: Path) -> float | None:
    """The share of the audio a WAVE file's ``data`` chunk declares that is not in the file
    (0 < share <= 1), or None when nothing is missing, the file is not RIFF/RF64/BW64 WAVE, or
    its size field is a streaming placeholder. RF64 and BW64 keep the 64-bit size in ``ds64``."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:12] != b"WAVE":
            return None
        pos, wide = 12, None
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            declared = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"ds64":
                fields = f.read(16)
                wide = int.from_bytes(fields[8:16], "little") if len(fields) == 16 else None
            if chunk[:4] == b"data":
                if declared == 0xFFFFFFFF and wide is not None:
                    declared = wide
                present = size - (pos + 8)
                if declared in PLACEHOLDERS or present >= declared:
                    return None
                return 1.0 - present / declared
            pos += 8 + declared + (declared & 1)  # chunks are padded to even sizes
    return None

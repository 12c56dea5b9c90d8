"""Small helpers shared by the inspection tests."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from crm_core.accounts.models import ActivityLog
from crm_core.inspections.models import Inspection


def png(name: str = "site.png", size: tuple[int, int] = (8, 6), color: str = "red") -> SimpleUploadedFile:
    """A small but real PNG picture, as a browser would upload it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def counts() -> tuple[int, int]:
    """What a refused write must leave exactly as it was: inspections and audit rows."""
    return Inspection.objects.count(), ActivityLog.objects.count()


def types(published: list) -> list[str]:
    return [event_type for event_type, _groups, _event in published]


def huge_png(name: str = "panorama.png", width: int = 30_000, height: int = 30_000) -> SimpleUploadedFile:
    """A tiny file whose header claims a picture far too large to open (a decompression bomb)."""
    import struct
    import zlib

    data = png(name).read()
    # The IHDR chunk starts at byte 8: length(4) type(4) width(4) height(4) ... crc(4).
    ihdr = b"IHDR" + struct.pack(">II", width, height) + data[24:29]
    patched = data[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]
    return SimpleUploadedFile(name, patched, content_type="image/png")

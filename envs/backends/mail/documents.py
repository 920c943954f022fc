"""Renders the attachment facts of a world's mail to the bytes the mail backend stores and serves.

An attachment fact (``airgap.envs.worldgen.facts.Attachment``, received duck-typed) has a ``filename``, a
``content_type`` and its ``text``; a PDF is rendered as a real one-page PDF, anything else as UTF-8 text.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airgap.envs.worldgen.facts import Attachment


def render_attachment(att: Attachment) -> bytes:
    """The file behind an attachment fact: a real one-page PDF for ``application/pdf``, UTF-8 text otherwise."""
    if att.content_type == "application/pdf":
        return text_pdf(att.text.splitlines(), title=att.filename)
    return att.text.encode()


def _pdf_string(s: str) -> str:
    s = s.encode("latin-1", "replace").decode("latin-1")
    return "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def text_pdf(lines: list[str], title: str = "") -> bytes:
    """A minimal valid PDF 1.4 (one Letter page, Helvetica, one text line per item) that pdftotext and browsers read."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "72 720 Td"]
    for line in lines[:48]:
        ops.append(f"{_pdf_string(line)} Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Title " + _pdf_string(title).encode("latin-1") + b" /Producer (airgap worldgen) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)

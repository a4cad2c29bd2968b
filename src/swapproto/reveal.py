"""The content of a reveal: the manifest file as the other side receives it.

A reveal message (``spec/handshake.md`` §4.5) names its content by ``{"sealed", "sha256",
"size"}``; the content itself (the *blob*) travels beside the message. Under sealed terms
the blob is the manifest file sealed (:mod:`swapproto.sealing`) to the recipients the
terms name for the list (the counterparty and the mediators, never the sender), bound
to the exchange, the list and the reveal; otherwise it is the manifest file as is.
:meth:`swapproto.handshake.Party.reveal` takes the ``content`` these functions return;
the blob is published however the transport moves files
(:meth:`swapproto.exchange_dir.ExchangeDir.store_content` in an exchange directory).
"""

from __future__ import annotations

import hashlib
import io
from typing import Any, BinaryIO, Final

from swapproto._binary_stream import read_bytes, require_bytes, require_reader, require_writer
from swapproto.messages import MessageType
from swapproto.sealing import SealingContext, seal_stream
from swapproto.terms import Terms

__all__ = ["Content", "reveal_content", "write_reveal_content"]

Content = dict[str, Any]
"""A reveal's ``content`` member: ``{"sealed": bool, "sha256": bytes, "size": int}``."""
_CHUNK: Final = 1 << 20


def write_reveal_content(
    src: BinaryIO, dst: BinaryIO, terms: Terms, role: str, list_name: str
) -> Content:
    """Write the blob of ``role``'s reveal of ``list_name`` to ``dst``, reading the
    manifest file from ``src``, and return the reveal's ``content``. Streams in bounded
    memory. Raises :class:`~swapproto.errors.PolicyError` for a list the terms do not
    have or ``role`` may not submit, and the errors of
    :func:`~swapproto.sealing.seal_stream`."""
    require_reader(src, "the manifest")
    require_writer(dst, "the reveal blob's destination")
    if terms.sealed:
        context = SealingContext(terms.exchange_id, list_name, MessageType.REVEAL.value)
        info = seal_stream(src, dst, terms.recipients_for(list_name, role), context)
        digest, size = info.digest, info.size
    else:
        terms.signers_for(list_name, role)  # refuses a list or sender as sealing would
        hasher, size = hashlib.sha256(), 0
        while chunk := read_bytes(src.read(_CHUNK), "the manifest"):
            hasher.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        digest = hasher.digest()
    return {"sealed": terms.sealed, "sha256": digest, "size": size}


def reveal_content(
    manifest: bytes, terms: Terms, role: str, list_name: str
) -> tuple[Content, bytes]:
    """:func:`write_reveal_content` in memory: the reveal's ``content`` and the blob."""
    require_bytes(manifest, "manifest")
    out = io.BytesIO()
    content = write_reveal_content(io.BytesIO(manifest), out, terms, role, list_name)
    return content, out.getvalue()

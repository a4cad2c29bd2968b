"""Writing an amended manifest version and its amendment file (the file layer of
:mod:`swapproto.amendment`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from swapproto._input_files import open_input
from swapproto._output_paths import distinct_outputs
from swapproto.amendment import (
    AmendmentMode,
    Removal,
    RemovalReason,
    VerifiedAmendment,
    make_amendment,
    require_citation,
    verify_amendment,
)
from swapproto.errors import ErrorCode, InputError, VerificationError
from swapproto.hashing import digest_equal
from swapproto.keys import SigningKey
from swapproto.manifest import VerifiedHeader, check_entry, signers_policy
from swapproto.manifest_file import (
    ManifestReader,
    Progress,
    SaltedRecord,
    atomic_writer,
    build_manifest_file,
    validated_rows,
)
from swapproto.merkle import MerkleTree, StreamingRootBuilder, leaf_hash
from swapproto.records import record_id
from swapproto.tabular import RowReport, TableFormat, iter_records, open_table

__all__ = ["amend_manifest_file"]


def _reason(reason: RemovalReason | str) -> RemovalReason:
    """A removal reason, given as the enum or its value (``"deceased"``)."""
    try:
        return RemovalReason(reason)
    except (ValueError, TypeError):
        known = ", ".join(r.value for r in RemovalReason)
        raise InputError(f"unknown removal reason {str(reason)[:40]!r} (one of {known})") from None


def _carried(
    reader: ManifestReader,
    verified: VerifiedHeader,
    removals: Mapping[int, RemovalReason],
    removed_out: list[Removal],
) -> Iterator[SaltedRecord]:
    """Old entries not removed, with their salts; checks the old root on the way."""
    header = verified.header
    root = StreamingRootBuilder()
    for index, leaf in enumerate(reader.leaves(header.count)):
        root.add_leaf_hash(leaf_hash(leaf))
        entry = check_entry(leaf, index=index, kind=header.kind)
        if index in removals:
            removed_out.append(
                Removal(index, record_id(header.kind, entry.record), removals[index])
            )
        else:
            yield entry.record, entry.salt
    if not digest_equal(root.root(), header.root):
        raise VerificationError(
            "the current version does not hash to its signed root", code=ErrorCode.VERIFY_ROOT
        )


def _additions(
    source: Path | Iterable[Mapping[str, Any]] | None, kind: str, mapping: Mapping[str, str]
) -> Generator[dict[str, Any]]:
    if source is None:
        return
    if not isinstance(source, Path):
        # records given by the caller: checked here, as the importer checks rows
        for record in validated_rows(source, kind, "added record"):
            yield dict(record)
        return
    # the format by suffix, as ``manifest build`` chooses it without --format
    fmt = TableFormat.JSONL if source.suffix in (".jsonl", ".ndjson") else TableFormat.CSV
    report = RowReport(str(source))
    with open_table(source) as text:
        yield from iter_records(text, kind=kind, fmt=fmt, mapping=mapping, report=report)


def amend_manifest_file(
    current: Path,
    out: Path,
    amendment_out: Path,
    *,
    keys: Sequence[SigningKey],
    additions: Path | Iterable[Mapping[str, Any]] | None = None,
    mapping: Mapping[str, str] | None = None,
    removals: Sequence[tuple[int, RemovalReason | str]] = (),
    created_at: int,
    overwrite: bool = False,
    cites: bytes | None = None,
    progress: Progress | None = None,
    parallel: bool | None = False,
    salt_source: Callable[[int], bytes] = os.urandom,
) -> VerifiedAmendment:
    """Write version n+1 of ``current`` and the signed amendment linking the two.

    ``current`` (version n) must be signed by every one of ``keys`` (the issuer's), else
    :class:`~swapproto.errors.ThresholdError`; it is verified in full (header, every
    entry, root) while its kept entries are carried over. ``removals`` are
    ``(0-based entry index, reason)`` pairs, the reason a :class:`RemovalReason` or its
    value (``"deceased"``; anything else raises ``InputError``);
    ``additions`` are the records to append: a CSV or JSON Lines file (``mapping``
    renames its columns, as ``--map`` does), validated like ``manifest build`` input, or
    canonical records (``to_canonical(model)``), each checked before anything is
    written (``input.invalid_record``, naming the added record's position). New
    entries get fresh salts (from ``salt_source``). Without removals the amendment is
    append-only and carries a consistency proof. ``cites`` (the id of the commit that
    carried the list's statement) is required when the list is bound to an exchange.
    ``parallel`` and ``salt_source`` are :func:`~swapproto.manifest_file.build_manifest`'s
    (salts of the added entries; the OS CSPRNG outside tests).
    Returns the amendment as :func:`~swapproto.amendment.verify_amendment` sees it.

    Both files are written atomically (nothing is left on error); an existing ``out``
    or ``amendment_out`` is refused unless ``overwrite``, and so, always, are outputs
    that name ``current``, the additions file or each other. Raises
    :class:`~swapproto.errors.InputError` (``input.invalid`` for nothing to amend, an
    index outside version n, an index listed twice or a missing ``cites``;
    ``input.io`` for files; ``input.invalid_record``/``input.duplicate`` for bad
    additions) and :class:`~swapproto.errors.VerificationError` for a version n that
    does not verify.
    """
    inputs = [Path(current), additions if isinstance(additions, Path) else None]
    distinct_outputs([("out", Path(out)), ("amendment_out", Path(amendment_out))], inputs)
    if any(type(index) is not int for index, _ in removals):
        raise TypeError("removal indices must be int (0-based entry positions)")
    removal_map = {index: _reason(reason) for index, reason in removals}
    if len(removal_map) != len(removals):
        raise InputError("an entry is listed for removal twice")
    if additions is None and not removal_map:
        raise InputError("nothing to amend: give records to add or entries to remove")
    policy = signers_policy(keys)
    removed: list[Removal] = []
    with open_input(current) as stream:
        reader = ManifestReader(stream)
        verified = reader.verify_header(policy)
        header = verified.header
        require_citation(verified, cites)
        outside = [i for i in removal_map if not 0 <= i < header.count]
        if outside:
            raise InputError(f"removal index {outside[0]} is outside the {header.count} entries")

        with closing(_additions(additions, header.kind, mapping or {})) as added:
            first = next(added, None)  # read the first added record before writing anything
            if first is None and not removal_map:
                source = additions if isinstance(additions, Path) else "the additions"
                raise InputError(f"nothing to amend: {source} has no records to add")

            def rows() -> Iterator[dict[str, Any] | SaltedRecord]:
                yield from _carried(reader, verified, removal_map, removed)
                if first is not None:
                    yield first
                    yield from added

            result = build_manifest_file(
                out,
                rows(),
                kind=header.kind,
                list_name=header.list_name,
                issuer=header.issuer,
                keys=list(keys),
                created_at=created_at,
                exchange=header.exchange,
                version=header.version + 1,
                previous=verified.digest,
                keep_hashes=not removal_map,
                overwrite=overwrite,
                progress=progress,
                validate=False,  # carried entries passed check_entry; additions the importer
                parallel=parallel,
                salt_source=salt_source,
            )
    mode = AmendmentMode.REVISE if removal_map else AmendmentMode.APPEND
    proof: tuple[bytes, ...] = ()
    if mode is AmendmentMode.APPEND:
        assert result.leaf_hashes is not None
        proof = MerkleTree.from_leaf_hashes(result.leaf_hashes).consistency_proof(header.count)
    data = make_amendment(
        reader.header_bytes,
        result.verified.envelope.to_bytes(),
        mode=mode,
        keys=keys,
        consistency=proof,
        removed=removed,
        cites=cites,
    )
    try:
        with atomic_writer(amendment_out, overwrite=overwrite) as f:
            f.write(data)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return verify_amendment(data, policy)

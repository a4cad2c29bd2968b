"""The demo scenario with the library API: a 1,000-for-1,000 prisoner exchange.

Each party's system would run its own half of this; here one script plays both
parties and the mediator, moving signed messages through an exchange directory
(any transport that moves files will do). Usage::

    python examples/exchange.py [WORKDIR] [--count N]

Exits 0 when the mediator's verification passes and both parties agreed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
import tempfile
from pathlib import Path

from swapproto.demo_data import demo_terms, prisoner_rows
from swapproto.disclosure import collect_for_disclosure, make_disclosure, verify_disclosure
from swapproto.envelope import SignedEnvelope
from swapproto.exchange_dir import ExchangeDir, RecipientOpener
from swapproto.handshake import Party, completeness_statement
from swapproto.hashing import fingerprint
from swapproto.keys import DecryptionKey, KeyBundle, SigningKey, load_key_bundle, write_key_pair
from swapproto.manifest_file import ManifestReader, build_manifest_file
from swapproto.messages import MessageType
from swapproto.records import canonical_from_row
from swapproto.terms import compile_terms
from swapproto.transcript import verify_transcript

SIDES = {"a": "ua", "b": "ru"}


def make_keys(root: Path) -> dict[str, KeyBundle]:
    """Each party and the mediator generate a signing key and an HPKE key."""
    (root / "keys").mkdir(exist_ok=True)
    for name in ("ua", "ru", "tr"):
        write_key_pair(
            root / "keys", name, SigningKey.generate(), decryption_key=DecryptionKey.generate()
        )
    return {name: load_key_bundle(root / "keys" / f"{name}.key") for name in ("ua", "ru", "tr")}


def build_list(root: Path, party: Party, bundle: KeyBundle, count: int, now: int) -> Path:
    """Build, sign and bind one party's prisoner list to the exchange."""
    reference = party.terms.reference_date
    rows = prisoner_rows(count, side=SIDES[party.role], reference=reference)
    path = root / f"{SIDES[party.role]}.manifest"
    build_manifest_file(
        path,
        (canonical_from_row("prisoner", row) for row in rows),
        kind="prisoner",
        list_name="pows",
        issuer=party.role,
        keys=[bundle.signing],
        created_at=now,
        exchange=party.exchange_id,
    )
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the exchange; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="swapproto-example-") as tmp:
        return run(args.workdir or Path(tmp), args.count)


def run(root: Path, count: int) -> int:
    """The whole exchange in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    keys = make_keys(root)
    (root / "terms.toml").write_text(
        demo_terms(dt.datetime.now(dt.UTC).date(), count), encoding="utf-8"
    )
    terms = compile_terms(root / "terms.toml")
    xch = ExchangeDir(root / "xch")
    xch.write_terms(terms)
    print(f"exchange {fingerprint(terms.exchange_id)} (read it aloud, write it in the minutes)")

    parties = {role: Party(terms, role, [keys[SIDES[role]].signing]) for role in SIDES}

    # 1. both sign the terms
    for party in parties.values():
        deliver(xch, parties, party, party.sign_terms(now=now))

    # 2. both build their lists and commit before seeing the other's
    manifests: dict[str, Path] = {}
    openings: dict[str, bytes] = {}
    for role, party in parties.items():
        manifests[role] = build_list(root, party, keys[SIDES[role]], count, now)
        with manifests[role].open("rb") as stream:
            digest = ManifestReader(stream).verify_header(terms.trust_policy().role(role)).digest
        openings[role] = secrets.token_bytes(32)
        statement = completeness_statement(terms, role, "pows", now)
        commit = party.commit("pows", digest, nonce=openings[role], now=now, statement=statement)
        deliver(xch, parties, party, commit)
        sealed_to = party.commits(role)["pows"].body["commitment"]
        print(f"party {role} committed: {fingerprint(sealed_to)}")

    # 3. both reveal, sealed to the counterparty and the mediator
    for role, party in parties.items():
        with manifests[role].open("rb") as stream:
            header = ManifestReader(stream).header_bytes
            stream.seek(0)
            content = xch.store_content(stream, terms, role, "pows")
        reveal = party.reveal("pows", header, nonce=openings[role], content=content, now=now)
        deliver(xch, parties, party, reveal)

    # 4. the mediator verifies everything offline, decrypting with its own key
    report = verify_transcript(
        xch.messages(), terms=terms, blobs=xch, opener=RecipientOpener(keys["tr"]), now=now
    )
    for check in report.checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    if not report.ok:
        return 1

    # 5. both accept, each signing the digest of everything it saw
    for party in parties.values():
        deliver(xch, parties, party, party.verdict(accept=True, now=now))

    # 6. one entry proven to be on Ukraine's signed list, nothing else revealed
    with manifests["a"].open("rb") as stream:
        reader = ManifestReader(stream)
        header_bytes = reader.header_bytes
        count_a = reader.unverified_header().count
        tree, leaves = collect_for_disclosure(reader.leaves(count_a), [17])
    proof = make_disclosure(header_bytes, tree, leaves)
    disclosed = verify_disclosure(proof, terms.trust_policy().role("a"))
    print(f"entry 17 is on the signed list: {disclosed.entries[0].record['person_id']}")

    final = verify_transcript(xch.messages(), terms=terms, blobs=xch, opener=None, now=now)
    print(f"final state: {final.state}; all checks pass: {final.ok}")
    return 0 if final.ok and final.state == "agreed" else 1


def deliver(
    xch: ExchangeDir, parties: dict[str, Party], sender: Party, envelope: SignedEnvelope
) -> None:
    """Store a message in the exchange directory and hand it to the other party."""
    xch.write_message(
        envelope,
        sender=sender.role,
        seq=sender.next_seq(sender.role) - 1,
        mtype=MessageType(envelope.payload_type),
    )
    for party in parties.values():
        if party is not sender:
            party.receive(envelope)


if __name__ == "__main__":
    sys.exit(main())

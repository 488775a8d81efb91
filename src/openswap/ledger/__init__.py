"""The tamper-evident lifecycle ledger: an RFC 9162 Merkle log, its proofs and signed checkpoints.

Only `entries` knows the domain; everything else here works on bytes. Format and threat model:
docs/design/ledger.md.
"""

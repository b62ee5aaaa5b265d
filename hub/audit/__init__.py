"""The auditors' side of the hub: the ledger's Merkle tree (RFC 9162), proofs and checks."""

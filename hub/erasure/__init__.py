"""Erasure: a record's key deleted, so every copy of its events stays ciphertext."""

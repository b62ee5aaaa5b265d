"""Record keys: each record's personal payload sealed under a key of its own (crypto-shredding)."""

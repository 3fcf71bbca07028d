"""Keeping people's identities and words safe: keys, sealing, pseudonyms, identities, receipt codes."""

"""Verification's HTTP routes: commands (cases, policy), read views and the dossier; each only translates."""

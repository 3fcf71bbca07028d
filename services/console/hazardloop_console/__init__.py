"""The staff and group console: every role's pages, fed from the log, commands sent to the owning service."""

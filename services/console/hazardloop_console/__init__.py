"""The staff and group console: every role's pages, fed from the log, commands sent to the owning service.

It owns no aggregates, so it has no ``domain.py`` nor ``commands.py``: a step a person
takes here (accept, verify, assign, approve or pay a reward...) goes over HTTP to the
service that owns the aggregate (``backends.py``), with the person's own token, and that
service decides. Its pages (``api/``) read the console's own store, kept from the log
(``projection.py``, ``store.py``) and read through ``queries*.py``, ``figures.py`` and
``tallies.py``; ``web.py`` is what every page shares.
"""

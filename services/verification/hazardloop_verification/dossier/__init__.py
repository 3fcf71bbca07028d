"""A report's dossier: its timeline read from the log, as data (``document``) or as a printable
page (``page``, in the words of ``words``), with the proof that nothing was altered (``proof``)."""

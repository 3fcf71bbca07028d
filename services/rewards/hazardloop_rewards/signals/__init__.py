"""Fraud signals: rules that point a reviewer at rewards worth a second look.

Each rule is a small state fed one filing or one reward at a time (counters per
reporter, pair or team, never a rescan), with a pure ``findings`` function over a
hand-built history for tests and measurements. ``book`` keeps every subsidiary's
states for the rewards projection; ``places`` is judged when a reward is shown, since
it needs the pseudonym directory. A signal never decides anything by itself.
"""

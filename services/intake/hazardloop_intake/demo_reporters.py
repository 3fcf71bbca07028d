"""The demo's reporters, offered by the form's dev sign-in (never in production).

``emp-10482`` is the reporter whose reports the demo files (``hazardloop.tools.demo``), so
signing in as him shows them under "my reports".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoReporter:
    subject: str
    name_zh: str
    name_en: str
    tenants: tuple[str, ...]

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


DEMO_REPORTERS = (
    DemoReporter("emp-10482", "王工人", "Wang, pipefitter", ("refinery",)),
    DemoReporter("emp-20517", "周焊工", "Zhou, welder", ("refinery",)),
)


def demo_reporter(subject: str) -> DemoReporter | None:
    return next((person for person in DEMO_REPORTERS if person.subject == subject), None)

"""Messages rendered from Jinja2 templates: one file per kind and language, subject and body.

Deliveries and inbox messages keep the kind and its parameters, not text, so each is
rendered in its reader's language when it is read or sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context

from hazardloop.events import Language
from hazardloop.timing.instants import in_zone
from hazardloop.web.labels import label, language_of

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = tuple(language.value for language in Language)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


def yuan(fen: int) -> str:
    """Integer fen as yuan, exactly (no float ever touches money)."""
    return f"{fen // 100}.{fen % 100:02d}"


class Renderer:
    def __init__(self, timezone: str = "Asia/Shanghai", templates: Path = TEMPLATES) -> None:
        self._zone = ZoneInfo(timezone)
        self._env = Environment(
            loader=FileSystemLoader(templates),
            undefined=StrictUndefined,  # a missing parameter is a bug to see in tests, not a blank
            autoescape=False,  # plain text: e-mail bodies, chat markdown, inbox text
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # shipped with the code: no stat of the file each time a message is read
        )
        self._env.filters.update(yuan=yuan, when=self._when, label=_label)

    def kinds(self) -> list[str]:
        """Every message kind with a template (of any language)."""
        return sorted({name.split(".")[0] for name in self._env.list_templates(extensions=["j2"])})

    def render(self, kind: str, language: str, params: dict[str, Any]) -> Rendered:
        template = self._env.get_template(f"{kind}.{_known(language)}.j2")
        context = template.new_context({**params, "lang": _known(language)})
        subject = "".join(template.blocks["subject"](context)).strip()
        body = "".join(template.blocks["body"](context)).strip()
        return Rendered(" ".join(subject.split()), body)

    def _when(self, value: str | datetime) -> str:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return in_zone(moment, self._zone).strftime("%Y-%m-%d %H:%M")


@pass_context
def _label(context: Any, code: object) -> str:
    """The code's name as it reads within a sentence ("confirmed as a major hazard")."""
    name = label(code, context["lang"])
    if context["lang"] == Language.EN.value and name[1:2].islower():
        return name[0].lower() + name[1:]
    return name


def _known(language: str) -> str:
    return language if language in LANGUAGES else Language.ZH_CN.value


def pick_language(requested: str | None, accept_language: str | None, default: str) -> str:
    """``lang`` if given, else the first language of ``Accept-Language`` we have, else the default."""
    return language_of(requested, accept_language, default=Language(default)).value

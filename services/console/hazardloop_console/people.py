"""The demo's people, offered by the dev sign-in page (never in production).

Their subjects are the ones the demo's data uses, so signing in as one shows that
person's own work.
"""

from __future__ import annotations

from dataclasses import dataclass

from hazardloop.web.auth import Role


@dataclass(frozen=True)
class DemoPerson:
    subject: str
    name_zh: str
    name_en: str
    tenants: tuple[str, ...]
    roles: tuple[Role, ...]

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_zh


DEMO_PEOPLE = (
    DemoPerson("safety-officer-li", "李安全（炼油厂安全员）", "Li, refinery safety officer", ("refinery",), (Role.VERIFIER,)),
    DemoPerson("maint-chen", "陈维修（整改责任人）", "Chen, maintenance (rectification owner)", ("refinery",), (Role.RECTIFIER,)),
    DemoPerson("safety-manager-wang", "王经理（安全部经理）", "Wang, safety manager", ("refinery",), (Role.MANAGER, Role.VERIFIER)),
    DemoPerson("head-of-safety-zhang", "张部长（部门负责人）", "Zhang, head of department", ("refinery",), (Role.MANAGER,)),
    DemoPerson("deputy-director-sun", "孙副总（公司领导）", "Sun, deputy director", ("refinery",), (Role.LEADER,)),
    DemoPerson("finance-zhao", "赵会计（财务）", "Zhao, finance", ("refinery",), (Role.FINANCE,)),
    DemoPerson("auditor-qian", "钱审计（审计）", "Qian, auditor", ("refinery",), (Role.AUDITOR,)),
    DemoPerson("hq-liu", "刘总（集团总部）", "Liu, group headquarters", ("*",), (Role.LEADER, Role.AUDITOR)),
    DemoPerson("hq-safety-he", "何部长（集团安全部）", "He, group safety department", ("*",), (Role.VERIFIER, Role.MANAGER)),
    DemoPerson("mine-safety-zhou", "周安全（矿山安全员）", "Zhou, mine safety officer", ("mine",), (Role.VERIFIER,)),
)


def demo_person(subject: str) -> DemoPerson | None:
    return next((p for p in DEMO_PEOPLE if p.subject == subject), None)

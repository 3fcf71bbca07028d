"""The dossier's own words in Simplified Chinese and English; codes are named by ``hazardloop.web.labels``."""

from __future__ import annotations

from hazardloop.events import Language

WORDS: dict[str, tuple[str, str]] = {
    "title": ("隐患举报处理档案", "Hazard report dossier"),
    "report": ("报告编号", "Report number"),
    "subsidiary": ("单位", "Subsidiary"),
    "place": ("地点", "Place"),
    "equipment": ("设备位号", "Equipment tag"),
    "kind": ("隐患类别", "Kind of hazard"),
    "observed": ("发现时间", "Seen at"),
    "channel": ("报告方式", "Reported through"),
    "reporter": ("报告人", "Reporter"),
    "anonymous": ("匿名报告人", "an anonymous reporter"),
    "pseudonym": ("化名 {p}", "pseudonym {p}"),
    "description": ("看到的情况", "What was seen"),
    "cause_analysis": ("报告人的原因分析", "The reporter's cause analysis"),
    "suggested_fix": ("报告人的整改建议", "The reporter's suggested fix"),
    "emergency_action": ("已采取的应急措施", "Emergency action already taken"),
    "generated": ("生成时间", "Generated"),
    "zone": ("时间均为当地时间（{zone}）", "All times are local ({zone})"),
    "source": ("本档案由系统直接依据不可篡改的事件日志生成，不含举报人身份信息。",
               "Generated directly from the tamper-evident event log; it holds no reporter identity."),
    "summary": ("基本情况", "The report"),
    "plan": ("整改方案（五定）", "Rectification plan (the five fixed items)"),
    "no_plan": ("本报告未制定五定整改方案。", "No five-item rectification plan was set for this report."),
    "plan_item": ("项目", "Item"),
    "plan_content": ("内容", "Content"),
    "responsible_person": ("责任人", "Responsible person"),
    "measures": ("整改措施", "Measures"),
    "funds": ("整改资金", "Funds"),
    "deadline": ("整改期限", "Deadline"),
    "emergency_plan": ("整改期间的应急预案", "Emergency plan in the meantime"),
    "history": ("处理经过", "What was done, step by step"),
    "when": ("时间", "When"),
    "step": ("经过", "Step"),
    "by": ("经办：", "By: "),
    "system": ("系统", "the system"),
    "photos": ("照片和视频", "Photos and videos"),
    "photo_caption": ("{kind}，SHA-256 {digest}", "{kind}, SHA-256 {digest}"),
    "video_caption": ("视频（{size}，无法打印，原件 SHA-256 {digest}）", "Video ({size}, not printable; original's SHA-256 {digest})"),
    "missing_photo": ("{kind}无法读取（SHA-256 {digest}）", "{kind} could not be read (SHA-256 {digest})"),
    "proof": ("防篡改证明", "Proof that the record is unaltered"),
    "proof_intro": (
        "每条记录的哈希值由其内容和上一条记录的哈希值计算得出；任何修改、删除或调换都会使链条断开。",
        "Each entry's hash is computed from its content and the previous entry's hash: any change, removal or reordering breaks the chain.",
    ),
    "chain_intact": ("哈希链完整：每条记录都紧接上一条，未被改动。", "Hash chain intact: every entry follows the one before it, unaltered."),
    "chain_broken": ("哈希链断开：此记录已被改动。", "Hash chain broken: this record was altered."),
    "sequence": ("日志序号", "Log sequence"),
    "entry": ("记录", "Entry"),
    "hash": ("哈希值", "Hash"),
    "prev_hash": ("上一条的哈希值", "Previous hash"),
    "intact": ("完整", "Intact"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "seals": ("日志封存", "Seals over the log"),
    "no_seal": ("这些记录尚未被日志封存覆盖（封存定期进行）。", "These entries are not covered by a seal yet (the log is sealed periodically)."),
    "seal_text": (
        "{at}封存了日志序号 {first} 至 {last} 的全部消息，其中包括本报告的 {count} 条记录。",
        "On {at} every message at log sequences {first} to {last} was sealed, {count} of this report's entries among them.",
    ),
    "seal_digest": ("封存摘要", "Seal digest"),
    "seal_hash": ("封存记录的哈希值", "Hash of the seal"),
    "seal_holds": ("核验通过：封存完整，本报告的记录与封存一致，重新计算的摘要相符。",
                   "Verified: the seal is intact, this report's entries match it, and the recomputed digest agrees."),
    "seal_fails": ("核验未通过：封存或其覆盖的日志已被改动。", "Not verified: the seal or the log it covers was altered."),
    "print": ("打印或另存为 PDF", "Print or save as PDF"),
    "other_language": ("English", "中文"),
    "yuan": ("{v} 元", "{v} yuan"),
    # one sentence per step of the closed loop
    "ReportFiled": ("{who}通过{channel}报告了隐患：{kind}。", "{who} reported a hazard through the {channel}: {kind}."),
    "Accepted": ("安全管理部门受理了举报。", "The safety department accepted the report."),
    "Verified": ("核查结论：{outcome}{grade}。", "Verified: {outcome}{grade}."),
    "Verified_duplicate": ("与报告 {first} 为同一隐患，合并处理。", "The same hazard as report {first}: handled together."),
    "RectificationAssigned": ("指派{owner}负责整改，期限为{deadline}。", "{owner} was made responsible for the rectification, due {deadline}."),
    "ExtensionRequested": ("申请将整改期限延至{deadline}，理由：{reason}", "An extension to {deadline} was requested: {reason}"),
    "ExtensionGranted": ("批准延期，整改期限延至{deadline}。", "The extension was granted: now due {deadline}."),
    "ExtensionRefused": ("驳回延期申请，理由：{reason}", "The extension was refused: {reason}"),
    "Rectified": ("整改完成，措施：{measures}", "Rectified: {measures}"),
    "Rectified_on_the_spot": ("现场立即整改，措施：{measures}", "Rectified on the spot: {measures}"),
    "RectificationAccepted": ("整改经验收通过。", "The rectification was checked and accepted."),
    "RectificationRejected": ("整改验收未通过，理由：{reason}", "The rectification was rejected: {reason}"),
    "ReporterFedBack": ("向报告人反馈：{message}", "Feedback to the reporter: {message}"),
    "SlaBreached": ("“{clock}”环节未在{due}前完成。", "The step “{clock}” was not done by {due}."),
    "RectificationOverdue": ("整改超过期限（{deadline}），责任人{owner}。", "The rectification passed its deadline ({deadline}); responsible: {owner}."),
    "EscalationRaised": ("整改逾期，升级督办，通知：{notify}。", "Overdue rectification escalated; told: {notify}."),
    "ExternallyEscalated": ("已上报{authority}。", "Reported to {authority}."),
    "comment": ("说明：{text}", "Comment: {text}"),
    "other_step": ("{step}。", "{step}."),
}
"""Key -> (Chinese, English)."""


def say(key: str, language: Language, **values: object) -> str:
    chinese, english = WORDS[key]
    return (english if language == Language.EN else chinese).format(**values)


def words(language: Language) -> dict[str, str]:
    """Every word in ``language``, for the template."""
    index = 1 if language == Language.EN else 0
    return {key: pair[index] for key, pair in WORDS.items()}

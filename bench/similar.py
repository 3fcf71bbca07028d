"""(f) Similar earlier reports with 100,000 reports in the console's store: time per lookup.

The store is filled directly (untimed) with rows shaped as the projection writes them,
descriptions in Chinese with equipment tags (a vocabulary of places, equipment and faults
drawn with skewed weights, so some tokens are in a tenth of the reports and most in a
few), and the blind index of each, digested with the console's own index keys. Then
reports are picked at random and their similar earlier reports looked up as group
headquarters sees them (all three subsidiaries: the widest search), beside the case
page's own read of the report (``queries.one_case``) as the baseline.

``python -m bench.similar --reports 5000`` is the quick run for development.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import insert
from sqlalchemy import text as sql

from bench.console_pages import TENANTS, rows
from bench.stats import percentile
from hazardloop_console.app import build
from hazardloop_console.queries import one_case
from hazardloop_console.settings import ConsoleSettings
from hazardloop_console.similar.lookup import similar_to
from hazardloop_console.similar.tokens import digest, tokens
from hazardloop_console.store import cases, metadata, text_index
from hazardloop_console.tallies import derived, summed

TARGET_P95_MS = 100.0
PLACES = ["泵房", "罐区", "装置区", "配电室", "皮带廊", "码头", "仓库", "中控室", "压缩机厂房", "循环水场", "污水处理站", "锅炉房"]
EQUIPMENT = ["离心泵", "往复泵", "压缩机", "换热器", "储罐", "阀门", "管线", "法兰", "电机", "皮带机", "行车", "叉车", "脚手架",
             "配电柜", "灭火器", "报警器", "安全阀", "液位计", "冷却塔", "反应釜", "加热炉", "过滤器", "风机", "电缆桥架",
             "梯子", "护栏", "洗眼器", "呼吸器", "可燃气体探测器", "硫化氢检测仪"]
FAULTS = ["机械密封泄漏", "漏油", "振动大", "异响", "温度偏高", "护罩缺失", "接地线断开", "压力表损坏", "防护栏缺失", "标识不清",
          "腐蚀严重", "螺栓松动", "保温层脱落", "报警失灵", "未定期校验", "盘根漏水", "轴承过热", "电缆破损", "踏板锈蚀",
          "门未关闭", "过期未检", "被杂物堵塞", "探头被遮挡", "旁路未关", "支架变形", "基础开裂", "油位低", "接线盒进水"]
NOTES = ["", "", "", "巡检时发现", "夜班发现", "请尽快处理", "存在火灾风险", "可能伤人", "已设置警示", "多次反映未处理"]


def skewed(rng: random.Random, words: list[str]) -> str:
    return rng.choices(words, weights=[1 / (i + 1) for i in range(len(words))])[0]


def describe(rng: random.Random) -> tuple[str, str]:
    """A description and the equipment tag it names."""
    tag = f"{rng.choice('PKETVC')}-{rng.randint(101, 999)}"
    place = f"{rng.randint(1, 12)}号{skewed(rng, PLACES)}"
    text = f"{rng.choice(NOTES)}{place} {skewed(rng, EQUIPMENT)}{tag} {skewed(rng, FAULTS)}{rng.choice(NOTES)}"
    return text, tag


def filled(workdir: Path, count: int, seed: int = 7, database_url: str | None = None):
    """The console app over a store of ``count`` reports (SQLite in ``workdir`` unless
    ``database_url`` names an empty one); their descriptions by report id."""
    url = database_url or f"sqlite:///{workdir / 'console.db'}"
    settings = ConsoleSettings(state_dir=workdir, tenants=list(TENANTS), database_url=url)
    settings.secret("jwt"), settings.secret("pseudonym")  # creates the key ring the service requires
    app = build(settings)
    engine, key_of = app.state.runtime.engine, app.state.index_key
    metadata.create_all(engine)
    rng = random.Random(seed)
    made, texts, postings, digested = [], {}, [], {}
    for row in rows(count, datetime.now(UTC), seed):
        text, tag = describe(rng)
        row |= {"description": text, "equipment_tag": tag if rng.random() < 0.7 else None}
        made.append(row | derived(row))
        texts[row["report_id"]] = text
        for word in tokens(text):
            key = (row["tenant"], word)
            if (found := digested.get(key)) is None:
                found = digested[key] = digest(key_of(row["tenant"]), word)
            postings.append({"tenant": row["tenant"], "digest": found, "report_id": row["report_id"]})
    with engine.begin() as db:
        for first in range(0, len(made), 5000):
            db.execute(insert(cases), made[first:first + 5000])
        for first in range(0, len(postings), 50_000):
            db.execute(insert(text_index), postings[first:first + 50_000])
        for table, sums in summed(made).items():
            db.execute(insert(table), sums)
    if engine.dialect.name == "postgresql":  # as autovacuum leaves a table after a load: statistics, visibility map
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            for table in (cases, text_index):
                db.execute(sql(f"VACUUM ANALYZE {table.name}"))
    return app, texts, len(postings)


def time_lookups(app, texts: dict[str, str], lookups: int, seconds: float, seed: int = 11) -> dict[str, dict[str, Any]]:
    """Lookup and baseline in turn for each report picked (a slow spell of the machine hits both)."""
    engine, key_of = app.state.runtime.engine, app.state.index_key
    picked = random.Random(seed).sample(sorted(texts), min(lookups + 5, len(texts)))
    timings: dict[str, list[float]] = {"case read (baseline)": [], "similar lookup": []}
    found = 0
    deadline = perf_counter() + seconds
    for number, report_id in enumerate(picked):
        started = perf_counter()
        case, _, _ = one_case(engine, report_id)
        read = (perf_counter() - started) * 1000
        started = perf_counter()
        similar = similar_to(engine, case, texts[report_id], list(TENANTS), key_of)
        looked = (perf_counter() - started) * 1000
        if number < 5:
            continue  # warm-up: statements compiled, SQLite pages cached
        timings["case read (baseline)"].append(read)
        timings["similar lookup"].append(looked)
        found += len(similar)
        if perf_counter() > deadline:
            break
    figures = {name: {"lookups": len(ms), "p50_ms": percentile(ms, 0.5), "p95_ms": percentile(ms, 0.95),
                      "target_p95_ms": None if "baseline" in name else TARGET_P95_MS,
                      "met": None if "baseline" in name else percentile(ms, 0.95) < TARGET_P95_MS}
               for name, ms in timings.items()}
    figures["similar lookup"]["listed_per_lookup"] = found / max(len(timings["similar lookup"]), 1)
    return figures


def measure(workdir: Path, reports: int, lookups: int = 300, seconds: float = 60.0, database_url: str | None = None) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    started = perf_counter()
    app, texts, postings = filled(workdir, reports, database_url=database_url)
    fill = perf_counter() - started
    timed = time_lookups(app, texts, lookups, seconds)
    app.state.runtime.engine.dispose()
    return {"reports": reports, "postings": postings, "fill_seconds": fill, "lookups": timed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--database-url", help="An empty store to fill instead of a new SQLite file (PostgreSQL, say).")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hazardloop-similar-bench-") as tmp:
        result = measure(Path(tmp), options.reports, options.lookups, database_url=options.database_url)
    print(f"{result['reports']:,} reports, {result['postings']:,} index rows (filled in {result['fill_seconds']:.1f}s)")
    for name, f in result["lookups"].items():
        target = f"  target p95 < {f['target_p95_ms']:.0f} ms: {'met' if f['met'] else 'NOT met'}" if f["target_p95_ms"] else ""
        print(f"  {name:<22} p50 {f['p50_ms']:7.1f} ms  p95 {f['p95_ms']:7.1f} ms  ({f['lookups']} lookups){target}")
    print(f"  similar reports listed per lookup: {result['lookups']['similar lookup']['listed_per_lookup']:.1f}")


if __name__ == "__main__":
    main()

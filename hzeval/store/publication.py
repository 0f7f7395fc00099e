"""Trial, official and withdrawn runs (DESIGN §7a): ``hzeval runs official|withdraw|list``.

A new run is 试算 (trial). :func:`make_official` makes it 正式 (official), :func:`withdraw` takes any
run back; each change is one row of ``run_publication`` (who, when, why) and the run's
``runs.publication``, committed together, then the published copies and pointers follow
(:func:`hzeval.store.published.publish_run`, :func:`~hzeval.store.published.unpublish_run`). A writer
killed between the commit and the copy leaves nothing wrong for long: the next writer's recovery
(:func:`hzeval.store.published.recover`) republishes the official copy or removes the withdrawn one.
"""

from __future__ import annotations

import datetime as dt

from hzeval.errors import RunStateError
from hzeval.store.published import (
    OFFICIAL,
    STATE,
    WITHDRAWN,
    publish_run,
    published_dir,
    safe_run_id,
    unpublish_run,
)

#: the longest reason and name a user may give (they are printed on every surface's history)
TEXT_LIMIT = 500


def _text(value: str | None, what_zh: str, what_en: str, required: bool) -> str | None:
    """A reason or a name as given: stripped, bounded, no control characters."""
    text = (value or "").strip()
    if not text:
        if required:
            raise RunStateError(f"请给出{what_zh}", f"a {what_en} is required")
        return None
    if len(text) > TEXT_LIMIT:
        raise RunStateError(
            f"{what_zh}过长（{len(text)} 字，至多 {TEXT_LIMIT} 字）",
            f"the {what_en} is too long ({len(text)} characters, at most {TEXT_LIMIT})",
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise RunStateError(f"{what_zh}含控制字符", f"the {what_en} contains control characters")
    return text


def _state(con, run_id: str) -> str:
    ok = safe_run_id(run_id) and len(run_id) <= 80
    shown_zh, shown_en = (run_id, run_id) if ok else ("（无效的运行编号）", "(invalid run id)")
    rows = (
        con.execute(f"select status, {STATE} from main.runs where run_id = $r", {"r": run_id}).fetchall() if ok else []
    )
    if not rows or rows[0][0] != "finished":
        raise RunStateError(
            f"没有已完成的评估运行 {shown_zh}：运行 hzeval runs list 查看",
            f"no finished run {shown_en}: see 'hzeval runs list'",
        )
    return rows[0][1]


def _record(con, run_id: str, action: str, actor: str, reason: str | None, at: dt.datetime) -> None:
    con.execute("begin transaction")
    try:
        con.execute("update main.runs set publication = $a where run_id = $r", {"a": action, "r": run_id})
        con.execute(
            "insert into main.run_publication values ($r, $a, $who, $at, $why)",
            {"r": run_id, "a": action, "who": actor, "at": at, "why": reason},
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def make_official(con, run_id: str, actor: str, reason: str | None = None, db=None, now=None) -> None:
    """Make a trial run 正式 (audited) and publish its copy again, now saying 正式."""
    actor = _text(actor, "操作人", "name", True) or ""
    reason = _text(reason, "理由", "reason", False)
    state = _state(con, run_id)
    if state == OFFICIAL:
        raise RunStateError(f"评估运行 {run_id} 已是正式结果", f"run {run_id} is already official")
    if state == WITHDRAWN:
        raise RunStateError(
            f"评估运行 {run_id} 已撤回，不能再设为正式：请重新评估（hzeval assess）",
            f"run {run_id} was withdrawn and cannot be made official: assess again",
        )
    _record(con, run_id, OFFICIAL, actor, reason, now or dt.datetime.now())
    publish_run(con, run_id, db)


def withdraw(con, run_id: str, actor: str, reason: str, db=None, now=None) -> None:
    """Take a run back (audited): its copy goes, readers read the year's next run by the one rule."""
    actor = _text(actor, "操作人", "name", True) or ""
    why = _text(reason, "撤回理由", "reason", True)
    if _state(con, run_id) == WITHDRAWN:
        raise RunStateError(f"评估运行 {run_id} 已撤回", f"run {run_id} is already withdrawn")
    _record(con, run_id, WITHDRAWN, actor, why, now or dt.datetime.now())
    unpublish_run(con, run_id, db)


def run_list(con, year: int | None = None, db=None) -> list[dict]:
    """Every finished run (of ``year``), newest first: state, the last change (who, when, why),
    whether it is published and whether it is the one readers read of its year."""
    folder = published_dir(db)
    pointed = {}
    for p in folder.glob("LATEST-*") if folder.is_dir() else ():
        pointed[p.name.removeprefix("LATEST-")] = p.read_text(encoding="utf-8").strip()
    cur = con.execute(
        f"""
        select r.run_id, r.year, r.as_of, r.finished_at, r.scheme_name, {STATE} as publication,
               e.actor, e.acted_at, e.reason
        from main.runs as r
        left join (
            select * from main.run_publication
            qualify row_number() over (partition by run_id order by acted_at desc) = 1
        ) as e using (run_id)
        where r.status = 'finished' and ($y is null or r.year = $y)
        order by r.year desc, r.finished_at desc, r.run_id desc
        """,
        {"y": year},
    )
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    for r in rows:
        r["published"] = (folder / f"{r['run_id']}.duckdb").is_file()
        r["read_by_default"] = pointed.get(str(r["year"])) == f"{r['run_id']}.duckdb"
    return rows

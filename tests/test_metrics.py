"""Metric SQL, one small fixture per behaviour; expectations worked out by hand from the rules.

Calendar facts used (State Council notices): 2025-09-28 (Sun) and 2025-10-11 (Sat) were
working days; 2025-10-01..08 holidays; 2026-01-01..03 holidays; 2026-01-04 (Sun) a working day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from conftest import insert

from hzeval.assessment.scheme import load_scheme
from hzeval.errors import CalendarError
from hzeval.metrics import Window, compute_items, roll_up

SCHEME = load_scheme(year=2025)
AS_OF = dt.datetime(2026, 1, 5, 9, 0)


def T(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


def run(con, metric: str, as_of: dt.datetime = AS_OF, year: int = 2025) -> dict[str, tuple]:
    """record_id -> (status, agency, due_at, done_at) for one metric."""
    compute_items(con, Window.for_year(year, as_of, SCHEME), metric_ids=[metric])
    rows = con.execute(
        "select record_id, status, agency_code, due_at, done_at from metric_items where metric_id = $m", {"m": metric}
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def run_in(con, metric: str, window: Window) -> dict[str, tuple]:
    """As :func:`run`, with a window whose scheme parameters a test changed (``dataclasses.replace``)."""
    compute_items(con, window, metric_ids=[metric])
    rows = con.execute(
        "select record_id, status, agency_code, due_at, done_at from metric_items where metric_id = $m", {"m": metric}
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def value(con, metric: str, agency: str):
    values, _ = roll_up(con, "r", 2025)
    row = values.filter((values["metric_id"] == metric) & (values["agency_code"] == agency)).row(0, named=True)
    return row["numerator"], row["denominator"], row["value"], row["count"]


@pytest.fixture
def reg(wh):
    insert(
        wh,
        "agencies",
        {"agency_code": "A", "agency_name": "甲局", "level": "市级"},
        {"agency_code": "B", "agency_name": "乙局", "level": "市级"},
        {"agency_code": "C", "agency_name": "惠城区", "level": "县区"},
        {"agency_code": "Z", "agency_name": "数据局", "level": "市级", "is_authority": True},
    )
    return wh


def snapshot(con, date: str, *resources: dict) -> None:
    base = dict(
        snapshot_date=date,
        resource_name="资源",
        data_form="库表",
        share_content="全部",
        share_type="无条件共享",
        share_scope="全市",
        open_type="无条件开放",
        update_frequency="每月",
        collector_code="A",
        verifier_code="A",
        provider_code="A",
        status="已发布",
    )
    insert(con, "catalog_snapshot", *[{**base, **r} for r in resources])


# ------------------------------------------------------------------ 第二十四条 share replies


def test_share_reply_deadlines_on_holiday_edges(reg):
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "RC", "share_type": "有条件共享", "share_condition": "c", "share_basis": "b"},
    )
    app = dict(applicant_code="B", provider_code="A", share_type="有条件共享", resource_code="RX")
    insert(
        reg,
        "share_applications",
        # Fri 09-26 + 2 wd: Sun 09-28 (调休) and Mon 09-29 -> due end of 09-29
        {**app, "application_id": "S1", "submitted_at": "2025-09-26 10:00", "replied_at": "2025-09-29 23:59"},
        {**app, "application_id": "S2", "submitted_at": "2025-09-26 10:00", "replied_at": "2025-09-30 09:00"},
        # 09-30 + 2 wd: 10-09, 10-10 -> due end of 10-10
        {**app, "application_id": "S3", "submitted_at": "2025-09-30 15:00", "replied_at": "2025-10-10 18:00"},
        # 12-30 + 2 wd: 12-31, 2026-01-04 (working Sunday) -> due end of 01-04; open at 01-05 09:00 -> late
        {**app, "application_id": "S4", "submitted_at": "2025-12-30 10:00"},
        # 12-31 + 2 wd: 01-04, 01-05 -> due end of 01-05; reply after as-of counts as not done -> pending
        {**app, "application_id": "S5", "submitted_at": "2025-12-31 10:00", "replied_at": "2026-01-06 10:00"},
        # previous year's item, unconditional data, demand outside the catalogue: not counted
        {**app, "application_id": "S6", "submitted_at": "2024-12-31 10:00", "replied_at": "2025-01-10 10:00"},
        {**app, "application_id": "S7", "share_type": "无条件共享", "submitted_at": "2025-05-06 10:00"},
        {**app, "application_id": "S8", "in_catalog": False, "submitted_at": "2025-05-06 10:00"},
        # share type taken from the catalogue when the application lacks it
        {
            **app,
            "application_id": "S9",
            "share_type": None,
            "resource_code": "RC",
            "submitted_at": "2025-05-06 10:00",
            "replied_at": "2025-05-08 10:00",
        },
    )
    got = run(reg, "share_reply_timeliness")
    assert {k: v[0] for k, v in got.items()} == {
        "S1": "ok",
        "S2": "late",
        "S3": "ok",
        "S4": "late",
        "S5": "pending",
        "S9": "ok",
    }
    assert got["S1"][2] == T("2025-09-30 00:00")
    assert got["S3"][2] == T("2025-10-11 00:00")
    assert got["S4"][2] == T("2026-01-05 00:00")
    assert got["S5"][2] == T("2026-01-06 00:00") and got["S5"][3] is None
    assert value(reg, "share_reply_timeliness", "A") == (3, 5, 0.6, 2)


def test_share_type_is_the_one_in_force_at_submission(reg):
    """DESIGN §5b: an application without its own share type takes its resource's in the snapshot in force at
    submission (latest on or before the day, else the earliest after it); never the year-end snapshot."""
    cond = dict(share_type="有条件共享", share_condition="c", share_basis="b")
    snapshot(reg, "2025-04-30", {"resource_code": "RM", **cond})
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "RM", "share_type": "无条件共享"},  # RM became 无条件共享 by year end
        {"resource_code": "RN", **cond},  # RN is first catalogued at year end
        {"resource_code": "RU", "share_type": "无条件共享"},
    )
    app = dict(applicant_code="B", provider_code="A", share_type=None)
    insert(
        reg,
        "share_applications",
        # the case: Tue 05-06 + 2 wd = Wed 05-07, Thu 05-08 -> due end of 05-08; answered 05-20 -> late
        # (05-01..05 were holidays, so the 04-30 snapshot is the one in force on 05-06)
        {
            **app,
            "application_id": "M1",
            "resource_code": "RM",
            "submitted_at": "2025-05-06 10:00",
            "replied_at": "2025-05-20 10:00",
        },
        # RM on 12-31 itself: the 12-31 snapshot is in force -> 无条件共享, not measured
        {**app, "application_id": "M2", "resource_code": "RM", "submitted_at": "2025-12-31 10:00"},
        # RN has no snapshot on or before 06-03: the earliest after it (12-31) -> 有条件共享;
        # Tue 06-03 + 2 wd = 06-04, 06-05 (06-02 was the 端午 holiday) -> due end of 06-05; replied 06-05 -> ok
        {
            **app,
            "application_id": "N1",
            "resource_code": "RN",
            "submitted_at": "2025-06-03 10:00",
            "replied_at": "2025-06-05 18:00",
        },
        # the application's own share type wins over the snapshot
        {
            **app,
            "application_id": "U1",
            "resource_code": "RU",
            "share_type": "有条件共享",
            "submitted_at": "2025-06-03 10:00",
            "replied_at": "2025-06-04 10:00",
        },
    )
    got = run(reg, "share_reply_timeliness")
    assert {k: v[0] for k, v in got.items()} == {"M1": "late", "N1": "ok", "U1": "ok"}
    assert got["M1"][2] == T("2025-05-09 00:00")
    assert got["N1"][2] == T("2025-06-06 00:00")


def test_open_item_exactly_at_deadline_is_pending_then_late(reg):
    insert(
        reg,
        "share_applications",
        {
            "application_id": "S4",
            "applicant_code": "B",
            "provider_code": "A",
            "share_type": "有条件共享",
            "submitted_at": "2025-12-30 10:00",
        },
    )
    assert run(reg, "share_reply_timeliness", as_of=T("2026-01-05 00:00"))["S4"][0] == "pending"
    assert run(reg, "share_reply_timeliness", as_of=T("2026-01-05 00:00:01"))["S4"][0] == "late"


def test_share_implementation_counts_from_reply(reg):
    app = dict(
        applicant_code="B", provider_code="A", share_type="有条件共享", decision="同意", submitted_at="2025-09-28 10:00"
    )
    insert(
        reg,
        "share_applications",
        # reply 09-30 + 3 wd: 10-09, 10-10, 10-11 (调休 Saturday) -> due end of 10-11
        {**app, "application_id": "I1", "replied_at": "2025-09-30 10:00", "implemented_at": "2025-10-11 20:00"},
        {**app, "application_id": "I2", "replied_at": "2025-09-30 10:00", "implemented_at": "2025-10-13 08:00"},
        {**app, "application_id": "I3", "replied_at": "2025-09-30 10:00", "decision": "拒绝"},
        {**app, "application_id": "I4", "replied_at": "2025-09-30 10:00", "decision": "部分同意"},
    )
    got = run(reg, "share_implementation_timeliness")
    assert {k: v[0] for k, v in got.items()} == {"I1": "ok", "I2": "late", "I4": "late"}
    assert got["I1"][2] == T("2025-10-12 00:00")


def test_refusal_basis_grant_minimality_cross_level(reg):
    base = dict(applicant_code="B", provider_code="A", submitted_at="2025-03-03 10:00", replied_at="2025-03-04 10:00")
    insert(
        reg,
        "share_applications",
        {
            **base,
            "application_id": "R1",
            "share_type": "有条件共享",
            "decision": "拒绝",
            "refusal_basis": "《数据安全法》第X条",
        },
        {**base, "application_id": "R2", "share_type": "有条件共享", "decision": "拒绝"},
        # 第二十四条 "拒绝共享的，应当提供…依据" sits in the 有条件共享 paragraph (DESIGN §5b): a refusal of a
        # 不予共享 resource's application (basis filed in the catalogue) and one of a 无条件共享 resource
        # (unconditional_refusals) are not refusal_basis items, with or without a basis
        {**base, "application_id": "R3", "share_type": "不予共享", "decision": "拒绝"},
        {**base, "application_id": "R4", "share_type": "无条件共享", "decision": "拒绝"},
        # share type unknown (no own type, resource in no snapshot): not shown to be 有条件共享
        {**base, "application_id": "R5", "decision": "拒绝"},
        {
            **base,
            "application_id": "G1",
            "decision": "同意",
            "scenario": "低保核查",
            "requested_items": "姓名;身份证号",
            "share_mode": "接口",
            "valid_until": "2025-12-31",
        },
        {**base, "application_id": "G2", "decision": "部分同意", "scenario": "低保核查", "share_mode": "接口"},
        {**base, "application_id": "X1", "cross_level": True, "filed_upper": True, "filed_same": True},
        {**base, "application_id": "X2", "cross_level": True, "filed_upper": True},
        {**base, "application_id": "X3", "cross_level": False},
    )
    assert {k: v[0] for k, v in run(reg, "refusal_basis").items()} == {"R1": "ok", "R2": "fail"}
    assert value(reg, "refusal_basis", "A")[:3] == (1, 2, 0.5)
    assert {k: v[0] for k, v in run(reg, "grant_minimality").items()} == {"G1": "ok", "G2": "fail"}
    got = run(reg, "cross_level_filing")
    assert {k: (v[0], v[1]) for k, v in got.items()} == {"X1": ("ok", "B"), "X2": ("fail", "B")}


def test_unconditional_refusals(reg):
    """第二十四条 "无条件共享的公共数据……按需申请并获取" (with 第四条 "不得……擅自增设条件、阻碍"): a refusal of an
    application for 无条件共享 data is a violation (one each), charged to the provider (DESIGN §5b)."""
    snapshot(reg, "2025-03-01", {"resource_code": "RU", "share_type": "无条件共享"})
    # at year end RU is 有条件共享: the type at submission (03-03, the 03-01 snapshot) decides
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "RU", "share_type": "有条件共享", "share_condition": "c", "share_basis": "b"},
    )
    base = dict(applicant_code="B", provider_code="A", submitted_at="2025-03-03 10:00", replied_at="2025-03-04 10:00")
    insert(
        reg,
        "share_applications",
        {**base, "application_id": "U1", "resource_code": "RU", "decision": "拒绝"},  # by the snapshot -> counted
        {**base, "application_id": "U2", "share_type": "无条件共享", "decision": "拒绝", "refusal_basis": "b"},
        {**base, "application_id": "U3", "share_type": "无条件共享", "decision": "同意"},  # not a refusal
        {**base, "application_id": "U4", "share_type": "有条件共享", "decision": "拒绝"},  # refusal_basis's
        # replied in 2024: counted in 2024
        {
            **base,
            "application_id": "U5",
            "share_type": "无条件共享",
            "decision": "拒绝",
            "submitted_at": "2024-12-30 10:00",
            "replied_at": "2024-12-31 10:00",
        },
    )
    assert {k: v[:2] for k, v in run(reg, "unconditional_refusals").items()} == {
        "U1": ("fail", "A"),
        "U2": ("fail", "A"),
    }
    assert value(reg, "unconditional_refusals", "A")[3] == 2
    assert set(run(reg, "refusal_basis")) == {"U4"}


def test_demand_confirmation_five_working_days(reg):
    base = dict(applicant_code="B", provider_code="A", in_catalog=False)
    insert(
        reg,
        "share_applications",
        # 09-30 + 5 wd: 10-09, 10-10, 10-11, 10-13, 10-14 -> due end of 10-14
        {**base, "application_id": "D1", "submitted_at": "2025-09-30 10:00", "confirmed_at": "2025-10-14 17:00"},
        {**base, "application_id": "D2", "submitted_at": "2025-09-30 10:00", "confirmed_at": "2025-10-15 09:00"},
    )
    got = run(reg, "demand_confirmation_timeliness")
    assert got["D1"][:3] == ("ok", "A", T("2025-10-15 00:00"))
    assert got["D2"][0] == "late"


# ------------------------------------------------------------------ 第二十五条 calls, 第二十三条 feedback


def test_out_of_scope_calls(reg):
    """第二十五条 is about obtaining data beyond a grant, not call volume: one violation episode per
    (consumer, resource, cause), the cause being "no approved grant" or "grant G past valid_until"."""
    insert(
        reg,
        "share_applications",
        {
            "application_id": "G",
            "applicant_code": "B",
            "provider_code": "A",
            "resource_code": "R1",
            "submitted_at": "2025-02-25 09:00",
            "replied_at": "2025-03-01 10:00",
            "decision": "同意",
            "valid_until": "2025-06-30",
        },
        {
            "application_id": "N",
            "applicant_code": "C",
            "provider_code": "A",
            "resource_code": "R1",
            "submitted_at": "2025-02-25 09:00",
            "replied_at": "2025-03-01 10:00",
            "decision": "拒绝",
        },
        # an approval recorded without its reply time counts from the submission
        {
            "application_id": "G3",
            "applicant_code": "C",
            "provider_code": "A",
            "resource_code": "R3",
            "submitted_at": "2025-05-06 09:00",
            "decision": "同意",
        },
        # a second grant of B on R1, expired too: calls after its end are a second episode
        {
            "application_id": "G2",
            "applicant_code": "B",
            "provider_code": "A",
            "resource_code": "R1",
            "submitted_at": "2025-07-10 09:00",
            "replied_at": "2025-07-14 10:00",
            "decision": "同意",
            "valid_until": "2025-08-31",
        },
        # 无条件共享 (第二十四条 按需申请并获取): the application is a grant from its submission, even
        # though nobody recorded a reply
        {
            "application_id": "U",
            "applicant_code": "C",
            "provider_code": "A",
            "resource_code": "R4",
            "share_type": "无条件共享",
            "submitted_at": "2025-03-03 09:00",
        },
    )
    call = dict(consumer_code="B", resource_code="R1")
    insert(
        reg,
        "api_calls",
        {**call, "call_id": "c1", "called_at": "2025-04-01 10:00"},  # within G
        {**call, "call_id": "c2", "called_at": "2025-06-30 23:00"},  # valid_until is inclusive
        {**call, "call_id": "c3", "called_at": "2025-07-01 00:10"},  # G expired
        {**call, "call_id": "c3b", "called_at": "2025-07-08 11:00"},  # G expired again: same episode
        {**call, "call_id": "c3c", "called_at": "2025-07-20 11:00"},  # inside G2
        {**call, "call_id": "c3d", "called_at": "2025-09-01 08:00"},  # G2 expired: second episode
        {**call, "call_id": "c4", "called_at": "2025-02-28 10:00"},  # before approval: no grant yet
        {**call, "call_id": "c4b", "called_at": "2025-01-15 10:00"},  # likewise, same episode
        {**call, "call_id": "c5", "resource_code": "R2", "called_at": "2025-04-01 10:00"},  # other resource
        {**call, "call_id": "c6", "consumer_code": "C", "called_at": "2025-04-01 10:00"},  # refused
        {**call, "call_id": "c7", "called_at": "2024-12-01 10:00"},  # previous year
        {**call, "call_id": "c8", "consumer_code": "C", "resource_code": "R3", "called_at": "2025-05-07 10:00"},
        {**call, "call_id": "c9", "consumer_code": "C", "resource_code": "R3", "called_at": "2025-05-05 10:00"},
        {
            **call,
            "call_id": "c10",
            "consumer_code": "C",
            "resource_code": "R4",
            "called_at": "2025-03-03 09:30",
        },  # covered by U
        {**call, "call_id": "c11", "consumer_code": "C", "resource_code": "R4", "called_at": "2025-03-03 08:30"},
    )  # before U
    got = run(reg, "out_of_scope_calls")
    # 12 uncovered calls (c3, c3b, c3d, c4, c4b, c5, c6, c9, c11) make 7 episodes
    assert {k: v[1] for k, v in got.items()} == {
        "B/R1/G": "B",
        "B/R1/G2": "B",
        "B/R1/无授权": "B",
        "B/R2/无授权": "B",
        "C/R1/无授权": "C",
        "C/R3/无授权": "C",
        "C/R4/无授权": "C",
    }
    assert value(reg, "out_of_scope_calls", "B") == (None, None, None, 4)
    assert value(reg, "out_of_scope_calls", "C") == (None, None, None, 3)
    _, evidence = roll_up(reg, "r", 2025)
    reasons = dict(zip(evidence["record_id"], evidence["reason"]))
    assert reasons["B/R1/G"] == (
        "调用资源 R1 超过授权 G 的截止时间 2025-06-30：2025-07-01 00:10 至 2025-07-08 11:00 "
        "共调用 2 次（首次 c3，末次 c3b）"
    )
    assert reasons["B/R1/G2"].startswith("调用资源 R1 超过授权 G2 的截止时间 2025-08-31：2025-09-01 08:00")
    assert reasons["B/R1/无授权"] == (
        "调用资源 R1 无有效共享授权：2025-01-15 10:00 至 2025-02-28 10:00 共调用 2 次（首次 c4b，末次 c4）"
    )
    done = dict(zip(evidence["record_id"], evidence["done_at"]))
    assert done["B/R1/G"] == T("2025-07-08 11:00")  # the episode's last call


def test_usage_feedback_per_active_quarter(reg):
    base = dict(provider_code="A", decision="同意", submitted_at="2025-01-01 09:00")
    insert(
        reg,
        "share_applications",
        {**base, "application_id": "F1", "applicant_code": "B", "replied_at": "2025-02-10 10:00"},
        {
            **base,
            "application_id": "F2",
            "applicant_code": "B",
            "replied_at": "2025-11-01 10:00",
            "valid_until": "2025-12-31",
        },
        {
            **base,
            "application_id": "F3",
            "applicant_code": "C",
            "submitted_at": "2024-04-01 09:00",
            "replied_at": "2024-05-01 10:00",
            "valid_until": "2025-03-31",
        },
    )
    insert(
        reg,
        "share_feedback",
        *[
            {"application_id": "F1", "period": f"2025Q{q}", "submitted_at": f"2025-{3 * q + 1:02d}-05 10:00"}
            for q in (1, 2, 3)
        ],
        {"application_id": "F2", "period": "2025Q4", "submitted_at": "2026-01-03 10:00"},
        {"application_id": "F3", "period": "2025Q1", "submitted_at": "2025-04-03 10:00"},
    )
    got = run(reg, "usage_feedback")
    assert {k: (v[0], v[1]) for k, v in got.items()} == {"F1": ("fail", "B"), "F2": ("ok", "B"), "F3": ("ok", "C")}
    # at 2025-08-01 only Q1 and Q2 have ended: F1 has both, F2 is not active yet, F3 still ok
    got = run(reg, "usage_feedback", as_of=T("2025-08-01 00:00"))
    assert {k: v[0] for k, v in got.items()} == {"F1": "ok", "F3": "ok"}
    # 第二十三条 says only 定期: the period is the scheme's feedback_period. Half-yearly (6 months): F1 is
    # active in H1 and H2 and has quarterly feedback in both (Q1/Q2 -> H1, Q3 -> H2) -> ok; F2 (from 11-01)
    # is active in H2 only, its Q4 feedback covers it -> ok; F3 (to 03-31) H1 -> Q1 feedback -> ok
    half = dataclasses.replace(Window.for_year(2025, AS_OF, SCHEME), feedback_months=6)
    assert {k: v[0] for k, v in run_in(reg, "usage_feedback", half).items()} == {"F1": "ok", "F2": "ok", "F3": "ok"}
    reg.execute("delete from share_feedback where application_id = 'F1' and period in ('2025Q1', '2025Q2')")
    got = run_in(reg, "usage_feedback", half)
    assert got["F1"][0] == "fail"
    _, evidence = roll_up(reg, "r", 2025)
    assert dict(zip(evidence["record_id"], evidence["reason"]))["F1"] == "未反馈使用情况：2025H1"
    # yearly: one period; F1's Q3 feedback covers 2025 -> ok
    year = dataclasses.replace(Window.for_year(2025, AS_OF, SCHEME), feedback_months=12)
    assert run_in(reg, "usage_feedback", year)["F1"][0] == "ok"


def test_objection_ten_working_days(reg):
    base = dict(resource_code="R1", provider_code="A", raised_at="2025-09-26 09:00")
    insert(
        reg,
        "objections",
        # 09-26 + 10 wd: 09-28, 29, 30, 10-09, 10, 11, 13, 14, 15, 16 -> due end of 10-16
        {**base, "objection_id": "O1", "resolved_at": "2025-10-16 18:00"},
        {**base, "objection_id": "O2", "resolved_at": "2025-10-17 09:00"},
    )
    got = run(reg, "objection_timeliness")
    assert got["O1"][:3] == ("ok", "A", T("2025-10-17 00:00")) and got["O2"][0] == "late"


def test_data_subject_objections_charged_to_the_receiving_agency(reg):
    """第二十八条第二款: a 数据主体 objection is handled by the agency that received it, within 10 working
    days, and is done only with a 更正 or 确认; that agency tells the applicant (及时, no number)."""
    base = dict(resource_code="R1", provider_code="A", raised_by="数据主体", raised_at="2025-09-26 09:00")
    insert(
        reg,
        "objections",
        # due end of 10-16 as above
        {
            **base,
            "objection_id": "D1",
            "received_by": "C",
            "resolved_at": "2025-10-16 18:00",
            "outcome": "更正",
            "notified_at": "2025-10-17 09:00",
        },
        # resolved in time but with no outcome: not done -> late at as-of, charged to B
        {**base, "objection_id": "D2", "received_by": "B", "resolved_at": "2025-10-15 10:00"},
        # received_by empty -> the provider; confirmed in time, applicant never told
        {**base, "objection_id": "D3", "resolved_at": "2025-10-10 10:00", "outcome": "确认"},
        # told before the result existed: not a notification of the result
        {
            **base,
            "objection_id": "D4",
            "received_by": "C",
            "resolved_at": "2025-10-14 10:00",
            "outcome": "更正",
            "notified_at": "2025-10-13 10:00",
        },
        # a 使用机构 objection stays with the provider, whatever received_by says
        {**base, "objection_id": "U1", "raised_by": "使用机构", "received_by": "C", "resolved_at": "2025-10-16 10:00"},
        # told after the as-of time: not known yet
        {
            **base,
            "objection_id": "D5",
            "received_by": "C",
            "resolved_at": "2025-12-31 10:00",
            "outcome": "确认",
            "notified_at": "2026-01-06 10:00",
        },
    )
    got = run(reg, "objection_timeliness")
    assert {k: v[:2] for k, v in got.items()} == {
        "D1": ("ok", "C"),
        "D2": ("late", "B"),
        "D3": ("ok", "A"),
        "D4": ("ok", "C"),
        "U1": ("ok", "A"),
        "D5": ("late", "C"),
    }  # D5 resolved 12-31, long after 10-16
    assert got["D2"][3] is None  # resolved_at without outcome is no completion
    _, evidence = roll_up(reg, "r", 2025)
    assert dict(zip(evidence["record_id"], evidence["reason"]))["D2"] == "数据主体异议已处理但未作出更正或确认"
    got = run(reg, "objection_notification")
    # items: resolved 数据主体 objections with an outcome (D2 has none, U1 is 使用机构)
    assert {k: v[:2] for k, v in got.items()} == {
        "D1": ("ok", "C"),
        "D3": ("fail", "A"),
        "D4": ("fail", "C"),
        "D5": ("fail", "C"),
    }
    assert got["D1"][2] is None  # the draft gives 及时 no number: no deadline
    assert value(reg, "objection_notification", "C")[:3] == (1, 3, pytest.approx(1 / 3))


def test_objection_notification_with_a_profile_deadline(reg, tmp_path):
    """A rule profile that gives objection_notify a number (here 3 working days) times the notification."""
    import yaml

    from hzeval.rules import packaged_profile_path

    prof = yaml.safe_load(packaged_profile_path("huizhou-draft-2022").read_text(encoding="utf-8"))
    prof["title"] = "测试规则（告知 3 个工作日）"
    prof["deadlines"]["objection_notify"] = {"days": 3, "article": "第二十八条", "text": "3 个工作日内告知异议申请人"}
    (tmp_path / "notify3.yaml").write_text(yaml.safe_dump(prof, allow_unicode=True), encoding="utf-8")
    scheme = tmp_path / "s.yaml"
    data = yaml.safe_load(__import__("pathlib").Path(SCHEME.source).read_text(encoding="utf-8"))
    data["rules"] = [{"profile": "./notify3.yaml", "from": "2022-01-01"}]
    scheme.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    base = dict(
        resource_code="R1",
        provider_code="A",
        raised_by="数据主体",
        raised_at="2025-09-26 09:00",
        received_by="C",
        outcome="更正",
    )
    insert(
        reg,
        "objections",
        # resolved Tue 09-30: + 3 wd: [10-01..08 off] 10-09, 10-10, 10-11 (Sat, worked) -> due end of 10-11
        {**base, "objection_id": "D1", "resolved_at": "2025-09-30 10:00", "notified_at": "2025-10-11 20:00"},
        {**base, "objection_id": "D2", "resolved_at": "2025-09-30 10:00", "notified_at": "2025-10-13 08:00"},
    )
    compute_items(reg, Window.for_year(2025, AS_OF, load_scheme(scheme)), metric_ids=["objection_notification"])
    got = dict(reg.execute("select record_id, status from metric_items").fetchall())
    assert got == {"D1": "ok", "D2": "late"}
    assert reg.execute("select due_at from metric_items where record_id = 'D1'").fetchall() == [
        (T("2025-10-12 00:00"),)
    ]


def _two_profile_scheme(tmp_path, **deadlines) -> object:
    """The 2025 scheme with the draft until 2025-09-30 and, from 2025-10-01, the draft with ``deadlines`` changed."""
    import pathlib

    import yaml

    from hzeval.rules import packaged_profile_path

    prof = yaml.safe_load(packaged_profile_path("huizhou-draft-2022").read_text(encoding="utf-8"))
    prof["title"] = "测试规则（2025-10-01 起）"
    prof["deadlines"].update(deadlines)
    (tmp_path / "oct.yaml").write_text(yaml.safe_dump(prof, allow_unicode=True), encoding="utf-8")
    data = yaml.safe_load(pathlib.Path(SCHEME.source).read_text(encoding="utf-8"))
    data["rules"] = [
        {"profile": "huizhou-draft-2022", "from": "2022-01-01"},
        {"profile": "./oct.yaml", "from": "2025-10-01"},
    ]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_scheme(tmp_path / "s.yaml")


def test_objection_notification_profile_is_the_one_in_force_on_resolution(reg, tmp_path):
    """第二十八条: the notification is triggered by the resolution, so its deadline comes from the profile in force
    on resolved_at (DESIGN §5b), not on raised_at."""
    scheme = _two_profile_scheme(
        tmp_path, objection_notify={"days": 3, "article": "第二十八条", "text": "3 个工作日内告知异议申请人"}
    )
    base = dict(resource_code="R1", provider_code="A", raised_by="数据主体", received_by="C", outcome="更正")
    insert(
        reg,
        "objections",
        # raised Fri 09-26 under the draft (及时, no number); resolved Thu 10-09 under the 3-day profile:
        # 10-10, Sat 10-11 (调休, worked), Mon 10-13 -> due end of 10-13; told 10-14 -> late
        # (under the raised_at profile it would have been on time: the draft sets no number)
        {
            **base,
            "objection_id": "N1",
            "raised_at": "2025-09-26 09:00",
            "resolved_at": "2025-10-09 10:00",
            "notified_at": "2025-10-14 09:00",
        },
        # raised and resolved under the draft (resolved Tue 09-30): no number -> told at any time by T -> ok
        {
            **base,
            "objection_id": "N2",
            "raised_at": "2025-09-26 09:00",
            "resolved_at": "2025-09-30 10:00",
            "notified_at": "2025-10-20 09:00",
        },
    )
    got = run_in(reg, "objection_notification", Window.for_year(2025, AS_OF, scheme))
    assert {k: v[0] for k, v in got.items()} == {"N1": "late", "N2": "ok"}
    assert got["N1"][2] == T("2025-10-14 00:00") and got["N2"][2] is None


def test_data_subject_objections_are_timed_by_their_own_paragraph(reg, tmp_path):
    """第二十八条 has two paragraphs, two deadline keys: `objection` (使用机构 -> 数源部门, 第一款) and
    `objection_subject` (数据主体 -> the receiving agency, 第二十八条第二款); each item quotes its own."""
    scheme = _two_profile_scheme(
        tmp_path,
        objection_subject={"days": 5, "article": "第二十八条第二款", "text": "5 个工作日内完成数据校核（测试文本）"},
    )
    base = dict(resource_code="R1", provider_code="A", raised_at="2025-10-09 09:00", resolved_at="2025-10-17 10:00")
    insert(
        reg,
        "objections",
        # Thu 10-09 + 5 wd: 10-10, Sat 10-11 (worked), 10-13, 10-14, 10-15 -> due end of 10-15; resolved 10-17 -> late
        {**base, "objection_id": "S1", "raised_by": "数据主体", "received_by": "C", "outcome": "确认"},
        # 使用机构: 10 wd: 10-10, 11, 13, 14, 15, 16, 17, 20, 21, 22 -> due end of 10-22; resolved 10-17 -> ok
        {**base, "objection_id": "U1", "raised_by": "使用机构"},
    )
    compute_items(reg, Window.for_year(2025, AS_OF, scheme), metric_ids=["objection_timeliness"])
    got = {r[0]: r[1:] for r in reg.execute("select record_id, status, due_at, article from metric_items").fetchall()}
    assert got == {
        "S1": ("late", T("2025-10-16 00:00"), "第二十八条第二款"),
        "U1": ("ok", T("2025-10-23 00:00"), "第二十八条"),
    }
    # the draft's own profile: 10 wd for both paragraphs, each under its own article
    reg.execute("delete from objections")
    insert(
        reg,
        "objections",
        {
            **base,
            "objection_id": "S2",
            "raised_by": "数据主体",
            "outcome": "更正",
            "raised_at": "2025-09-26 09:00",
            "resolved_at": "2025-10-16 18:00",
        },
    )
    compute_items(reg, Window.for_year(2025, AS_OF, SCHEME), metric_ids=["objection_timeliness"])
    # 09-26 + 10 wd -> end of 10-16 (as in test_objection_ten_working_days)
    assert reg.execute("select status, due_at, article from metric_items").fetchall() == [
        ("ok", T("2025-10-17 00:00"), "第二十八条第二款")
    ]


def test_resolved_but_untold_data_subject_objection_is_a_supervision_item(reg):
    """DESIGN §5b: a resolved 数据主体 objection not yet notified is an open 督办 item ("未告知"), without working
    days, since the draft's "及时" has no number."""
    from hzeval.assessment.supervise import supervision_items

    base = dict(resource_code="R1", provider_code="A", raised_by="数据主体", received_by="C", outcome="更正")
    insert(
        reg,
        "objections",
        {**base, "objection_id": "T1", "raised_at": "2025-09-26 09:00", "resolved_at": "2025-10-10 10:00"},
        {
            **base,
            "objection_id": "T2",
            "raised_at": "2025-09-26 09:00",
            "resolved_at": "2025-10-10 10:00",
            "notified_at": "2025-10-11 10:00",
        },
    )
    # the metric itself (T1 not told: fail, no deadline; T2 told: ok), then the 督办 list
    got = run(reg, "objection_notification", as_of=T("2025-10-20 09:00"))
    assert {k: (v[0], v[2]) for k, v in got.items()} == {"T1": ("fail", None), "T2": ("ok", None)}
    items = supervision_items(reg, T("2025-10-20 09:00"), scheme=SCHEME)
    told = items.filter(items["metric_id"] == "objection_notification")
    assert told.select("record_id", "agency_code", "state", "due_date", "wd_overdue", "wd_left").rows() == [
        ("T1", "C", "未告知", None, None, None)
    ]
    assert told["category"].to_list() == ["异议结果告知"]


# ------------------------------------------------------------------ 第二十九条 数据回流


def _backflow(reg):
    base = dict(requester_code="C", holder_code="A", system_name="国垂系统")
    insert(
        reg,
        "backflow_requests",
        # delivered 10-09, after the request: done
        {**base, "request_id": "F1", "requested_at": "2025-09-26 16:00", "delivered_at": "2025-10-09 10:00"},
        # delivered 10-14
        {**base, "request_id": "F2", "requested_at": "2025-09-26 16:00", "delivered_at": "2025-10-14 09:00"},
        # never delivered
        {**base, "request_id": "F3", "requested_at": "2025-09-26 16:00"},
        # delivered after the as-of time (2026-01-05 09:00): not known yet -> not delivered
        {**base, "request_id": "F4", "requested_at": "2025-12-30 10:00", "delivered_at": "2026-01-05 10:00"},
        # requested in 2024: not a 2025 item; held by B
        {**base, "request_id": "F5", "requested_at": "2024-12-30 10:00", "holder_code": "B"},
    )


def test_backflow_delivery_without_a_deadline_is_supervised_not_failed(reg):
    """第二十九条 "积极推动本领域国垂、省垂系统公共数据回流": charged to the holder; the draft sets no number, so an
    undelivered request is an open 督办 item (未回流, no working days), pending in no rate, never a scored failure."""
    from hzeval.assessment.supervise import supervision_items

    _backflow(reg)
    got = run(reg, "backflow_delivery")
    assert got == {
        "F1": ("ok", "A", None, T("2025-10-09 10:00")),
        "F2": ("ok", "A", None, T("2025-10-14 09:00")),
        "F3": ("pending", "A", None, None),
        "F4": ("pending", "A", None, None),
    }
    # 2 delivered / 2 (F3, F4 pending count in no rate); nothing failed, no evidence
    assert value(reg, "backflow_delivery", "A") == (2, 2, 1.0, 0)
    _, evidence = roll_up(reg, "r", 2025)
    assert evidence.filter(evidence["metric_id"] == "backflow_delivery").is_empty()
    items = supervision_items(reg, AS_OF, scheme=SCHEME)
    open_ = items.filter(items["metric_id"] == "backflow_delivery")
    assert open_.select("record_id", "agency_code", "state", "due_date", "wd_overdue", "wd_left").rows() == [
        ("F3", "A", "未回流", None, None, None),
        ("F4", "A", "未回流", None, None, None),
        ("F5", "B", "未回流", None, None, None),  # the 督办 list runs over every request up to the as-of time
    ]
    assert set(open_["category"]) == {"数据回流"} and set(open_["article"]) == {"第二十九条"}


def test_backflow_delivery_with_a_profile_deadline_across_the_holiday(reg, tmp_path):
    """A profile giving backflow_deliver a number (here 5 working days, in force from 2025-10-01) times each request
    from its request day, under the profile in force on that day; late ones are scored failures."""
    five = {"days": 5, "article": "第二十九条", "text": "5 个工作日内完成回流（测试文本）"}
    scheme = _two_profile_scheme(tmp_path, backflow_deliver=five)
    _backflow(reg)
    base = dict(requester_code="C", holder_code="A")
    insert(
        reg,
        "backflow_requests",
        # Thu 10-09 + 5 wd: 10-10, Sat 10-11 (调休, worked), 10-13, 10-14, 10-15 -> due end of 10-15: on time
        {**base, "request_id": "F6", "requested_at": "2025-10-09 10:00", "delivered_at": "2025-10-15 23:00"},
        # Tue 09-30 + 5 wd: [10-01..08 off] 10-09, 10-10, 10-11, 10-13, 10-14 -> due end of 10-14; but requested
        # under the draft (the 5-day profile starts 10-01): no deadline, delivered 10-20 -> ok
        {**base, "request_id": "F7", "requested_at": "2025-09-30 10:00", "delivered_at": "2025-10-20 10:00"},
        # Fri 10-10 + 5 wd: Sat 10-11, 10-13, 10-14, 10-15, 10-16 -> due end of Thu 10-16; delivered 10-17 -> late
        {**base, "request_id": "F8", "requested_at": "2025-10-10 10:00", "delivered_at": "2025-10-17 09:00"},
        # Mon 11-03 + 5 wd -> due end of Mon 11-10; never delivered, T past it -> late (a scored failure)
        {**base, "request_id": "F9", "requested_at": "2025-11-03 10:00"},
    )
    got = run_in(reg, "backflow_delivery", Window.for_year(2025, AS_OF, scheme))
    assert got["F6"] == ("ok", "A", T("2025-10-16 00:00"), T("2025-10-15 23:00"))
    assert got["F7"] == ("ok", "A", None, T("2025-10-20 10:00"))
    assert got["F8"] == ("late", "A", T("2025-10-17 00:00"), T("2025-10-17 09:00"))
    assert got["F9"] == ("late", "A", T("2025-11-11 00:00"), None)
    # F4, Tue 12-30 + 5 wd: 12-31, [01-01..03 off] Sun 01-04 (worked), 01-05, 01-06, 01-07 -> due end of 01-07;
    # open at T (01-05 09:00) -> pending; F1..F3 (Fri 09-26) under the draft: no deadline
    assert got["F4"] == ("pending", "A", T("2026-01-08 00:00"), None)
    assert [got[k][:3] for k in ("F1", "F2", "F3")] == [("ok", "A", None), ("ok", "A", None), ("pending", "A", None)]
    # A: ok F1, F2, F6, F7; late F8, F9 -> 4 / 6, 2 failed
    assert value(reg, "backflow_delivery", "A")[:2] == (4, 6) and value(reg, "backflow_delivery", "A")[3] == 2
    _, evidence = roll_up(reg, "r", 2025)
    reasons = dict(zip(evidence["record_id"], evidence["reason"]))
    assert reasons["F9"] == "C 申请的数据逾期未回流"
    assert reasons["F8"] == "C 申请的数据超过 5 个工作日才回流"


# ------------------------------------------------------------------ 第十一至十五条 catalogue


def test_catalog_uses_latest_snapshot_on_or_before_year_end(reg):
    snapshot(reg, "2025-11-30", {"resource_code": "R1"}, {"resource_code": "R2"})
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "R1"},
        {"resource_code": "R2", "share_scope": None},
        {"resource_code": "R3", "share_type": "有条件共享", "share_basis": "依据"},  # no condition
        {"resource_code": "R4", "status": "已下架", "data_form": None},  # withdrawn
        {"resource_code": "R5", "share_type": "不予共享", "share_basis": "依据", "nonshare_filed": True},
        {
            "resource_code": "R6",
            "share_type": "不予共享",
            "share_basis": "依据",
            "nonshare_filed": False,
            "open_type": "不予开放",
            "provider_code": "B",
            "collector_code": "B",
            "verifier_code": "B",
        },
        {"resource_code": "R7", "open_type": "有条件开放", "open_basis": "第三十三条"},
    )
    snapshot(reg, "2026-01-31", {"resource_code": "R8", "data_form": None})
    got = run(reg, "catalog_completeness")
    assert {k: v[0] for k, v in got.items()} == {
        "R1": "ok",
        "R2": "fail",
        "R3": "fail",
        "R5": "ok",
        "R6": "ok",
        "R7": "ok",
    }
    assert value(reg, "catalog_completeness", "A") == (3, 5, 0.6, 2)
    got = run(reg, "catalog_share_basis")
    assert {k: v[0] for k, v in got.items()} == {"R3": "fail", "R5": "ok", "R6": "fail"}
    got = run(reg, "catalog_open_basis")
    assert {k: (v[0], v[1]) for k, v in got.items()} == {"R6": ("fail", "B"), "R7": ("ok", "A")}
    # an earlier as-of uses the snapshot of that time: both resources complete
    got = run(reg, "catalog_completeness", as_of=T("2025-12-15 00:00"))
    assert {k: v[0] for k, v in got.items()} == {"R1": "ok", "R2": "ok"}


def test_catalog_update_within_15_working_days(reg):
    insert(
        reg,
        "basis_changes",
        {"change_id": "BC1", "agency_code": "A", "effective_date": "2025-09-15"},
        {"change_id": "BC2", "agency_code": "A", "effective_date": "2025-09-15"},
        {"change_id": "BC3", "agency_code": "B", "effective_date": "2025-12-20"},
        {"change_id": "BC0", "agency_code": "B", "effective_date": "2024-12-20"},
    )
    ev = dict(resource_code="R1", agency_code="A", event_type="变更提交")
    insert(
        reg,
        "catalog_events",
        # 09-15 + 15 wd ends on Saturday 10-11 (调休)
        {**ev, "event_id": "E1", "change_id": "BC1", "event_time": "2025-10-11 12:00"},
        {**ev, "event_id": "E2", "change_id": "BC2", "event_time": "2025-10-12 10:00"},
    )
    got = run(reg, "catalog_update_timeliness")
    assert got["BC1"][:3] == ("ok", "A", T("2025-10-12 00:00"))
    assert got["BC2"][0] == "late"
    # 12-20 (Sat) + 15 wd: 12-22..26 (5), 12-29..31 (8), 01-04 (9), 01-05..09 (14), 01-12 (15)
    assert got["BC3"][:3] == ("pending", "B", T("2026-01-13 00:00"))
    assert "BC0" not in got


def test_catalog_update_per_listed_resource(reg):
    """第十二条: a change of basis obliges updating each resource it concerns; one submission no longer
    closes a change listing three resources."""
    insert(
        reg,
        "basis_changes",
        {"change_id": "BC4", "agency_code": "A", "effective_date": "2025-09-26", "resource_codes": "R1;R2;R3;R1"},
    )
    ev = dict(agency_code="A", event_type="变更提交", change_id="BC4")
    insert(
        reg,
        "catalog_events",
        # 09-26 (Fri) + 15 wd: 09-28 (Sun, worked) 1, 09-29 2, 09-30 3, [10-01..08 off], 10-09 4, 10-10 5,
        # 10-11 (Sat, worked) 6, 10-13..17 7-11, 10-20..23 12-15 -> due end of Thu 10-23
        {**ev, "event_id": "E1", "resource_code": "R1", "event_time": "2025-10-23 17:00"},
        {**ev, "event_id": "E2", "resource_code": "R2", "event_time": "2025-10-24 09:00"},
        {**ev, "event_id": "E9", "resource_code": "R9", "event_time": "2025-10-01 09:00"},
    )  # not listed
    got = run(reg, "catalog_update_timeliness")
    assert {k: v[0] for k, v in got.items()} == {"BC4/R1": "ok", "BC4/R2": "late", "BC4/R3": "late"}
    assert got["BC4/R1"][2] == T("2025-10-24 00:00") and got["BC4/R3"][3] is None
    assert value(reg, "catalog_update_timeliness", "A")[:3] == (1, 3, pytest.approx(1 / 3))
    _, evidence = roll_up(reg, "r", 2025)
    assert dict(zip(evidence["record_id"], evidence["reason"]))["BC4/R3"] == "依据变化后逾期未更新目录（资源 R3）"


def test_catalog_review_update_submissions_charged_to_the_local_authority(reg):
    """第十二条 times the review of updates (not first compilations, 第十一条) and the duty is 本级: a 县区
    agency's submissions are reviewed by its region's authority, else by the 市级 one."""
    insert(
        reg,
        "agencies",
        {"agency_code": "D", "agency_name": "惠城区某局", "level": "县区", "region": "惠城区"},
        {"agency_code": "Y", "agency_name": "惠城区数据局", "level": "县区", "region": "惠城区", "is_authority": True},
        {"agency_code": "E", "agency_name": "博罗县某局", "level": "县区", "region": "博罗县"},
    )
    insert(
        reg,
        "catalog_events",
        {
            "agency_code": "A",
            "event_id": "S1",
            "resource_code": "R1",
            "event_type": "编制提交",
            "event_time": "2025-09-26 09:00",
        },
        {
            "agency_code": "Z",
            "event_id": "V1",
            "resource_code": "R1",
            "event_type": "审定通过",
            "event_time": "2025-10-10 16:00",
        },
        {
            "agency_code": "A",
            "event_id": "S2",
            "resource_code": "R2",
            "event_type": "变更提交",
            "event_time": "2025-06-02 09:00",
        },
        {
            "agency_code": "Z",
            "event_id": "V0",
            "resource_code": "R2",
            "event_type": "审定驳回",
            "event_time": "2025-06-01 09:00",
        },
        {
            "agency_code": "Z",
            "event_id": "V2",
            "resource_code": "R2",
            "event_type": "审定驳回",
            "event_time": "2025-06-10 09:00",
        },
        {
            "agency_code": "D",
            "event_id": "S3",
            "resource_code": "R5",
            "event_type": "下架提交",
            "event_time": "2025-09-30 15:00",
        },
        {
            "agency_code": "Y",
            "event_id": "V3",
            "resource_code": "R5",
            "event_type": "审定通过",
            "event_time": "2025-10-14 18:00",
        },
        {
            "agency_code": "E",
            "event_id": "S4",
            "resource_code": "R6",
            "event_type": "变更提交",
            "event_time": "2025-12-31 10:00",
        },
    )
    got = run(reg, "catalog_review_timeliness")
    assert "S1" not in got  # a first compilation (编制提交) is not an update
    # S2: 06-02 (Mon) + 5 wd: 06-03..06, 06-09 -> due end of 06-09; reviewed 06-10 -> late (V0 came before it)
    assert got["S2"][:4] == ("late", "Z", T("2025-06-10 00:00"), T("2025-06-10 09:00"))
    # S3: 09-30 + 5 wd: [10-01..08 off] 10-09, 10-10, 10-11 (Sat, worked), 10-13, 10-14 -> due end of 10-14; ok,
    # charged to 惠城区's authority Y
    assert got["S3"][:4] == ("ok", "Y", T("2025-10-15 00:00"), T("2025-10-14 18:00"))
    # S4: 12-31 + 5 wd: [01-01..03 off] 01-04 (Sun, worked), 01-05..08 -> due end of 2026-01-08: pending at
    # 01-05 09:00; 博罗县 has no authority -> the 市级 one
    assert got["S4"][:3] == ("pending", "Z", T("2026-01-09 00:00"))
    # a scheme may widen the reviewed submissions to first compilations: S1 09-26 + 5 wd: 09-28, 29, 30,
    # 10-09, 10-10 -> due end of 10-10; reviewed 10-10 16:00 -> ok
    wide = SCHEME.model_copy(update={"catalog_review_events": ["编制提交", "变更提交", "下架提交"]})
    compute_items(reg, Window.for_year(2025, AS_OF, wide), metric_ids=["catalog_review_timeliness"])
    row = reg.execute("select status, agency_code, due_at from metric_items where record_id = 'S1'").fetchall()
    assert row == [("ok", "Z", T("2025-10-11 00:00"))]


def test_regions_without_an_authority_are_listed(reg):
    from hzeval.ingest.report import authority_gaps

    insert(
        reg,
        "agencies",
        {"agency_code": "D", "agency_name": "惠城区某局", "level": "县区", "region": "惠城区"},
        {"agency_code": "Y", "agency_name": "惠城区数据局", "level": "县区", "region": "惠城区", "is_authority": True},
        {"agency_code": "E", "agency_name": "博罗县某局", "level": "县区", "region": "博罗县"},
        {"agency_code": "F", "agency_name": "博罗县另一局", "level": "县区", "region": "博罗县"},
    )
    # C (县区, no region) and 博罗县 answer to the 市级 authority Z
    assert authority_gaps(reg) == [
        {"region": "博罗县", "agencies": 2, "authority": "Z"},
        {"region": None, "agencies": 1, "authority": "Z"},
    ]


def test_collection_list_coverage(reg):
    """第十五条 采集清单 against what the agency's published resources catalogue (第十一条)."""
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "R1"},
        {"resource_code": "R2"},
        {"resource_code": "R3", "status": "已下架"},
        {"resource_code": "R8", "provider_code": "B"},
    )
    item = dict(snapshot_date="2025-12-31")
    insert(
        reg,
        "catalog_items",
        {**item, "resource_code": "R1", "item_code": "E1", "item_name": "姓名"},
        {**item, "resource_code": "R1", "item_code": "E2", "item_name": "身份证号"},
        {**item, "resource_code": "R2", "item_code": "E5", "item_name": "地址"},
        {**item, "resource_code": "R3", "item_code": "E6", "item_name": "电话"},
        {**item, "resource_code": "R8", "item_code": "E7", "item_name": "车牌号"},
    )
    insert(
        reg,
        "collection_list",
        {"agency_code": "A", "item_name": "姓名", "item_code": "E1"},  # by code: R1 -> ok
        {"agency_code": "A", "item_name": "电话", "item_code": "E6"},  # R3 withdrawn -> fail
        {"agency_code": "A", "item_name": "车牌号", "item_code": "E7"},  # B's resource -> fail
        {"agency_code": "A", "item_name": "地址", "resource_code": "R2"},  # by resource -> ok
        {"agency_code": "A", "item_name": "婚姻状况"},  # by name, not held -> fail
        {"agency_code": "A", "item_name": "身份证号", "listed_at": "2024-03-01"},  # by name -> ok
        {
            "agency_code": "A",
            "item_name": "出生日期",
            "item_code": "E9",
            "listed_at": "2026-01-02",
        },  # not on the 2025 list
        {"agency_code": "C", "item_name": "网格编码", "item_code": "E8"},
    )  # C catalogues nothing
    got = run(reg, "collection_list_coverage")
    assert {k: v[0] for k, v in got.items()} == {
        "A/姓名": "ok",
        "A/电话": "fail",
        "A/车牌号": "fail",
        "A/地址": "ok",
        "A/婚姻状况": "fail",
        "A/身份证号": "ok",
        "C/网格编码": "fail",
        # 第十五条 is a standing duty (DESIGN §5b): the city has lists, B submitted none -> one failed item;
        # the authority Z is not charged
        "B/(未报送采集清单)": "fail",
    }
    assert value(reg, "collection_list_coverage", "A")[:3] == (3, 6, 0.5)
    assert value(reg, "collection_list_coverage", "C")[:3] == (0, 1, 0.0)
    # B: 0 / 1 = 0 -- never better than A's 3 / 6 (issue 25: the agency with no list scored 100)
    assert value(reg, "collection_list_coverage", "B")[:3] == (0, 1, 0.0)
    _, evidence = roll_up(reg, "r", 2025)
    reasons = dict(zip(evidence["record_id"], evidence["reason"]))
    assert reasons["A/电话"] == "采集清单数据项“电话”（E6）未由本机构已发布资源编目"
    assert reasons["B/(未报送采集清单)"] == "未报送采集清单"


def test_collection_list_absent_in_the_whole_city_is_excluded(reg):
    """With no collection list loaded for the year (A's is listed 2026-01-02, after the 2025 year end),
    nobody is measured: nothing to measure, not a failure."""
    snapshot(reg, "2025-12-31", {"resource_code": "R1"})
    insert(reg, "collection_list", {"agency_code": "A", "item_name": "姓名", "listed_at": "2026-01-02"})
    assert run(reg, "collection_list_coverage") == {}
    assert value(reg, "collection_list_coverage", "B")[:3] == (0, 0, None)


def test_one_source_conflicts(reg):
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "R1"},
        {"resource_code": "R2"},
        {"resource_code": "R8", "provider_code": "B"},
        {"resource_code": "R9", "provider_code": "C", "status": "已下架"},
    )
    item = dict(snapshot_date="2025-12-31", item_name="身份证号", is_authoritative=True)
    insert(
        reg,
        "catalog_items",
        {**item, "resource_code": "R1", "item_code": "E1"},
        {**item, "resource_code": "R8", "item_code": "E1"},
        {**item, "resource_code": "R1", "item_code": "E2"},
        {**item, "resource_code": "R2", "item_code": "E2"},
        {**item, "resource_code": "R2", "item_code": "E3"},
        {**item, "resource_code": "R9", "item_code": "E3"},
        {**item, "resource_code": "R8", "item_code": "E4", "is_authoritative": False},
        {**item, "resource_code": "R2", "item_code": "E4"},
    )
    got = run(reg, "one_source_conflicts")
    assert sorted(got) == ["E1"]
    values, _ = roll_up(reg, "r", 2025)
    counts = {
        r["agency_code"]: r["count"]
        for r in values.filter(values["metric_id"] == "one_source_conflicts").iter_rows(named=True)
    }
    assert counts["A"] == 1 and counts["B"] == 1 and counts["C"] == 0


def test_one_source_is_settled_by_the_collection_lists(reg):
    """第十五条 "有且只有一个法定数源部门" (DESIGN §5b): of the agencies marking an item authoritative, the one whose
    collection list lists it is the source and the others are charged; where no list settles it (none, or
    more than one, lists it), every agency involved is charged."""
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "R1"},
        {"resource_code": "R2"},
        {"resource_code": "R8", "provider_code": "B"},
        {"resource_code": "R9", "provider_code": "C"},
    )
    item = dict(snapshot_date="2025-12-31", item_name="数据元", is_authoritative=True)
    insert(
        reg,
        "catalog_items",
        *[{**item, "resource_code": r, "item_code": e} for e in ("E1", "E2", "E3") for r in ("R1", "R8")],
        {**item, "resource_code": "R9", "item_code": "E3"},
    )
    insert(
        reg,
        "collection_list",
        {"agency_code": "B", "item_name": "数据元", "item_code": "E1"},  # E1: B's list -> B is the source
        {"agency_code": "A", "item_name": "数据元", "item_code": "E2"},  # E2: both list it -> not settled
        {"agency_code": "B", "item_name": "数据元", "item_code": "E2"},
        # E3 (A, B, C): only C lists it, but from 2026 -> not on the 2025 list -> not settled
        {"agency_code": "C", "item_name": "数据元", "item_code": "E3", "listed_at": "2026-01-02"},
    )
    # E4 (A, B): A's list names its whole table R2 (整表, no item_code), which carries E4 -> A is the source
    insert(
        reg,
        "catalog_items",
        *[{**item, "resource_code": r, "item_code": "E4", "item_name": "信用代码"} for r in ("R2", "R8")],
    )
    insert(reg, "collection_list", {"agency_code": "A", "item_name": "资源(整表)", "resource_code": "R2"})
    compute_items(reg, Window.for_year(2025, AS_OF, SCHEME), metric_ids=["one_source_conflicts"])
    got = reg.execute("select record_id, agency_code from metric_items order by record_id, agency_code").fetchall()
    assert got == [("E1", "A"), ("E2", "A"), ("E2", "B"), ("E3", "A"), ("E3", "B"), ("E3", "C"), ("E4", "B")]
    _, evidence = roll_up(reg, "r", 2025)
    reasons = {(r["record_id"], r["agency_code"]): r["reason"] for r in evidence.iter_rows(named=True)}
    assert reasons[("E1", "A")] == "数据元 E1 被多个部门标为数源：A、B（采集清单列明数源为 B）"
    assert reasons[("E2", "B")] == "数据元 E2 被多个部门标为数源：A、B（采集清单未能确定唯一数源）"
    values, _ = roll_up(reg, "r", 2025)
    counts = {
        r["agency_code"]: r["count"]
        for r in values.filter(values["metric_id"] == "one_source_conflicts").iter_rows(named=True)
    }
    # A: E1, E2, E3 = 3 (E4 is A's by its whole-table entry); B: E2, E3, E4 = 3 (E1 is B's by its list); C: E3 = 1
    assert (counts["A"], counts["B"], counts["C"]) == (3, 3, 1)
    # each conflict is a 督办 item of the 市级 authority Z (it settles the source), once per data item
    from hzeval.assessment.supervise import supervision_items

    items = supervision_items(reg, AS_OF, scheme=SCHEME)
    conflicts = items.filter(items["category"] == "一数多源待核定")
    assert conflicts.select("record_id", "agency_code", "state", "article", "wd_overdue").rows() == [
        ("E1", "Z", "待核定", "第十五条", None),
        ("E2", "Z", "待核定", "第十五条", None),
        ("E3", "Z", "待核定", "第十五条", None),
        ("E4", "Z", "待核定", "第十五条", None),
    ]


def test_duplicate_collection(reg):
    """第十六条 "可以通过……共享或者核验方式获取的公共数据，公共管理和服务机构不得重复采集": an item on A's collection
    list that another agency marks authoritative in its published catalogue is one violation charged to A,
    unless A is itself marked authoritative for it (DESIGN §5b)."""
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "R1"},
        {"resource_code": "R8", "provider_code": "B"},
        {"resource_code": "R9", "provider_code": "C", "status": "已下架"},
    )
    item = dict(snapshot_date="2025-12-31", item_name="数据元", is_authoritative=True)
    insert(
        reg,
        "catalog_items",
        {**item, "resource_code": "R8", "item_code": "E1"},  # B is E1's source
        {**item, "resource_code": "R8", "item_code": "E2"},  # B and A both mark E2 (a one-source conflict)
        {**item, "resource_code": "R1", "item_code": "E2"},
        {**item, "resource_code": "R9", "item_code": "E3"},  # C's resource is withdrawn: not a published source
        {**item, "resource_code": "R8", "item_code": "E4", "is_authoritative": False},  # B holds E4, not as source
    )
    insert(
        reg,
        "collection_list",
        *[{"agency_code": "A", "item_name": "数据元", "item_code": e} for e in ("E1", "E2", "E3", "E4")],
        {"agency_code": "B", "item_name": "数据元", "item_code": "E1"},  # B collects its own item: fine
        {"agency_code": "C", "item_name": "数据元", "item_code": "E1", "listed_at": "2026-01-02"},  # 2026's list
    )
    got = run(reg, "duplicate_collection")
    assert {k: v[:2] for k, v in got.items()} == {"A/E1": ("fail", "A")}
    assert value(reg, "duplicate_collection", "A")[3] == 1 and value(reg, "duplicate_collection", "B")[3] == 0
    _, evidence = roll_up(reg, "r", 2025)
    assert dict(zip(evidence["record_id"], evidence["reason"]))["A/E1"] == (
        "采集清单数据项 E1 已由 B 作为数源提供，可通过共享获取，不应重复采集"
    )


# ------------------------------------------------------------------ 第十八至二十条 aggregation


def test_aggregation_coverage_and_quality(reg):
    snapshot(reg, "2025-12-31", {"resource_code": "R1"}, {"resource_code": "R2"}, {"resource_code": "R3"})
    job = dict(agency_code="A", status="成功")
    insert(
        reg,
        "aggregation_log",
        {
            **job,
            "job_id": "J1",
            "resource_code": "R1",
            "started_at": "2025-04-01 01:00",
            "finished_at": "2025-04-01 01:10",
            "rows_received": 1000,
            "rows_rejected": 10,
        },
        {
            **job,
            "job_id": "J2",
            "resource_code": "R2",
            "status": "失败",
            "started_at": "2025-04-01 01:00",
            "rows_received": 500,
            "rows_rejected": 0,
        },
        {
            **job,
            "job_id": "J3",
            "resource_code": "R3",
            "started_at": "2024-12-30 01:00",
            "finished_at": "2024-12-30 02:00",
            "rows_received": 100,
            "rows_rejected": 100,
        },
        {
            **job,
            "job_id": "J4",
            "resource_code": "R1",
            "started_at": "2025-05-01 01:00",
            "finished_at": "2025-05-01 02:00",
        },
    )
    got = run(reg, "aggregation_coverage")
    assert {k: v[0] for k, v in got.items()} == {"R1": "ok", "R2": "fail", "R3": "fail"}
    got = run(reg, "aggregation_quality")
    assert {k: v[0] for k, v in got.items()} == {"J1": "fail", "J2": "ok"}
    num, den, val, cnt = value(reg, "aggregation_quality", "A")
    assert (num, den, cnt) == (1490, 1500, 1) and val == pytest.approx(1490 / 1500)


def test_aggregation_exemptions_filed_with_the_authority(reg):
    """第十八条第二款 "因特殊情况无法通过上述方式进行数据汇聚的，应报市公共数据主管部门备案": a resource its provider
    filed (on or before the year's end and the as-of day) is in neither aggregation_coverage nor
    update_timeliness; its evidence row says 已备案，免于平台汇聚 and is not a failure."""
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "R1", "update_frequency": "每季度"},  # aggregated in Q1 and Q2 only
        {"resource_code": "R2", "update_frequency": "每季度"},  # never aggregated, filed 2025-03-10
        {"resource_code": "R3", "update_frequency": "每季度"},  # never aggregated, filed 2026-01-06 (after T)
        {"resource_code": "R4", "update_frequency": "每季度"},  # never aggregated, filed by B (not its provider)
    )
    ok = dict(agency_code="A", status="成功", resource_code="R1")
    insert(
        reg,
        "aggregation_log",
        {**ok, "job_id": "J1", "started_at": "2025-02-10 01:00", "finished_at": "2025-02-10 02:00"},
        {**ok, "job_id": "J2", "started_at": "2025-05-10 01:00", "finished_at": "2025-05-10 02:00"},
    )
    insert(
        reg,
        "aggregation_exemptions",
        {"agency_code": "A", "resource_code": "R2", "filed_at": "2025-03-10", "reason": "涉密专网，无法对接"},
        {"agency_code": "A", "resource_code": "R3", "filed_at": "2026-01-06"},
        {"agency_code": "B", "resource_code": "R4", "filed_at": "2025-03-10"},
    )
    got = run(reg, "aggregation_coverage")
    assert {k: v[0] for k, v in got.items()} == {"R1": "ok", "R2": "exempt", "R3": "fail", "R4": "fail"}
    assert got["R2"][3] == T("2025-03-10 00:00")  # the filing day
    # coverage without R2: R1 aggregated, R3 and R4 not -> 1 / 3
    num, den, val, cnt = value(reg, "aggregation_coverage", "A")
    assert (num, den, cnt) == (1, 3, 2) and val == pytest.approx(1 / 3)
    _, evidence = roll_up(reg, "r", 2025)
    ev = {r["record_id"]: (r["record_table"], r["reason"]) for r in evidence.iter_rows(named=True)}
    assert ev["R2"] == ("aggregation_exemptions", "已备案，免于平台汇聚（备案日期 2025-03-10）")
    assert ev["R3"] == ("catalog_snapshot", "已发布资源年内无成功汇聚")
    # update_timeliness: quarterly, Q1..Q4 2025 ended by T. R1: Q1, Q2 ok, Q3, Q4 missed; R3, R4: 4 missed each;
    # R2: no period, one exempt row -> 2 ok of 4 + 4 + 4 = 12 periods
    got = run(reg, "update_timeliness")
    assert got["R2"][0] == "exempt" and not any(k.startswith("R2 ") for k in got)
    assert sorted(k for k, v in got.items() if v[0] == "ok") == ["R1 2025Q1", "R1 2025Q2"]
    num, den, val, cnt = value(reg, "update_timeliness", "A")
    assert (num, den, cnt) == (2, 12, 10)
    # as of 2025-03-09 (the day before R2's filing; March's snapshot) R2 is still a failure: 0 / 1 for R2
    snapshot(reg, "2025-03-01", {"resource_code": "R2", "update_frequency": "每季度"})
    got = run(reg, "aggregation_coverage", as_of=T("2025-03-09 18:00"))
    assert got == {"R2": ("fail", "A", None, None)}


def test_update_timeliness_periods(reg):
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "M", "update_frequency": "每月", "published_date": "2025-03-15"},
        {"resource_code": "Q", "update_frequency": "每季度", "published_date": "2024-06-01"},
        {"resource_code": "W", "update_frequency": "每周", "published_date": "2025-12-24"},
        {"resource_code": "I", "update_frequency": "不定期"},
    )
    ok = dict(agency_code="A", status="成功")
    months = [3, 4, 5, 7, 8, 9, 10, 11]  # June and December missed
    insert(
        reg,
        "aggregation_log",
        *[
            {
                **ok,
                "job_id": f"m{m}",
                "resource_code": "M",
                "started_at": f"2025-{m:02d}-20 01:00",
                "finished_at": f"2025-{m:02d}-20 02:00",
            }
            for m in months
        ],
        {
            **ok,
            "job_id": "m6f",
            "resource_code": "M",
            "status": "失败",
            "started_at": "2025-06-20 01:00",
            "finished_at": "2025-06-20 02:00",
        },
        *[
            {
                **ok,
                "job_id": f"q{q}",
                "resource_code": "Q",
                "started_at": f"2025-{3 * q - 1:02d}-10 01:00",
                "finished_at": f"2025-{3 * q - 1:02d}-10 02:00",
            }
            for q in (1, 2, 4)
        ],
        {
            **ok,
            "job_id": "w1",
            "resource_code": "W",
            "started_at": "2025-12-27 01:00",
            "finished_at": "2025-12-27 02:00",
        },
    )
    got = run(reg, "update_timeliness")
    statuses = {k: v[0] for k, v in got.items()}
    # monthly from March (published 03-15) to December: 10 periods, June and December missed
    assert sorted(k for k in statuses if k.startswith("M ")) == [f"M 2025-{m:02d}" for m in range(3, 13)]
    assert sorted(k for k, s in statuses.items() if s == "fail") == ["M 2025-06", "M 2025-12", "Q 2025Q3"]
    # weekly published Wed 12-24: only the week of Mon 12-22 has ended by the year end
    assert [k for k in statuses if k.startswith("W ")] == ["W 2025-W52"] and statuses["W 2025-W52"] == "ok"
    assert got["Q 2025Q3"][2] == T("2025-10-01 00:00")
    assert value(reg, "update_timeliness", "A")[:2] == (12, 15)
    # as of 2025-08-15 (July's snapshot) the monthly periods March..July have ended; June is missing
    snapshot(reg, "2025-07-31", {"resource_code": "M", "update_frequency": "每月", "published_date": "2025-03-15"})
    got = run(reg, "update_timeliness", as_of=T("2025-08-15 00:00"))
    assert sorted(got) == [f"M 2025-{m:02d}" for m in range(3, 8)]
    assert [k for k, v in got.items() if v[0] == "fail"] == ["M 2025-06"]


def test_update_timeliness_counts_shared_resources_and_realtime_by_scheme(reg):
    """第十九条 "对本机构共享的公共数据进行更新": 无条件/有条件共享 resources only; 实时 counted as the scheme says."""
    snapshot(
        reg,
        "2025-12-31",
        # 实时, published Mon 12-22: as 每日 the days 12-22..12-31 (10 periods) have ended by the year end
        {"resource_code": "RT", "update_frequency": "实时", "published_date": "2025-12-22"},
        {"resource_code": "RC", "update_frequency": "每月", "published_date": "2025-12-01", "share_type": "有条件共享"},
        # 不予共享: not measured, though it was never aggregated
        {"resource_code": "RN", "update_frequency": "每月", "published_date": "2025-01-01", "share_type": "不予共享"},
    )
    ok = dict(agency_code="A", status="成功")
    insert(
        reg,
        "aggregation_log",
        # RT aggregated on Sat 12-27 only; RC in December
        {
            **ok,
            "job_id": "t1",
            "resource_code": "RT",
            "started_at": "2025-12-27 01:00",
            "finished_at": "2025-12-27 02:00",
        },
        {
            **ok,
            "job_id": "c1",
            "resource_code": "RC",
            "started_at": "2025-12-10 01:00",
            "finished_at": "2025-12-10 02:00",
        },
    )
    got = run(reg, "update_timeliness")
    assert not [k for k in got if k.startswith("RN ")]
    # daily: 10 days, 1 with a success (12-27) -> 1/10; RC December ok -> 1/1; pooled 2/11
    assert sorted(k for k in got if k.startswith("RT ")) == [f"RT 2025-12-{d}" for d in range(22, 32)]
    assert value(reg, "update_timeliness", "A")[:2] == (2, 11)
    # the scheme counts 实时 as 每周: weeks of Mon 12-22 (has 12-27 -> ok) and Mon 12-29 (ends 2026-01-04,
    # after the year end -> not yet a period); RC 1/1 -> 2/2
    weekly = dataclasses.replace(Window.for_year(2025, AS_OF, SCHEME), realtime_as="每周")
    got = run_in(reg, "update_timeliness", weekly)
    assert {k: v[0] for k, v in got.items()} == {"RT 2025-W52": "ok", "RC 2025-12": "ok"}


# ------------------------------------------------------------------ 第三十六、三十七条 open data


def test_open_plan_due_by_scheme_date(reg):
    insert(
        reg,
        "open_plans",
        {"agency_code": "A", "year": 2025, "filed_at": "2025-03-31 18:00"},
        {"agency_code": "B", "year": 2025, "filed_at": "2025-04-01 09:00"},
        {"agency_code": "C", "year": 2024, "filed_at": "2024-03-01 09:00"},
    )
    got = run(reg, "open_plan_filed")
    # due end of 03-31; the authority Z owes its own plan too (DESIGN §5b) and filed none -> late
    assert {k: v[0] for k, v in got.items()} == {"A/2025": "ok", "B/2025": "late", "C/2025": "late", "Z/2025": "late"}
    got = run(reg, "open_plan_filed", as_of=T("2025-03-01 00:00"))
    assert got["C/2025"][0] == "pending"


def test_open_replies_agreements_foreign_data(reg):
    cond = dict(open_type="有条件开放", open_basis="b")
    snapshot(reg, "2025-12-31", {"resource_code": "RA", **cond}, {"resource_code": "RB", "provider_code": "B", **cond})
    base = dict(agency_code="A", submitted_at="2025-09-26 09:00")
    insert(
        reg,
        "open_applications",
        # 09-26 + 20 wd ends 10-30 (10-01..08 off, 10-11 worked, 10-12 off)
        {
            **base,
            "open_app_id": "P1",
            "resource_code": "RA",
            "replied_at": "2025-10-30 17:00",
            "decision": "同意",
            "agreement_signed_at": "2025-11-02 10:00",
        },
        {**base, "open_app_id": "P2", "resource_code": "RA", "replied_at": "2025-10-31 09:00", "decision": "同意"},
        {**base, "open_app_id": "P3", "resource_code": "RB"},
        {**base, "open_app_id": "P4", "resource_code": "RB", "submitted_at": "2025-12-20 09:00"},
    )
    got = run(reg, "open_reply_timeliness")
    assert got["P1"][:3] == ("ok", "A", T("2025-10-31 00:00"))
    assert got["P2"][0] == "late" and got["P3"][0] == "late" and got["P4"][0] == "pending"
    assert {k: v[0] for k, v in run(reg, "open_agreement").items()} == {"P1": "ok", "P2": "fail"}
    # 第三十六条 is about the open catalogue, not applications: P3/P4 (filed with A for B's RB) list nothing,
    # and with no open catalogue in the city the indicator is excluded (no item at all)
    assert run(reg, "open_catalog_foreign_data") == {}


def test_open_catalogue_foreign_data_and_the_standing_duty(reg):
    # 第三十六条 "通过共享等手段获得的公共数据，不应纳入本机构的开放目录"
    snapshot(reg, "2025-12-31", {"resource_code": "RA"}, {"resource_code": "RB", "provider_code": "B"})
    insert(
        reg,
        "open_catalogue",
        {"agency_code": "A", "resource_code": "RA", "listed_at": "2025-03-01"},  # its own: fine
        {"agency_code": "A", "resource_code": "RB", "listed_at": "2025-12-31"},  # B's, listed on the last day: 1
        {"agency_code": "B", "resource_code": "RA", "listed_at": "2026-01-02"},  # next year's listing: not in 2025
    )
    got = run(reg, "open_catalog_foreign_data")
    # once the city has an open catalogue, compiling one is every agency's duty: B (its only listing is 2026's)
    # and C list nothing in 2025 → one item each; Z, the authority, is not charged
    assert {k: v[1] for k, v in got.items()} == {"RB": "A", "B/(未报送开放目录)": "B", "C/(未报送开放目录)": "C"}
    assert got["RB"][3] == T("2025-12-31 00:00")
    assert [value(reg, "open_catalog_foreign_data", a)[3] for a in "ABC"] == [1, 1, 1]
    _, evidence = roll_up(reg, "r", 2025)
    reasons = dict(zip(evidence["record_id"], evidence["reason"]))
    assert reasons["B/(未报送开放目录)"] == "未报送开放目录"
    assert reasons["RB"] == "开放目录所列资源 RB 由 B 提供，不应纳入本机构开放目录"
    # as of 2025-12-30 the last-day listing is not yet made: A lists only its own RA
    assert "RB" not in run(reg, "open_catalog_foreign_data", as_of=T("2025-12-30 18:00"))


def test_open_application_rules_reach_conditionally_open_data_only(reg):
    """第三十七条 covers applications "获取有条件开放类数据" (DESIGN §5b): the open type is the resource's in the
    snapshot in force at submission (latest on or before the submission day, else the earliest after it)."""
    snapshot(reg, "2025-06-30", {"resource_code": "RC", "open_type": "有条件开放", "open_basis": "b"})
    # year end: RC became 无条件开放 -- not the type its applications were made under
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "RC", "open_type": "无条件开放"},
        {"resource_code": "RU", "open_type": "无条件开放"},
        {"resource_code": "RL", "open_type": "有条件开放", "open_basis": "b"},
    )
    base = dict(agency_code="A", submitted_at="2025-09-26 09:00", replied_at="2025-11-05 10:00", decision="同意")
    insert(
        reg,
        "open_applications",
        # the case: 无条件开放 data, Fri 09-26 + 20 wd = end of 10-30 (10-01..08 off, Sat 10-11 worked);
        # answered 11-05 with no agreement -- 第三十七条 does not reach it: no reply, agreement or refusal item
        {**base, "open_app_id": "U1", "resource_code": "RU"},
        {**base, "open_app_id": "U2", "resource_code": "RU", "decision": "拒绝"},
        # RC was 有条件开放 in the 06-30 snapshot in force on 09-26 -> counted: answered 11-05 > end of 10-30 -> late;
        # approved without agreement -> fail
        {**base, "open_app_id": "C1", "resource_code": "RC"},
        # RL first appears in the 12-31 snapshot (none on or before 09-26): the earliest after it -> 有条件开放;
        # refused without a reason -> fail
        {**base, "open_app_id": "L1", "resource_code": "RL", "decision": "拒绝"},
        # a resource in no snapshot: its open type is unknown, 第三十七条 is not shown to reach it
        {**base, "open_app_id": "N1", "resource_code": "RN"},
    )
    got = run(reg, "open_reply_timeliness")
    assert {k: v[0] for k, v in got.items()} == {"C1": "late", "L1": "late"}
    assert got["C1"][2] == T("2025-10-31 00:00")
    assert {k: v[0] for k, v in run(reg, "open_agreement").items()} == {"C1": "fail"}
    assert {k: v[0] for k, v in run(reg, "open_refusal_reason").items()} == {"L1": "fail"}


def test_open_refusal_states_a_reason(reg):
    """第三十七条: 未通过审核的，要明确理由."""
    snapshot(reg, "2025-12-31", {"resource_code": "RA", "open_type": "有条件开放", "open_basis": "b"})
    base = dict(agency_code="A", resource_code="RA", submitted_at="2025-09-26 09:00", replied_at="2025-10-20 10:00")
    insert(
        reg,
        "open_applications",
        {**base, "open_app_id": "F1", "decision": "拒绝", "reason": "涉及个人隐私，不符合开放条件"},
        {**base, "open_app_id": "F2", "decision": "拒绝", "reason": "  "},
        {**base, "open_app_id": "F3", "decision": "拒绝"},
        {**base, "open_app_id": "F4", "decision": "同意"},
        {**base, "open_app_id": "F5", "decision": "拒绝", "replied_at": "2024-12-30 10:00"},
    )  # counted in 2024
    got = run(reg, "open_refusal_reason")
    assert {k: v[0] for k, v in got.items()} == {"F1": "ok", "F2": "fail", "F3": "fail"}
    assert value(reg, "open_refusal_reason", "A")[:2] == (1, 3)


# ------------------------------------------------------------------ 第四十四条 projects


def test_project_gate(reg):
    snapshot(
        reg,
        "2025-06-30",
        {"resource_code": "R1"},
        {"resource_code": "R2"},
        {"resource_code": "R7", "share_type": "不予共享", "share_basis": "依据", "nonshare_filed": False},
    )
    snapshot(
        reg,
        "2025-12-31",
        {"resource_code": "R1"},
        {"resource_code": "R2"},
        {"resource_code": "R3"},
        {"resource_code": "R7", "share_type": "不予共享", "share_basis": "依据", "nonshare_filed": False},
    )
    insert(
        reg,
        "aggregation_log",
        {
            "job_id": "J1",
            "resource_code": "R1",
            "agency_code": "A",
            "status": "成功",
            "started_at": "2025-04-01 01:00",
            "finished_at": "2025-04-01 02:00",
        },
        {
            "job_id": "J3",
            "resource_code": "R3",
            "agency_code": "A",
            "status": "成功",
            "started_at": "2025-04-01 01:00",
            "finished_at": "2025-04-01 02:00",
        },
    )
    p = dict(project_name="项目", owner_code="A", fiscal_funded=True)
    insert(
        reg,
        "projects",
        {
            **p,
            "project_id": "P1",
            "approved_at": "2025-03-01 10:00",
            "data_list_submitted_at": "2025-02-20 10:00",
            "accepted_at": "2025-10-01 10:00",
        },
        {
            **p,
            "project_id": "P2",
            "approved_at": "2025-03-01 10:00",
            "data_list_submitted_at": "2025-03-05 10:00",
            "accepted_at": "2025-11-01 10:00",
        },
        {**p, "project_id": "P3", "approved_at": "2025-06-01 10:00", "data_list_submitted_at": "2025-05-20 10:00"},
        {**p, "project_id": "P4", "approved_at": "2025-06-01 10:00"},
        {
            **p,
            "project_id": "P5",
            "approved_at": "2024-03-01 10:00",
            "data_list_submitted_at": "2024-02-01 10:00",
            "accepted_at": "2024-11-01 10:00",
        },
        # R3 is catalogued only in the December snapshot, after this project's acceptance
        {
            **p,
            "project_id": "P6",
            "approved_at": "2025-02-01 10:00",
            "data_list_submitted_at": "2025-01-20 10:00",
            "accepted_at": "2025-07-15 10:00",
        },
        {**p, "project_id": "P7", "fiscal_funded": False, "approved_at": "2025-06-01 10:00"},
    )
    insert(
        reg,
        "project_data_list",
        {"project_id": "P1", "resource_code": "R1"},
        {"project_id": "P2", "resource_code": "R2"},
        {"project_id": "P2", "resource_code": "R7"},
        {"project_id": "P6", "resource_code": "R3"},
    )
    got = run(reg, "project_gate")
    assert {k: v[0] for k, v in got.items()} == {"P1": "ok", "P2": "fail", "P3": "pending", "P4": "fail", "P6": "fail"}
    gates = {
        r[0]: r[1:]
        for r in reg.execute("select project_id, failed_conditions, failed_resources from int_project_gates").fetchall()
    }
    assert gates["P1"][0] == ""
    assert gates["P2"][0] == "G1;G3;G4" and "R2,R7" in gates["P2"][1] and "G4 未共享: R7" in gates["P2"][1]
    assert gates["P6"][0] == "G2"  # R3 aggregated in April, but not catalogued in the June snapshot
    assert "P7" not in gates
    assert value(reg, "project_gate", "A")[:2] == (1, 4)


def test_project_gate_is_checked_at_the_acceptance_request(reg):
    """第四十四条 "在项目竣工验收前…作为符合性审查条件" (DESIGN §5b): G2–G4 are checked when acceptance is
    requested (scheme gate_checked_at, default requested), not at acceptance."""
    # R1 is catalogued (published) only in the snapshot of Fri 2025-09-12; it was aggregated in April
    snapshot(reg, "2025-09-12", {"resource_code": "R1"})
    insert(
        reg,
        "aggregation_log",
        {
            "job_id": "J1",
            "resource_code": "R1",
            "agency_code": "A",
            "status": "成功",
            "started_at": "2025-04-01 01:00",
            "finished_at": "2025-04-01 02:00",
        },
    )
    p = dict(project_name="项目", owner_code="A", fiscal_funded=True, approved_at="2025-03-01 10:00")
    insert(
        reg,
        "projects",
        # requested Thu 09-11 10:00 (the day before the snapshot), accepted Mon 09-15: under the default the
        # gate is checked on 09-11, when the latest snapshot on or before that day holds no R1 -> G2 fails
        {
            **p,
            "project_id": "P1",
            "data_list_submitted_at": "2025-02-20 10:00",
            "acceptance_requested_at": "2025-09-11 10:00",
            "accepted_at": "2025-09-15 10:00",
        },
        # requested on the snapshot day 09-12 itself: the 09-12 snapshot is in force -> passes
        {
            **p,
            "project_id": "P2",
            "data_list_submitted_at": "2025-02-20 10:00",
            "acceptance_requested_at": "2025-09-12 18:00",
            "accepted_at": "2025-09-15 10:00",
        },
        # no request recorded: checked at acceptance 09-15 -> passes
        {**p, "project_id": "P3", "data_list_submitted_at": "2025-02-20 10:00", "accepted_at": "2025-09-15 10:00"},
    )
    insert(
        reg,
        "project_data_list",
        {"project_id": "P1", "resource_code": "R1"},
        {"project_id": "P2", "resource_code": "R1"},
        {"project_id": "P3", "resource_code": "R1"},
    )
    got = run(reg, "project_gate")
    assert {k: v[0] for k, v in got.items()} == {"P1": "fail", "P2": "ok", "P3": "ok"}
    gates = {
        r[0]: r[1:]
        for r in reg.execute(
            "select project_id, checked_at, checked_on, failed_conditions, failed_resources from int_project_gates"
        ).fetchall()
    }
    assert gates["P1"] == (T("2025-09-11 10:00"), "申请验收", "G2", "G2 未编目: R1")
    assert gates["P3"][:2] == (T("2025-09-15 10:00"), "验收")
    reason = reg.execute("select reason from metric_items where record_id = 'P1'").fetchall()[0][0]
    assert reason == "项目申请验收时未通过数据门禁：G2（G2 未编目: R1）"
    # 1 of 3 projects accepted in 2025 fails -> 2 / 3
    assert value(reg, "project_gate", "A")[:2] == (2, 3)

    # gate_checked_at: accepted -> every project checked on 09-15, when the 09-12 snapshot holds R1 -> all pass
    at_acceptance = dataclasses.replace(Window.for_year(2025, AS_OF, SCHEME), gate_checked_at="accepted")
    got = run_in(reg, "project_gate", at_acceptance)
    assert {k: v[0] for k, v in got.items()} == {"P1": "ok", "P2": "ok", "P3": "ok"}
    assert reg.execute("select checked_on from int_project_gates where project_id = 'P1'").fetchall()[0][0] == "验收"


def test_project_gate_requested_but_not_yet_accepted(reg):
    """A project that requested acceptance and is not yet accepted is checked at its request (pending in
    the metric until accepted); the as-of time decides only for a project with neither."""
    p = dict(project_name="项目", owner_code="A", fiscal_funded=True, approved_at="2025-03-01 10:00")
    insert(
        reg,
        "projects",
        {
            **p,
            "project_id": "P1",
            "data_list_submitted_at": "2025-02-20 10:00",
            "acceptance_requested_at": "2025-11-03 10:00",
        },
        # a request after the as-of time is not known yet: checked as of now
        {
            **p,
            "project_id": "P2",
            "data_list_submitted_at": "2025-02-20 10:00",
            "acceptance_requested_at": "2026-02-02 10:00",
        },
    )
    insert(reg, "project_data_list", {"project_id": "P1", "resource_code": "R1"})
    got = run(reg, "project_gate")
    assert {k: v[0] for k, v in got.items()} == {"P1": "pending", "P2": "pending"}
    rows = dict(
        (r[0], r[1:])
        for r in reg.execute("select project_id, checked_at, checked_on from int_project_gates").fetchall()
    )
    assert rows == {"P1": (T("2025-11-03 10:00"), "申请验收"), "P2": (AS_OF, None)}


def test_project_gate_nonshare_exception_is_a_scheme_parameter(reg):
    """G4 数据已共享: a 不予共享 resource with its basis and filing passes by default
    (gate_nonshare_filed_passes: true); a scheme may refuse the exception."""
    snapshot(
        reg,
        "2025-06-30",
        {"resource_code": "R1", "share_type": "不予共享", "share_basis": "依据", "nonshare_filed": True},
    )
    insert(
        reg,
        "aggregation_log",
        {
            "job_id": "J1",
            "resource_code": "R1",
            "agency_code": "A",
            "status": "成功",
            "started_at": "2025-04-01 01:00",
            "finished_at": "2025-04-01 02:00",
        },
    )
    insert(
        reg,
        "projects",
        {
            "project_id": "P1",
            "project_name": "项目",
            "owner_code": "A",
            "fiscal_funded": True,
            "approved_at": "2025-03-01 10:00",
            "data_list_submitted_at": "2025-02-20 10:00",
            "acceptance_requested_at": "2025-09-01 10:00",
            "accepted_at": "2025-09-10 10:00",
        },
    )
    insert(reg, "project_data_list", {"project_id": "P1", "resource_code": "R1"})
    assert run(reg, "project_gate")["P1"][0] == "ok"
    strict = dataclasses.replace(Window.for_year(2025, AS_OF, SCHEME), gate_nonshare_filed_passes=False)
    assert run_in(reg, "project_gate", strict)["P1"][0] == "fail"
    assert reg.execute("select failed_resources from int_project_gates").fetchall()[0][0] == "G4 未共享: R1"


def test_gate_parameters_load_from_a_scheme(tmp_path):
    import yaml

    from hzeval.errors import SchemeError

    data = yaml.safe_load(open(SCHEME.source, encoding="utf-8"))
    assert (SCHEME.gate_checked_at, SCHEME.gate_nonshare_filed_passes) == ("requested", True)
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**data, "gate_checked_at": "accepted", "gate_nonshare_filed_passes": False}), "utf-8")
    s = load_scheme(f)
    w = Window.for_year(2025, AS_OF, s)
    assert (w.params()["gate_checked_at"], w.params()["gate_nonshare_filed_passes"]) == ("accepted", False)
    f.write_text(yaml.safe_dump({**data, "gate_checked_at": "approved"}), "utf-8")
    with pytest.raises(SchemeError, match="gate_checked_at"):
        load_scheme(f)


# ------------------------------------------------------------------ 第四十一、四十七条 security


def test_security_practice_and_rectification(reg):
    insert(
        reg,
        "security_records",
        *[{"agency_code": "A", "record_type": "安全检查", "done_at": f"2025-{m:02d}-01 10:00"} for m in (3, 9, 11)],
        *[{"agency_code": "A", "record_type": "数据备份", "done_at": f"2025-{m:02d}-01 10:00"} for m in (1, 4, 7)],
        {"agency_code": "B", "record_type": "数据备份", "done_at": "2024-12-01 10:00"},
    )
    got = run(reg, "security_practice")
    # 第四十一条 names 风险评估 beside 安全检查 and 备份; the counts (2, 4, 1) are the 2025 scheme's
    # the authority Z is measured on its own records too (DESIGN §5b): it has none -> 0 of 2 + 4 + 1
    assert set(got) == {f"{a}/{t}" for a in "ABCZ" for t in ("安全检查", "数据备份", "风险评估")}
    assert value(reg, "security_practice", "Z")[:2] == (0, 7)
    assert value(reg, "security_practice", "A")[:2] == (5, 7)  # min(3,2) + min(3,4) + min(0,1) of 2 + 4 + 1
    assert value(reg, "security_practice", "B")[:2] == (0, 7)
    _, evidence = roll_up(reg, "r", 2025)
    reasons = dict(zip(evidence["record_id"], evidence["reason"]))
    assert reasons["A/风险评估"] == "风险评估完成 0 次，评估方案要求至少 1 次"
    assert reasons["A/数据备份"] == "数据备份完成 3 次，评估方案要求至少 4 次"
    insert(
        reg,
        "security_records",
        {"agency_code": "A", "record_type": "风险评估", "done_at": "2025-12-31 23:00"},
        {"agency_code": "A", "record_type": "风险评估", "done_at": "2026-01-02 10:00"},
    )  # next year's
    run(reg, "security_practice")
    assert value(reg, "security_practice", "A")[:2] == (6, 7)
    insert(
        reg,
        "rectifications",
        {
            "notice_id": "N1",
            "agency_code": "A",
            "issued_at": "2025-05-06 10:00",
            "deadline": "2025-05-20",
            "completed_at": "2025-05-20 22:00",
        },
        {
            "notice_id": "N2",
            "agency_code": "A",
            "issued_at": "2025-05-06 10:00",
            "deadline": "2025-05-20",
            "completed_at": "2025-05-21 08:00",
        },
        {"notice_id": "N3", "agency_code": "A", "issued_at": "2025-12-20 10:00", "deadline": "2026-01-10"},
    )
    got = run(reg, "rectification_on_time")
    assert {k: v[0] for k, v in got.items()} == {"N1": "ok", "N2": "late", "N3": "pending"}
    assert got["N1"][2] == T("2025-05-21 00:00")


def test_incidents_are_charged_to_the_responsible_agency(reg):
    # 第二十二条: 数源部门 answer for 采集、核准和提供, the using agency for 使用, "与数源部门、公共数据主管部门存在
    # 明确关联或者责任的除外" — the incident goes to responsible_code when it is given, else where it was logged
    inc = {"kind": "数据泄露", "severity": "重大"}
    insert(
        reg,
        "incidents",
        {
            **inc,
            "incident_id": "I1",
            "agency_code": "A",
            "occurred_at": "2025-06-10 10:00",
            "responsible_code": "B",
            "stage": "提供",
        },  # logged at A (the user), B (数源部门) answers: charged to B
        {**inc, "incident_id": "I2", "agency_code": "A", "occurred_at": "2025-07-01 10:00", "stage": "使用"},
        {
            "incident_id": "I3",
            "agency_code": "C",
            "occurred_at": "2025-08-01 10:00",
            "kind": "系统故障",
            "responsible_code": "Z",
            "stage": "采集",
        },  # the authority answers
        {**inc, "incident_id": "I4", "agency_code": "A", "occurred_at": "2024-12-31 23:00", "responsible_code": "B"},
    )
    got = run(reg, "security_incidents")
    # I4 occurred in 2024: not in the 2025 window
    assert {k: v[1] for k, v in got.items()} == {"I1": "B", "I2": "A", "I3": "Z"}
    assert value(reg, "security_incidents", "B")[3] == 1
    assert value(reg, "security_incidents", "A")[3] == 1  # I2 only: I1 is B's
    _, evidence = roll_up(reg, "r", 2025)
    reasons = dict(zip(evidence["record_id"], evidence["reason"]))
    assert reasons["I1"] == "安全事件：数据泄露（重大）；责任环节：提供"
    assert reasons["I3"] == "安全事件：系统故障；责任环节：采集"


def test_an_incident_cites_the_clause_of_its_kind(reg):
    # issue 25 item 12: 第四十七条（五）"违规泄露、出售或者非法向其他单位和个人提供…公共数据", （六）"擅自更改或者
    # 删除公共数据". An incident of a kind the profile names cites its clause; any other kind (网络攻击,
    # an attempted tampering) cites no article of the draft (the scheme's basis stands in on the surfaces)
    insert(
        reg,
        "incidents",
        *(
            {"incident_id": f"I{i}", "agency_code": "A", "occurred_at": f"2025-0{i}-10 10:00", "kind": kind}
            for i, kind in enumerate(("数据泄露", "擅自删除数据", "网络攻击", "数据篡改未遂", " 数据篡改 "), start=1)
        ),
    )
    run(reg, "security_incidents")
    _, evidence = roll_up(reg, "r", 2025)
    arts = dict(zip(evidence["record_id"], evidence["article"]))
    five, six = "第四十七条（五）", "第四十七条（六）"
    assert arts == {"I1": five, "I2": six, "I3": None, "I4": None, "I5": six}
    assert value(reg, "security_incidents", "A")[3] == 5  # every incident counts, whatever it cites


# ------------------------------------------------------------------ calendar coverage


def test_rectification_escalation_by_the_local_authority(reg, tmp_path):
    """第四十七条 "逾期未完成整改的，公共数据主管部门应当及时将有关情况上报本级人民政府" (with 第四十九条): the 本级
    authority's duty, per rectification overdue in the year; "及时" has no number, so a deadline applies only
    when the profile gives one (DESIGN §5b)."""
    base = dict(issued_at="2025-09-01 10:00", deadline="2025-09-30")
    insert(
        reg,
        "rectifications",
        # overdue from 10-01 00:00, escalated 10-13 -> done (the draft: any time by T)
        {**base, "notice_id": "E1", "agency_code": "A", "escalated_at": "2025-10-13 10:00"},
        # completed by the end of its deadline day: never overdue, no item
        {**base, "notice_id": "E2", "agency_code": "A", "completed_at": "2025-09-30 23:00"},
        # completed late and never escalated -> fail, charged to the 市级 authority Z (C has no region)
        {**base, "notice_id": "E3", "agency_code": "C", "completed_at": "2025-10-20 10:00"},
        # "escalated" before the deadline passed: not an escalation of an overdue rectification -> fail
        {**base, "notice_id": "E4", "agency_code": "B", "escalated_at": "2025-09-29 10:00"},
        # deadline 2025-12-31: overdue from 2026-01-01, before T -> a 2025 item; not escalated -> fail
        {**base, "notice_id": "E5", "agency_code": "A", "deadline": "2025-12-31"},
        # deadline in 2026: not a 2025 item
        {**base, "notice_id": "E6", "agency_code": "A", "deadline": "2026-01-04"},
    )
    got = run(reg, "rectification_escalation")
    assert {k: v[:2] for k, v in got.items()} == {
        "E1": ("ok", "Z"),
        "E3": ("fail", "Z"),
        "E4": ("fail", "Z"),
        "E5": ("fail", "Z"),
    }
    assert got["E1"][2] is None  # no number in the draft: no deadline
    assert value(reg, "rectification_escalation", "Z")[:2] == (1, 4)
    _, evidence = roll_up(reg, "r", 2025)
    assert dict(zip(evidence["record_id"], evidence["reason"]))["E3"] == "C 的整改逾期未完成，未上报本级人民政府"
    # from 2025-10-01 a profile gives 3 working days, counted from the deadline day (the profile in force on it):
    # E7's deadline Fri 10-10 -> Sat 10-11 (调休, worked), Mon 10-13, Tue 10-14 -> due end of 10-14; escalated
    # Wed 10-15 -> late. E1's deadline 09-30 falls under the draft (no number) -> still ok
    insert(
        reg,
        "rectifications",
        {**base, "notice_id": "E7", "agency_code": "A", "deadline": "2025-10-10", "escalated_at": "2025-10-15 10:00"},
    )
    scheme = _two_profile_scheme(
        tmp_path,
        rectification_escalate={"days": 3, "article": "第四十七条", "text": "3 个工作日内上报（测试文本）"},
    )
    got = run_in(reg, "rectification_escalation", Window.for_year(2025, AS_OF, scheme))
    assert got["E7"][0] == "late" and got["E7"][2] == T("2025-10-15 00:00")
    assert got["E1"][0] == "ok" and got["E1"][2] is None


def test_deadline_in_a_year_the_calendar_lacks(reg):
    insert(
        reg,
        "share_applications",
        {
            "application_id": "S",
            "applicant_code": "B",
            "provider_code": "A",
            "share_type": "有条件共享",
            "submitted_at": "2026-12-30 10:00",
        },
    )
    with pytest.raises(CalendarError) as err:
        run(reg, "share_reply_timeliness", as_of=T("2027-01-10 00:00"), year=2026)
    assert err.value.year == 2027 and "calendar_overrides" in str(err.value)
    # the State Council notice for 2027 entered as overrides: 2027-01-01 off, the rest weekdays
    insert(reg, "calendar_overrides", {"date": "2027-01-01", "is_workday": False, "note": "元旦"})
    from hzeval.store import calendar

    calendar.install(reg)
    got = run(reg, "share_reply_timeliness", as_of=T("2027-01-10 00:00"), year=2026)
    # 12-30 (Wed) + 2 wd: 12-31 (Thu), 2027-01-04 (Mon) -> due end of 01-04
    assert got["S"][:3] == ("late", "A", T("2027-01-05 00:00"))

"""Issue 30 item 7: an agency's own files name no other agency.

The metric SQL's reasons name other agencies (catalog.sql's one-source conflicts: "数据元 DE00007
被多个部门标为数源：HZ010、HZ105、HZ115"; open.sql: "开放目录所列资源 HZ005-R001 由 HZ005 提供"). A reader
scoped to one agency (its report, its offline dashboard) reads them agency-neutral
(:data:`hzeval.runs.OWN_REASONS`); the bulletin, read by the authority, keeps the names."""

from __future__ import annotations

import re

import duckdb
import pytest
from conftest import copy_sample

from hzeval.runs import OTHER_AGENCY, open_run, own_reason
from hzeval.services import render_reports

OWN = ("HZ010", "HZ105", "HZ016")
CODE = re.compile(r"HZ\d{3}")


@pytest.fixture(scope="module")
def rendered(sample_warehouse, tmp_path_factory):
    db = copy_sample(sample_warehouse, tmp_path_factory, "own_files")
    pub = db.parent / "published"
    out = tmp_path_factory.mktemp("own_out")
    result = render_reports(2025, out=out, formats=("html", "dashboard"), published=pub, only=list(OWN), workers=1)
    assert not result.failures, [r.error for r in result.failures]
    with duckdb.connect(str(db), read_only=True) as con:
        # the authority issues every file (its name heads each report): not "another agency"
        names = dict(con.execute("select agency_code, agency_name from agencies where not is_authority").fetchall())
    return out / "2025", names, pub


def others_named(text: str, own: str, names: dict[str, str]) -> set[str]:
    """Other agencies' codes (a code, or a resource code such as HZ006-R004 is the agency's own
    record) and names in ``text``."""
    codes = {m.group(0) for m in re.finditer(r"(?<![A-Za-z0-9-])HZ\d{3}(?![A-Za-z0-9-])", text)} - {own}
    return codes | {n for c, n in names.items() if c != own and n and n not in names[own] and n in text}


@pytest.mark.parametrize("own", OWN)
def test_agency_files_name_no_other_agency(rendered, own):
    out, names, _ = rendered
    for rel in (f"agencies/{own}.html", f"dashboards/{own}.html"):
        text = (out / rel).read_text(encoding="utf-8")
        assert own in text, rel
        assert others_named(text, own, names) == set(), rel
    report = (out / f"agencies/{own}.html").read_text(encoding="utf-8")
    if own == "HZ105":  # DE00007 is marked as source by HZ010, HZ105 and HZ115; the list names HZ010
        assert "数据元 DE00007 与其他部门冲突（多个部门标为数源）（采集清单列明数源为其他部门）" in report
    elif own == "HZ016":  # HZ016's open catalogue lists HZ005-R001, which HZ005 provides (open.sql)
        assert "开放目录所列资源 HZ005-R001 由其他部门提供，不应纳入本机构开放目录" in report


def test_the_authority_still_reads_the_names(rendered):
    out, _, pub = rendered
    bulletin = (out / "bulletin.html").read_text(encoding="utf-8")
    assert {"HZ010", "HZ105", "HZ016"} <= set(CODE.findall(bulletin))
    with open_run(pub, 2025) as run:  # unscoped: the bulletin's, the city dashboard's, the workbook's reader
        reasons = run.evidence("HZ105", "one_source_conflicts")["reason"].to_list()
    assert "数据元 DE00007 被多个部门标为数源：HZ010、HZ105、HZ115（采集清单列明数源为 HZ010）" in reasons
    with open_run(pub, 2025, scope="HZ105") as run:
        reasons = run.evidence("HZ105", "one_source_conflicts")["reason"].to_list()
    assert "数据元 DE00007 与其他部门冲突（多个部门标为数源）（采集清单列明数源为其他部门）" in reasons


def test_own_reason_texts():
    names = {"HZ010": "市甲局", "HZ105": "乙区丙局", "HZ115": "丁县戊局", "HZ006": "市己局"}
    conflict = "数据元 DE00007 被多个部门标为数源：HZ010、HZ105、HZ115（采集清单列明数源为 HZ105）"
    assert own_reason(conflict, "HZ010", names) == (
        f"数据元 DE00007 与其他部门冲突（多个部门标为数源）（采集清单列明数源为{OTHER_AGENCY}）"
    )
    # the resource code keeps its prefix: it is the agency's own catalogue entry
    assert own_reason("开放资源 HZ006-R004 由 HZ006 提供，不应纳入本机构开放目录", "HZ011", names) == (
        "开放资源 HZ006-R004 由其他部门提供，不应纳入本机构开放目录"
    )
    assert own_reason("采集清单数据项 DE1 已由 HZ105、市己局 作为数源提供，可通过共享获取", "HZ010", names) == (
        "采集清单数据项 DE1 已由其他部门作为数源提供，可通过共享获取"
    )
    assert own_reason("由市己局和HZ105核对", "HZ010", names) == "由其他部门和其他部门核对"
    assert own_reason("由 HZ105 提供", "HZ105", names) == "由 HZ105 提供"  # its own code stays
    assert own_reason(None, "HZ010", names) is None

"""Graded reports: data access over a published run, papermill rendering, workbook, PDF,
atomic failure handling, the template notebooks under nbval, and the scheduled-run lock."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import nbformat
import openpyxl
import pytest
from conftest import copy_sample
from surface_scan import problems, visible_text

from hzeval import pages as h
from hzeval.cli.main import main as cli_main
from hzeval.metrics.registry import METRICS
from hzeval.reports import data
from hzeval.services import render_reports
from hzeval.store.warehouse import connect
from hzeval.util.paths import sha256_file

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
AGENCY = "HZ021"  # 城市管理和综合执法局: loses points in several dimensions
EXTERNAL_URL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)


@pytest.fixture(scope="module")
def warehouse(sample_warehouse, tmp_path_factory):
    """A copy of the sample warehouse, assessed for 2024 (as of 2025-01-06) and 2025 (as of 2026-01-05)."""
    db = copy_sample(sample_warehouse, tmp_path_factory, "reports_wh")
    return db, db.parent / "published"


@pytest.fixture(scope="module")
def rendered(warehouse, tmp_path_factory):
    _, pub = warehouse
    out = tmp_path_factory.mktemp("reports_out")
    result = render_reports(
        2025, out=out, formats=("html", "xlsx"), published=pub, only=[AGENCY, "HZ002", "HZ013"], workers=2
    )
    return result


# --------------------------------------------------------------------------- data


def test_every_metric_has_a_suggestion():
    missing = [m for m in METRICS if not data.suggestions().get(m)]
    assert not missing


def test_sample_grades_are_credible(warehouse):
    """Issue 11 on the sample drop: an empty catalogue is never 优秀/良好, 参照执行 units are not graded,
    the veto names its incident and basis, an absent collection list scores 0 (第十五条 is a standing duty)."""
    import polars as pl

    _, pub = warehouse
    with data.open_run(pub, 2025) as run:
        g = {
            r[0]: r[1:]
            for r in run.con.execute("select agency_code, grade, graded, rank, veto_reason from grades").fetchall()
        }
        empty = {
            r[0]
            for r in run.con.execute(
                """select a.agency_code from agencies as a where not coalesce(a.is_authority, false)
               and a.agency_code not in (select provider_code from catalog_snapshot
                                         where snapshot_date = (select max(snapshot_date) from catalog_snapshot)
                                           and status = '已发布')"""
            ).fetchall()
        }
        ind = data.indicator_table(run, "HZ025").filter(pl.col("metric_id") == "collection_list_coverage")
        agencies = data.graded_agencies(run)
        dist = data.grade_distribution(run)
    assert empty == {"HZ028"} and g["HZ028"][0] not in ("优秀", "良好")
    for code in ("HZ013", "HZ029"):
        assert g[code][:3] == ("参照执行、不参与评级", False, None)
    assert g["HZ009"][3].startswith(
        "一票否决：IN-2025-001（2025-08-14 数据泄露，提供环节），依据《惠州市2025年度公共数据管理评估方案》"
    )
    # issue 25 item 1: 第十五条 is a standing duty; other agencies have lists, so HZ025's absent list scores 0
    # (it was "本项不计" before DESIGN §5b)
    assert ind["note"].to_list() == [None] and ind["points"].to_list() == [0.0]
    # the bulletin's distribution counts graded agencies only; its ranking puts 参照执行 after them, unranked
    assert sum(dist["合计"]) == sum(1 for v in g.values() if v[1])
    assert agencies.filter(~agencies["graded"])["agency_code"].to_list() == ["HZ013", "HZ029"]


def test_one_count_of_graded_units_and_the_trial_banner(rendered, warehouse):
    """参评单位 is the graded units on every surface (issue 24 item 7): the sample's 40 units less the two
    参照执行 units HZ013 and HZ029 = 38, in the bulletin and the approval reference; the sample's runs are
    试算, so every page carries the banner and says so in its provenance (DESIGN §7a)."""
    from hzeval.reports.approval import approval_reference_html

    _, pub = warehouse
    with data.open_run(pub, 2025) as run:
        assert run.grades().height == 40 and data.graded_units(run) == 38
        approval = approval_reference_html(run)
    fact = '<div class="k">参评单位</div><div class="v">38</div>'
    bulletin = (rendered.out_dir / "bulletin.html").read_text(encoding="utf-8")
    assert fact in bulletin and fact in approval
    for page in (bulletin, (rendered.out_dir / "agencies" / "HZ021.html").read_text(encoding="utf-8")):
        assert 'class="trial"' in page and "<b>发布状态</b> 试算" in page
        # the freshness line (issue 24 item 3): the earliest newest record of the sample's tables that expect
        # recent ones is security_records' 2025-12-19 13:09; no table is older than 45 days before the as-of
        assert (
            '<div class="fresh">数据截至（各表最新记录）2025-12-19 13:09 · 评估截至 2026-01-05 00:00 · 评估于 ' in page
        )
        assert 'class="stale"' not in page


def test_reference_unit_report_is_marked_not_graded(rendered):
    text = (rendered.out_dir / "agencies" / "HZ013.html").read_text(encoding="utf-8")
    assert "参照执行、不参与评级" in text and "评分依据" in text and "《惠州市2025年度公共数据管理评估方案》" in text


def test_find_published_picks_the_year(warehouse):
    _, pub = warehouse
    assert data.find_published(pub, 2025).name.startswith("2025-")
    assert data.find_published(pub, 2024).name.startswith("2024-")
    with pytest.raises(data.RunNotFoundError):
        data.find_published(pub, 2019)


def test_agency_data(warehouse):
    _, pub = warehouse
    with data.open_run(pub, 2025) as run:
        head = data.agency_header(run, AGENCY)
        grade = run.con.execute("select total, grade from grades where agency_code = $a", {"a": AGENCY}).fetchall()[0]
        assert (head["total"], head["grade"]) == grade
        ind = data.indicator_table(run, AGENCY)
        assert set(ind["metric_id"]) <= set(METRICS)
        lost = data.lost_by_metric(run, AGENCY)
        assert not lost.is_empty() and (lost["lost"] > 0).all()
        ev = data.lost_points(run, AGENCY)
        assert set(ev["metric_id"]) <= set(lost["metric_id"]) and ev["article"].null_count() == 0
        dims = data.dimension_scores(run, AGENCY)
        assert dims["city_rate"].null_count() == 0
        # the sample's 2024 run is a trial run: no official result to compare with (tests/test_year_change.py)
        assert data.previous_year(run, AGENCY) is None
    with pytest.raises(data.RunNotFoundError):
        with data.open_run(pub, 2025) as run:
            data.agency_header(run, "HZ999")


def test_previous_year_absent_without_a_published_run(warehouse, tmp_path):
    _, pub = warehouse
    only = tmp_path / "published"
    only.mkdir()
    shutil.copy(data.find_published(pub, 2025), only)
    with data.open_run(only, 2025) as run:
        assert data.previous_year(run, AGENCY) is None


def test_table_escapes_input_text():
    import polars as pl

    out = h.table(pl.DataFrame({"n": ["<script>alert(1)</script>"]}), {"n": "名称"})
    assert "<script>" not in out and "&lt;script&gt;" in out


# --------------------------------------------------------------------------- rendered reports


def test_report_folder(rendered):
    out = rendered.out_dir
    assert not rendered.failures
    for rel in (
        "agencies/HZ021.html",
        "agencies/HZ002.html",
        "bulletin.html",
        "gates.html",
        "workbook.xlsx",
        "index.html",
        "manifest.json",
    ):
        assert (out / rel).is_file(), rel
    index = (out / "index.html").read_text(encoding="utf-8")
    for rel in ("agencies/HZ021.html", "bulletin.html", "gates.html", "workbook.xlsx", "manifest.json"):
        assert f'href="{rel}"' in index
    # issue 27: the index said manifest "（未生成）" although the render writes manifest.json after it
    assert "manifest.json）</a>" in index and "manifest.json）<span" not in index


def test_manifest_hashes(rendered):
    out = rendered.out_dir
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["run_id"] == rendered.run_id and m["inputs"]["published_sha256"] and not m["failures"]
    listed = {f["path"]: f["sha256"] for f in m["files"]}
    assert "agencies/HZ021.html" in listed and "workbook.xlsx" in listed
    for rel, digest in listed.items():
        assert sha256_file(out / rel) == digest, rel


def test_html_is_offline_and_without_code(rendered):
    for page in rendered.out_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not EXTERNAL_URL.search(text), (page, EXTERNAL_URL.search(text))
        body = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
        assert "<link" not in body and "input_area" not in body and "InputArea" not in body
        assert "data.open_run" not in text and "import plotly" not in text  # no code shown
        assert len(text) < 500_000  # plotly.js is shared, not inlined
        assert "惠州市公共数据管理年度评估报告" in text


def test_agency_report_works_alone(rendered):
    """Mailed alone, an agency report keeps its charts: inline SVG, no script, no file beside it."""
    text = (rendered.out_dir / "agencies" / f"{AGENCY}.html").read_text(encoding="utf-8")
    assert "<script" not in text and "plotly" not in text.lower()
    assert text.count('class="svgchart"') >= 1 and 'viewbox="' in text.lower()
    assert not list((rendered.out_dir / "agencies").glob("*.js"))


def test_agency_report_content(rendered, warehouse):
    text = (rendered.out_dir / "agencies" / f"{AGENCY}.html").read_text(encoding="utf-8")
    with data.open_run(warehouse[1], 2025) as run:
        head = data.agency_header(run, AGENCY)
    assert head["agency_name"] in text and head["grade"] in text and f"{head['total']:.2f}" in text
    assert rendered.run_id in text and "整改建议" in text and "第十九条" in text
    assert "与上年度比较" in text and "上年无正式结果：2024 年度只有试算结果" in text and "上年度总分" not in text


def test_workbook(rendered, warehouse):
    wb = openpyxl.load_workbook(rendered.out_dir / "workbook.xlsx", read_only=True)
    for sheet in ("总分与等级", "指标得分", "扣分明细", "项目门禁", "督办清单"):
        assert sheet in wb.sheetnames
    ws = wb["总分与等级"]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    by_code = {r[header.index("机构代码")]: r for r in rows[1:]}
    with data.open_run(warehouse[1], 2025) as run:
        total = run.con.execute("select total from grades where agency_code = $a", {"a": AGENCY}).fetchall()[0][0]
        n = run.con.execute("select count(*) from grades").fetchall()[0][0]
    assert by_code[AGENCY][header.index("总分")] == pytest.approx(total)
    assert len(by_code) == n
    wb.close()
    wb = openpyxl.load_workbook(rendered.out_dir / "workbook.xlsx")
    assert wb["扣分明细"].freeze_panes == "A2" and wb["扣分明细"].max_row > 10
    info = {r[0]: r[1] for r in wb["运行信息"].iter_rows(min_row=2, values_only=True)}
    assert info["数据截至（各表最新记录）"] == "2025-12-19 13:09" and info["评估截至"] == "2026-01-05 00:00"
    assert info["时效提示"] == "无"
    # the sample's api_calls.parquet: 20,785 rows, the newest call before the as-of 2026-01-04 23:34
    assert info["数据表 接口调用日志"] == "20,785 行，最新记录 2026-01-04 23:34"


def test_every_workbook_sheet_prints_landscape_one_page_wide_with_its_header_repeated(rendered):
    from hzeval.reports.workbook import SHEETS

    wb = openpyxl.load_workbook(rendered.out_dir / "workbook.xlsx")
    assert tuple(wb.sheetnames) == SHEETS
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and setup.paperSize == 9, ws.title  # 9 = A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        # one page wide (fitToWidth absent is 1, the OOXML default), any number of pages tall
        assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title  # the header row on every printed page
        last = openpyxl.utils.get_column_letter(ws.max_column)
        assert ws.print_area == f"'{ws.title}'!$A$1:${last}${ws.max_row}", ws.title
        assert ws.oddFooter.center.text == "第 &P 页 / 共 &N 页" and ws.oddHeader.left.text == "&A", ws.title


def test_no_raw_names_midnight_deadlines_or_negative_zero(rendered):
    """Every rendered page and every workbook cell reads in the one vocabulary."""
    found = []
    for page in sorted(rendered.out_dir.rglob("*.html")):
        seen = problems(visible_text(page.read_text(encoding="utf-8")), page.name)
        if page.parent.name == "notebooks":
            # the evaluators' analysis notebooks (static gallery) list the input files and tables by
            # name on purpose (drop check, evidence explorer); every other rule holds for them too
            seen = [p for p in seen if ": raw table/column name: " not in p]
        found += seen
    wb = openpyxl.load_workbook(rendered.out_dir / "workbook.xlsx", read_only=True)
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        due = rows[0].index("截止时间") if "截止时间" in rows[0] else None
        for row in rows:
            for v in row:
                if isinstance(v, str):
                    found += problems(v, ws.title)
            if due is not None and row is not rows[0] and row[due] is not None:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2} 24:00", str(row[due])):
                    found.append(f"{ws.title}: deadline {row[due]!r} not written as the end of the day")
    wb.close()
    assert not found, "\n".join(found[:20])


def test_veto_shown_wherever_the_grade_is(rendered, warehouse, tmp_path):
    """HZ009's 数据泄露 on 2025-08-14 (IN-2025-001, sample drop) is named beside its grade in the
    agency report, the bulletin ranking, the index and the workbook."""
    out = rendered.out_dir
    result = render_reports(2025, out=tmp_path, formats=("html",), published=warehouse[1], agency="HZ009", workers=1)
    assert not result.failures
    for page in (result.out_dir / "agencies" / "HZ009.html", out / "bulletin.html"):
        text = visible_text(page.read_text(encoding="utf-8"))
        assert "不合格（一票否决）" in text, page
        assert "2025-08-14" in text and "数据泄露" in text and "IN-2025-001" in text, page
        assert "依据" in text, page
    wb = openpyxl.load_workbook(out / "workbook.xlsx", read_only=True)
    rows = list(wb["总分与等级"].iter_rows(values_only=True))
    header = rows[0]
    hz009 = next(r for r in rows[1:] if r[header.index("机构代码")] == "HZ009")
    assert hz009[header.index("等级")] == "不合格（一票否决）"
    assert "IN-2025-001" in hz009[header.index("一票否决说明")] and "2025-08-14" in hz009[header.index("一票否决说明")]
    # issue 24 item 6: the leak has no deadline, so its time is its own — 发生时间 2025-08-14 22:40 (the
    # incident's occurred_at) — never 办结 or 未办结
    rows = list(wb["扣分明细"].iter_rows(values_only=True))
    header = rows[0]
    leak = next(r for r in rows[1:] if r[header.index("事项编号")] == "IN-2025-001")
    assert leak[header.index("记录时间")] == "发生时间 2025-08-14 22:40" and not leak[header.index("办结时间")]
    wb.close()
    html = (result.out_dir / "agencies" / "HZ009.html").read_text(encoding="utf-8")
    tables = [t.split("</table>")[0] for t in html.split("<table")[1:] if "IN-2025-001" in t.split("</table>")[0]]
    evidence = [t for t in tables if "<th>事项编号</th>" in t]  # the evidence table (the veto note is not one)
    assert len(evidence) == 1, tables
    assert "<th>发生时间</th>" in evidence[0] and "2025-08-14 22:40</td>" in evidence[0]
    assert "办结" not in evidence[0] and "截止时间" not in evidence[0]


def test_workbook_supervision_is_the_cli_list_at_the_run_as_of(rendered, warehouse):
    """督办清单 holds what `hzeval supervise --as-of <run as-of>` lists: every open item, earlier years too."""
    from hzeval.assessment.supervise import supervision_items

    db, _ = warehouse
    with connect(db, read_only=True) as con:
        cli = supervision_items(con, dt.datetime(2026, 1, 5))
    wb = openpyxl.load_workbook(rendered.out_dir / "workbook.xlsx", read_only=True)
    rows = list(wb["督办清单"].iter_rows(values_only=True))
    wb.close()
    header, items = rows[0], rows[1:]
    assert len(items) == cli.height
    states = [r[header.index("状态")] for r in items]
    assert states.count("逾期") == cli.filter(cli["state"] == "逾期").height
    assert sorted(r[header.index("事项编号")] for r in items) == sorted(cli["record_id"])
    # earlier-year items stay on the list (deadlines written "YYYY-MM-DD 24:00")
    deadlines = [r[header.index("截止时间")] for r in items]
    # items whose rule sets no number of days (issue 25: 未告知 notifications, 待核定 one-source conflicts;
    # issue 26: 未回流 backflow requests) are listed with an empty deadline
    no_days = ("未告知", "待核定", "未回流")
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} 24:00", d) for d, s in zip(deadlines, states) if s not in no_days)
    assert all(d is None for d, s in zip(deadlines, states) if s in no_days) and set(states) & set(no_days)
    assert any(d.startswith("2024-") for d in deadlines)


def test_gate_report_labels(rendered):
    text = (rendered.out_dir / "gates.html").read_text(encoding="utf-8")
    assert "未通过（带病验收）" in text
    assert 'class="ok">✔' in text and 'class="no">✘' in text
    assert "white-space: nowrap" in text and 'class="nowrap">未通过' in text


def test_hostile_names_stay_text(warehouse, tmp_path):
    """An agency name with markup and a formula prefix: text in HTML, neutralised in XLSX."""
    _, pub = warehouse
    folder = tmp_path / "published"
    folder.mkdir()
    copy = folder / data.find_published(pub, 2025).name
    shutil.copy(data.find_published(pub, 2025), copy)
    evil = '=<script>alert("x")</script>局'
    con = duckdb.connect(str(copy))
    con.execute("update agencies set agency_name = $n where agency_code = $a", {"n": evil, "a": AGENCY})
    con.close()
    result = render_reports(2025, out=tmp_path / "out", formats=("html", "xlsx"), published=copy, only=[AGENCY])
    assert not result.failures
    for page in (
        result.out_dir / "agencies" / f"{AGENCY}.html",
        result.out_dir / "bulletin.html",
        result.out_dir / "index.html",
    ):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "&lt;script&gt;alert(" in text, page
    ws = openpyxl.load_workbook(result.out_dir / "workbook.xlsx")["总分与等级"]
    cell = next(c for c in ws["D"] if c.value == evil)  # shown as written: no added apostrophe (issue 13)
    assert cell.data_type == "s" and cell.quotePrefix


def test_agency_render_writes_no_city_wide_index(warehouse, tmp_path):
    """Before: ``report --agency HZ101 --out DIR`` wrote an index.html with all 40 agencies' totals,
    grades and ranks into that agency's folder."""
    _, pub = warehouse
    result = render_reports(2025, out=tmp_path, formats=("html",), agency=AGENCY, published=pub, workers=1)
    assert not result.failures
    folder = tmp_path / "2025"
    assert (folder / "agencies" / f"{AGENCY}.html").exists() and (folder / "manifest.json").exists()
    assert not (folder / "index.html").exists()
    listed = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "index.html" not in json.dumps(listed, ensure_ascii=False)


def test_failure_keeps_previous_file_and_exits_nonzero(warehouse, tmp_path, monkeypatch, capsys):
    """A notebook cell that raises: the old HTML stays byte-identical, the error names the cell."""
    _, pub = warehouse
    out = tmp_path / "reports"
    first = render_reports(2025, out=out, formats=("html",), agency=AGENCY, published=pub)
    assert not first.failures
    page = out / "2025" / "agencies" / f"{AGENCY}.html"
    before = page.read_bytes()

    broken = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, broken)
    nb = nbformat.read(broken / "agency_report.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('raise RuntimeError("boom: 整改建议表缺失")'))
    nbformat.write(nb, broken / "agency_report.ipynb")
    monkeypatch.setenv("HZEVAL_NOTEBOOKS", str(broken))

    with pytest.raises(SystemExit) as exit_info:
        cli_main(["report", "--year", "2025", "--agency", AGENCY, "--published", str(pub), "--out", str(out)])
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert "RuntimeError" in err and "boom: 整改建议表缺失" in err
    assert page.read_bytes() == before
    assert not list(page.parent.glob(".*.tmp"))
    manifest = json.loads((out / "2025" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["failures"] and "boom" in manifest["failures"][0]["error"]


@pytest.mark.system("chromium", "fonts", "pdftotext")
def test_pdf_holds_name_and_grade(warehouse, tmp_path):
    _, pub = warehouse
    result = render_reports(2025, out=tmp_path, formats=("html", "pdf"), agency=AGENCY, published=pub)
    assert not result.failures, result.failures
    pdf = tmp_path / "2025" / "agencies" / f"{AGENCY}.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    with data.open_run(pub, 2025) as run:
        head = data.agency_header(run, AGENCY)
    squeezed = re.sub(r"\s+", "", text)
    assert head["agency_name"] in squeezed and head["grade"] in squeezed
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "A4" in info


def _pdf_pages(pdf: Path) -> list[list[str]]:
    """Each page's non-empty lines with the whitespace squeezed out (pdftotext spaces CJK freely)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    pages = []
    for i in range(1, count + 1):
        text = subprocess.run(
            ["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True, text=True
        ).stdout
        pages.append([re.sub(r"\s+", "", line) for line in text.splitlines() if line.strip()])
    return pages


@pytest.mark.system("chromium", "fonts", "pdftotext")
def test_pdf_pages_are_numbered_and_never_end_on_a_lone_heading(warehouse, tmp_path):
    """Issue 27 item 3 on HZ105 (龙门县, the sample report whose page 1 ended on "二、指标得分与计算"
    and its note, the table starting on page 2): every page ends with "第 N 页 / 共 M 页", and no page's
    last line is a heading or a table header row of the report."""
    import html as html_lib

    _, pub = warehouse
    result = render_reports(2025, out=tmp_path, formats=("html", "pdf"), agency="HZ105", published=pub)
    assert not result.failures, result.failures
    pdf = tmp_path / "2025" / "agencies" / "HZ105.pdf"
    src = pdf.with_suffix(".html").read_text(encoding="utf-8")

    def squeeze(fragment: str) -> str:
        return re.sub(r"\s+", "", html_lib.unescape(re.sub(r"<[^>]+>", "", fragment)))

    headings = {squeeze(m) for m in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", src, re.S)}
    headers = {squeeze(m) for m in re.findall(r"<thead>(.*?)</thead>", src, re.S)}
    assert "二、指标得分与计算" in headings and "维度指标实际值达标值起评值满分得分失分说明" in headers
    pages = _pdf_pages(pdf)
    assert len(pages) >= 3
    for number, lines in enumerate(pages, start=1):
        assert lines[-1] == f"第{number}页/共{len(pages)}页", (number, lines[-1:])
        assert lines[-2] not in headings | headers, (number, lines[-2])
    # the heading and its table's header row (first seen: thead repeats on the following pages) share a page
    where: dict[str, int] = {}
    for n, lines in enumerate(pages):
        for text in lines:
            where.setdefault(text, n)
    assert where["二、指标得分与计算"] == where["维度指标实际值达标值起评值满分得分失分说明"]


# --------------------------------------------------------------------------- notebooks


def test_notebooks_have_one_typed_parameters_cell():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path
        assert re.search(r"^year: int = \d{4}$", tagged[0].source, re.M), path
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{path} has outputs"


def test_notebooks_under_nbval(warehouse):
    """Every notebook as committed runs against the sample warehouse's published runs (nbval, current
    env): the report templates and the staff notebooks alike read published copies only."""
    db, pub = warehouse
    env = {**os.environ, "HZEVAL_PUBLISHED": str(pub), "HZEVAL_DB": str(db)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-current-env",
            str(NOTEBOOKS),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    ran = {Path(line.split("::")[0]).stem for line in proc.stdout.splitlines() if "::" in line and "PASSED" in line}
    assert ran == {p.stem for p in NOTEBOOKS.glob("*.ipynb")}, ran  # every notebook, none skipped


# --------------------------------------------------------------------------- scheduled run


def test_run_lock_no_wait(warehouse, tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    with open(f"{db}.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(SystemExit) as exit_info:
            cli_main(
                [
                    "--db",
                    str(db),
                    "run",
                    "--drop",
                    str(ROOT / "data_samples"),
                    "--year",
                    "2025",
                    "--no-wait",
                    "--log-file",
                    str(tmp_path / "run.log"),
                ]
            )
    assert exit_info.value.code == 75
    assert "另一个 hzeval run 正在运行" in capsys.readouterr().err
    assert "run failed" in (tmp_path / "run.log").read_text(encoding="utf-8")
    assert not db.exists()


def test_pdf_preflight_fails_before_rendering_anything(warehouse, tmp_path, monkeypatch):
    """No Chromium (or no CJK font): one clear error at once, and no report folder written."""
    from hzeval.errors import HzevalError
    from hzeval.reports import pdf

    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    with pytest.raises(HzevalError) as err:
        render_reports(2025, out=tmp_path / "out", formats=("html", "pdf"), published=warehouse[1], workers=1)
    assert "Chromium" in err.value.zh and "fonts-noto-cjk" in err.value.zh
    assert not (tmp_path / "out").exists()
    monkeypatch.setattr(pdf, "find_chromium", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(pdf, "cjk_font", lambda: None)
    with pytest.raises(HzevalError, match="中文字体"):
        render_reports(2025, out=tmp_path / "out", formats=("pdf",), published=warehouse[1], workers=1)


def test_report_progress_counts(warehouse, tmp_path, capsys):
    """`hzeval report` prints "n/N" as each report finishes (also when not on a terminal)."""
    db, pub = warehouse
    cli_main(
        [
            "--db",
            str(db),
            "report",
            "--year",
            "2025",
            "--agency",
            AGENCY,
            "--format",
            "html",
            "--out",
            str(tmp_path),
            "--published",
            str(pub),
        ]
    )
    out = capsys.readouterr().out
    # the line names the report where it ends up, not the staging folder it is rendered in
    assert f"1/1 ✔ {tmp_path / '2025' / 'agencies' / AGENCY}.html" in out.replace("\n", "") and ".staging" not in out

"""End to end: the real ``hzeval dashboard`` server, driven by headless Chromium through Playwright.

Screenshots of every page go to tests/artifacts/ (git-ignored). Every request the browser makes
is recorded: nothing may leave the local server (no CDN).
"""

from __future__ import annotations

import secrets
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from dashboard_support import (  # noqa: F401 - fixtures
    ARTIFACTS,
    CLIPPED,
    DEEP_TEXT,
    HEADING_AT,
    OTHER,
    OWN,
    PASSWORDS,
    PHONE,
    PHONE_WIDTHS,
    VISIBLE_SLIDE,
    browser,
    dashboard_server,
    deep_text,
    needs_chromium,
    published,
)

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(published):
    folder, users, db = published
    with dashboard_server(db, users, {"HZEVAL_COOKIE_SECRET": secrets.token_hex(32)}) as url:
        yield url


@pytest.fixture(scope="module")
def agency_names(published):
    import duckdb

    con = duckdb.connect(str(published[2]), read_only=True)
    names = dict(con.execute("select agency_code, agency_name from agencies").fetchall())
    con.close()
    return names


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = ctx.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    yield pg
    outside = sorted({u for u in pg.requests if not (u.startswith(server) or u.startswith(("blob:", "data:")))})
    ctx.close()
    assert not outside, f"requests left the local server: {outside}"


def login(page, server, user, next_path="/"):
    page.goto(server + next_path)
    page.wait_for_selector("#username")
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("#login-submit")


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def text(page) -> str:
    return deep_text(page)


def go_to(page, label):
    page.locator(".hz-pages button", has_text=label).first.click()


# --------------------------------------------------------------------------- tests


def test_login_page_blocks_data(server, agency_names, page):
    for path in ("/", "/?page=机构详情&agency=HZ101", "/autoload.js", "/ws"):
        try:
            with urllib.request.urlopen(server + urllib.parse.quote(path, safe="/?=&"), timeout=10) as r:
                body = r.read().decode("utf-8", "replace")
                final = r.geturl()
        except urllib.error.HTTPError as exc:
            body, final = exc.read().decode("utf-8", "replace"), path
            assert exc.code in (302, 401, 403, 404, 400), (path, exc.code)
        if "/login" in final:
            assert "登录" in body
        for name in agency_names.values():
            assert name not in body, (path, name)
        for code in agency_names:
            assert code not in body or code in path, (path, code)  # the login page echoes only ?next=
    # a wrong password keeps the login page, with an error and no data
    page.goto(server + "/login")
    page.fill("#username", "boss")
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    page.wait_for_selector("#login-error")
    assert "用户名或密码错误" in page.inner_text("#login-error")
    shot(page, "00_login")
    assert not any(n in page.content() for n in agency_names.values())


def test_leader_sees_every_agency_and_drills_down(server, agency_names, page, published):
    from hzeval.dashboard.store import Store, User

    graded = Store(published[0], User("t", "leader")).grades(Store(published[0], User("t", "leader")).latest_run_id())
    login(page, server, "boss")
    page.wait_for_selector(".hz-heatmap .main-svg", timeout=30_000)
    page.wait_for_selector(".hz-ranking .tabulator-row", timeout=30_000)
    shot(page, "01_overview")
    body = text(page)
    for name in graded["agency_name"]:
        assert name in body, name
    assert "逾期事项（截至" in body and "县区排名" in body and "一票否决" in body
    # drill down: click an agency in the ranking
    target = graded.filter(graded["agency_code"] == OTHER)["agency_name"][0]
    page.locator(".hz-ranking .tabulator-cell", has_text=target).first.click()
    page.wait_for_selector(f".hz-agency-head:has-text('{OTHER}')", timeout=15_000)
    page.wait_for_selector(".hz-evidence .tabulator-row", timeout=15_000)
    assert target in text(page)
    assert f"agency={OTHER}" in page.url
    shot(page, "02_agency_detail")
    for label, sel, name in (
        ("督办", ".hz-supervision .tabulator-row", "03_supervision"),
        ("项目门禁", ".hz-gates .tabulator-row", "04_gates"),
        ("方案模拟", ".hz-whatif-summary", "05_whatif"),
    ):
        go_to(page, label)
        page.wait_for_selector(sel, timeout=15_000)
        shot(page, name)


def test_agency_user_sees_only_its_own_agency(server, agency_names, page):
    others = [n for c, n in agency_names.items() if c != OWN]
    # asks for another agency's page by URL before logging in, and after
    login(page, server, "hz101", f"/?page=机构详情&agency={OTHER}")
    page.wait_for_selector(".hz-agency-head", timeout=30_000)
    body = text(page)
    assert agency_names[OWN] in body
    leaked = [n for n in others if n in body]
    assert not leaked, leaked
    shot(page, "06_agency_user")
    for url in (f"/?page=机构详情&agency={OTHER}", "/?page=总览", "/?page=方案模拟"):
        page.goto(server + url)
        page.wait_for_selector(".hz-main", timeout=30_000)
        page.wait_for_timeout(800)
        body = text(page)
        assert not [n for n in others if n in body], url
        assert "方案模拟" not in body and "县区排名" not in body
    # the widget offers only its own agency
    options = page.locator(".hz-agency select option").all_inner_texts()
    assert len(options) == 1 and OWN in options[0]
    # 督办 for an agency user: own items only
    go_to(page, "督办")
    page.wait_for_selector(".hz-sup-summary", timeout=15_000)
    page.wait_for_timeout(500)
    assert not [n for n in others if n in text(page)]


def test_whatif_changes_a_grade_when_a_weight_changes(server, page):
    login(page, server, "boss", "/?page=方案模拟")
    page.wait_for_selector(".hz-whatif-summary:has-text('等级变化')", timeout=30_000)
    assert "等级变化 0 家" in text(page)
    box = page.locator(".hz-weight-2 input").first  # 共享服务
    box.fill("80")
    box.press("Enter")
    page.wait_for_function(f"() => !({DEEP_TEXT})().includes('等级变化 0 家')", timeout=15_000)
    body = text(page)
    assert "等级变化" in body and "等级变化 0 家" not in body
    shot(page, "07_whatif_changed")


def test_evaluator_can_download_evidence(server, page):
    login(page, server, "eva", f"/?page=机构详情&agency={OTHER}")
    page.wait_for_selector(".hz-evidence-download", timeout=30_000)
    with page.expect_download() as dl:
        page.locator(".hz-evidence-download button, .hz-evidence-download a").first.click()
    data = Path(dl.value.path()).read_bytes().decode("utf-8-sig")
    assert data.splitlines()[0].startswith("指标,条款,机构代码")
    assert all(OTHER in line for line in data.splitlines()[1:])


def test_phone_gets_a_phone_layout(server, browser):
    """On an emulated iPhone 13 (390 px, device scale 3, touch): the login page and every page the
    leader opens have the viewport meta and no sideways scroll of the page (wide tables scroll in
    their own box); the 得分 column of the indicator table is on screen beside the pinned 指标."""
    ctx = browser.new_context(**PHONE, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(server + "/login")
        assert page.evaluate(PHONE_WIDTHS) == [390, 390, True]
        login(page, server, "boss")
        page.wait_for_selector(".hz-ranking .tabulator-row", timeout=30_000)
        page.wait_for_timeout(1000)
        assert page.evaluate(PHONE_WIDTHS) == [390, 390, True]
        for path, sel in (
            ("/?page=督办", ".hz-supervision .tabulator-row"),
            ("/?page=项目门禁", ".hz-gates .tabulator-row"),
            (f"/?page=机构详情&agency={OTHER}", ".hz-indicators .tabulator-row"),
        ):
            page.goto(server + path)
            page.wait_for_selector(sel, timeout=30_000)
            page.wait_for_timeout(800)
            width, inner, meta = page.evaluate(PHONE_WIDTHS)
            assert meta and width <= inner == 390, (path, width)
        left, right = page.evaluate(HEADING_AT, "得分")
        assert 0 <= left and right <= 390, (left, right)
        shot(page, "10_phone_agency")
    finally:
        ctx.close()


#: the run selector's chosen label as drawn (px, by the select's own font) and the room for it
RUN_LABEL_FITS = """() => { let sel = null;
  const walk = (n, inRun) => { if (n.shadowRoot) walk(n.shadowRoot, inRun);
    for (const c of n.children || []) {
      const here = inRun || (c.classList && c.classList.contains('hz-run'));
      if (!sel && here && c.tagName === 'SELECT') sel = c;
      walk(c, here); } };
  walk(document.body, false);
  const st = getComputedStyle(sel); const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = st.font; const text = sel.options[sel.selectedIndex].text;
  return [ctx.measureText(text).width,
          sel.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight)]; }"""


def test_nothing_clipped_at_1440(server, browser):
    """At 1440 px no table cell or heading ends in "…": 督办 ids ("BC20240054-HZ007-R001") and
    dates whole, headings wrap, numbers whole; the gates page names each failing resource beside
    its id (the sample's XM-E01 misses HZ007-R001, 商品房预售统计数据)."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    try:
        login(page, server, "boss")
        page.wait_for_selector(".hz-ranking .tabulator-row", timeout=30_000)
        for path, sel in (
            ("/", ".hz-ranking .tabulator-row"),
            ("/?page=督办", ".hz-supervision .tabulator-row"),
            ("/?page=项目门禁", ".hz-gates .tabulator-row"),
            (f"/?page=机构详情&agency={OTHER}", ".hz-evidence .tabulator-row"),
        ):
            page.goto(server + path)
            page.wait_for_selector(sel, timeout=30_000)
            page.wait_for_timeout(800)
            clipped = page.evaluate(CLIPPED)
            assert clipped == [], (path, clipped)
            assert page.evaluate("() => document.scrollingElement.scrollWidth <= innerWidth"), path
            # the run selector's label is whole: its text is narrower than the box (less the arrow)
            text_px, box_px = page.evaluate(RUN_LABEL_FITS)
            assert text_px <= box_px, (text_px, box_px)
            if path == "/?page=项目门禁":
                assert "HZ007-R001（商品房预售统计数据）" in text(page)
    finally:
        ctx.close()


def test_wall_mode_rotates_live(server, browser):
    """``/?mode=wall&interval=2`` at 1920×1080: the 大屏 fills the screen without scrolling, shows
    the city's KPIs first (the sample's 2025 run: 优秀 14 家, 不合格 12 家) and turns to the next
    slide after the interval (2 s here; 20 s by default)."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = ctx.new_page()
    try:
        login(page, server, "boss", "/?mode=wall&interval=2")
        page.wait_for_selector(".hz-wall .w-slide", timeout=30_000)
        first = page.evaluate(VISIBLE_SLIDE)
        assert len(first) == 1, first
        body = text(page)
        assert "全市概况" in body and "14 家" in body and "12 家" in body and "项目门禁" in body
        assert page.evaluate(
            "() => [document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]"
        ) == [
            1920,
            1080,
        ]
        page.wait_for_function(f"() => ({VISIBLE_SLIDE})().join() !== {first[0]!r}", timeout=8_000)
        second = page.evaluate(VISIBLE_SLIDE)
        assert len(second) == 1 and second != first, (first, second)
        page.wait_for_function(f"() => ({VISIBLE_SLIDE})().join() === '0'", timeout=15_000)  # round again
        shot(page, "11_wall")
    finally:
        ctx.close()


def test_wall_mode_is_not_for_an_agency_user(server, page):
    """An agency user asking for the wall gets its own pages (the wall shows the whole city)."""
    login(page, server, "hz101", "/?mode=wall")
    page.wait_for_selector(".hz-pages", timeout=30_000)
    assert "全市概况" not in text(page)


@needs_chromium
def test_live_page_prints_without_sidebar_and_with_whole_tables(server, agency_names, page):
    """Issue 27 item 3: the 总览 page printed (打印本页 / Ctrl+P fire ``beforeprint``, then print media) has no
    sidebar or header, and its ranking prints every graded and reference agency as a plain table."""
    login(page, server, "boss")
    page.wait_for_selector(".hz-ranking .tabulator-row", timeout=60_000)
    assert page.locator("#sidebar").is_visible() and page.locator(".hz-print").is_visible()
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.emulate_media(media="print")
    assert not page.locator("#sidebar").is_visible() and not page.locator("#header").is_visible()
    printed = page.locator(".hz-ranking .tabulator-print-table tbody tr")
    assert printed.count() == 40  # 优秀 14 + 良好 4 + 合格 8 + 不合格 12 + 参照执行 2, none in a scroll box
    assert printed.last.bounding_box()["height"] > 0  # laid out, not clipped away
    shot(page, "27_print_overview")

"""Assembles the dashboard: template, page routing by role, run selector, URL parameters; and serving.

``Dashboard(store)`` is the whole app for one user and can be built without a server; ``serve``
runs it behind the login of :mod:`hzeval.dashboard.auth`.
URL parameters ``?page=机构详情&agency=HZ101&run=<run_id>`` open a page directly; what a user
may see is still decided by the store.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import panel as pn

from hzeval.dashboard import views
from hzeval.dashboard.store import Store, User

log = logging.getLogger(__name__)

TITLE = "惠州市公共数据管理评估 · 领导驾驶舱"
ROLE_ZH = {"leader": "领导", "evaluator": "评估人员"}


class Dashboard:
    def __init__(self, store: Store, args: dict[str, str] | None = None, now: dt.datetime | None = None):
        args = args or {}
        self.store = store
        self.now = now
        self.pages = views.pages_for(store)
        labels = store.run_labels()
        run = args.get("run") if args.get("run") in labels.values() else store.latest_run_id()
        self.run_select = pn.widgets.Select(label="评估运行", options=labels, value=run, css_classes=["hz-run"])
        page = args.get("page") if args.get("page") in self.pages else self.pages[0]
        self.page_select = pn.widgets.RadioButtonGroup(
            label="页面", options=list(self.pages), value=page, orientation="vertical", button_type="primary",
            button_style="outline", css_classes=["hz-pages"], sizing_mode="stretch_width")
        options = store.agency_options(run) if run else {}
        wanted = args.get("agency")
        agency = wanted if wanted in options.values() else (next(iter(options.values()), None))
        self.agency_select = pn.widgets.Select(label="机构", options=options, value=agency, css_classes=["hz-agency"])
        self.main = pn.Column(sizing_mode="stretch_width", css_classes=["hz-main"])
        self.run_select.param.watch(self._on_run, "value")
        self.page_select.param.watch(self.render, "value")
        self.agency_select.param.watch(self.render, "value")
        self.render()

    # ---- navigation

    def _on_run(self, *_):
        options = self.store.agency_options(self.run_select.value)
        current = self.agency_select.value
        self.agency_select.options = options
        self.agency_select.value = current if current in options.values() else next(iter(options.values()), None)
        self.render()

    def show_agency(self, code: str) -> None:
        """Drill down: open 机构详情 for ``code`` (only codes the store offers this user)."""
        if code in self.agency_select.options.values():
            with pn.io.hold():
                self.agency_select.param.update(value=code)
                self.page_select.param.update(value="机构详情")

    def page(self, name: str):
        run = self.run_select.value
        if run is None:
            return views.empty_note("尚无已发布的评估运行：请先运行 hzeval assess（或 make demo）。")
        if name == "总览":
            return views.overview_page(self.store, run, on_agency=self.show_agency, now=self.now)
        if name == "机构详情":
            return views.agency_page(self.store, run, self.agency_select.value)
        if name == "督办":
            return views.supervision_page(self.store, self.store.agency_options(run), now=self.now)
        if name == "项目门禁":
            return views.gates_page(self.store, run)
        if name == "方案模拟":
            return views.whatif_page(self.store, run)
        return views.empty_note()

    def render(self, *_):
        name = self.page_select.value
        self.agency_select.visible = name == "机构详情"
        try:
            content = self.page(name)
        except Exception as exc:  # noqa: BLE001 - a page error must not take down the session
            log.exception("page %s failed", name)
            content = pn.pane.Alert(f"页面加载失败：{exc}", alert_type="danger")
        self.main.objects = [content]
        if pn.state.location is not None:
            query = {"page": name, "run": self.run_select.value}
            if name == "机构详情" and self.agency_select.value:
                query["agency"] = self.agency_select.value
            pn.state.location.search = "?" + "&".join(f"{k}={v}" for k, v in query.items() if v)

    # ---- layout

    def sidebar(self) -> list:
        u = self.store.user
        role = ROLE_ZH.get(u.role) or f"机构用户（{u.scope}）"
        return [
            pn.pane.Markdown(f"**{u.name}**（{role}）  \n[退出登录](/logout)", css_classes=["hz-user"]),
            self.run_select, self.page_select, self.agency_select,
        ]

    def template(self):
        return pn.template.BootstrapTemplate(
            title=TITLE, sidebar=self.sidebar(), main=[self.main], header_background="#1f3b63",
            sidebar_width=300,
        )


def session_args() -> dict[str, str]:
    out = {}
    for k, v in (pn.state.session_args or {}).items():
        if v:
            raw = v[0]
            out[k] = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return out


def app_factory(folder: Path, users_file: Path):
    """A Panel app function: one :class:`Dashboard` per browser session, for the logged-in user."""
    from hzeval.dashboard.auth import COOKIE_DAYS, lookup

    def create():
        from tornado.web import decode_signed_value

        from panel.config import config

        raw = (pn.state.cookies or {}).get("user")
        name = decode_signed_value(config.cookie_secret, "user", raw, max_age_days=COOKIE_DAYS) if raw else None
        user = lookup(users_file, name.decode("utf-8") if name else None)
        if user is None:  # no valid login: nothing but a pointer to the login page
            return pn.pane.Markdown("请先[登录](/login)。")
        return Dashboard(Store(folder, user), session_args()).template()

    return create


def serve(folder: Path, users_file: Path, port: int = 5006, address: str = "127.0.0.1",
          allow_origin: tuple[str, ...] = (), show: bool = False, threaded: bool = False):
    """Serve the dashboard (blocking unless ``threaded``) behind the login page."""
    from hzeval.dashboard.auth import cookie_secret, make_provider

    secret = cookie_secret()
    origins = list(allow_origin) or [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    pn.extension("plotly", "tabulator")
    return pn.serve(
        {"/": app_factory(Path(folder), Path(users_file))},
        port=port, address=address, websocket_origin=origins, show=show, threaded=threaded,
        title=TITLE, cookie_secret=secret, auth_provider=make_provider(users_file),
        start=True,
    )

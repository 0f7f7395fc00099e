"""Assembles the dashboard: template, page routing by role, run selector, URL parameters; and serving.

``Dashboard(store)`` is the whole app for one user and can be built without a server; ``serve``
runs it behind the login of :mod:`hzeval.dashboard.auth`: signed Bokeh sessions, each bound to the
user who opened it, re-checked against the users file every ``RECHECK_SECONDS`` and closed when
that user logged out, was removed or got another role.
URL parameters ``?page=机构详情&agency=HZ101&run=<run_id>`` open a page directly; what a user
may see is still decided by the store. ``?mode=wall`` (``&interval=<seconds>``) is the 大屏 of the
latest published run (:class:`~hzeval.dashboard.views.WallPage`), redrawn when a newer run is published.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import panel as pn

from hzeval.dashboard import auth, views
from hzeval.dashboard.store import Store
from hzeval.util.escape import markdown_text

log = logging.getLogger(__name__)

TITLE = "惠州市公共数据管理评估 · 领导驾驶舱"
ROLE_ZH = {"leader": "领导", "evaluator": "评估人员"}


class Dashboard:
    def __init__(
        self,
        store: Store,
        args: dict[str, str] | None = None,
        now: dt.datetime | None = None,
        logout_csrf: str | None = None,
    ):
        args = args or {}
        self.store = store
        self.now = now
        self.logout_csrf = logout_csrf
        self.closed = False
        self.pages = views.pages_for(store)
        labels = store.run_labels()
        run = args.get("run") if args.get("run") in labels.values() else store.latest_run_id()
        self.run_select = pn.widgets.Select(label="评估运行", options=labels, value=run, css_classes=["hz-run"])
        page = args.get("page") if args.get("page") in self.pages else self.pages[0]
        self.page_select = pn.widgets.RadioButtonGroup(
            label="页面",
            options=list(self.pages),
            value=page,
            orientation="vertical",
            button_type="primary",
            button_style="outline",
            css_classes=["hz-pages"],
            sizing_mode="stretch_width",
        )
        options = store.agency_options(run) if run else {}
        wanted = args.get("agency")
        agency = wanted if wanted in options.values() else (next(iter(options.values()), None))
        self.agency_select = pn.widgets.Select(label="机构", options=options, value=agency, css_classes=["hz-agency"])
        #: the 督办 agency filter: from ?agency= on the 督办 page, kept while the leader visits other pages
        self.sup_agency = (args.get("agency") or "") if page == "督办" else ""
        self.main = pn.Column(sizing_mode="stretch_width", css_classes=["hz-main"])
        #: above every page: the 试算 banner while the chosen run is a trial run (DESIGN §7a)
        self.banner = pn.Column(sizing_mode="stretch_width", css_classes=["hz-banner"])
        self.run_select.param.watch(self._on_run, "value")
        self.page_select.param.watch(self.render, "value")
        self.agency_select.param.watch(self.render, "value")
        self.render()

    # ---- navigation

    def _on_run(self, *_):
        if self.closed:
            return
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
            return views.supervision_page(
                self.store,
                self.store.agency_options(run),
                now=self.now,
                run_id=run,
                agency=self.sup_agency,
                on_agency=self._on_sup_agency,
            )
        if name == "项目门禁":
            return views.gates_page(self.store, run)
        if name == "方案模拟":
            return views.whatif_page(self.store, run)
        return views.empty_note()

    def render(self, *_):
        if self.closed:
            return
        name = self.page_select.value
        self.agency_select.visible = name == "机构详情"
        try:
            content = self.page(name)
        except Exception as exc:  # noqa: BLE001 - a page error must not take down the session
            log.exception("page %s failed", name)
            content = pn.pane.Alert(f"页面加载失败：{markdown_text(exc)}", alert_type="danger")
        try:
            run = self.run_select.value
            banners = [views.run_header(self.store, run), views.trial_banner(self.store, run)] if run else []
        except Exception:  # noqa: BLE001 - the page itself says what failed
            banners = []
        self.banner.objects = [b for b in banners if b is not None]
        self.main.objects = [content]
        self._sync_url()

    def _on_sup_agency(self, code: str) -> None:
        self.sup_agency = code or ""
        self._sync_url()

    def query(self) -> dict[str, str]:
        """The URL parameters of what is shown (a leader can send the link): page, run and the agency
        of 机构详情 or the 督办 filter."""
        name = self.page_select.value
        query = {"page": name, "run": self.run_select.value}
        if name == "机构详情" and self.agency_select.value:
            query["agency"] = self.agency_select.value
        if name == "督办" and self.sup_agency:
            query["agency"] = self.sup_agency
        return {k: v for k, v in query.items() if v}

    def _sync_url(self) -> None:
        if pn.state.location is not None:
            pn.state.location.search = "?" + urlencode(self.query())

    # ---- layout

    def sidebar(self) -> list:
        u = self.store.user
        role = ROLE_ZH.get(u.role) or f"机构用户（{markdown_text(u.scope)}）"
        out: list[pn.viewable.Viewable] = [
            pn.pane.Markdown(f"**{markdown_text(u.name)}**（{role}）", css_classes=["hz-user"])
        ]
        if self.logout_csrf:  # logout is a POST with a token, never a link
            out.append(pn.pane.HTML(auth.logout_form(self.logout_csrf), css_classes=["hz-logout"]))
        return [*out, self.run_select, self.page_select, self.agency_select, views.print_button()]

    def close(self, reason: str) -> None:
        """End this session's view: no data stays on the page, no widget answers any more."""
        self.closed = True
        self.banner.objects = []
        self.main.objects = [pn.pane.Alert(reason, alert_type="warning", css_classes=["hz-closed"])]
        for w in (self.run_select, self.agency_select):
            w.options = {}
            w.disabled = True
        self.page_select.disabled = True

    def template(self):
        return pn.template.BootstrapTemplate(
            title=TITLE,
            sidebar=self.sidebar(),
            main=[self.banner, self.main],
            header_background="#1f3b63",
            sidebar_width=300,  # the run selector's label whole ("2025 年度 · 试算 · 截至 2026-01-05")
            raw_css=[views.PAGE_CSS, views.PRINT_CSS],
            meta_viewport=views.VIEWPORT,
        )


def session_args() -> dict[str, str]:
    out = {}
    for k, v in (pn.state.session_args or {}).items():
        if v:
            raw = v[0]
            out[k] = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return out


CLOSED_ZH = "登录已失效（已退出登录、用户已删除或角色已变更），请重新登录。"


def _drop_connections(session) -> None:
    """Close every websocket of a Bokeh server session (a client ignoring the redirect is cut off)."""
    for conn in list(getattr(session, "_subscribed_connections", ()) or ()):
        try:
            conn._socket.close()
        except Exception:  # noqa: BLE001 - already gone
            log.debug("closing a connection failed", exc_info=True)


def _recheck(dash: Dashboard | views.WallPage, current_user, holder: dict) -> None:
    """Periodic: close the session when its login no longer holds (logout, removal, role change)."""
    try:
        ok = current_user() == dash.store.user
    except Exception:  # noqa: BLE001 - an unreadable users file closes sessions rather than keep them
        log.exception("re-checking a dashboard session failed")
        ok = False
    if ok or dash.closed:
        return
    log.info("closing dashboard session of %r: login no longer valid", dash.store.user.name)
    if holder.get("callback") is not None:
        holder["callback"].stop()
    if pn.state.location is not None:  # the browser goes to the login page
        pn.state.location.param.update(pathname="/login", search="", hash="", reload=True)
    try:
        dash.close(CLOSED_ZH)
    except Exception:  # noqa: BLE001 - the connections are dropped below in any case
        log.exception("clearing a closed dashboard session failed")
    doc = pn.state.curdoc
    session = getattr(getattr(doc, "session_context", None), "session", None)
    if doc is not None and session is not None:
        doc.add_timeout_callback(partial(_drop_connections, session), 1500)


def app_factory(folder: Path, users_file: Path, secret: str | None = None, recheck: float | None = None):
    """A Panel app function: one :class:`Dashboard` per browser session, for the logged-in user;
    the session is bound to that user and re-checked every ``recheck`` seconds."""
    secret = secret or auth.cookie_secret(users_file)
    recheck = recheck or auth.RECHECK_SECONDS

    def create():
        doc = pn.state.curdoc
        context = getattr(doc, "session_context", None)
        sid = getattr(context, "id", None)
        # the token carries no cookie: the login is the token's signed claim (auth.claim_handler)
        claim = _token_payload(context).get(auth.CLAIM_KEY)
        user = auth.claim_identity(users_file, claim)
        if user is None or (sid is not None and not auth.OWNERS.bind(sid, user.name)):
            return pn.pane.HTML('请先<a href="/login">登录</a>。')  # no valid login: nothing but a pointer
        if sid is not None:
            doc.on_session_destroyed(lambda ctx: auth.OWNERS.release(ctx.id))
        logout_csrf = auth.logout_csrf_token(secret, claim["login"])
        args = session_args()
        holder: dict = {}
        current_user = partial(auth.claim_identity, users_file, claim)
        if args.get("mode") == "wall" and not user.is_agency:  # 大屏: the city's figures, for leaders and evaluators
            wall = views.WallPage(Store(folder, user), views.wall_interval(args.get("interval")))
            holder["callback"] = pn.state.add_periodic_callback(
                partial(_recheck, wall, current_user, holder), period=int(recheck * 1000)
            )
            pn.state.add_periodic_callback(wall.refresh, period=views.WALL_POLL * 1000)
            return pn.Column(wall.pane, sizing_mode="stretch_width", margin=0, css_classes=["hz-wall-root"])
        dash = Dashboard(Store(folder, user), args, logout_csrf=logout_csrf)
        holder["callback"] = pn.state.add_periodic_callback(
            partial(_recheck, dash, current_user, holder), period=int(recheck * 1000)
        )
        return dash.template()

    return create


def _token_payload(context) -> dict:
    try:
        payload = context.token_payload if context is not None else {}
    except Exception:  # noqa: BLE001 - no token (a document built without a server): no login
        return {}
    return payload if isinstance(payload, dict) else {}


def application(folder: Path, users_file: Path, secret: str):
    """The dashboard as a Bokeh application whose session tokens carry the login claim."""
    from panel.io.application import build_applications

    app = build_applications({"/": app_factory(Path(folder), Path(users_file), secret)}, title=TITLE)["/"]
    app.add(auth.claim_handler(secret))
    return app


def serve(
    folder: Path,
    users_file: Path,
    port: int = 5006,
    address: str = "127.0.0.1",
    allow_origin: tuple[str, ...] = (),
    show: bool = False,
    threaded: bool = False,
    secure_cookies: bool = False,
):
    """Serve the dashboard (blocking unless ``threaded``) behind the login page, with signed
    session ids (a session id the server did not issue is refused) and session tokens carrying
    no cookie and no ``Cookie`` header (the HttpOnly login cookie stays out of the page)."""
    secret = auth.cookie_secret(users_file)
    origins = list(allow_origin) or [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    pn.extension("plotly", "tabulator")
    return pn.serve(
        {"/": application(Path(folder), Path(users_file), secret)},
        port=port,
        address=address,
        websocket_origin=origins,
        show=show,
        threaded=threaded,
        title=TITLE,
        cookie_secret=secret,
        auth_provider=auth.make_provider(users_file, secret=secret, secure_cookies=secure_cookies),
        include_cookies=[],
        exclude_headers=["Cookie"],
        secret_key=auth.session_key(secret),
        sign_sessions=True,
        generate_session_ids=True,
        start=True,
    )

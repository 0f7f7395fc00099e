"""Deterministic generator of a plausible Huizhou sample drop (DESIGN §3).

``generate(seed, scale)`` builds every input table of :mod:`hzeval.contract` as typed
polars frames; ``write_drop`` writes them as files. The same seed gives byte-identical
files. ``--committed`` writes the mixed-format drop kept in ``data_samples/`` (GB18030,
UTF-8 with BOM, XLSX, Parquet, JSON Lines, varied time formats, English vocabulary
aliases and a few deliberately bad rows); otherwise every table is written in one format
(Parquet by default, ``csv`` or ``gbk``) for benchmarks.

Each agency gets a diligence profile (``PROFILES``) whose probability drives every kind of
violation charged to it, so that the graded agencies spread over the grade bands. A set of
hand-placed records (ids containing ``-E``) sits on holiday edges (2025 国庆 with its
调休 Sunday 09-28 and Saturday 10-11, 2026 元旦 with its working Sunday 01-04) and on the
as-of edge (open items at 2026-01-05, pending vs late).

    python -m hzeval.samples --out DIR --scale N --seed S [--committed] [--format parquet|csv|gbk]
    python -m hzeval.samples --out DIR --size M|L        # benchmark drops (city / province)

Named sizes (``SIZES``, used by ``benchmarks/``) widen the world beyond ``scale``: more
resources per agency, more share applications and API calls per grant, only the last 12
monthly snapshots, and for L the log tables (``aggregation_log``, ``api_calls``) ten times
denser, generated and written chunk by chunk (``api_calls_000.parquet`` ...) so memory stays
bounded. Without a size the generator is exactly what it was (the committed drop is unchanged).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from hzeval.contract import TABLES
from hzeval.store.calendar import build as build_calendar

YEARS = (2024, 2025)
AS_OF = dt.datetime(2026, 1, 5)
DEFAULT_SEED = 20260105
#: nothing in the drop happens at or after this instant (the export was taken on 2026-01-05 00:00)
CUTOFF = np.datetime64("2026-01-04T23:59:00", "s")
Y0 = np.datetime64("2024-01-01", "D")
Y_END = np.datetime64("2025-12-31", "D")

#: profile -> (base violation probability, label)
PROFILES = {
    "diligent": 0.015,
    "good": 0.05,
    "average": 0.11,
    "negligent": 0.30,
    "very_negligent": 0.65,
}

AUTHORITY = "HZ001"
#: 县区 authorities (第十一、十二条 本级): agencies of their region answer to them; other regions have none
COUNTY_AUTHORITIES = {"HZ120": "惠城区"}
#: 参照执行 units: a 中央驻惠单位 and a 事业单位
REFERENCE_UNITS = ("HZ013", "HZ029")
#: agencies with an empty catalogue (no resource ever published); HZ028 still files its plan and does its checks
NO_CATALOGUE = ("HZ028", "HZ120")
#: agencies that have not submitted a 采集清单 (collection list) to the authority
NO_COLLECTION_LIST = ("HZ018", "HZ025", "HZ104", "HZ114")
VETO_AGENCY = "HZ009"  # 数据泄露 in 2025
LEAK_2024_AGENCY = "HZ007"  # 数据泄露 in 2024 (not the assessment year of the demo)

# code, name, level, region, profile, domain nouns (resource names = noun + kind)
AGENCIES: list[tuple[str, str, str, str, str, tuple[str, ...]]] = [
    ("HZ001", "惠州市政务服务数据管理局", "市级", "惠州市", "average", ("政务服务事项", "电子证照目录")),
    (
        "HZ002",
        "惠州市公安局",
        "市级",
        "惠州市",
        "diligent",
        ("户籍人口", "居民身份证", "机动车驾驶人", "流动人口居住登记"),
    ),
    ("HZ003", "惠州市市场监督管理局", "市级", "惠州市", "diligent", ("市场主体登记", "食品经营许可", "特种设备")),
    ("HZ004", "惠州市人力资源和社会保障局", "市级", "惠州市", "diligent", ("社会保险参保", "就业登记", "职业技能证书")),
    ("HZ005", "惠州市自然资源局", "市级", "惠州市", "good", ("不动产登记", "国土空间规划", "建设用地审批")),
    ("HZ006", "惠州市生态环境局", "市级", "惠州市", "average", ("排污许可", "环境质量监测", "建设项目环评")),
    (
        "HZ007",
        "惠州市住房和城乡建设局",
        "市级",
        "惠州市",
        "negligent",
        ("商品房预售", "建筑企业资质", "住房公积金缴存"),
    ),
    ("HZ008", "惠州市交通运输局", "市级", "惠州市", "average", ("道路运输经营许可", "公交线路", "网约车驾驶员")),
    ("HZ009", "惠州市卫生健康局", "市级", "惠州市", "diligent", ("医疗机构执业", "出生医学证明", "预防接种")),
    ("HZ010", "惠州市教育局", "市级", "惠州市", "average", ("中小学学籍", "教师资格", "民办学校办学许可")),
    ("HZ011", "惠州市民政局", "市级", "惠州市", "diligent", ("婚姻登记", "社会组织登记", "最低生活保障")),
    ("HZ012", "惠州市财政局", "市级", "惠州市", "good", ("预算执行", "政府采购", "非税收入")),
    ("HZ013", "国家税务总局惠州市税务局", "市级", "惠州市", "good", ("纳税人登记", "纳税信用等级", "发票开具")),
    ("HZ014", "惠州市医疗保障局", "市级", "惠州市", "diligent", ("医保参保", "医保结算", "定点医药机构")),
    ("HZ015", "惠州市农业农村局", "市级", "惠州市", "average", ("农村土地承包", "农药经营许可", "渔船登记")),
    ("HZ016", "惠州市水务局", "市级", "惠州市", "negligent", ("取水许可", "河湖名录", "水文监测")),
    ("HZ017", "惠州市应急管理局", "市级", "惠州市", "average", ("危险化学品经营许可", "安全生产执法", "应急物资储备")),
    ("HZ018", "惠州市文化广电旅游体育局", "市级", "惠州市", "negligent", ("旅行社许可", "文物保护单位", "体育场馆")),
    ("HZ019", "惠州市商务局", "市级", "惠州市", "average", ("对外贸易经营者备案", "成品油零售许可")),
    ("HZ020", "惠州市司法局", "市级", "惠州市", "diligent", ("律师执业", "公证机构", "人民调解")),
    (
        "HZ021",
        "惠州市城市管理和综合执法局",
        "市级",
        "惠州市",
        "negligent",
        ("户外广告设置", "城市道路占用", "燃气经营许可"),
    ),
    ("HZ022", "惠州市发展和改革局", "市级", "惠州市", "good", ("固定资产投资项目", "公共信用信息", "价格监测")),
    ("HZ023", "惠州市工业和信息化局", "市级", "惠州市", "average", ("规上工业企业", "专精特新企业")),
    ("HZ024", "惠州市科学技术局", "市级", "惠州市", "diligent", ("高新技术企业", "科技计划项目")),
    ("HZ025", "惠州市退役军人事务局", "市级", "惠州市", "average", ("退役军人信息", "优抚对象")),
    ("HZ026", "惠州市林业局", "市级", "惠州市", "negligent", ("林木采伐许可", "森林资源")),
    ("HZ027", "惠州市统计局", "市级", "惠州市", "diligent", ("统计调查单位名录", "国民经济核算")),
    ("HZ101", "惠州市惠城区人民政府", "县区", "惠城区", "good", ("惠城区民生事项", "惠城区网格")),
    ("HZ102", "惠州市惠阳区人民政府", "县区", "惠阳区", "negligent", ("惠阳区民生事项", "惠阳区网格")),
    ("HZ103", "博罗县人民政府", "县区", "博罗县", "average", ("博罗县民生事项", "博罗县网格")),
    ("HZ104", "惠东县人民政府", "县区", "惠东县", "average", ("惠东县民生事项", "惠东县渔业")),
    ("HZ105", "龙门县人民政府", "县区", "龙门县", "very_negligent", ("龙门县民生事项", "龙门县农村")),
    (
        "HZ106",
        "大亚湾经济技术开发区管理委员会",
        "县区",
        "大亚湾开发区",
        "diligent",
        ("大亚湾石化园区企业", "大亚湾安全生产"),
    ),
    ("HZ107", "仲恺高新技术产业开发区管理委员会", "县区", "仲恺高新区", "diligent", ("仲恺园区企业", "仲恺人才")),
    ("HZ111", "惠州市惠城区市场监督管理局", "县区", "惠城区", "average", ("惠城区市场主体监管",)),
    ("HZ112", "惠州市公安局惠阳分局", "县区", "惠阳区", "good", ("惠阳区治安管理",)),
    ("HZ113", "博罗县自然资源局", "县区", "博罗县", "negligent", ("博罗县土地利用", "博罗县河湖")),
    ("HZ114", "惠东县卫生健康局", "县区", "惠东县", "average", ("惠东县医疗机构",)),
    ("HZ115", "龙门县教育局", "县区", "龙门县", "negligent", ("龙门县学校",)),
    ("HZ028", "惠州市信访局", "市级", "惠州市", "good", ()),
    ("HZ029", "惠州市公共资源交易中心", "市级", "惠州市", "good", ("公共资源交易项目", "交易主体")),
    ("HZ120", "惠州市惠城区政务服务数据管理局", "县区", "惠城区", "average", ()),
]

KINDS = ("信息", "基本信息", "许可信息", "变更信息", "处罚信息", "统计数据", "名录", "证照信息", "业务办理数据")
DATA_FORMS = ("数据库", "电子表格", "接口服务", "文件")
FREQS = ("实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "不定期")
FREQ_P = (0.015, 0.025, 0.11, 0.52, 0.15, 0.05, 0.08, 0.05)
FREQ_MONTHS = {"每月": 1, "每季度": 3, "每半年": 6, "每年": 12}
COMMON_ITEMS = {  # item_code -> (name, source agency)
    "DE00001": ("统一社会信用代码", "HZ003"),
    "DE00002": ("公民身份号码", "HZ002"),
    "DE00003": ("姓名", "HZ002"),
    "DE00004": ("不动产单元号", "HZ005"),
    "DE00005": ("社会保障号码", "HZ004"),
    "DE00006": ("纳税人识别号", "HZ013"),
    "DE00007": ("学生学籍号", "HZ010"),
}
SHARE_BASIS = (
    "《广东省公共数据管理办法》第十九条",
    "《中华人民共和国个人信息保护法》第十三条",
    "《惠州市公共数据管理办法》第十四条",
)
NONSHARE_BASIS = (
    "涉及国家秘密，依据《中华人民共和国保守国家秘密法》",
    "涉及商业秘密，依据《中华人民共和国反不正当竞争法》",
)
OPEN_BASIS = ("含个人信息，依据《个人信息保护法》有条件开放", "涉及公共安全，依据《数据安全法》第二十一条")
SCENARIOS = (
    "一网通办身份核验",
    "惠企政策免申即享",
    "社会救助对象核查",
    "城市运行监测",
    "信用联合奖惩",
    "不动产登记一窗办理",
)
MODES = ("接口调用", "数据核验", "库表交换", "文件下载")


@dataclass(frozen=True)
class Size:
    """A named benchmark size; the defaults reproduce plain ``scale`` generation."""

    name: str = ""
    scale: int = 1  # agency replicas (39 agencies in replica 0, 38 in each further one)
    res_mult: float = 1.0  # resources per agency, times the base 2-8
    apps_per_res: float = 2.6  # share applications per non-withdrawn resource
    call_rate: float = 1.0  # API calls per grant-day, times the base rate (about one a week)
    snapshots: int | None = None  # keep only the last N monthly snapshots (None: all 24)
    log_chunks: int = 1  # aggregation_log and api_calls generated this many times (distinct ids)


#: M: a city (~300 agencies, ~30k resources, 12 snapshots, ~1M aggregation jobs, ~100k share
#: applications, ~5M API calls); L: a province's log volume (10x M on aggregation_log and api_calls)
SIZES = {
    "M": Size("M", scale=8, res_mult=18.0, apps_per_res=3.4, call_rate=1.48, snapshots=12),
    "L": Size("L", scale=8, res_mult=18.0, apps_per_res=3.4, call_rate=1.48, snapshots=12, log_chunks=10),
}
PLAIN = Size()

# --------------------------------------------------------------------------- calendar helpers


class _Cal:
    """Working-day arithmetic on numpy arrays (the calendar of hzeval.store.calendar)."""

    def __init__(self):
        f = build_calendar().filter(pl.col("year").is_between(2023, 2026))
        self.days = f["day"].to_numpy().astype("datetime64[D]")
        self.work = f["is_workday"].to_numpy()
        self.idx = f["wd_index"].to_numpy() - (f["wd_index"][0] - int(f["is_workday"][0]))
        self.workdays = self.days[self.work]

    def _pos(self, d):
        return (np.asarray(d).astype("datetime64[D]") - self.days[0]).astype(np.int64)

    def after(self, d, k):
        """The k-th working day after day d (k >= 1, arrays broadcast)."""
        d = np.asarray(d).astype("datetime64[D]")
        nat = np.isnat(d)
        pos = np.where(nat, 0, self._pos(np.where(nat, self.days[0], d)))
        j = self.idx[pos] + np.asarray(k) - 1
        out = self.workdays[np.clip(j, 0, len(self.workdays) - 1)]
        return np.where(nat, np.datetime64("NaT"), out) if np.ndim(out) else (np.datetime64("NaT") if nat else out)

    def due(self, d, n):
        """Deadline instant (24:00 of the n-th working day after d)."""
        return (self.after(d, n) + np.timedelta64(1, "D")).astype("datetime64[s]")

    def random_workdays(self, rng, n, lo, hi):
        """n random working days in [lo, hi]."""
        pool = self.workdays[(self.workdays >= np.datetime64(lo, "D")) & (self.workdays <= np.datetime64(hi, "D"))]
        return pool[rng.integers(0, len(pool), n)]

    def next_workday(self, d):
        """d itself if it is a working day, else the next one."""
        d = np.asarray(d).astype("datetime64[D]")
        w = self.work[self._pos(d)]
        return np.where(w, d, self.after(d, 1))


def _office_time(rng, days, lo_h=9.0, hi_h=17.5):
    """Timestamps (minute resolution) within office hours of the given days."""
    mins = rng.integers(int(lo_h * 60), int(hi_h * 60), len(days))
    return days.astype("datetime64[s]") + (mins * 60).astype("timedelta64[s]")


def _cap(ts):
    """Null (NaT) anything not yet happened at the export."""
    ts = np.asarray(ts, dtype="datetime64[s]").copy()
    ts[ts > CUTOFF] = np.datetime64("NaT")
    return ts


def _nat(n):
    return np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")


def _ts(s) -> np.datetime64:
    return np.datetime64(s, "s")


def _d(s) -> np.datetime64:
    return np.datetime64(s, "D")


def _tsseries(name, arr) -> pl.Series:
    return pl.Series(name, np.asarray(arr, dtype="datetime64[ms]")).cast(pl.Datetime("us"))


def _df(data: dict, **kw) -> pl.DataFrame:
    """polars frame from numpy columns (second-resolution datetimes widened to ms)."""
    conv = {}
    for k, v in data.items():
        if isinstance(v, np.ndarray) and v.dtype.kind == "M" and v.dtype != np.dtype("datetime64[D]"):
            v = v.astype("datetime64[ms]")
        conv[k] = v
    return pl.DataFrame(conv, **kw)


def _dseries(name, arr) -> pl.Series:
    return pl.Series(name, np.asarray(arr, dtype="datetime64[D]")).cast(pl.Date)


def _quarter_starts():
    return np.array([f"{y}-{m:02d}-01" for y in YEARS for m in (1, 4, 7, 10)], dtype="datetime64[D]")


# --------------------------------------------------------------------------- generation


@dataclass
class _World:
    rng: np.random.Generator
    cal: _Cal
    ag: pl.DataFrame  # agencies with profile, p
    p: dict  # agency_code -> violation probability
    level: dict
    res: pl.DataFrame | None = None
    size: Size = PLAIN

    @property
    def resources(self) -> pl.DataFrame:
        """The resource catalogue (made right after the world, before any table that reads it)."""
        assert self.res is not None
        return self.res


def _where(cond, a, b) -> np.ndarray:
    """``np.where`` where a choice may be None (the result is then an object array, which numpy's
    type stubs do not describe)."""
    return np.where(cond, a, b)


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _agencies(scale: int) -> pl.DataFrame:
    rows = []
    for r in range(scale):
        for code, name, level, region, profile, nouns in AGENCIES:
            if r and (code == AUTHORITY or code in COUNTY_AUTHORITIES):
                continue
            c = code if r == 0 else f"{code}-{r:02d}"
            n = name if r == 0 else f"{name}（模拟{r:02d}）"
            is_auth = code == AUTHORITY or code in COUNTY_AUTHORITIES
            kind = "参照执行" if code in REFERENCE_UNITS else "行政机关"
            rows.append((c, n, level, region, is_auth, kind, profile, PROFILES[profile], code, r, list(nouns)))
    return pl.DataFrame(
        rows,
        schema=[
            "agency_code",
            "agency_name",
            "level",
            "region",
            "is_authority",
            "agency_type",
            "profile",
            "p",
            "base_code",
            "replica",
            "nouns",
        ],
        orient="row",
    )


def _authority_of(ag: pl.DataFrame) -> dict[str, str]:
    """Each agency's 本级 authority: the 县区 authority of its region, else the 市级 one (DESIGN §3)."""
    county = {region: code for code, region in COUNTY_AUTHORITIES.items()}
    return {
        code: (county.get(region, AUTHORITY) if level == "县区" else AUTHORITY)
        for code, level, region in ag.select("agency_code", "level", "region").iter_rows()
    }


def _resources(w: _World, seed: int) -> pl.DataFrame:
    """Resource master (one row per resource, attributes stable across snapshots)."""
    rng = _rng(seed, "resources")
    rows = []
    for code, level, is_auth, nouns, base in w.ag.select(
        "agency_code", "level", "is_authority", "nouns", "base_code"
    ).iter_rows():
        if base in NO_CATALOGUE:
            continue  # no draws: the other agencies' resources stay as they were
        if is_auth:
            n = 3
        elif base.startswith("HZ0"):
            n = int(rng.integers(4, 9))
        elif base < "HZ110":
            n = int(rng.integers(4, 7))
        else:
            n = int(rng.integers(2, 5))
        if w.size.res_mult != 1.0:
            n = max(1, int(round(n * w.size.res_mult)))
        kinds = rng.permutation(len(KINDS))
        for j in range(n):
            noun = nouns[j % len(nouns)]
            rows.append((f"{code}-R{j + 1:03d}", f"{noun}{KINDS[kinds[j % len(KINDS)]]}", code))
    res = pl.DataFrame(rows, schema=["resource_code", "resource_name", "provider_code"], orient="row")
    n = res.height
    p = res["provider_code"].replace_strict(w.p, return_dtype=pl.Float64).to_numpy()
    share_type = rng.choice(["无条件共享", "有条件共享", "不予共享"], n, p=[0.5, 0.4, 0.1])
    open_type = rng.choice(["无条件开放", "有条件开放", "不予开放"], n, p=[0.3, 0.35, 0.35])
    freq = rng.choice(FREQS, n, p=FREQ_P)
    # publication: most before 2024, some during the two years, a few withdrawn in 2025
    pub = np.where(
        rng.random(n) < 0.82,
        _d("2021-03-01") + rng.integers(0, 1000, n).astype("timedelta64[D]"),
        _d("2024-01-05") + rng.integers(0, 700, n).astype("timedelta64[D]"),
    )
    withdrawn = np.where(
        rng.random(n) < 0.03, _d("2025-02-01") + rng.integers(0, 300, n).astype("timedelta64[D]"), np.datetime64("NaT")
    )
    # violations: fixed from a date (NaT = never fixed); u draws decide which
    u = rng.random((n, 6))
    miss_field = np.where(u[:, 0] < p * 0.6, rng.integers(0, 6, n), -1)  # which required field is missing
    no_basis = (share_type == "有条件共享") & (u[:, 1] < p * 0.8)
    no_condition = (share_type == "有条件共享") & (u[:, 2] < p * 0.3)
    unfiled = (share_type == "不予共享") & (u[:, 3] < p * 1.5)
    no_open_basis = (open_type != "无条件开放") & (u[:, 4] < p * 0.8)
    fixed_from = np.where(
        rng.random(n) < 0.3, _d("2025-02-28") + rng.integers(0, 280, n).astype("timedelta64[D]"), np.datetime64("NaT")
    )
    never_agg = u[:, 5] < np.where(p >= 0.3, p * 0.35, p * 0.1)
    res = res.with_columns(
        pl.Series("share_type", share_type),
        pl.Series("open_type", open_type),
        pl.Series("update_frequency", freq),
        _dseries("published_date", pub),
        _dseries("withdrawn_date", withdrawn),
        pl.Series("miss_field", miss_field),
        pl.Series("no_basis", no_basis),
        pl.Series("no_condition", no_condition),
        pl.Series("unfiled", unfiled),
        pl.Series("no_open_basis", no_open_basis),
        _dseries("fixed_from", fixed_from),
        pl.Series("never_aggregated", never_agg),
        pl.Series("data_form", rng.choice(DATA_FORMS, n)),
        pl.Series("basis_i", rng.integers(0, 3, n)),
        pl.Series("p", p),
    )
    # planted: one never-aggregated resource per negligent agency (replica 0) so coverage fails visibly
    plant = ["HZ007-R001", "HZ016-R002", "HZ105-R001", "HZ105-R002", "HZ113-R001"]
    res = res.with_columns(never_aggregated=pl.col("never_aggregated") | pl.col("resource_code").is_in(plant))
    # planted for the gate: one 不予共享 resource without filing (HZ021-R001), one 有条件 well-formed (HZ004-R001)
    res = res.with_columns(
        share_type=pl.when(pl.col("resource_code").is_in(["HZ021-R001", "HZ102-R001"]))
        .then(pl.lit("不予共享"))
        .when(pl.col("resource_code").is_in(["HZ004-R001", "HZ003-R001", "HZ002-R001"]))
        .then(pl.lit("有条件共享"))
        .otherwise("share_type"),
        unfiled=pl.when(pl.col("resource_code").is_in(["HZ021-R001", "HZ102-R001"]))
        .then(True)
        .when(pl.col("resource_code").is_in(["HZ004-R001", "HZ003-R001", "HZ002-R001"]))
        .then(False)
        .otherwise("unfiled"),
        update_frequency=pl.when(
            pl.col("resource_code").is_in(["HZ004-R001", "HZ003-R001", "HZ002-R001", "HZ021-R001"])
        )
        .then(pl.lit("每月"))
        .otherwise("update_frequency"),
        published_date=pl.when(pl.col("resource_code").is_in(["HZ004-R001", "HZ003-R001", "HZ002-R001", "HZ021-R001"]))
        .then(pl.date(2022, 6, 30))
        .otherwise("published_date"),
        withdrawn_date=pl.when(pl.col("resource_code").str.ends_with("-R001")).then(None).otherwise("withdrawn_date"),
    )
    return res


def _catalog_snapshot(w: _World) -> pl.DataFrame:
    snaps = (
        pl.date_range(dt.date(2024, 1, 1), dt.date(2025, 12, 1), "1mo", eager=True)
        .dt.month_end()
        .alias("snapshot_date")
    )
    if w.size.snapshots is not None:
        snaps = snaps.tail(w.size.snapshots)
    r = w.resources
    s = r.join(pl.DataFrame(snaps), how="cross").filter(pl.col("published_date") <= pl.col("snapshot_date"))
    active = pl.col("fixed_from").is_null() | (pl.col("snapshot_date") < pl.col("fixed_from"))
    mf = pl.when(active).then(pl.col("miss_field")).otherwise(-1)
    cond_text = pl.concat_str(pl.lit("仅限"), pl.col("resource_name").str.slice(0, 4), pl.lit("相关业务办理使用"))
    s = s.with_columns(
        collector_code=pl.when(mf == 0).then(None).otherwise("provider_code"),
        verifier_code=pl.when(mf == 1).then(None).otherwise("provider_code"),
        data_form=pl.when(mf == 2).then(None).otherwise("data_form"),
        share_content=pl.when(mf == 3).then(None).otherwise(pl.lit("全部信息项")),
        share_scope=pl.when(mf == 4)
        .then(None)
        .otherwise(
            pl.when(pl.col("share_type") == "不予共享").then(pl.lit("不予共享")).otherwise(pl.lit("全市政务部门"))
        ),
        update_frequency=pl.when(mf == 5).then(None).otherwise("update_frequency"),
        share_condition=pl.when((pl.col("share_type") == "有条件共享") & ~(pl.col("no_condition") & active)).then(
            cond_text
        ),
        share_basis=pl.when((pl.col("share_type") == "有条件共享") & ~(pl.col("no_basis") & active))
        .then(pl.lit(list(SHARE_BASIS)).list.get(pl.col("basis_i")))
        .when(pl.col("share_type") == "不予共享")
        .then(pl.lit(list(NONSHARE_BASIS)).list.get(pl.col("basis_i") % 2)),
        nonshare_filed=pl.when(pl.col("share_type") == "不予共享").then(~(pl.col("unfiled") & active)),
        open_basis=pl.when((pl.col("open_type") != "无条件开放") & ~(pl.col("no_open_basis") & active)).then(
            pl.lit(list(OPEN_BASIS)).list.get(pl.col("basis_i") % 2)
        ),
        status=pl.when(pl.col("withdrawn_date").is_not_null() & (pl.col("withdrawn_date") <= pl.col("snapshot_date")))
        .then(pl.lit("已下架"))
        .otherwise(pl.lit("已发布")),
    )
    return s.select(TABLES["catalog_snapshot"].names).sort("snapshot_date", "resource_code")


def _catalog_items(w: _World, snap: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Items for the quarter-end snapshots; planted 一数一源 conflicts."""
    rng = _rng(seed, "items")
    r = w.resources
    n = r.height
    n_items = rng.integers(2, 5, n)
    rows_code, rows_item, rows_name, rows_auth = [], [], [], []
    for i, (code, name, prov) in enumerate(r.select("resource_code", "resource_name", "provider_code").iter_rows()):
        base = prov.split("-")[0]
        for j in range(int(n_items[i])):
            rows_code.append(code)
            rows_item.append(f"DE{zlib.crc32(code.encode()) % 90000 + 10000:05d}{j:02d}")
            rows_name.append(f"{name[:6]}字段{j + 1}")
            rows_auth.append(True)
        # a common element: authoritative only at its source agency
        k = list(COMMON_ITEMS)[i % len(COMMON_ITEMS)]
        rows_code.append(code)
        rows_item.append(k)
        rows_name.append(COMMON_ITEMS[k][0])
        rows_auth.append(COMMON_ITEMS[k][1] == base and "-" not in prov)
    # planted conflicts (replica 0): item code -> agencies that (wrongly) also claim it
    planted = [
        ("HZ021-R002", "DE00001", "统一社会信用代码"),
        ("HZ016-R002", "DE09901", "河湖编码"),
        ("HZ113-R002", "DE09901", "河湖编码"),
        ("HZ105-R003", "DE00007", "学生学籍号"),
        ("HZ115-R001", "DE00007", "学生学籍号"),
        ("HZ010-R001", "DE00007", "学生学籍号"),
        ("HZ003-R002", "DE00001", "统一社会信用代码"),
    ]
    known = set(r["resource_code"].to_list())
    planted = [x for x in planted if x[0] in known]
    items = pl.DataFrame(
        {
            "resource_code": [x[0] for x in planted] + rows_code,
            "item_code": [x[1] for x in planted] + rows_item,
            "item_name": [x[2] for x in planted] + rows_name,
            "is_authoritative": [True] * len(planted) + rows_auth,
        }
    )
    items = items.unique(["resource_code", "item_code"], keep="first", maintain_order=True)
    quarter_ends = [dt.date(y, m, d) for y in YEARS for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))]
    keys = snap.filter(pl.col("snapshot_date").is_in(quarter_ends)).select("snapshot_date", "resource_code")
    return (
        keys.join(items, on="resource_code", maintain_order="left")
        .select(TABLES["catalog_items"].names)
        .sort("snapshot_date", "resource_code", "item_code")
    )


def _basis_and_events(w: _World, seed: int):
    """Basis changes, the submissions they trigger, new/withdrawn resources and the authority's reviews."""
    rng = _rng(seed, "events")
    cal = w.cal
    r = w.resources
    ch_rows = []
    sub: list[tuple] = []  # (resource, agency, type, day, change_id, violation_kind)
    ag = w.ag.filter(~pl.col("is_authority"))
    res_by_ag = {a: g["resource_code"].to_list() for (a,), g in r.group_by("provider_code", maintain_order=True)}
    n_ch = 0
    for code, p in ag.select("agency_code", "p").iter_rows():
        rc = res_by_ag.get(code, [])
        if not rc:
            continue
        for y in YEARS:
            for _ in range(int(rng.poisson(1.6))):
                n_ch += 1
                cid = f"BC{y}{n_ch:04d}"
                eff = cal.random_workdays(rng, 1, f"{y}-01-02", f"{y}-12-15")[0]
                picked = list(rng.choice(rc, min(len(rc), int(rng.integers(1, 3))), replace=False))
                ch_rows.append((cid, code, eff, f"{y}年相关法规/职责调整", ";".join(picked)))
                u = rng.random()
                if u < p * 0.5:
                    continue  # never submitted
                k = int(rng.integers(16, 35)) if u < p * 1.4 else int(rng.integers(2, 15))
                for j, res_code in enumerate(picked):
                    sub.append((res_code, code, "变更提交", cal.after(eff, k + j), cid))
    # planted edge cases (replica 0)
    edge_changes = [
        ("BC-E01", "HZ002", "2025-09-12", "HZ002-R002", "2025-10-10"),  # 15 wd over 国庆 -> due end 10-10: ok
        ("BC-E02", "HZ008", "2025-09-12", "HZ008-R001", "2025-10-13"),  # submitted 10-13: late by one working day
        ("BC-E03", "HZ017", "2025-12-22", "HZ017-R001", None),  # not yet submitted, due mid-Jan 2026: pending
        ("BC-E04", "HZ105", "2025-11-03", "HZ105-R001", None),  # not submitted, due 11-24: late
    ]
    for cid, code, eff, rcode, sday in edge_changes:
        ch_rows.append((cid, code, _d(eff), "法规修订（边界样例）", rcode))
        if sday:
            sub.append((rcode, code, "变更提交", _d(sday), cid))
    # new resources: 编制提交 shortly before publication; withdrawals: 下架提交
    for rcode, prov, pub, wd in r.select(
        "resource_code", "provider_code", "published_date", "withdrawn_date"
    ).iter_rows():
        pub = np.datetime64(pub, "D")
        if pub >= Y0:
            sub.append((rcode, prov, "编制提交", cal.after(pub - np.timedelta64(12, "D"), 1), None))
        if wd is not None:
            sub.append((rcode, prov, "下架提交", cal.after(np.datetime64(wd, "D") - np.timedelta64(10, "D"), 1), None))
    changes = _df(
        {
            "change_id": [x[0] for x in ch_rows],
            "agency_code": [x[1] for x in ch_rows],
            "effective_date": _dseries("effective_date", np.array([x[2] for x in ch_rows], dtype="datetime64[D]")),
            "description": [x[3] for x in ch_rows],
            "resource_codes": [x[4] for x in ch_rows],
        }
    )

    # submissions -> timestamps, reviews by the authority
    s_res = np.array([s[0] for s in sub], dtype=object)
    s_ag = np.array([s[1] for s in sub], dtype=object)
    s_type = np.array([s[2] for s in sub], dtype=object)
    s_day = np.array([s[3] for s in sub], dtype="datetime64[D]")
    s_cid = np.array([s[4] for s in sub], dtype=object)
    n = len(sub)
    s_time = _cap(_office_time(rng, s_day))
    p_auth = w.p[AUTHORITY]
    u_rev = rng.random(n)
    k_rev = np.where(u_rev < p_auth * 1.5, rng.integers(6, 14, n), rng.integers(1, 6, n))
    rev_time = _cap(_office_time(rng, cal.after(s_day, k_rev)))
    rejected = rng.random(n) < 0.08
    rev_type = np.where(rejected, "审定驳回", "审定通过")
    # planted reviews: EV edges fixed below by day
    edges_rev = {
        ("HZ002-R002", "2025-10-10"): "2025-10-17",  # 5 wd from 10-10 -> 10-17: ok (Sat 10-11 works)
        ("HZ008-R001", "2025-10-13"): "2025-10-21",
    }  # 5 wd from 10-13 -> 10-20: late
    for i in range(n):
        key = (s_res[i], str(s_day[i]))
        if key in edges_rev:
            rev_time[i] = _ts(edges_rev[key] + "T10:30")
    auth_of = _authority_of(w.ag)
    reviewer = np.array([auth_of.get(a, AUTHORITY) for a in s_ag], dtype=object)
    ev = _df(
        {
            "resource_code": np.concatenate([s_res, s_res]).tolist(),
            "agency_code": np.concatenate([s_ag, reviewer]).tolist(),
            "event_type": np.concatenate([s_type, rev_type.astype(object)]).tolist(),
            "event_time": np.concatenate([s_time, rev_time]),
            "change_id": np.concatenate([s_cid, np.full(n, None, dtype=object)]).tolist(),
        },
        schema_overrides={"change_id": pl.String},
    ).with_columns(pl.col("event_time").cast(pl.Datetime("us")))
    # rejected submissions are resubmitted 3 working days later and approved
    rej = np.flatnonzero(rejected & ~np.isnat(rev_time))
    if len(rej):
        re_t = _cap(_office_time(rng, cal.after(rev_time[rej].astype("datetime64[D]"), 3)))
        ok_t = _cap(_office_time(rng, cal.after(re_t.astype("datetime64[D]"), 2)))
        keep = ~np.isnat(re_t)
        more = _df(
            {
                "resource_code": np.concatenate([s_res[rej][keep], s_res[rej][keep]]).tolist(),
                "agency_code": np.concatenate([s_ag[rej][keep], reviewer[rej][keep]]).tolist(),
                "event_type": ["变更提交"] * int(keep.sum()) + ["审定通过"] * int(keep.sum()),
                "event_time": np.concatenate([re_t[keep], ok_t[keep]]),
                "change_id": np.concatenate([s_cid[rej][keep], np.full(keep.sum(), None, dtype=object)]).tolist(),
            },
            schema_overrides={"change_id": pl.String},
        ).with_columns(pl.col("event_time").cast(pl.Datetime("us")))
        ev = pl.concat([ev, more])
    ev = ev.filter(pl.col("event_time").is_not_null() & (pl.col("event_time") >= dt.datetime(2024, 1, 1)))
    # a review the authority has not done yet: one pending (12-31), one late (12-22)
    extra = _df(
        {
            "resource_code": ["HZ020-R001", "HZ015-R001"],
            "agency_code": ["HZ020", "HZ015"],
            "event_type": ["变更提交", "变更提交"],
            "event_time": [dt.datetime(2025, 12, 31, 15, 20), dt.datetime(2025, 12, 22, 10, 5)],
            "change_id": [None, None],
        },
        schema_overrides={"change_id": pl.String, "event_time": pl.Datetime("us")},
    )
    ev = pl.concat([ev, extra]).sort("event_time", "resource_code", "event_type")
    ev = ev.with_columns(event_id=pl.format("EV{}", (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(6)))
    ev = ev.with_columns(
        event_id=pl.when(
            (pl.col("resource_code") == "HZ020-R001") & (pl.col("event_time") == dt.datetime(2025, 12, 31, 15, 20))
        )
        .then(pl.lit("EV-E01"))
        .when((pl.col("resource_code") == "HZ015-R001") & (pl.col("event_time") == dt.datetime(2025, 12, 22, 10, 5)))
        .then(pl.lit("EV-E02"))
        .otherwise("event_id")
    )
    return changes.select(TABLES["basis_changes"].names), ev.select(TABLES["catalog_events"].names)


def _aggregation(w: _World, seed: int, chunk: int = 0) -> pl.DataFrame:
    """Aggregation jobs; ``chunk`` > 0 draws a further independent set (ids ``J<chunk>-...``) for dense logs."""
    rng = _rng(seed, "aggregation" if chunk == 0 else f"aggregation-{chunk}")
    r = w.resources
    parts = []
    end = np.datetime64("2026-01-04", "D")
    for rcode, prov, freq, pub, never, p in r.select(
        "resource_code", "provider_code", "update_frequency", "published_date", "never_aggregated", "p"
    ).iter_rows():
        if never:
            continue
        start = max(np.datetime64(pub, "D"), Y0)
        if freq in ("实时", "每日"):
            days = np.arange(start, end + 1, dtype="datetime64[D]")
            starts = days.astype("datetime64[s]") + (rng.integers(60, 240, len(days)) * 60).astype("timedelta64[s]")
        elif freq == "每周":
            mon = start - ((start.astype("datetime64[D]").view("int64") - 4) % 7).astype("timedelta64[D]")  # ISO Monday
            weeks = np.arange(mon, end + 1, 7, dtype="datetime64[D]")
            starts = _office_time(rng, weeks + rng.integers(0, 3, len(weeks)).astype("timedelta64[D]"))
        elif freq in FREQ_MONTHS:
            step = FREQ_MONTHS[freq]
            m0 = start.astype("datetime64[M]")
            m0 = m0 - (m0.astype(int) % step)
            months = np.arange(m0, end.astype("datetime64[M]") + 1, step, dtype="datetime64[M]").astype("datetime64[D]")
            starts = _office_time(rng, months + rng.integers(0, 10, len(months)).astype("timedelta64[D]"))
        else:  # 不定期
            starts = _office_time(
                rng,
                start
                + np.sort(rng.integers(0, max(1, int((end - start).astype(int))), int(rng.integers(1, 6)))).astype(
                    "timedelta64[D]"
                ),
            )
        starts = starts[starts >= start.astype("datetime64[s]")]
        # missed periods: lazy resources of lazy agencies
        lazy = rng.random() < min(1.0, p * 2.5)
        keep = rng.random(len(starts)) >= (p * 1.4 if lazy else p * 0.15)
        starts = starts[keep]
        m = len(starts)
        dur = rng.integers(2, 45, m).astype("timedelta64[m]")
        failed = rng.random(m) < 0.02 + p * 0.15
        retry = failed & (rng.random(m) >= p)
        rec = np.where(freq in ("实时", "每日"), rng.integers(200, 5000, m), rng.integers(1000, 80000, m))
        rej = np.where(
            rng.random(m) < p * 0.8,
            (rec * rng.random(m) * min(0.5, p)).astype(np.int64),
            np.where(rng.random(m) < 0.05, rng.integers(0, 5, m), 0),
        )
        channel = ("接口对接", "前置机推送", "文件上传")[zlib.crc32(rcode.encode()) % 3]
        st = np.concatenate([starts, starts[retry] + np.timedelta64(90, "m")])
        fin = np.concatenate([starts + dur, starts[retry] + np.timedelta64(90, "m") + dur[retry]])
        stat = np.concatenate([np.where(failed, "失败", "成功"), np.full(int(retry.sum()), "成功")])
        recv = np.concatenate([np.where(failed, 0, rec), rec[retry]])
        rjct = np.concatenate([np.where(failed, 0, rej), rej[retry]])
        parts.append(
            _df(
                {
                    "resource_code": rcode,
                    "agency_code": prov,
                    "channel": channel,
                    "started_at": st,
                    "finished_at": fin,
                    "status": stat,
                    "rows_received": recv.astype(np.int64),
                    "rows_rejected": rjct.astype(np.int64),
                }
            )
        )
    agg = pl.concat(parts).with_columns(
        pl.col("started_at").cast(pl.Datetime("us")), pl.col("finished_at").cast(pl.Datetime("us"))
    )
    # planted: a monthly job started 2024-12-31 23:50 finishing 2025-01-01 00:20 (counts for January, not December)
    agg = agg.filter(
        ~((pl.col("resource_code") == "HZ004-R001") & (pl.col("started_at").dt.strftime("%Y-%m") == "2024-12"))
    )
    if chunk:
        agg = agg.filter(pl.col("started_at") <= dt.datetime(2026, 1, 4, 23, 0)).with_columns(
            finished_at=pl.when(pl.col("finished_at") > dt.datetime(2026, 1, 4, 23, 59))
            .then(None)
            .otherwise("finished_at")
        )
        agg = agg.sort("started_at", "resource_code").with_columns(
            job_id=pl.format(
                "J{}-{}", pl.lit(f"{chunk:02d}"), (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(8)
            )
        )
        return agg.select(TABLES["aggregation_log"].names)
    agg = pl.concat(
        [
            agg,
            _df(
                {
                    "resource_code": ["HZ004-R001"],
                    "agency_code": ["HZ004"],
                    "channel": ["接口对接"],
                    "started_at": [dt.datetime(2024, 12, 31, 23, 50)],
                    "finished_at": [dt.datetime(2025, 1, 1, 0, 20)],
                    "status": ["成功"],
                    "rows_received": [12000],
                    "rows_rejected": [0],
                },
                schema_overrides={"started_at": pl.Datetime("us"), "finished_at": pl.Datetime("us")},
            ),
        ]
    )
    agg = agg.filter(pl.col("started_at") <= dt.datetime(2026, 1, 4, 23, 0)).with_columns(
        finished_at=pl.when(pl.col("finished_at") > dt.datetime(2026, 1, 4, 23, 59)).then(None).otherwise("finished_at")
    )
    agg = agg.sort("started_at", "resource_code").with_columns(
        job_id=pl.format("J{}", (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(7))
    )
    agg = agg.with_columns(
        job_id=pl.when(pl.col("started_at") == dt.datetime(2024, 12, 31, 23, 50))
        .then(pl.lit("J-E01"))
        .otherwise("job_id")
    )
    return agg.select(TABLES["aggregation_log"].names)


def _share(w: _World, seed: int):
    """Share applications, demands, feedback and API calls."""
    rng = _rng(seed, "share")
    cal = w.cal
    r = w.resources.filter(pl.col("withdrawn_date").is_null())
    codes = w.ag["agency_code"].to_numpy()
    lvl = w.ag["level"].to_numpy()
    pa = w.ag["p"].to_numpy()
    ag_i = {c: i for i, c in enumerate(codes)}
    weight = (
        r["share_type"]
        .replace_strict({"有条件共享": 3.0, "无条件共享": 1.0, "不予共享": 0.35}, return_dtype=pl.Float64)
        .to_numpy()
    )
    n = int(round(r.height * w.size.apps_per_res))
    ri = rng.choice(r.height, n, p=weight / weight.sum())
    res_code = r["resource_code"].to_numpy()[ri]
    prov = np.array([ag_i[c] for c in r["provider_code"].to_numpy()])[ri]
    stype = r["share_type"].to_numpy()[ri]
    pub = r["published_date"].to_numpy().astype("datetime64[D]")[ri]
    appl = rng.integers(0, len(codes), n)
    appl = np.where(appl == prov, (appl + 1 + rng.integers(0, len(codes) - 1, n)) % len(codes), appl)
    day = cal.random_workdays(rng, n, "2024-01-02", "2025-12-19")
    day = np.where(day < pub + np.timedelta64(7, "D"), cal.next_workday(pub + np.timedelta64(7, "D")), day)
    sub_t = _office_time(rng, day)
    pp, pc = pa[prov], pa[appl]
    # demands for data not in the catalogue
    demand = rng.random(n) < 0.07
    # reply
    u = rng.random(n)
    k_reply = np.where(u < pp * 1.2, rng.integers(3, 9, n), rng.integers(1, 3, n))
    rep_t = _office_time(rng, cal.after(day, k_reply))
    rep_t[rng.random(n) < pp * 0.08] = np.datetime64("NaT")
    dec = rng.choice(["同意", "部分同意", "拒绝"], n, p=[0.78, 0.1, 0.12]).astype(object)
    dec[stype == "不予共享"] = "拒绝"
    approved = (dec == "同意") | (dec == "部分同意")
    refusal_basis = _where(
        (dec == "拒绝") & (rng.random(n) >= pp * 1.6),
        np.where(stype == "不予共享", "目录标注不予共享：" + NONSHARE_BASIS[0], "申请用途超出法定职责范围"),
        None,
    )
    k_impl = np.where(rng.random(n) < pp * 1.2, rng.integers(4, 12, n), rng.integers(1, 4, n))
    impl_t = np.where(
        approved, _office_time(rng, cal.after(rep_t.astype("datetime64[D]"), k_impl)), np.datetime64("NaT")
    )
    impl_t[approved & (rng.random(n) < pp * 0.05)] = np.datetime64("NaT")
    scen = np.array(SCENARIOS, dtype=object)[rng.integers(0, len(SCENARIOS), n)]
    items = np.array(["身份核验所需字段", "名称、代码、状态", "全部信息项", "许可证号、有效期"], dtype=object)[
        rng.integers(0, 4, n)
    ]
    mode = np.array(MODES, dtype=object)[rng.integers(0, len(MODES), n)]
    valid = rep_t.astype("datetime64[D]") + np.where(
        rng.random(n) < 0.18, rng.integers(90, 300, n), rng.integers(365, 900, n)
    ).astype("timedelta64[D]")
    gm = rng.random(n) < pp * 1.3
    which = rng.integers(0, 5, n)  # 0..1 valid_until (most common), 2 scenario, 3 items, 4 mode
    scen = _where(approved & gm & (which == 2), None, scen)
    items = _where(approved & gm & (which == 3), None, items)
    mode = _where(approved & gm & (which == 4), None, mode)
    valid = np.where(approved & gm & (which <= 1), np.datetime64("NaT"), valid)
    valid = np.where(approved, valid, np.datetime64("NaT"))
    cross = lvl[appl] != lvl[prov]
    fu = rng.random(n) < pc * 1.5
    wf = rng.integers(0, 2, n)
    filed_upper = np.where(cross, ~(fu & (wf == 0)), False)
    filed_same = np.where(cross, ~(fu & (wf == 1)), False)
    # demands: no resource, confirmation instead of a reply
    k_conf = np.where(rng.random(n) < pp * 1.3, rng.integers(6, 15, n), rng.integers(1, 6, n))
    conf_t = np.where(demand, _office_time(rng, cal.after(day, k_conf)), np.datetime64("NaT"))
    share_type_col = _where(rng.random(n) < 0.1, None, stype).astype(object)
    nat = np.datetime64("NaT")
    res_col = _where(demand, None, res_code).astype(object)
    share_type_col[demand] = None
    rep_t[demand] = nat
    dec[demand] = None
    approved &= ~demand
    refusal_basis = _where(demand, None, refusal_basis)
    impl_t[demand] = nat
    valid[demand] = nat
    scen = np.where(demand, scen, _where(approved | (dec == "拒绝"), scen, None))
    apps = _df(
        {
            "resource_code": res_col.tolist(),
            "applicant_code": codes[appl],
            "provider_code": codes[prov],
            "share_type": share_type_col.tolist(),
            "submitted_at": sub_t,
            "replied_at": _cap(rep_t),
            "decision": dec.tolist(),
            "refusal_basis": refusal_basis.tolist(),
            "implemented_at": _cap(impl_t),
            "scenario": scen.tolist(),
            "requested_items": _where(approved | demand, items, None).tolist(),
            "share_mode": _where(approved, mode, None).tolist(),
            "valid_until": valid.astype("datetime64[D]"),
            "cross_level": cross,
            "filed_upper": filed_upper,
            "filed_same": filed_same,
            "in_catalog": ~demand,
            "confirmed_at": _cap(conf_t),
        },
        schema_overrides={
            c: pl.String
            for c in (
                "resource_code",
                "share_type",
                "decision",
                "refusal_basis",
                "scenario",
                "requested_items",
                "share_mode",
            )
        },
    )
    # replies that had not happened at the export -> no decision yet
    apps = apps.with_columns(
        pl.col(c).cast(pl.Datetime("us")) for c in ("submitted_at", "replied_at", "implemented_at", "confirmed_at")
    )
    apps = apps.with_columns(pl.col("valid_until").cast(pl.Date))
    undecided = pl.col("replied_at").is_null()
    apps = apps.with_columns(
        [
            pl.when(undecided).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("decision", "refusal_basis", "implemented_at", "share_mode", "valid_until")
        ]
    )
    apps = apps.sort("submitted_at", "applicant_code").with_columns(
        application_id=pl.format(
            "SA{}{}", pl.col("submitted_at").dt.year(), (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(5)
        )
    )
    apps = pl.concat([apps, _share_edges()], how="diagonal_relaxed")
    apps = apps.select(TABLES["share_applications"].names)
    feedback = _feedback(apps, w, rng)
    calls = _api_calls(apps, w, rng)
    return apps, feedback, calls


def _share_edges() -> pl.DataFrame:
    """Hand-placed applications on holiday and as-of edges (see data_samples/README.md)."""
    T = dt.datetime
    base = dict(
        share_type="有条件共享",
        decision="同意",
        scenario="一网通办身份核验",
        requested_items="姓名、公民身份号码",
        share_mode="接口调用",
        valid_until=dt.date(2026, 12, 31),
        cross_level=False,
        filed_upper=False,
        filed_same=False,
        in_catalog=True,
    )
    rows: list[tuple] = [
        # id, resource, applicant, provider, submitted, replied, implemented, extra
        (
            "SA-E01",
            "HZ002-R001",
            "HZ011",
            "HZ002",
            T(2025, 9, 26, 10, 0),
            T(2025, 9, 29, 17, 0),
            T(2025, 9, 30, 11, 0),
            {},
        ),
        (
            "SA-E02",
            "HZ003-R001",
            "HZ022",
            "HZ003",
            T(2025, 9, 26, 15, 30),
            T(2025, 9, 30, 9, 0),
            T(2025, 10, 9, 10, 0),
            {},
        ),
        (
            "SA-E03",
            "HZ004-R001",
            "HZ014",
            "HZ004",
            T(2025, 9, 30, 15, 0),
            T(2025, 10, 10, 11, 0),
            T(2025, 10, 14, 16, 0),
            {},
        ),
        (
            "SA-E04",
            "HZ002-R001",
            "HZ010",
            "HZ002",
            T(2025, 9, 30, 16, 40),
            T(2025, 10, 11, 10, 0),
            T(2025, 10, 13, 10, 0),
            {},
        ),
        (
            "SA-E05",
            "HZ003-R001",
            "HZ019",
            "HZ003",
            T(2025, 10, 3, 20, 15),
            T(2025, 10, 10, 14, 0),
            T(2025, 10, 15, 17, 0),
            {},
        ),
        (
            "SA-E06",
            "HZ004-R001",
            "HZ101",
            "HZ004",
            T(2025, 10, 8, 9, 30),
            T(2025, 10, 9, 10, 0),
            T(2025, 10, 15, 9, 0),
            {"cross_level": True, "filed_upper": True, "filed_same": True},
        ),
        ("SA-E07", "HZ002-R001", "HZ020", "HZ002", T(2025, 12, 30, 14, 0), T(2026, 1, 4, 10, 0), None, {}),
        ("SA-E08", "HZ003-R001", "HZ012", "HZ003", T(2025, 12, 31, 9, 0), None, None, {}),
        ("SA-E09", "HZ004-R001", "HZ008", "HZ004", T(2025, 12, 26, 11, 0), None, None, {}),
        (
            "SA-E10",
            "HZ002-R001",
            "HZ027",
            "HZ002",
            T(2025, 12, 30, 9, 15),
            T(2025, 12, 31, 16, 0),
            T(2026, 1, 4, 15, 0),
            {},
        ),
        (
            "SA-E11",
            None,
            "HZ024",
            "HZ005",
            T(2025, 12, 31, 16, 0),
            None,
            None,
            {
                "in_catalog": False,
                "share_type": None,
                "decision": None,
                "scenario": "科技企业用地核查",
                "share_mode": None,
                "valid_until": None,
            },
        ),
        (
            "SA-E12",
            "HZ003-R001",
            "HZ106",
            "HZ003",
            T(2025, 12, 29, 10, 0),
            T(2025, 12, 31, 10, 0),
            None,
            {"cross_level": True, "filed_upper": True, "filed_same": False},
        ),
        ("SA-E13", "HZ004-R001", "HZ022", "HZ004", T(2025, 12, 24, 9, 0), T(2025, 12, 26, 15, 0), None, {}),
        (
            "SA-E14",
            "HZ002-R001",
            "HZ014",
            "HZ002",
            T(2024, 12, 31, 16, 30),
            T(2025, 1, 3, 10, 0),
            T(2025, 1, 6, 10, 0),
            {},
        ),
        (
            "SA-E15",
            None,
            "HZ007",
            "HZ011",
            T(2025, 9, 30, 11, 0),
            None,
            None,
            {
                "in_catalog": False,
                "share_type": None,
                "decision": None,
                "scenario": "保障性住房资格核查",
                "share_mode": None,
                "valid_until": None,
                "confirmed_at": T(2025, 10, 15, 10, 0),
            },
        ),
    ]
    out = []
    for aid, rc, a, pv, s, rp, im, extra in rows:
        d = dict(
            base,
            application_id=aid,
            resource_code=rc,
            applicant_code=a,
            provider_code=pv,
            submitted_at=s,
            replied_at=rp,
            implemented_at=im,
            confirmed_at=None,
        )
        if rp is None:
            d.update(decision=None, valid_until=None, share_mode=None)
        d.update(extra)
        out.append(d)
    return pl.DataFrame(out, schema={c.name: _pl_type(c.type) for c in TABLES["share_applications"].columns})


def _pl_type(t):
    return {
        "str": pl.String,
        "vocab": pl.String,
        "list": pl.String,
        "period": pl.String,
        "int": pl.Int64,
        "float": pl.Float64,
        "bool": pl.Boolean,
        "date": pl.Date,
        "timestamp": pl.Datetime("us"),
    }[t]


def _grants(apps: pl.DataFrame) -> pl.DataFrame:
    return apps.filter(
        pl.col("decision").is_in(["同意", "部分同意"])
        & pl.col("replied_at").is_not_null()
        & pl.col("resource_code").is_not_null()
    )


def _feedback(apps, w, rng) -> pl.DataFrame:
    g = _grants(apps).select("application_id", "applicant_code", "replied_at", "valid_until")
    qs = (
        _df({"q_start": _quarter_starts()})
        .with_columns(pl.col("q_start").cast(pl.Date))
        .with_columns(q_end=pl.col("q_start").dt.offset_by("3mo").dt.offset_by("-1d"))
    )
    x = g.join(qs, how="cross").filter(
        (pl.col("replied_at").dt.date() <= pl.col("q_end"))
        & (pl.col("valid_until").is_null() | (pl.col("valid_until") >= pl.col("q_start")))
    )
    p = x["applicant_code"].replace_strict(w.p, return_dtype=pl.Float64).to_numpy()
    n = x.height
    keep = rng.random(n) >= p * 1.5
    delay = rng.integers(-12, 3, n)  # feedback is filed around the quarter's end
    x = x.with_columns(
        period=pl.format("{}Q{}", pl.col("q_start").dt.year(), pl.col("q_start").dt.quarter()),
        submitted_at=pl.max_horizontal(
            # pl.duration takes a Series at run time; its annotation lists only Expr, str and numbers
            pl.col("q_end").cast(pl.Datetime("us")) + pl.duration(days=pl.Series(delay), hours=10),  # type: ignore[arg-type]
            pl.col("replied_at").dt.offset_by("1d"),
        ),
    ).filter(pl.Series(keep) & (pl.col("submitted_at") <= dt.datetime(2026, 1, 4, 18)))
    return x.select(TABLES["share_feedback"].names).sort("application_id", "period")


def _api_calls(apps, w, rng, chunk: int = 0) -> pl.DataFrame:
    """Calls inside grants, plus out-of-scope calls by careless consumers.

    ``chunk`` > 0 (dense logs) draws a further independent set with ids ``C<chunk>-...``."""
    g = _grants(apps)
    cons = g["applicant_code"].to_numpy()
    pc = np.array([w.p[c] for c in cons])
    start = g["replied_at"].to_numpy().astype("datetime64[s]")
    vu = g["valid_until"].to_numpy().astype("datetime64[D]")
    stop = np.where(
        np.isnat(vu),
        CUTOFF,
        np.minimum((vu + np.timedelta64(1, "D")).astype("datetime64[s]") - np.timedelta64(60, "s"), CUTOFF),
    )
    span = np.maximum((stop - start).astype(np.int64), 0)
    lam = span / 86400 * 0.14 * (w.ag.height / 39) ** 0  # ≈ one call a week per grant
    if w.size.call_rate != 1.0:
        lam = lam * w.size.call_rate
    cnt = rng.poisson(lam)
    idx = np.repeat(np.arange(g.height), cnt)
    t = start[idx] + (rng.random(len(idx)) * span[idx]).astype("timedelta64[s]")
    ok = _df(
        {
            "called_at": t,
            "application_id": g["application_id"].to_numpy()[idx],
            "consumer_code": cons[idx],
            "resource_code": g["resource_code"].to_numpy()[idx],
        }
    )
    parts = [ok]
    # calls after valid_until by careless consumers
    exp = np.flatnonzero(~np.isnat(vu) & (vu < _d("2025-12-01")) & (rng.random(g.height) < pc * 2.5))
    if len(exp):
        m = rng.integers(3, 40, len(exp))
        ie = np.repeat(exp, m)
        vstart = (vu[ie] + np.timedelta64(1, "D")).astype("datetime64[s]")
        t2 = vstart + (rng.random(len(ie)) * np.minimum((CUTOFF - vstart).astype(np.int64), 60 * 86400)).astype(
            "timedelta64[s]"
        )
        parts.append(
            _df(
                {
                    "called_at": t2,
                    "application_id": g["application_id"].to_numpy()[ie],
                    "consumer_code": cons[ie],
                    "resource_code": g["resource_code"].to_numpy()[ie],
                }
            )
        )
    # calls without any grant (resource never applied for by that consumer)
    ag = w.ag.filter(~pl.col("is_authority"))
    res = w.resources.filter(pl.col("share_type") != "不予共享")["resource_code"].to_numpy()
    granted = set(zip(cons.tolist(), g["resource_code"].to_list()))
    rows_c, rows_r, rows_n = [], [], []
    for code, p in ag.select("agency_code", "p").iter_rows():
        k = int(rng.poisson(p * 4))
        for rc in rng.choice(res, k, replace=False) if k else []:
            if (code, rc) not in granted and not rc.startswith(code + "-R"):
                rows_c.append(code)
                rows_r.append(rc)
                rows_n.append(int(rng.integers(5, 120)))
    if rows_c:
        rep = np.array(rows_n)
        ci = np.repeat(np.arange(len(rows_c)), rep)
        t3 = _ts("2024-01-02T08:00") + (
            rng.random(len(ci)) * (CUTOFF - _ts("2024-01-02T08:00")).astype(np.int64)
        ).astype("timedelta64[s]")
        parts.append(
            _df(
                {
                    "called_at": t3,
                    "application_id": pl.Series([None] * len(ci), dtype=pl.String),
                    "consumer_code": np.array(rows_c, dtype=object)[ci].tolist(),
                    "resource_code": np.array(rows_r, dtype=object)[ci].tolist(),
                }
            )
        )
    calls = pl.concat(
        [
            p.with_columns(pl.col("called_at").cast(pl.Datetime("us")), pl.col("application_id").cast(pl.String))
            for p in parts
        ]
    )
    n = calls.height
    status = np.where(rng.random(n) < 0.015, "失败", "成功")
    rows = np.where(status == "成功", rng.integers(1, 500, n), 0)
    calls = calls.with_columns(
        pl.Series("status", status),
        pl.Series("rows_returned", rows.astype(np.int64)),
        pl.col("called_at").dt.truncate("1s"),
    )
    prefix = "C" if chunk == 0 else f"C{chunk:02d}-"
    calls = calls.sort("called_at", "consumer_code", "resource_code").with_columns(
        call_id=pl.format("{}{}", pl.lit(prefix), (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(8))
    )
    return calls.select(TABLES["api_calls"].names)


def _objections(w: _World, seed: int) -> pl.DataFrame:
    rng = _rng(seed, "objections")
    cal = w.cal
    r = w.resources.filter(pl.col("share_type") != "不予共享")
    n = int(r.height * 0.55)
    ri = rng.integers(0, r.height, n)
    prov = r["provider_code"].to_numpy()[ri]
    p = np.array([w.p[c] for c in prov])
    day = cal.random_workdays(rng, n, "2024-01-02", "2025-12-10")
    raised = _office_time(rng, day)
    k = np.where(rng.random(n) < p * 1.3, rng.integers(11, 30, n), rng.integers(2, 11, n))
    resolved = _office_time(rng, cal.after(day, k))
    resolved[rng.random(n) < p * 0.15] = np.datetime64("NaT")
    notified = resolved + (rng.integers(10, 2880, n) * 60).astype("timedelta64[s]")
    o = _df(
        {
            "resource_code": r["resource_code"].to_numpy()[ri],
            "provider_code": prov,
            "raised_by": rng.choice(["使用机构", "数据主体"], n, p=[0.7, 0.3]),
            "raised_at": raised,
            "resolved_at": _cap(resolved),
            "outcome": _where(np.isnat(resolved), None, rng.choice(["更正", "确认"], n)).astype(object).tolist(),
            "notified_at": _cap(notified),
        },
        schema_overrides={"outcome": pl.String},
    )
    T = dt.datetime
    edges = _df(
        {
            "objection_id": ["OB-E01", "OB-E02", "OB-E03", "OB-E04"],
            "resource_code": ["HZ002-R001", "HZ007-R001", "HZ003-R001", "HZ016-R001"],
            "provider_code": ["HZ002", "HZ007", "HZ003", "HZ016"],
            "raised_by": ["数据主体", "使用机构", "使用机构", "数据主体"],
            "raised_at": [T(2025, 12, 19, 10, 0), T(2025, 12, 15, 10, 0), T(2025, 9, 26, 9, 30), T(2025, 9, 26, 14, 0)],
            "resolved_at": [None, None, T(2025, 10, 16, 16, 0), T(2025, 10, 17, 10, 0)],
            "outcome": [None, None, "更正", "确认"],
            "notified_at": [None, None, T(2025, 10, 17, 9, 0), T(2025, 10, 17, 15, 0)],
        },
        schema_overrides={c: pl.Datetime("us") for c in ("raised_at", "resolved_at", "notified_at")},
    )
    o = o.with_columns(pl.col(c).cast(pl.Datetime("us")) for c in ("raised_at", "resolved_at", "notified_at"))
    o = o.sort("raised_at", "resource_code").with_columns(
        objection_id=pl.format("OB{}", (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(5))
    )
    o = _objection_receipt(w, seed, o)
    edges = edges.with_columns(received_by=pl.Series(["HZ101", None, None, None], dtype=pl.String))
    more = _df(
        {
            "objection_id": ["OB-E05", "OB-E06"],
            "resource_code": ["HZ004-R001", "HZ005-R001"],
            "provider_code": ["HZ004", "HZ005"],
            "raised_by": ["数据主体", "数据主体"],
            "raised_at": [T(2025, 9, 26, 14, 0), T(2025, 11, 3, 9, 0)],
            "resolved_at": [T(2025, 10, 15, 10, 0), T(2025, 11, 10, 16, 0)],
            "outcome": [None, "更正"],
            "notified_at": [None, None],
            "received_by": ["HZ111", "HZ006"],
        },
        schema_overrides={
            "outcome": pl.String,
            "notified_at": pl.Datetime("us"),
            "raised_at": pl.Datetime("us"),
            "resolved_at": pl.Datetime("us"),
        },
    )
    return pl.concat(
        [
            o.select(TABLES["objections"].names),
            edges.select(TABLES["objections"].names),
            more.select(TABLES["objections"].names),
        ]
    )


def _objection_receipt(w: _World, seed: int, o: pl.DataFrame) -> pl.DataFrame:
    """A 数据主体 objection is received by the agency handling the business (often not the
    provider), which must verify and correct or confirm, and tell the applicant."""
    rng = _rng(seed, "objections-receipt")
    n = o.height
    others = w.ag.filter(~pl.col("is_authority"))["agency_code"].to_numpy()
    subject = (o["raised_by"] == "数据主体").to_numpy()
    recv = np.where(
        rng.random(n) < 0.45, o["provider_code"].to_numpy(), others[rng.integers(0, len(others), n)]
    ).astype(object)
    recv = _where(subject, recv, None)
    pr = np.array([w.p.get(c, 0.0) if c else 0.0 for c in recv])
    resolved = o["resolved_at"].is_not_null().to_numpy()
    no_outcome = subject & resolved & (rng.random(n) < pr * 0.6)
    not_told = subject & resolved & (rng.random(n) < pr * 0.8)
    return o.with_columns(
        received_by=pl.Series(recv.tolist(), dtype=pl.String),
        outcome=pl.when(pl.Series(no_outcome)).then(None).otherwise("outcome"),
        notified_at=pl.when(pl.Series(not_told)).then(None).otherwise("notified_at"),
    )


def _collection_list(w: _World, seed: int, items: pl.DataFrame) -> pl.DataFrame:
    """采集清单: what each agency's duties make it collect. Mostly the items its resources catalogue,
    some listed by resource only, and gaps (items on the list that no resource of it catalogues)."""
    rng = _rng(seed, "collection")
    own = (
        items.unique(["resource_code", "item_code"], keep="first", maintain_order=True)
        .join(w.resources.select("resource_code", "provider_code", "resource_name"), on="resource_code", how="inner")
        .filter(~pl.col("item_code").is_in(list(COMMON_ITEMS) + ["DE09901"]))
    )
    by_ag = {a: g for (a,), g in own.group_by("provider_code", maintain_order=True)}
    rows: list[tuple] = []
    listed0 = np.datetime64("2023-03-01", "D")
    for code, p, base, nouns in (
        w.ag.filter(~pl.col("is_authority")).select("agency_code", "p", "base_code", "nouns").iter_rows()
    ):
        if base in NO_COLLECTION_LIST:
            continue
        g = by_ag.get(code)
        if g is not None:
            whole = set()
            for rc, name in g.select("resource_code", "resource_name").unique(maintain_order=True).iter_rows():
                if rng.random() < 0.2:
                    whole.add(rc)
                    rows.append((code, f"{name}（整表）", None, rc))
            for rc, ic, iname in g.select("resource_code", "item_code", "item_name").iter_rows():
                if rc not in whole:
                    rows.append((code, iname, ic, rc if rng.random() < 0.5 else None))
        k = int(rng.poisson(p * 8)) + (5 if base in NO_CATALOGUE else 0)
        noun = nouns[0] if nouns else "信访事项"
        for i in range(k):
            ic = f"DE8{zlib.crc32(f'{code}/{i}'.encode()) % 9000 + 1000:04d}{i:02d}"
            rows.append((code, f"{noun}采集项{i + 1}", ic, None))
    n = len(rows)
    listed = listed0 + rng.integers(0, 700, n).astype("timedelta64[D]")
    late = rng.random(n) < 0.08  # listed in the second half of 2025: not yet on the 2024 list
    listed = np.where(late, np.datetime64("2025-07-01", "D") + rng.integers(0, 150, n).astype("timedelta64[D]"), listed)
    cl = _df(
        {
            "agency_code": [r[0] for r in rows],
            "item_name": [r[1] for r in rows],
            "item_code": [r[2] for r in rows],
            "resource_code": [r[3] for r in rows],
            "listed_at": listed.astype("datetime64[D]"),
        },
        schema_overrides={"item_code": pl.String, "resource_code": pl.String},
    )
    cl = cl.with_columns(pl.col("listed_at").cast(pl.Date)).unique(
        ["agency_code", "item_name"], keep="first", maintain_order=True
    )
    return cl.select(TABLES["collection_list"].names)


def _open(w: _World, seed: int):
    rng = _rng(seed, "open")
    cal = w.cal
    ag = w.ag.filter(~pl.col("is_authority"))
    plans = []
    for code, p, base in ag.select("agency_code", "p", "base_code").iter_rows():
        for y in YEARS:
            u = rng.random()
            if u < p * 0.45:
                continue  # not filed
            if u < p * 1.6:
                day = cal.random_workdays(rng, 1, f"{y}-04-01", f"{y}-07-31")[0]  # late
            else:
                day = cal.random_workdays(rng, 1, f"{y}-01-06", f"{y}-03-28")[0]
            plans.append((code, y, _office_time(rng, np.array([day]))[0]))
        if base in ("HZ002", "HZ014", "HZ106") and "-" not in code:  # early birds: 2026 plan filed before the export
            plans.append((code, 2026, _ts("2025-12-30T10:00") + np.timedelta64(int(rng.integers(0, 5 * 1440)), "m")))
    pl_df = _df(
        {
            "agency_code": [x[0] for x in plans],
            "year": [x[1] for x in plans],
            "filed_at": np.array([x[2] for x in plans], dtype="datetime64[s]"),
        }
    ).with_columns(pl.col("year").cast(pl.Int64), pl.col("filed_at").cast(pl.Datetime("us")))

    r = w.resources.filter((pl.col("open_type") != "不予开放") & pl.col("withdrawn_date").is_null())
    n = int(r.height * 0.9)
    ri = rng.integers(0, r.height, n)
    prov = r["provider_code"].to_numpy()[ri].astype(object)
    pp = np.array([w.p[c] for c in prov])
    # foreign data: a careless agency offers another agency's resource
    foreign = rng.random(n) < pp * 0.35
    others = ag["agency_code"].to_numpy()
    lister = np.where(foreign, others[rng.integers(0, len(others), n)], prov)
    foreign &= lister != prov
    lister = np.where(foreign, lister, prov)
    pl_ = np.array([w.p[c] for c in lister])
    day = cal.random_workdays(rng, n, "2024-01-02", "2025-12-22")
    k = np.where(rng.random(n) < pl_ * 1.3, rng.integers(21, 40, n), rng.integers(3, 21, n))
    rep = _office_time(rng, cal.after(day, k))
    rep[rng.random(n) < pl_ * 0.1] = np.datetime64("NaT")
    dec = rng.choice(["同意", "部分同意", "拒绝"], n, p=[0.7, 0.1, 0.2]).astype(object)
    approved = dec != "拒绝"
    agree = rep + (rng.integers(1, 10, n) * 86400).astype("timedelta64[s]")
    agree[~approved | (rng.random(n) < pl_ * 1.2)] = np.datetime64("NaT")
    rep = _cap(rep)
    dec[np.isnat(rep)] = None
    agree[np.isnat(rep)] = np.datetime64("NaT")
    reason = np.where(dec == "拒绝", "申请用途与开放条件不符", _where(approved & ~np.isnat(rep), "符合开放条件", None))
    oa = _df(
        {
            "resource_code": r["resource_code"].to_numpy()[ri],
            "agency_code": lister.tolist(),
            "applicant_type": rng.choice(["自然人", "法人", "非法人组织"], n, p=[0.35, 0.55, 0.1]),
            "submitted_at": _office_time(rng, day),
            "replied_at": rep,
            "decision": dec.tolist(),
            "reason": reason.tolist(),
            "agreement_signed_at": _cap(agree),
        },
        schema_overrides={"decision": pl.String, "reason": pl.String},
    )
    oa = oa.with_columns(
        pl.col(c).cast(pl.Datetime("us")) for c in ("submitted_at", "replied_at", "agreement_signed_at")
    )
    oa = oa.sort("submitted_at", "resource_code").with_columns(
        open_app_id=pl.format("OA{}", (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(5))
    )
    # 未通过审核的，要明确理由: careless agencies refuse without one
    pr = oa["agency_code"].replace_strict(w.p, return_dtype=pl.Float64).to_numpy()
    silent = (oa["decision"] == "拒绝").fill_null(False).to_numpy() & (
        _rng(seed, "open-reasons").random(oa.height) < pr * 1.5
    )
    oa = oa.with_columns(reason=pl.when(pl.Series(silent)).then(None).otherwise("reason"))
    T = dt.datetime
    edges = _df(
        {
            "open_app_id": ["OA-E01", "OA-E02", "OA-E03"],
            "resource_code": ["HZ005-R001", "HZ005-R001", "HZ002-R002"],
            "agency_code": ["HZ005", "HZ005", "HZ018"],  # OA-E03: 文广旅体局 lists 公安局's resource (foreign data)
            "applicant_type": ["法人", "自然人", "法人"],
            "submitted_at": [T(2025, 9, 5, 10, 0), T(2025, 12, 1, 10, 0), T(2025, 6, 3, 10, 0)],
            "replied_at": [T(2025, 10, 11, 11, 0), None, T(2025, 6, 20, 10, 0)],
            "decision": ["同意", None, "同意"],
            "reason": ["符合开放条件", None, "符合开放条件"],
            "agreement_signed_at": [T(2025, 10, 20, 10, 0), None, None],
        },
        schema_overrides={c: pl.Datetime("us") for c in ("submitted_at", "replied_at", "agreement_signed_at")},
    )
    oa = pl.concat([oa.select(TABLES["open_applications"].names), edges.select(TABLES["open_applications"].names)])
    return pl_df.select(TABLES["open_plans"].names).sort("year", "agency_code"), oa


#: 第三十六条: resources listed on another agency's open catalogue (lister, resource of another provider, date)
FOREIGN_OPEN_LISTINGS = (
    ("HZ018", "HZ002-R002", "2025-06-03"),  # 文广旅体局 lists 公安局's resource (as OA-E03 applies for it)
    ("HZ016", "HZ005-R001", "2025-04-15"),
)


def _open_catalogue(w: _World, seed: int) -> pl.DataFrame:
    """开放目录: each agency lists its own open (无条件/有条件开放) resources, soon after publication (those
    published before 2024 listed in 2024's first quarter); agencies without a catalogue list nothing (未报送);
    two agencies list another's resource (:data:`FOREIGN_OPEN_LISTINGS`)."""
    rng = _rng(seed, "open-catalogue")
    graded = w.ag.filter(~pl.col("is_authority"))["agency_code"].implode()
    r = w.resources.filter(
        (pl.col("open_type") != "不予开放")
        & pl.col("withdrawn_date").is_null()
        & pl.col("provider_code").is_in(graded)
        & ~pl.col("provider_code").is_in(list(NO_CATALOGUE))
    )
    pub = r["published_date"].to_numpy().astype("datetime64[D]")
    lag = rng.integers(3, 40, r.height).astype("timedelta64[D]")
    early = _d("2024-01-08") + rng.integers(0, 80, r.height).astype("timedelta64[D]")
    listed = np.where(pub < _d("2024-01-01"), early, pub + lag)
    cat = _df(
        {
            "agency_code": r["provider_code"].to_list(),
            "resource_code": r["resource_code"].to_list(),
            "listed_at": listed,
            "open_type": r["open_type"].to_list(),
        }
    ).with_columns(pl.col("listed_at").cast(pl.Date))
    cat = cat.filter(pl.col("listed_at") <= pl.lit(Y_END))
    types = dict(zip(w.resources["resource_code"], w.resources["open_type"]))
    foreign = _df(
        {
            "agency_code": [a for a, _, _ in FOREIGN_OPEN_LISTINGS],
            "resource_code": [c for _, c, _ in FOREIGN_OPEN_LISTINGS],
            "listed_at": [dt.date.fromisoformat(d) for _, _, d in FOREIGN_OPEN_LISTINGS],
            "open_type": [types.get(c) for _, c, _ in FOREIGN_OPEN_LISTINGS],
        }
    ).filter(pl.col("agency_code").is_in(w.ag["agency_code"].implode()))
    return pl.concat([cat, foreign.select(cat.columns)]).sort("agency_code", "resource_code")


#: 第十八条第二款: never-aggregated resources their provider filed with the authority as not aggregable by interface,
#: 前置机 or file upload (resource, filing day, reason)
AGGREGATION_EXEMPTIONS = (
    ("HZ113-R001", "2024-05-20", "业务系统部署于涉密专网，无法接口对接或前置机推送"),  # both years
    ("HZ016-R002", "2025-03-18", "数据存于国垂系统，本级无导出权限"),  # filed after 2024's end: 2024 still fails
    ("HZ105-R002", "2025-06-30", "纸质档案尚未数字化，暂无法文件上传"),
)


def _aggregation_exemptions(w: _World) -> pl.DataFrame:
    """汇聚备案: the provider of each resource of :data:`AGGREGATION_EXEMPTIONS` (planted never aggregated) filed it."""
    provider = dict(zip(w.resources["resource_code"], w.resources["provider_code"]))
    rows = [(provider[c], c, d, why) for c, d, why in AGGREGATION_EXEMPTIONS if c in provider]
    return _df(
        {
            "agency_code": [r[0] for r in rows],
            "resource_code": [r[1] for r in rows],
            "filed_at": [dt.date.fromisoformat(r[2]) for r in rows],
            "reason": [r[3] for r in rows],
        }
    ).sort("agency_code", "resource_code")


#: 第二十九条 数据回流: requests of 县区 units to the 市级 holder of a 国垂/省垂 system's data (id, requester, holder,
#: system, requested, delivered or None = not yet)
BACKFLOW_REQUESTS = (
    ("BF-2024-01", "HZ101", "HZ002", "公安部人口基础信息库", "2024-04-08 10:00", "2024-05-20 16:30"),
    ("BF-2024-02", "HZ103", "HZ003", "国家企业信用信息公示系统", "2024-09-12 09:30", "2024-09-30 11:00"),
    ("BF-2024-03", "HZ105", "HZ014", "国家医疗保障信息平台", "2024-11-18 15:00", None),
    ("BF-2025-01", "HZ102", "HZ002", "公安部人口基础信息库", "2025-02-17 10:00", "2025-03-05 17:00"),
    ("BF-2025-02", "HZ104", "HZ004", "广东省人社一体化信息平台", "2025-03-10 09:00", "2025-04-02 10:00"),
    ("BF-2025-03", "HZ101", "HZ011", "全国婚姻登记信息系统", "2025-05-06 11:00", None),
    ("BF-2025-04", "HZ106", "HZ009", "广东省全民健康信息平台", "2025-06-16 14:00", "2025-07-10 09:30"),
    ("BF-2025-05", "HZ103", "HZ014", "国家医疗保障信息平台", "2025-08-04 10:00", None),
    ("BF-2025-06", "HZ107", "HZ003", "国家企业信用信息公示系统", "2025-09-26 16:00", "2025-10-13 10:00"),
    ("BF-2025-07", "HZ102", "HZ004", "广东省人社一体化信息平台", "2025-10-20 09:00", None),
    ("BF-2025-08", "HZ105", "HZ002", "公安部人口基础信息库", "2025-11-24 10:30", "2025-12-29 15:00"),
    ("BF-2025-09", "HZ104", "HZ011", "全国婚姻登记信息系统", "2025-12-15 09:00", None),
)


def _backflow(w: _World) -> pl.DataFrame:
    """数据回流申请 (:data:`BACKFLOW_REQUESTS`), those whose requester and holder the register holds."""
    known = set(w.ag["agency_code"])
    rows = [r for r in BACKFLOW_REQUESTS if r[1] in known and r[2] in known]
    ts = lambda v: dt.datetime.fromisoformat(v) if v else None  # noqa: E731
    return _df(
        {
            "request_id": [r[0] for r in rows],
            "requester_code": [r[1] for r in rows],
            "holder_code": [r[2] for r in rows],
            "resource_code": [None for _ in rows],
            "system_name": [r[3] for r in rows],
            "requested_at": [ts(r[4]) for r in rows],
            "delivered_at": [ts(r[5]) for r in rows],
        },
        schema_overrides={
            "resource_code": pl.String,
            "requested_at": pl.Datetime("us"),
            "delivered_at": pl.Datetime("us"),
        },
    )


def _projects(w: _World, seed: int):
    rng = _rng(seed, "projects")
    cal = w.cal
    r = w.resources
    good = r.filter(
        pl.col("update_frequency").is_in(["实时", "每日", "每周", "每月"])
        & ~pl.col("never_aggregated")
        & pl.col("withdrawn_date").is_null()
        & (pl.col("published_date") < dt.date(2024, 1, 1))
        & ((pl.col("share_type") != "不予共享") | ~pl.col("unfiled"))
    )
    good_by = {a: g["resource_code"].to_list() for (a,), g in good.group_by("provider_code", maintain_order=True)}
    never = r.filter(pl.col("never_aggregated"))["resource_code"].to_list()
    unfiled = r.filter((pl.col("share_type") == "不予共享") & pl.col("unfiled"))["resource_code"].to_list()
    owners = [c for c in w.ag.filter(~pl.col("is_authority"))["agency_code"].to_list() if good_by.get(c)]
    rows, dl = [], []
    n = max(6, int(len(owners) * 0.75))
    chosen = rng.choice(owners, n, replace=n > len(owners))
    for i, owner in enumerate(chosen):
        p = w.p[owner]
        pid = f"XM{i + 1:04d}"
        appr = cal.random_workdays(rng, 1, "2023-09-01", "2025-09-30")[0]
        appr_t = _office_time(rng, np.array([appr]))[0]
        g1_fail = rng.random() < p * 1.2
        dls = (
            appr_t + np.timedelta64(int(rng.integers(2, 20)), "D")
            if g1_fail
            else appr_t - np.timedelta64(int(rng.integers(3, 40)), "D")
        )
        if g1_fail and rng.random() < 0.3:
            dls = np.datetime64("NaT")
        req = appr_t + np.timedelta64(int(rng.integers(200, 520)), "D")
        acc = req + np.timedelta64(int(rng.integers(7, 40)), "D")
        req, acc = (req if req <= CUTOFF else np.datetime64("NaT")), (acc if acc <= CUTOFF else np.datetime64("NaT"))
        rows.append(
            (
                pid,
                f"{w.ag.filter(pl.col('agency_code') == owner)['agency_name'][0]}业务系统升级改造项目（{i + 1}期）",
                owner,
                bool(rng.random() > 0.08),
                appr_t,
                dls,
                req,
                acc,
            )
        )
        own = good_by[owner]
        lst = list(rng.choice(own, min(len(own), int(rng.integers(1, 4))), replace=False))
        if rng.random() < p * 1.5:
            kind = int(rng.integers(0, 3))
            if kind == 0:
                lst.append(f"{owner}-R9{i:02d}")  # G2: not in the catalogue
            elif kind == 1 and never:
                lst.append(never[int(rng.integers(0, len(never)))])  # G3: never aggregated
            elif unfiled:
                lst.append(unfiled[int(rng.integers(0, len(unfiled)))])  # G4: 不予共享 without filing
        dl += [(pid, x) for x in lst]
    T = np.datetime64
    # planted: accepted in 2025 while failing G3 and G4; one failing G1 only; one passing; one non-fiscal
    planted = [
        (
            "XM-E01",
            "惠州市住房和城乡建设局智慧住建平台项目",
            "HZ007",
            True,
            T("2024-03-15T10:00"),
            T("2024-03-01T10:00"),
            T("2025-06-02T10:00"),
            T("2025-06-20T15:00"),
            ["HZ007-R001", "HZ021-R001", "HZ007-R002"],
        ),
        (
            "XM-E02",
            "惠州市水务局河湖长制信息系统项目",
            "HZ016",
            True,
            T("2025-03-10T10:00"),
            T("2025-04-18T10:00"),
            None,
            None,
            ["HZ016-R001"],
        ),
        (
            "XM-E03",
            "惠州市人社局社保经办一体化项目",
            "HZ004",
            True,
            T("2024-05-08T10:00"),
            T("2024-04-25T10:00"),
            T("2025-09-26T10:00"),
            T("2025-10-11T10:00"),
            ["HZ004-R001"],
        ),
        (
            "XM-E04",
            "龙门县数字乡村试点项目（自筹资金）",
            "HZ105",
            False,
            T("2024-08-01T10:00"),
            None,
            T("2025-08-01T10:00"),
            T("2025-08-20T10:00"),
            ["HZ105-R001"],
        ),
    ]
    for pid, name, owner, fiscal, a, d, q, c, lst in planted:
        if owner in w.p:
            rows.append(
                (
                    pid,
                    name,
                    owner,
                    fiscal,
                    a,
                    d if d is not None else np.datetime64("NaT"),
                    q if q is not None else np.datetime64("NaT"),
                    c if c is not None else np.datetime64("NaT"),
                )
            )
            dl += [(pid, x) for x in lst]
    pr = _df(
        {
            "project_id": [x[0] for x in rows],
            "project_name": [x[1] for x in rows],
            "owner_code": [x[2] for x in rows],
            "fiscal_funded": [x[3] for x in rows],
            **{
                col: np.array([x[j] for x in rows], dtype="datetime64[s]")
                for j, col in enumerate(
                    ("approved_at", "data_list_submitted_at", "acceptance_requested_at", "accepted_at"), start=4
                )
            },
        }
    ).with_columns(
        pl.col(c).cast(pl.Datetime("us"))
        for c in ("approved_at", "data_list_submitted_at", "acceptance_requested_at", "accepted_at")
    )
    dlf = pl.DataFrame(dl, schema=["project_id", "resource_code"], orient="row").unique(maintain_order=True)
    return pr.select(TABLES["projects"].names), dlf.select(TABLES["project_data_list"].names)


def _security(w: _World, seed: int):
    rng = _rng(seed, "security")
    cal = w.cal
    rec = []
    for code, p in w.ag.select("agency_code", "p").iter_rows():
        for y in YEARS:
            for kind, need, extra in (("安全检查", 2, 1), ("数据备份", 4, 8), ("风险评估", 1, 0)):
                m = need + int(rng.integers(0, extra + 1))
                keep = rng.random(m) >= p * 1.2
                days = cal.random_workdays(rng, m, f"{y}-01-06", f"{y}-12-20")[keep]
                for t in np.unique(_office_time(rng, days)):
                    rec.append((code, kind, t))
    sec = (
        _df(
            {
                "agency_code": [x[0] for x in rec],
                "record_type": [x[1] for x in rec],
                "done_at": np.array([x[2] for x in rec], dtype="datetime64[s]"),
            }
        )
        .with_columns(pl.col("done_at").cast(pl.Datetime("us")))
        .unique(maintain_order=True)
        .sort("agency_code", "done_at", "record_type")
    )

    T = dt.datetime
    inc: list[tuple] = [
        ("IN-2025-001", VETO_AGENCY, T(2025, 8, 14, 22, 40), "数据泄露", "重大"),
        ("IN-2024-001", LEAK_2024_AGENCY, T(2024, 5, 9, 15, 10), "数据泄露", "较大"),
    ]
    kinds = ("网络攻击", "系统故障", "病毒感染", "越权访问", "数据篡改未遂")
    i = 1
    for code, p in w.ag.filter(~pl.col("is_authority")).select("agency_code", "p").iter_rows():
        for _ in range(int(rng.poisson(p * 0.9))):
            i += 1
            d = cal.random_workdays(rng, 1, "2024-01-02", "2025-12-20")[0]
            inc.append(
                (
                    f"IN-{str(d)[:4]}-{i:03d}",
                    code,
                    _office_time(rng, np.array([d]))[0].astype(dt.datetime),
                    kinds[int(rng.integers(0, len(kinds)))],
                    ("一般", "较大")[int(rng.random() < 0.3)],
                )
            )
    # 第二十二条: who answers for an incident. Most name the stage and the logging agency itself; some name
    # nothing (charged where logged); two planted ones name another agency (a 数源部门, the authority)
    srng = _rng(seed, "incident-responsibility")
    stages = srng.choice(["采集", "提供", "使用", ""], len(inc), p=[0.2, 0.35, 0.3, 0.15])
    inc = [(*x, x[1] if st else None, st or None) for x, st in zip(inc, stages)]
    inc = [(*x[:5], x[1], "提供") if x[0] == "IN-2025-001" else x for x in inc]
    inc += [
        # logged at 文广旅体局 (the user); the leak came from 公安局's provided data: 公安局 answers
        ("IN-2025-R01", "HZ018", T(2025, 9, 16, 14, 20), "越权访问", "一般", "HZ002", "提供"),
        # logged at 龙门县; the platform (the authority) answers
        ("IN-2025-R02", "HZ105", T(2025, 11, 4, 9, 30), "系统故障", "一般", AUTHORITY, "提供"),
    ]
    incidents = (
        pl.DataFrame(
            inc,
            schema=["incident_id", "agency_code", "occurred_at", "kind", "severity", "responsible_code", "stage"],
            orient="row",
        )
        .with_columns(pl.col("occurred_at").cast(pl.Datetime("us")))
        .sort("occurred_at")
    )

    rect: list[tuple] = []
    j = 0
    for code, p in w.ag.filter(~pl.col("is_authority")).select("agency_code", "p").iter_rows():
        for _ in range(int(rng.poisson(0.4 + p * 6))):
            j += 1
            d = cal.random_workdays(rng, 1, "2024-01-02", "2025-11-28")[0]
            issued = _office_time(rng, np.array([d]))[0]
            deadline = d + np.timedelta64(int(rng.choice([15, 30, 45])), "D")
            u = rng.random()
            if u < p * 0.45:
                done, esc = (
                    np.datetime64("NaT"),
                    (deadline + np.timedelta64(5, "D")).astype("datetime64[s]") + np.timedelta64(10, "h"),
                )
            elif u < p * 1.3:
                done, esc = (
                    _office_time(rng, np.array([deadline + np.timedelta64(int(rng.integers(1, 30)), "D")]))[0],
                    np.datetime64("NaT"),
                )
            else:
                done, esc = (
                    _office_time(rng, np.array([deadline - np.timedelta64(int(rng.integers(0, 12)), "D")]))[0],
                    np.datetime64("NaT"),
                )
            rect.append((f"ZG{j:04d}", code, issued, deadline, done, esc))
    # planted: deadline day itself (on time), open and not yet due (pending), open and overdue (late)
    rect += [
        ("ZG-E01", "HZ016", _ts("2025-09-19T10:00"), _d("2025-10-08"), _ts("2025-10-08T21:30"), np.datetime64("NaT")),
        ("ZG-E02", "HZ105", _ts("2025-12-19T10:00"), _d("2026-01-19"), np.datetime64("NaT"), np.datetime64("NaT")),
        ("ZG-E03", "HZ102", _ts("2025-11-14T10:00"), _d("2025-12-15"), np.datetime64("NaT"), _ts("2025-12-22T09:00")),
        ("ZG-E04", "HZ021", _ts("2025-11-12T10:00"), _d("2025-12-12"), np.datetime64("NaT"), np.datetime64("NaT")),
    ]
    # 逾期未完成整改的 … 上报本级人民政府: the authority has not escalated some overdue notices
    erng = _rng(seed, "escalation")
    rect = [
        (i, a, t, d, done, np.datetime64("NaT") if (not np.isnat(esc) and erng.random() < 0.35) else esc)
        for i, a, t, d, done, esc in rect
    ]
    rf = _df(
        {
            "notice_id": [x[0] for x in rect],
            "agency_code": [x[1] for x in rect],
            "issued_at": np.array([x[2] for x in rect], dtype="datetime64[s]"),
            "deadline": np.array([x[3] for x in rect], dtype="datetime64[D]"),
            "completed_at": _cap(np.array([x[4] for x in rect], dtype="datetime64[s]")),
            "escalated_at": _cap(np.array([x[5] for x in rect], dtype="datetime64[s]")),
        }
    ).with_columns(
        pl.col("deadline").cast(pl.Date),
        *(pl.col(c).cast(pl.Datetime("us")) for c in ("issued_at", "completed_at", "escalated_at")),
    )
    rf = rf.filter(pl.col("agency_code").is_in(w.ag["agency_code"].implode()))
    incidents = incidents.filter(
        pl.col("agency_code").is_in(w.ag["agency_code"].implode())
        & pl.col("responsible_code").is_in(w.ag["agency_code"].implode()).fill_null(True)
    )
    return (
        sec.select(TABLES["security_records"].names),
        incidents.select(TABLES["incidents"].names),
        rf.select(TABLES["rectifications"].names),
    )


#: agencies the sample leaves without 督办 contacts, so ``validate`` and ``notify`` show the gap
NO_CONTACTS = ("HZ021", "HZ115")
_SURNAMES = "陈李张黄林王刘吴杨何郑罗叶钟邓曾"
_GIVEN = ("敏", "伟", "芳", "静", "磊", "洋", "婷", "军", "丽", "强", "燕", "杰")


def _contacts(ag: pl.DataFrame) -> pl.DataFrame:
    """督办 contacts: every agency but :data:`NO_CONTACTS` has a 数据专员 with a mail address;
    every third a group robot (企业微信 / 钉钉 in turn), 市级 ones every other a 分管领导. Addresses
    are reserved example domains (RFC 2606) and robot URLs use the vendors' paths on example.org
    with placeholder keys: nothing here reaches a real mailbox or group."""
    rows: list[tuple] = []
    for k, (code, level, base) in enumerate(ag.select("agency_code", "level", "base_code").iter_rows()):
        if base in NO_CONTACTS:
            continue
        slug = code.lower()
        person = _SURNAMES[k % len(_SURNAMES)] + _GIVEN[k % len(_GIVEN)]
        webhook = None
        if k % 3 == 1:
            webhook = (
                f"https://robot.example.org/cgi-bin/webhook/send?key=sample-{slug}"
                if k % 2
                else f"https://robot.example.org/robot/send?access_token=sample-{slug}"
            )
        rows.append((code, person, f"data.{slug}@example.org", None, "数据专员"))
        if webhook:
            rows.append((code, "督办工作群", None, webhook, "数据专员"))
        if level == "市级" and k % 2 == 0:
            lead = _SURNAMES[(k + 5) % len(_SURNAMES)] + _GIVEN[(k + 7) % len(_GIVEN)]
            rows.append((code, lead, f"leader.{slug}@example.org", None, "分管领导"))
    return pl.DataFrame(rows, schema=TABLES["contacts"].names, orient="row")


def _calendar_overrides() -> pl.DataFrame:
    # consistent with the State Council notices (and the bundled calendar): they change nothing, they document
    return _df(
        {
            "date": [
                dt.date(2025, 9, 28),
                dt.date(2025, 10, 11),
                dt.date(2026, 1, 1),
                dt.date(2026, 1, 2),
                dt.date(2026, 1, 4),
            ],
            "is_workday": [True, True, False, False, True],
            "note": [
                "国庆节、中秋节调休上班（周日）",
                "国庆节、中秋节调休上班（周六）",
                "2026年元旦",
                "2026年元旦假期",
                "2026年元旦调休上班（周日）",
            ],
        }
    )


def generate(seed: int = DEFAULT_SEED, scale: int = 1, size: Size | None = None) -> dict[str, pl.DataFrame]:
    """Every contract table as a typed polars frame (canonical values, local naive times).

    With ``size`` its scale replaces ``scale``; the log tables hold chunk 0 only (see
    :func:`log_chunks` for the others)."""
    return _generate(seed, scale, size)[0]


def _generate(seed: int, scale: int, size: Size | None):
    size = size or PLAIN
    scale = size.scale if size.name else scale
    if scale < 1:
        raise ValueError("scale must be >= 1")
    ag = _agencies(scale)
    w = _World(
        rng=_rng(seed, "world"),
        cal=_Cal(),
        ag=ag,
        p=dict(zip(ag["agency_code"], ag["p"])),
        level=dict(zip(ag["agency_code"], ag["level"])),
        size=size,
    )
    w.res = _resources(w, seed)
    out: dict[str, pl.DataFrame] = {}
    out["agencies"] = ag.select(TABLES["agencies"].names)
    out["catalog_snapshot"] = _catalog_snapshot(w)
    out["catalog_items"] = _catalog_items(w, out["catalog_snapshot"], seed)
    out["basis_changes"], out["catalog_events"] = _basis_and_events(w, seed)
    out["aggregation_log"] = _aggregation(w, seed)
    out["aggregation_exemptions"] = _aggregation_exemptions(w)
    out["share_applications"], out["share_feedback"], out["api_calls"] = _share(w, seed)
    out["objections"] = _objections(w, seed)
    out["backflow_requests"] = _backflow(w)
    out["collection_list"] = _collection_list(w, seed, out["catalog_items"])
    out["open_plans"], out["open_applications"] = _open(w, seed)
    out["open_catalogue"] = _open_catalogue(w, seed)
    out["projects"], out["project_data_list"] = _projects(w, seed)
    out["security_records"], out["incidents"], out["rectifications"] = _security(w, seed)
    out["calendar_overrides"] = _calendar_overrides()
    out["contacts"] = _contacts(ag)
    missing = set(TABLES) - set(out)
    assert not missing, missing
    return {t: out[t] for t in TABLES}, w


def log_chunks(seed: int, size: Size, w: "_World", apps: pl.DataFrame):
    """Yield (chunk, aggregation_log, api_calls) for chunks 1.. of a dense-log size, one at a time."""
    for k in range(1, size.log_chunks):
        yield k, _aggregation(w, seed, chunk=k), _api_calls(apps, w, _rng(seed, f"share-calls-{k}"), chunk=k)


def write_sized_drop(
    size: Size, out: Path | str, seed: int = DEFAULT_SEED, fmt: str = "parquet"
) -> tuple[list[Path], int]:
    """Write a named-size drop; dense log tables go to ``<table>_000.parquet`` ... one chunk at a time.

    Returns the files written and the total row count."""
    out = Path(out)
    frames, w = _generate(seed, size.scale, size)
    rows = sum(df.height for df in frames.values())
    if size.log_chunks == 1:
        return write_drop(frames, out, fmt=fmt), rows
    big = ("aggregation_log", "api_calls")
    files = write_drop({k: v for k, v in frames.items() if k not in big}, out, fmt=fmt)
    ext = "parquet" if fmt == "parquet" else "csv"
    files += _write_chunk(frames["aggregation_log"], frames["api_calls"], out, 0, fmt, ext)
    apps = frames["share_applications"]
    del frames
    for k, agg, calls in log_chunks(seed, size, w, apps):
        rows += agg.height + calls.height
        files += _write_chunk(agg, calls, out, k, fmt, ext)
        del agg, calls
    return files, rows


def _write_chunk(agg, calls, out: Path, k: int, fmt: str, ext: str) -> list[Path]:
    tmp = out / f".chunk{k:03d}"
    written = write_drop({"aggregation_log": agg, "api_calls": calls}, tmp, fmt=fmt)
    files = []
    for f in written:
        dest = out / f"{f.stem}_{k:03d}.{ext}"
        f.replace(dest)
        files.append(dest)
    tmp.rmdir()
    return files


def profiles(scale: int = 1) -> pl.DataFrame:
    """Agency code, name, level and diligence profile (for docs and tests)."""
    return _agencies(scale).select("agency_code", "agency_name", "level", "profile", "p")


# --------------------------------------------------------------------------- writing

#: committed drop: table -> (format, encoding, header language); others: UTF-8 CSV, English headers
COMMITTED_LAYOUT = {
    "agencies": ("csv", "gb18030", "zh"),
    "rectifications": ("csv", "utf-8-sig", "zh"),
    "projects": ("xlsx", None, "zh"),
    "api_calls": ("parquet", None, "en"),
    "aggregation_log": ("parquet", None, "en"),
    "share_feedback": ("jsonl", None, "en"),
    "aggregation_exemptions": ("csv", "utf-8", "zh"),
}

TS_STYLES = {
    "std": "%Y-%m-%d %H:%M:%S",
    "slash": "%Y/%-m/%-d %-H:%M",
    "iso": "%Y-%m-%dT%H:%M:%S+08:00",
    "cn": "%Y年%-m月%-d日",
}
D_STYLES = {"std": "%Y-%m-%d", "slash": "%Y/%-m/%-d", "cn": "%Y年%-m月%-d日"}

_ROW = pl.int_range(pl.len())


def _styled(col: str, styles: list[str], kind: str = "ts", stride: int = 1) -> pl.Expr:
    """Format a datetime/date column as text, cycling through the styles row by row."""
    table = TS_STYLES if kind == "ts" else D_STYLES
    sel = (_ROW // stride) % len(styles)
    expr = pl.col(col).dt.strftime(table[styles[0]])
    for i, s in enumerate(styles[1:], start=1):
        expr = pl.when(sel == i).then(pl.col(col).dt.strftime(table[s])).otherwise(expr)
    return expr.alias(col)


def _bool(col: str, t="true", f="false", null_for_true_every: int = 0) -> pl.Expr:
    e: pl.Expr = pl.when(pl.col(col)).then(pl.lit(t)).when(~pl.col(col)).then(pl.lit(f))
    if null_for_true_every:
        e = pl.when(pl.col(col) & (_ROW % null_for_true_every == 0)).then(None).otherwise(e)
    return e.alias(col)


def _alias(col: str, canon: str, alias: str, every: int) -> pl.Expr:
    return pl.when((pl.col(col) == canon) & (_ROW % every == 0)).then(pl.lit(alias)).otherwise(pl.col(col)).alias(col)


def _stringify(df: pl.DataFrame) -> pl.DataFrame:
    """Remaining typed columns -> canonical text."""
    out = []
    for name, dtype in df.schema.items():
        if dtype == pl.Datetime("us"):
            out.append(pl.col(name).dt.strftime(TS_STYLES["std"]))
        elif dtype == pl.Date:
            out.append(pl.col(name).dt.strftime(D_STYLES["std"]))
        elif dtype == pl.Boolean:
            out.append(_bool(name))
        else:
            out.append(pl.col(name).cast(pl.String))
    return df.select(out)


def _insert(df: pl.DataFrame, bad: list[dict], at: int) -> pl.DataFrame:
    bad_df = pl.DataFrame(bad, schema={c: pl.String for c in df.columns})
    return pl.concat([df.head(at), bad_df, df.slice(at)])


def _quirks(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """The committed drop's per-table quirks (formats, aliases, bad rows). Returns text columns."""
    ts_cols = [c.name for c in TABLES[name].columns if c.type == "timestamp"]
    if name == "agencies":
        df = df.with_columns(
            _bool("is_authority", "是", "否"),
            pl.when(pl.col("agency_code") == "HZ111").then(pl.lit("县(区)")).otherwise("level").alias("level"),
            pl.when((pl.col("agency_type") == "行政机关") & (_ROW % 2 == 0))
            .then(None)  # empty = 行政机关
            .otherwise("agency_type")
            .alias("agency_type"),
        )
    elif name == "catalog_snapshot":
        df = df.with_columns(
            _alias("share_type", "有条件共享", "conditional", 17),
            _alias("update_frequency", "每月", "monthly", 13),
            _alias("open_type", "不予开放", "none", 19),
        )
    elif name == "catalog_items":
        df = df.with_columns(_bool("is_authoritative", "1", "0"))
    elif name == "basis_changes":
        df = df.with_columns(
            _styled("effective_date", ["std", "cn", "slash"], "date"),
            pl.when(_ROW % 3 == 0)
            .then(pl.col("resource_codes").str.replace_all(";", "；"))
            .otherwise("resource_codes")
            .alias("resource_codes"),
        )
    elif name == "catalog_events":
        df = _stringify(
            df.with_columns(
                _styled("event_time", ["std", "std", "iso", "slash"]), _alias("event_type", "审定通过", "approved", 23)
            )
        )
        df = _insert(
            df,
            [
                {
                    "event_id": "EV-BAD1",
                    "resource_code": "HZ002-R001",
                    "agency_code": AUTHORITY,
                    "event_type": "审核中",
                    "event_time": "2025-03-04 10:00:00",
                    "change_id": None,
                }
            ],
            120,
        )
    elif name == "share_applications":
        df = df.with_columns(
            *(_styled(c, ["std", "slash", "iso"]) for c in ts_cols),
            _styled("valid_until", ["std", "std", "cn", "slash"], "date"),
            _alias("share_type", "有条件共享", "conditional", 5),
            _alias("decision", "同意", "approved", 6),
            _bool("cross_level", "1", "0"),
            _bool("filed_upper", "1", "0"),
            _bool("filed_same", "1", "0"),
            _bool("in_catalog", "Y", "N", null_for_true_every=2),
        )
        df = _stringify(
            df.with_columns(
                _alias("share_type", "无条件共享", "unconditional", 7), _alias("decision", "拒绝", "refused", 4)
            )
        )
        good = dict(
            resource_code="HZ011-R001",
            applicant_code="HZ012",
            provider_code="HZ011",
            share_type="无条件共享",
            submitted_at="2025-03-03 10:00:00",
            replied_at="2025-03-04 10:00:00",
            decision="同意",
            implemented_at="2025-03-05 10:00:00",
            scenario="社会救助对象核查",
            requested_items="姓名、救助类别",
            share_mode="接口调用",
            valid_until="2026-12-31",
            cross_level="0",
            filed_upper="0",
            filed_same="0",
        )
        df = _insert(
            df,
            [
                dict(good, application_id="SA-BAD1", submitted_at="2025-02-30 10:00"),  # unparseable time
                dict(good, application_id="SA-BAD2", applicant_code=None),  # missing required value
                dict(good, application_id="SA-BAD3", share_type="部分共享"),  # unknown vocabulary value
                dict(good, application_id="SA-DUP1"),  # duplicate key in the file
                dict(good, application_id="SA-DUP1", requested_items="姓名、救助类别、救助金额"),
            ],
            200,
        )
    elif name == "share_feedback":
        df = df.with_columns(
            pl.when(_ROW % 3 == 1)
            .then(pl.col("period").str.replace("Q", "-Q"))
            .when(_ROW % 3 == 2)
            .then(pl.col("period").str.replace(r"^(\d{4})Q(\d)$", "${1}年第${2}季度"))
            .otherwise("period")
            .alias("period"),
            _styled("submitted_at", ["iso", "std"]),
        )
    elif name == "objections":
        df = _stringify(
            df.with_columns(
                *(_styled(c, ["slash"]) for c in ts_cols),
                _alias("raised_by", "数据主体", "data subject", 3),
                _alias("outcome", "更正", "corrected", 4),
            )
        )
        df = _insert(
            df,
            [
                {
                    "objection_id": "OB-BAD1",
                    "resource_code": "HZ002-R001",
                    "provider_code": "HZ002",
                    "raised_by": "citizen",
                    "raised_at": "2025/4/1 9:00",
                    "resolved_at": "2025/4/3 9:00",
                    "outcome": "更正",
                    "notified_at": "2025/4/3 15:00",
                }
            ],
            40,
        )
    elif name == "collection_list":
        df = _stringify(df.with_columns(_styled("listed_at", ["std", "cn"], "date")))
        df = _insert(
            df,
            [
                {
                    "agency_code": None,
                    "item_name": "婚姻登记证字号",
                    "item_code": "DE8000001",
                    "resource_code": None,
                    "listed_at": "2024-03-01",
                }
            ],
            30,
        )  # no agency_code → rejects
    elif name == "open_plans":
        df = df.with_columns(_styled("filed_at", ["std", "cn"]))
    elif name == "open_catalogue":
        df = _stringify(
            df.with_columns(
                _styled("listed_at", ["std", "cn"], "date"), _alias("open_type", "有条件开放", "conditional", 4)
            )
        )
        # an open type outside the vocabulary → rejects, with file, line and column
        bad: dict[str, str | None] = {
            "agency_code": "HZ016",
            "resource_code": "HZ016-R001",
            "listed_at": "2025-03-01",
            "open_type": "半开放",
        }
        return _insert(df, [bad], 7)
    elif name == "backflow_requests":
        df = _stringify(df.with_columns(*(_styled(c, ["std", "slash"]) for c in ts_cols)))
        # a request without the agency holding the data → rejects, with file, line and column
        no_holder: dict[str, str | None] = {c: None for c in df.columns} | {
            "request_id": "BF-BAD1",
            "requester_code": "HZ106",
            "system_name": "国家企业信用信息公示系统",
            "requested_at": "2025-04-01 10:00:00",
        }
        return _insert(df, [no_holder], 3)
    elif name == "aggregation_exemptions":
        df = _stringify(df.with_columns(_styled("filed_at", ["cn", "std"], "date")))
        # a filing without its day → rejects, with file, line and column
        no_day: dict[str, str | None] = {
            "agency_code": "HZ007",
            "resource_code": "HZ007-R001",
            "filed_at": None,
            "reason": "接口改造中",
        }
        return _insert(df, [no_day], 1)
    elif name == "open_applications":
        df = df.with_columns(
            *(_styled(c, ["std", "iso"], stride=2) for c in ts_cols),
            _alias("applicant_type", "法人", "company", 5),
            _alias("decision", "部分同意", "partial", 2),
        )
    elif name == "projects":
        df = df.with_columns(_bool("fiscal_funded", "是", "否"))
        return df  # written natively to XLSX
    elif name == "security_records":
        df = df.with_columns(
            _alias("record_type", "数据备份", "backup", 9), _styled("done_at", ["std", "slash"], stride=5)
        )
    elif name == "incidents":
        df = _stringify(df.with_columns(_styled("occurred_at", ["iso"]), _alias("stage", "使用", "use", 3)))
        # an unknown stage (not 采集/提供/使用) → rejects, with file, line and column
        bad = {c: None for c in df.columns} | {
            "incident_id": "IN-BAD1",
            "agency_code": "HZ016",
            "occurred_at": "2025-03-03T10:00:00+08:00",
            "kind": "系统故障",
            "stage": "传输",
        }
        return _insert(df, [bad], 4)
    elif name == "rectifications":
        df = df.with_columns(
            *(_styled(c, ["slash", "std"]) for c in ts_cols), _styled("deadline", ["cn", "std"], "date")
        )
    elif name == "calendar_overrides":
        df = df.with_columns(_bool("is_workday", "Y", "N"))
    return _stringify(df)


def _headers(name: str, lang: str) -> dict[str, str]:
    if lang == "zh":
        return {c.name: c.zh for c in TABLES[name].columns}
    return {}


def _write_csv(df: pl.DataFrame, path: Path, encoding: str = "utf-8") -> None:
    text = df.write_csv(
        null_value="", datetime_format=TS_STYLES["std"], date_format=D_STYLES["std"], line_terminator="\n"
    )
    path.write_bytes(text.encode(encoding))


def _write_xlsx(df: pl.DataFrame, path: Path, name: str) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"remove_timezone": True})
    wb.set_properties({"title": TABLES[name].zh, "author": "hzeval.samples", "created": dt.datetime(2026, 1, 5)})
    ws = wb.add_worksheet(name)
    bold = wb.add_format({"bold": True})
    dtf = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for j, c in enumerate(df.columns):
        ws.write_string(0, j, c, bold)
        ws.set_column(j, j, 18 if df.schema[c] == pl.Datetime("us") else 14)
    for i, row in enumerate(df.iter_rows(), start=1):  # a few dozen projects
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, dt.datetime):
                ws.write_datetime(i, j, v, dtf)
            else:
                ws.write(i, j, v)
    wb.close()


def _write_parquet(df: pl.DataFrame, path: Path) -> None:
    df.write_parquet(path, compression="zstd", statistics=True, row_group_size=1 << 20)


def write_drop(
    frames: dict[str, pl.DataFrame],
    out: Path | str,
    committed: bool = False,
    fmt: str = "parquet",
    seed: int | None = None,
    scale: int = 1,
) -> list[Path]:
    """Write the frames as a drop folder; returns the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in frames.items():
        if committed:
            kind, enc, lang = COMMITTED_LAYOUT.get(name, ("csv", "utf-8", "en"))
            body = df if kind == "parquet" else _quirks(name, df)
        else:
            kind, enc, lang = {
                "parquet": ("parquet", None, "en"),
                "csv": ("csv", "utf-8", "en"),
                "gbk": ("csv", "gb18030", "zh"),
            }[fmt]
            body = df if kind == "parquet" else _stringify(df)
        body = body.rename(_headers(name, lang))
        path = out / f"{name}.{ {'csv': 'csv', 'parquet': 'parquet', 'jsonl': 'jsonl', 'xlsx': 'xlsx'}[kind] }"
        if kind == "csv":
            assert enc is not None  # every CSV layout names its encoding
            _write_csv(body, path, enc)
        elif kind == "parquet":
            _write_parquet(body, path)
        elif kind == "jsonl":
            path.write_bytes(body.write_ndjson().encode("utf-8"))
        else:
            _write_xlsx(body, path, name)
        written.append(path)
    if committed:
        readme = out / "README.md"
        readme.write_text(render_readme(frames, seed=seed, scale=scale), encoding="utf-8")
        written.append(readme)
    return written


#: hand-placed records: id -> (table, what it exercises); deadlines are computed in the README
EDGES = [
    (
        "SA-E01",
        "share_applications",
        "有条件 application received Fri 2025-09-26;"
        " 2-wd reply due end of Mon 09-29 (Sun 09-28 is a 调休 working day); replied 09-29 → ok",
    ),
    (
        "SA-E02",
        "share_applications",
        "received Fri 2025-09-26, replied Tue 09-30 → late (a weekday-only count would call it ok)",
    ),
    (
        "SA-E03",
        "share_applications",
        "received Tue 2025-09-30, 国庆 10-01..10-08 off; reply due end of Fri 10-10; replied 10-10 → ok;"
        " implemented 10-14 (3 wd from 10-10 incl. Sat 10-11) → ok",
    ),
    ("SA-E04", "share_applications", "received 2025-09-30, replied Sat 10-11 (a working Saturday) → late"),
    (
        "SA-E05",
        "share_applications",
        "received during 国庆 (Fri 2025-10-03 20:15); reply due end of 10-10; replied 10-10 → ok;"
        " implemented 10-15 → late (due 10-14)",
    ),
    (
        "SA-E06",
        "share_applications",
        "received on the last holiday (2025-10-08), replied 10-09;"
        " implemented 10-15 → late (3 wd from 10-09: 10-10, 10-11, 10-13); cross-level, filed both ways",
    ),
    (
        "SA-E07",
        "share_applications",
        "received Tue 2025-12-30; 元旦 01-01..01-03 off, Sun 2026-01-04 works; due end of 2026-01-04;"
        " replied 01-04 → ok; not implemented, due 01-08 → pending",
    ),
    (
        "SA-E08",
        "share_applications",
        "received Wed 2025-12-31, no reply at the export; due end of 2026-01-05 → pending at as-of 2026-01-05",
    ),
    ("SA-E09", "share_applications", "received Fri 2025-12-26, no reply; due end of 12-30 → late at as-of 2026-01-05"),
    (
        "SA-E10",
        "share_applications",
        "received 2025-12-30, replied 12-31, implemented Sun 2026-01-04 (working day) → ok",
    ),
    (
        "SA-E11",
        "share_applications",
        "not-in-catalogue demand received 2025-12-31 16:00, unconfirmed;"
        " 5-wd confirmation due end of 2026-01-08 → pending",
    ),
    (
        "SA-E12",
        "share_applications",
        "replied 2025-12-31, not implemented; due end of 2026-01-06 → pending;"
        " cross-level filed upward only → cross_level_filing fails",
    ),
    ("SA-E13", "share_applications", "replied Fri 2025-12-26, not implemented; due end of 12-31 → late"),
    (
        "SA-E14",
        "share_applications",
        "received 2024-12-31 (counts in 2024), replied 2025-01-03 → late (due end of 2025-01-02);"
        " implementation counts in 2025 (replied in 2025)",
    ),
    (
        "SA-E15",
        "share_applications",
        "not-in-catalogue demand received 2025-09-30, confirmed 10-15 → late (5 wd: 10-09..10-14)",
    ),
    (
        "SA-BAD1..3, SA-DUP1",
        "share_applications",
        "bad rows → rejects (unparseable time, missing applicant_code, unknown share_type, duplicate key)",
    ),
    (
        "OB-E01",
        "objections",
        "数据主体 objection received by HZ101 on 2025-12-19, unresolved;"
        " 10 wd due end of 2026-01-05 → pending at as-of",
    ),
    ("OB-E02", "objections", "raised 2025-12-15, unresolved; due end of 12-29 → late"),
    ("OB-E03", "objections", "raised Fri 2025-09-26, resolved 10-16 (10 wd incl. 09-28 and 10-11) → ok"),
    ("OB-E04", "objections", "raised 2025-09-26, resolved 10-17 → late"),
    ("OB-BAD1", "objections", "unknown raised_by 'citizen' → rejects"),
    (
        "BC-E01",
        "basis_changes",
        "change effective 2025-09-12, catalogue submission (变更提交) 10-10 → ok (15 wd over 国庆)",
    ),
    ("BC-E02", "basis_changes", "change effective 2025-09-12, submitted 10-13 → late"),
    ("BC-E03", "basis_changes", "change effective 2025-12-22, not yet submitted, due mid-January 2026 → pending"),
    ("BC-E04", "basis_changes", "change effective 2025-11-03, never submitted → late"),
    (
        "EV-E01",
        "catalog_events",
        "submission 2025-12-31 15:20 not yet reviewed by the authority; 5 wd due end of 2026-01-08 → pending",
    ),
    ("EV-E02", "catalog_events", "submission 2025-12-22 not reviewed; due end of 12-29 → late (authority)"),
    ("EV-BAD1", "catalog_events", "unknown event_type '审核中' → rejects"),
    (
        "J-E01",
        "aggregation_log",
        "HZ004-R001 (每月): December 2024 job started 2024-12-31 23:50,"
        " finished 2025-01-01 00:20 → counts for January 2025; December 2024 missed",
    ),
    (
        "OA-E01",
        "open_applications",
        "received Fri 2025-09-05; 20 wd (incl. Sun 09-28) due end of 10-10; replied Sat 10-11 → late, agreement signed",
    ),
    ("OA-E02", "open_applications", "received 2025-12-01, no reply; 20 wd due end of 2025-12-29 → late"),
    ("OA-E03", "open_applications", "HZ018 lists HZ002's resource (foreign data), approved without agreement"),
    (
        "XM-E01",
        "projects",
        "HZ007 project accepted 2025-06-20 while failing G3 (HZ007-R001 never aggregated)"
        " and G4 (HZ021-R001 不予共享 unfiled) → accepted_while_failing",
    ),
    (
        "XM-E02",
        "projects",
        "HZ016 project approved 2025-03-10, data list submitted after approval → G1 fail (not yet accepted)",
    ),
    ("XM-E03", "projects", "HZ004 project accepted Sat 2025-10-11, passes G1–G4"),
    ("XM-E04", "projects", "HZ105 self-funded project (fiscal_funded 否) → outside the gate"),
    (
        "ZG-E01",
        "rectifications",
        "deadline 2025-10-08 (a holiday), completed 10-08 21:30 → on time (end of the deadline date)",
    ),
    ("ZG-E02", "rectifications", "issued 2025-12-19, deadline 2026-01-19, open → pending"),
    ("ZG-E03", "rectifications", "deadline 2025-12-15, open and escalated → late"),
    (
        "ZG-E04",
        "rectifications",
        "deadline 2025-12-12, open and not escalated → late, and on the authority's 督办 list (上报本级人民政府)",
    ),
    (
        "OB-E05",
        "objections",
        "数据主体 objection received by HZ111 (not the provider HZ004) on Fri 2025-09-26;"
        " resolved 10-15 inside 10 wd but with no outcome (更正/确认) → not done, late, charged to HZ111",
    ),
    (
        "OB-E06",
        "objections",
        "数据主体 objection received by HZ006, corrected 2025-11-10, applicant never told"
        " → objection_notification fails",
    ),
    (
        "HZ028",
        "agencies",
        "惠州市信访局: empty catalogue, open plan filed and security checks done"
        " → scores 0 on its standing catalogue obligations",
    ),
    ("HZ013, HZ029", "agencies", "参照执行: a 中央驻惠单位 and a 事业单位, reported but not graded"),
    (
        "HZ120",
        "agencies",
        "惠城区 authority: reviews 惠城区 agencies' catalogue submissions (本级);"
        " other 县区 have none and fall back to HZ001",
    ),
    (
        "HZ113-R001, HZ016-R002, HZ105-R002",
        "aggregation_exemptions",
        "never aggregated, filed as not aggregable (第十八条第二款) on 2024-05-20 / 2025-03-18 / 2025-06-30:"
        " out of aggregation_coverage and update_timeliness (已备案，免于平台汇聚) from the year of filing;"
        " HZ016-R002 still fails 2024",
    ),
    ("HZ007/HZ007-R001", "aggregation_exemptions", "a filing without its day → rejects (HZ007-R001 stays a failure)"),
    (
        "BF-2024-01 … BF-2025-09",
        "backflow_requests",
        "12 数据回流 requests to HZ002/HZ003/HZ004/HZ009/HZ011/HZ014 (第二十九条), 7 delivered, 5 not: the draft"
        " sets no number, so the 5 are 督办 items 未回流 (no working days) and no holder loses a point for them",
    ),
    ("BF-BAD1", "backflow_requests", "no holder_code → rejects"),
    ("HZ018, HZ016", "open_catalogue", "list HZ002-R002 / HZ005-R001, another agency's data (第三十六条): 1 each"),
    ("HZ028", "open_catalogue", "lists nothing while the city has open catalogues → 未报送开放目录 (1)"),
    ("HZ016/HZ016-R001", "open_catalogue", "open type 半开放 is not in the vocabulary → rejects"),
    ("IN-2025-001", "incidents", f"{VETO_AGENCY} 数据泄露 on 2025-08-14 → the 2025 veto"),
    ("IN-2024-001", "incidents", f"{LEAK_2024_AGENCY} 数据泄露 in 2024 → vetoes 2024 only"),
    ("IN-2025-R01", "incidents", "logged at HZ018, responsible_code HZ002 (提供): charged to HZ002 (第二十二条)"),
    ("IN-2025-R02", "incidents", f"logged at HZ105, the authority {AUTHORITY} answers (提供): HZ105 not charged"),
    ("IN-BAD1", "incidents", "stage 传输 is not in the vocabulary → rejects"),
]


def render_readme(frames: dict[str, pl.DataFrame], seed: int | None, scale: int) -> str:
    layout = []
    for name in frames:
        kind, enc, lang = COMMITTED_LAYOUT.get(name, ("csv", "utf-8", "en"))
        ext = {"csv": "csv", "parquet": "parquet", "jsonl": "jsonl", "xlsx": "xlsx"}[kind]
        what = {
            "csv": f"CSV, {(enc or '').upper().replace('UTF-8-SIG', 'UTF-8 with BOM')}",
            "parquet": "Parquet (typed)",
            "jsonl": "JSON Lines, UTF-8",
            "xlsx": "XLSX, sheet named like the table",
        }[kind]
        layout.append(
            f"| `{name}.{ext}` | {frames[name].height} | {what} | {'Chinese' if lang == 'zh' else 'English'} |"
        )
    prof = profiles(scale).filter(pl.col("agency_code").str.contains("-").not_())
    by: dict[str, list[str]] = {}
    for code, name, profile in prof.select("agency_code", "agency_name", "profile").iter_rows():
        by.setdefault(profile, []).append(f"{code} {name}")
    lines = [
        "# data_samples — the committed sample drop",
        "",
        "Generated by `make samples` (`python -m hzeval.samples --out data_samples --scale 1 --committed`,",
        f"seed {seed}); do not edit by hand: `tests/test_samples.py` regenerates it and fails when a file differs.",
        "It is a plausible Huizhou drop for 2024–2025, exported on 2026-01-05 00:00 (nothing happens later), for",
        "`make demo` (`hzeval load data_samples/`, `hzeval assess --year 2025 --as-of 2026-01-05`).",
        "",
        "## Files",
        "",
        "| file | rows | format | headers |",
        "|---|---|---|---|",
        *layout,
        "",
        "Row counts are of the generated records; the CSV files of `share_applications`, `objections`,",
        "`catalog_events` and `collection_list` carry extra bad rows (below).",
        "",
        "## Deliberate quirks",
        "",
        "- Encodings: `agencies.csv` is GB18030 with Chinese headers; `rectifications.csv` is UTF-8 with BOM,",
        "  Chinese headers, deadlines as `YYYY年M月D日`; `projects.xlsx` has Chinese headers and Excel date-times.",
        "- Time formats: `YYYY-MM-DD HH:MM:SS`, `YYYY/M/D H:MM` (objections, rectifications, some share",
        "  applications and events), ISO 8601 with `+08:00` (incidents, some share applications, feedback,",
        "  events), `YYYY年M月D日` (some basis change dates, open plan filings, valid_until).",
        "- Vocabulary aliases: `conditional`, `unconditional`, `none`, `monthly`, `approved`, `refused`,",
        "  `partial`, `data subject`, `corrected`, `company`, `backup`, level `县(区)`.",
        "- Booleans as `true/false`, `1/0`, `Y/N`, `是/否`; `in_catalog` is empty (default true) on half the rows.",
        "- Periods as `2025Q3`, `2025-Q3`, `2025年第3季度`; resource lists separated by `;` or `；`.",
        "- Bad rows for `rejects`: `SA-BAD1` (unparseable time `2025-02-30 10:00`), `SA-BAD2` (missing",
        "  applicant_code), `SA-BAD3` (unknown share_type `部分共享`), `SA-DUP1` twice (duplicate key),",
        "  `OB-BAD1` (unknown raised_by `citizen`), `EV-BAD1` (unknown event_type `审核中`), a",
        "  `collection_list` row without agency_code.",
        "- `agencies.agency_type` is empty (= 行政机关) on every other 行政机关 row.",
        "- `calendar_overrides` repeats the State Council adjustments for 2025 国庆 and 2026 元旦 (they agree",
        "  with the bundled calendar, so they change no deadline).",
        "",
        "## Behaviour profiles",
        "",
        "Each agency's profile sets the probability of every kind of violation charged to it "
        "(diligent 1.5 %, good 5 %, average 11 %, negligent 30 %, very negligent 65 %).",
        "",
    ]
    for k in PROFILES:
        if k in by:
            lines.append(f"- **{k}**: " + "; ".join(by[k]))
    lines += [
        "",
        f"Veto: {VETO_AGENCY} (惠州市卫生健康局, otherwise diligent) has the only 数据泄露 incident of 2025; "
        f"{LEAK_2024_AGENCY} has one in 2024. Other incidents are of other kinds.",
        "",
        "Planted violations, by metric: missing required catalogue fields, 有条件共享 without condition or basis,",
        "不予共享 not filed, missing open_basis (some fixed in a 2025 snapshot, so 2024 and 2025 differ); late",
        "and missing catalogue submissions after basis changes; late reviews by the authority; 一数一源",
        "conflicts (统一社会信用代码 HZ003/HZ021, 河湖编码 HZ016/HZ113, 学生学籍号 HZ010/HZ105/HZ115);",
        "never-aggregated resources; missed update periods and failed jobs; rejected rows;",
        "late/missing replies, implementations and demand confirmations; refusals without basis; grants",
        "missing valid_until, scenario, items or mode; calls after valid_until and without any grant;",
        "cross-level applications not filed; missing quarterly feedback; late objections; late and missing",
        "open plans; foreign resources in open applications; late open replies; missing agreements; project",
        "gate failures G1–G4; missing security checks and backups; late and unfinished rectifications;",
        "数据主体 objections received by another agency, resolved without 更正/确认 or never told to the applicant;",
        "refused open applications without a reason; overdue rectifications the authority has not escalated.",
        "",
        f"采集清单 (collection_list, 第十五条): every agency but {', '.join(NO_COLLECTION_LIST)} has one; most items",
        "are catalogued by one of its resources, some are listed by resource only, careless agencies list items",
        "no resource of theirs catalogues (gaps), and HZ028 has a list but an empty catalogue.",
        "",
        "## Hand-placed edge records",
        "",
        "| record | table | what it exercises |",
        "|---|---|---|",
        *[f"| {i} | {t} | {w} |" for i, t, w in EDGES],
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hzeval.samples", description="Generate a deterministic sample drop.")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--scale", type=int, default=1, help="multiplies agencies, resources and logs (default 1)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--committed", action="store_true", help="the mixed-format committed drop (data_samples/)")
    ap.add_argument(
        "--format",
        choices=["parquet", "csv", "gbk"],
        default="parquet",
        help="single format for non-committed drops (default parquet)",
    )
    ap.add_argument(
        "--size", choices=sorted(SIZES), help="named benchmark size (overrides --scale): M city, L province"
    )
    a = ap.parse_args(argv)
    if a.size:
        if a.committed:
            ap.error("--size and --committed exclude each other")
        files, rows = write_sized_drop(SIZES[a.size], a.out, a.seed, a.format)
        total = sum(f.stat().st_size for f in files)
        print(f"wrote {len(files)} files, {rows} rows, {total / 1e6:.2f} MB to {a.out} (size {a.size})")
        return 0
    frames = generate(a.seed, a.scale)
    files = write_drop(frames, a.out, committed=a.committed, fmt=a.format, seed=a.seed, scale=a.scale)
    total = sum(f.stat().st_size for f in files)
    rows = sum(df.height for df in frames.values())
    print(f"wrote {len(files)} files, {rows} rows, {total / 1e6:.2f} MB to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""催报 Reminders: which bureaus are behind with the current reporting month, the notice an
administrator pastes (or pushes) into the bureaus' group chat, and the one-attempt webhook push.

The current reporting month is reporting.latest_due_month(today): the newest month whose due day is
over, the month every bureau can be held to. "Missing" and "late" are queries.reporting_status's
(the data-quality page's): a bureau-month is missing when no accepted submission carried a figure for
it, late when the first one came after the due day. For those bureau-months this module adds which of
the bureau's KPIs still have no figure for the month (a KPI is reported by its lead bureau only, so a
missing bureau-month lacks every KPI of the bureau; a late one may lack some).

Nothing is sent anywhere unless the page passes a webhook URL (configured in .streamlit/secrets.toml).
Pure Python and SQL, no streamlit: the pages and the tests call the same functions.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import duckdb
import pandas as pd

from monitor import db, fmt, i18n, queries, reporting
from monitor.auth import User
from monitor.targets import TargetsConfig

PUSH_TIMEOUT_SECONDS = 5.0
_RESPONSE_LIMIT = 64 * 1024  # a robot answers with a few bytes of JSON; never read more than this


@dataclass(frozen=True)
class KpiName:
    kpi_id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class OpenReport:
    """One bureau's report for the reporting month that is missing or came late."""

    bureau_id: str
    name_zh: str
    name_en: str
    period: dt.date  # first of the month reported
    due_date: dt.date
    first_submitted_at: dt.datetime | None  # None: nothing received yet
    missing_kpis: tuple[KpiName, ...]  # the bureau's KPIs without a figure for the month, targets.yaml order

    @property
    def received(self) -> bool:
        return self.first_submitted_at is not None

    @property
    def needs_reminder(self) -> bool:
        """Something is still to be reported (a late but complete report needs no reminder)."""
        return bool(self.missing_kpis)

    def name(self, lang: i18n.Lang) -> str:
        return self.name_zh if lang == "zh" else self.name_en


# -- which reports are missing or late


def missing_rows(status: pd.DataFrame) -> pd.DataFrame:
    """The rows of queries.reporting_status with no report received (the data-quality page's 缺报)."""
    return status[~status["received"].astype(bool)]


def late_rows(status: pd.DataFrame) -> pd.DataFrame:
    """The rows received after the due day (the data-quality page's 迟报)."""
    return status[status["received"].astype(bool) & ~status["on_time"].astype(bool)]


def reporting_month(today: dt.date, cfg: TargetsConfig) -> dt.date:
    """The month reminders are about: the newest month whose due day is over on `today`."""
    return reporting.latest_due_month(today, cfg.reporting.due_day)


def due_date(month: dt.date, cfg: TargetsConfig) -> dt.date:
    """The day `month`'s report is due: due_day of the next month (queries.reporting_status's due_date)."""
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, cfg.reporting.due_day)


def unreported_kpis(con: duckdb.DuckDBPyConnection, period: dt.date) -> pd.DataFrame:
    """Every KPI without a figure from an accepted submission for `period`: kpi_id, bureau_id (its lead
    bureau, the only one that may report it), name_zh, name_en, in targets.yaml order."""
    return con.execute(
        """
        with reported as (
            select distinct o.kpi_id
            from observations as o
            join submissions as s using (submission_id)
            where s.outcome = 'accepted' and o.period = ?
        )
        select k.kpi_id, k.lead_bureau as bureau_id, k.name_zh, k.name_en
        from kpis as k
        where k.kpi_id not in (select kpi_id from reported)
        order by k.sort_order
        """,
        [period],
    ).df()


def open_reports(con: duckdb.DuckDBPyConnection, cfg: TargetsConfig, today: dt.date) -> list[OpenReport]:
    """The reporting month's missing reports, then its late ones, each in bureau id order (the order of
    queries.reporting_status)."""
    month = reporting_month(today, cfg)
    status = queries.reporting_status(con, cfg.policy.start, month, cfg.reporting.due_day)
    status = status[pd.to_datetime(status["period"]).dt.date == month]
    names = queries.reference(con, "bureaus").set_index("bureau_id")
    kpis = unreported_kpis(con, month)
    found: list[OpenReport] = []
    for rows in (missing_rows(status), late_rows(status)):
        for row in rows.itertuples(index=False):
            own = kpis[kpis["bureau_id"] == row.bureau_id]
            submitted = None if pd.isna(row.first_submitted_at) else pd.Timestamp(row.first_submitted_at)
            found.append(
                OpenReport(
                    bureau_id=str(row.bureau_id),
                    name_zh=str(names.at[row.bureau_id, "name_zh"]),
                    name_en=str(names.at[row.bureau_id, "name_en"]),
                    period=month,
                    due_date=pd.Timestamp(row.due_date).date(),
                    first_submitted_at=None if submitted is None else submitted.to_pydatetime(),
                    missing_kpis=tuple(
                        KpiName(str(k.kpi_id), str(k.name_zh), str(k.name_en)) for k in own.itertuples(index=False)
                    ),
                )
            )
    return found


# -- the words


def day(value: dt.date, lang: i18n.Lang) -> str:
    """A due day within the reporting year: 11月10日 / 10 Nov."""
    return i18n.t("reminder_day", lang, month=value.month, day=value.day, month_abbr=f"{value:%b}")


def full_date(value: dt.date, lang: i18n.Lang) -> str:
    """2026年11月10日 / 10 Nov 2026."""
    return fmt.date_zh(value) if lang == "zh" else f"{value.day} {value:%b %Y}"


def kpi_list(item: OpenReport, lang: i18n.Lang) -> str:
    """The missing KPIs' names: A、B / A, B."""
    names = [k.name_zh if lang == "zh" else k.name_en for k in item.missing_kpis]
    return ("、" if lang == "zh" else ", ").join(names)


def state(item: OpenReport, lang: i18n.Lang) -> str:
    """未报送 / 逾期报送 / 逾期报送，未报送完整."""
    if not item.received:
        return i18n.t("reminder_state_missing", lang)
    return i18n.t("reminder_state_late_partial" if item.needs_reminder else "reminder_state_late", lang)


def notice(item: OpenReport, lang: i18n.Lang = "zh") -> str:
    """The reminder for one bureau, ready to paste:

    【催报提醒】市住房和城乡建设局：2026年10月月报截至11月10日尚未报送，缺报指标：A、B。请尽快通过监测系统报送。"""
    key = "reminder_notice_partial" if item.received else "reminder_notice_missing"
    return i18n.t(
        key, lang, bureau=item.name(lang), month=fmt.month(item.period, lang), due=day(item.due_date, lang),
        kpis=kpi_list(item, lang),
    )  # fmt: skip


def notice_all(items: list[OpenReport], lang: i18n.Lang = "zh") -> str:
    """One reminder naming every bureau that still has KPIs to report, one numbered line each
    (the bureaus share the reporting month and its due day)."""
    behind = [item for item in items if item.needs_reminder]
    if not behind:
        return ""
    lines = "\n".join(
        i18n.t("reminder_notice_line", lang, n=n, bureau=item.name(lang), kpis=kpi_list(item, lang))
        for n, item in enumerate(behind, start=1)
    )
    first = behind[0]
    return i18n.t(
        "reminder_notice_all", lang, month=fmt.month(first.period, lang), due=day(first.due_date, lang), lines=lines
    )


def open_item(item: OpenReport, lang: i18n.Lang = "zh") -> str:
    """The line a reporter of the bureau sees first: 2026年10月月报未报送，截止11月10日."""
    key = "open_item_partial" if item.received else "open_item_missing"
    return i18n.t(key, lang, month=fmt.month(item.period, lang), due=day(item.due_date, lang), n=len(item.missing_kpis))


# -- the push


@dataclass(frozen=True)
class PushResult:
    """What one push attempt came to: `outcome` is ok, http_error, errcode, timeout, refused, network or
    invalid_url (the audit log records it); `text(lang)` is the message the admin reads."""

    outcome: str
    key: str  # the i18n key of the message
    values: tuple[tuple[str, object], ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def status(self) -> int | None:
        return dict(self.values).get("status")  # type: ignore[return-value]

    def text(self, lang: i18n.Lang = "zh") -> str:
        return i18n.t(self.key, lang, **dict(self.values))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed (it would be a second request, maybe to another host): it is
    reported as the HTTP status it is."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def payload(text: str) -> bytes:
    """The text message WeCom and DingTalk group robots accept: {"msgtype": "text", "text": {"content": …}}."""
    return json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode("utf-8")


def host(url: str) -> str:
    """The host of a webhook URL: all the audit log keeps (the path or query may hold the robot's key)."""
    return urllib.parse.urlsplit(url).hostname or ""


def _seconds(timeout: float) -> str:
    return f"{timeout:g}"


def push(url: str, text: str, *, timeout: float = PUSH_TIMEOUT_SECONDS) -> PushResult:
    """POST `text` to the webhook once: no retry (a failing endpoint must not receive a storm), no
    redirect, `timeout` seconds at most per connect and per read. Every failure comes back as a
    PushResult with a message, never as an exception."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https") or not host(url):
        return PushResult("invalid_url", "reminder_fail_url")
    request = urllib.request.Request(
        url, data=payload(text), method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            body = response.read(_RESPONSE_LIMIT)
    except urllib.error.HTTPError as exc:
        return PushResult("http_error", "reminder_fail_http", (("status", exc.code),))
    except urllib.error.URLError as exc:
        return _network_failure(exc.reason, timeout)
    except TimeoutError:  # the answer did not come in time (after connecting)
        return PushResult("timeout", "reminder_fail_timeout", (("seconds", _seconds(timeout)),))
    except (OSError, http.client.HTTPException) as exc:  # the connection broke, or the answer is not HTTP
        return _network_failure(exc, timeout)
    code = _errcode(body)
    if code:
        return PushResult("errcode", "reminder_fail_errcode", (("code", code), ("status", status)))
    return PushResult("ok", "reminder_pushed", (("status", status),))


def _network_failure(reason: object, timeout: float) -> PushResult:
    if isinstance(reason, TimeoutError):
        return PushResult("timeout", "reminder_fail_timeout", (("seconds", _seconds(timeout)),))
    if isinstance(reason, ConnectionRefusedError):
        return PushResult("refused", "reminder_fail_refused")
    return PushResult("network", "reminder_fail_network")


def _errcode(body: bytes) -> int:
    """A robot answers HTTP 200 with {"errcode": 93000, …} when it refuses a message (a wrong key, a
    missing keyword): that is a failure. 0 when the answer is not such JSON."""
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return 0
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


class NotAllowed(PermissionError):
    """Only an administrator produces and pushes reminders."""


def send(
    con: duckdb.DuckDBPyConnection,
    user: User,
    url: str,
    text: str,
    bureau_ids: list[str],
    period: dt.date,
    *,
    timeout: float = PUSH_TIMEOUT_SECONDS,
) -> PushResult:
    """Push a notice (one attempt) and audit it: action reminder_push with the bureaus, the month, the
    outcome and the webhook's host only (the URL itself may carry the robot's token)."""
    if user.role != "admin":
        raise NotAllowed(user.user_name)
    result = push(url, text, timeout=timeout)
    detail: dict[str, object] = {
        "bureaus": list(bureau_ids), "month": f"{period:%Y-%m}", "host": host(url), "outcome": result.outcome,
    }  # fmt: skip
    if result.status is not None:
        detail["status"] = result.status
    db.audit(con, user.user_name, "reminder_push", detail)
    return result

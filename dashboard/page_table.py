"""Every page of the app, declared once: the navigation (app.py) and the access check
(session.require) both read this table, so a page cannot be listed for a role it refuses."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.auth import ROLES

EVERYONE: tuple[str, ...] = ROLES  # leader, reporter, approver, admin
LEADER, REPORTER, APPROVER, ADMIN = "leader", "reporter", "approver", "admin"  # approvers review, not submit


@dataclass(frozen=True)
class Page:
    key: str  # the url path and what a page passes to session.require
    file: str  # the script, relative to app.py
    title_key: str  # its title in monitor.i18n
    icon: str
    group: str  # the navigation section, an i18n key
    roles: tuple[str, ...]  # who sees it (in the navigation) and may open it (re-checked by the page)


MONITOR, WORK = "nav_group_monitor", "nav_group_work"

PAGES: tuple[Page, ...] = (
    Page("overview", "pages/overview.py", "nav_overview", ":material/dashboard:", MONITOR, EVERYONE),
    Page("detail", "pages/target_detail.py", "nav_detail", ":material/target:", MONITOR, EVERYONE),
    Page("districts", "pages/districts.py", "nav_districts", ":material/map:", MONITOR, EVERYONE),
    Page("bureaus", "pages/bureaus.py", "nav_bureaus", ":material/account_balance:", MONITOR, EVERYONE),
    Page("quality", "pages/data_quality.py", "nav_quality", ":material/fact_check:", MONITOR, EVERYONE),
    Page("upload", "pages/upload.py", "nav_upload", ":material/upload_file:", WORK, (REPORTER, ADMIN)),
    # approvers review their bureau's submissions; admins see the queue but review.approve refuses them
    Page("review", "pages/review.py", "nav_review", ":material/approval:", WORK, (APPROVER, ADMIN)),
    Page("briefing", "pages/briefing.py", "nav_briefing", ":material/slideshow:", WORK, EVERYONE),
    # the overview on one A4 landscape page, for the leaders' monthly meeting
    Page("print", "pages/print_view.py", "nav_print", ":material/print:", WORK, (LEADER, ADMIN)),
    Page("admin", "pages/admin.py", "nav_admin", ":material/settings:", WORK, (ADMIN,)),
)
DEFAULT = "overview"
SIGN_IN = Page("sign_in", "pages/sign_in.py", "sign_in", ":material/login:", "", ())


def allowed(role: str) -> list[Page]:
    """The pages a role sees, in navigation order."""
    return [p for p in PAGES if role in p.roles]


def may_open(role: str, key: str) -> bool:
    return any(p.key == key and role in p.roles for p in PAGES)

"""What in a warehouse is the demo's: its account names and the user names its reports are loaded
under, and the count of everything else (accounts and submissions the demo did not make).

Here, not in etl.demo, so that monitor.queries.is_demo (the sign-in page and the briefing ask it) needs
nothing from etl: the packages depend one way, etl -> monitor. etl.demo creates the accounts and loads
the reports under these names.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from monitor import db


def accounts_for(lead_bureaus: Iterable[str]) -> list[tuple[str, str, str, str | None]]:
    """(user, password, role, bureau) of the demo accounts for these lead bureaus."""
    accounts: list[tuple[str, str, str, str | None]] = [
        ("leader", "leader-0477", "leader", None),
        ("admin", "admin-0477", "admin", None),
    ]
    for b in sorted(set(lead_bureaus)):
        accounts.append((b, f"{b}-0477", "reporter", b))
        accounts.append((approver_account(b), f"{approver_account(b)}-0477", "approver", b))
    return accounts


def approver_account(bureau_id: str) -> str:
    """The demo's approver (审核人员) of a bureau: housing_approver beside the reporter housing."""
    return f"{bureau_id}_approver"


def demo_loader(bureau_id: str) -> str:
    """The user name the demo's own reports are submitted under (not an account)."""
    return f"demo_{bureau_id}"


def non_demo_content(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(accounts, submissions) in the warehouse that the demo did not make.

    An account is a demo account when it has a demo name (demo_accounts), the demo created it (its
    user_add event is by "demo": a real `admin` made with `users add` is not one) and its password was
    never reset (it would no longer be the published one). A submission
    is demo when the demo loaded it or a demo account uploaded it. The bureaus come from the
    warehouse's own kpis table, which open_warehouse keeps in step with targets.yaml.
    """
    leads = [r[0] for r in con.execute("select distinct lead_bureau from kpis").fetchall()]
    accounts = [user for user, *_ in accounts_for(leads)]
    submitters = accounts + [demo_loader(b) for b in leads]
    foreign_accounts = db.scalar(
        con,
        """
        select count(*) from users as u
        where not list_contains(?::varchar[], u.user_name)
           or not exists (
               select 1 from audit_log as a
               where a.action = 'user_add' and a.user_name = 'demo'
                 and json_extract_string(a.detail, '$.user') = u.user_name
           )
           or exists (  -- a new password is no longer the published one: someone made it real
               select 1 from audit_log as a
               where a.action = 'user_reset_password' and json_extract_string(a.detail, '$.user') = u.user_name
           )
        """,
        [accounts],
    )
    foreign_submissions = db.scalar(
        con, "select count(*) from submissions where not list_contains(?::varchar[], user_name)", [submitters]
    )
    return int(foreign_accounts or 0), int(foreign_submissions or 0)  # type: ignore[call-overload]

"""`python -m monitor users add|list|disable|enable|reset-password`: account administration.

Passwords are read from a prompt (or --password for scripts) and only their argon2 hash is stored.
Messages are in Chinese, one language per message, in the admin page's words (已新增用户 zhao（领导）);
`list` keeps its codes (leader, disabled), for scripts.
--db and --targets go anywhere on the line: `users --db X add ...` and `users add ... --db X` (monitor.cli).
"""

from __future__ import annotations

import argparse
import getpass

import duckdb

from monitor import auth, cli, db, i18n
from monitor.targets import load_targets


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = cli.subcommand(sub, "users", help="账号管理 / manage local accounts")
    p.set_defaults(func=run)
    users = p.add_subparsers(dest="users_cmd", required=True)
    a = cli.subcommand(users, "add")
    a.add_argument("user")
    a.add_argument("--role", required=True, choices=auth.ROLES)
    a.add_argument("--bureau", default=None)
    a.add_argument("--name", default=None, help="display name")
    a.add_argument("--password", default=None, help="omit to be prompted (recommended)")
    cli.subcommand(users, "list")
    for name in ("disable", "enable"):
        cli.subcommand(users, name).add_argument("user")
    r = cli.subcommand(users, "reset-password")
    r.add_argument("user")
    r.add_argument("--password", default=None)


def _password(given: str | None) -> str:
    if given:
        return given
    first = getpass.getpass("密码 / password: ")
    if first != getpass.getpass("再次输入 / again: "):
        raise auth.AuthError("auth_passwords_differ")
    return first


def _who(con: duckdb.DuckDBPyConnection, user: auth.User) -> str:
    """填报人员，市住房和城乡建设局 — the role, and the bureau of a bureau account."""
    role = i18n.t(f"role_{user.role}", "zh")
    if not user.bureau_id:
        return role
    bureau = db.scalar(con, "select name_zh from bureaus where bureau_id = ?", [user.bureau_id])
    return i18n.t("aud_who", "zh", role=role, bureau=bureau or user.bureau_id)


def run(args: argparse.Namespace) -> int:
    cfg = load_targets(args.targets) if args.targets else None  # None: the repository's targets.yaml
    con = db.open_warehouse(db.db_path(args.db), cfg)
    try:
        if args.users_cmd == "list":
            for u in auth.list_users(con):
                state = "active" if u.active else "disabled"
                print(f"{u.user_name:<20} {u.role:<9} {u.bureau_id or '-':<20} {state}")
            return 0
        if args.users_cmd == "add":
            added = auth.add_user(
                con, args.user, _password(args.password), args.role, bureau_id=args.bureau,
                display_name=args.name, by="cli",
            )  # fmt: skip
            print(i18n.t("adm_added_user", "zh", user=added.user_name, who=_who(con, added)))
        elif args.users_cmd in ("disable", "enable"):
            enable = args.users_cmd == "enable"
            auth.set_active(con, args.user, enable, by="cli")
            key = "adm_enabled_user" if enable else "adm_disabled_user"
            print(i18n.t(key, "zh", user=auth.normalise_user_name(args.user)))
        elif args.users_cmd == "reset-password":
            auth.reset_password(con, args.user, _password(args.password), by="cli")
            print(i18n.t("adm_reset_user", "zh", user=auth.normalise_user_name(args.user)))
        return 0
    except auth.AuthError as exc:
        print(exc)
        return 1
    finally:
        con.close()

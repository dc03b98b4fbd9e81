"""The audit log's 详情 as sentences in the reader's language, not the JSON the log stores.

db.audit stores each event's detail as JSON, which is right for a log nobody may edit but unreadable
for an administrator ({"user": "wang", "role": "reporter", "bureau": "housing"}). One function per
event type says it the way a colleague would ("新增用户 wang（填报人员，市住房和城乡建设局）"); an event
type this module does not know yet is still shown as readable "字段：值" pairs, never as raw JSON.
No streamlit: the pages call `sentence` through dashboard.data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from monitor import fmt, i18n
from monitor.auth import BUREAU_ROLES


@dataclass(frozen=True)
class Names:
    """Names in the reader's language for the ids events carry (an unknown id is shown as it is)."""

    lang: i18n.Lang
    bureaus: Mapping[str, str] = field(default_factory=dict)
    targets: Mapping[str, str] = field(default_factory=dict)

    def bureau(self, bureau_id: object) -> str:
        return self.bureaus.get(str(bureau_id), str(bureau_id)) if bureau_id else ""

    def target(self, target_id: object) -> str:
        return self.targets.get(str(target_id), str(target_id))

    def t(self, key: str, **params: object) -> str:
        return i18n.t(key, self.lang, **params)


Detail = Mapping[str, object]
Sentence = Callable[[Detail, Names], str]


def _role(role: object, names: Names) -> str:
    key = f"role_{role}"
    return names.t(key) if key in i18n.CATALOGUE else str(role)


def _user_add(detail: Detail, names: Names) -> str:
    role = _role(detail.get("role"), names)
    # a leader's or admin's form may carry a bureau the account does not keep (monitor.auth.add_user)
    bureau = names.bureau(detail.get("bureau")) if detail.get("role") in BUREAU_ROLES else ""
    who = names.t("aud_who", role=role, bureau=bureau) if bureau else role
    return names.t("aud_user_add", user=detail.get("user", ""), who=who)


def _user_change(key: str) -> Sentence:
    return lambda detail, names: names.t(key, user=detail.get("user", ""))


def _sign_in(detail: Detail, names: Names) -> str:
    via = detail.get("via")  # oidc: single sign-on; cookie: a reload or new tab restored the session
    return names.t({"oidc": "aud_sign_in_sso", "cookie": "aud_sign_in_cookie"}.get(str(via), "aud_sign_in"))


def _sign_in_failed(detail: Detail, names: Names) -> str:
    if detail.get("reason") == "unknown_user":
        return names.t("aud_failed_unknown")
    key = "aud_failed_locked" if detail.get("locked") else "aud_failed_password"
    return names.t(key, n=detail.get("failures", 1))


def _sign_in_refused(detail: Detail, names: Names) -> str:
    reason = detail.get("reason")
    if reason == "locked":
        return names.t("aud_refused_locked")
    if reason == "disabled":
        return names.t("aud_refused_disabled")
    return names.t("aud_refused_changed")


def _pending(detail: Detail, names: Names) -> str:
    return names.t("aud_pending") if detail.get("review") == "pending" else ""


def _upload(detail: Detail, names: Names) -> str:
    text = names.t(
        "aud_upload", bureau=names.bureau(detail.get("bureau")), file=detail.get("file", ""),
        rows=detail.get("rows", 0), loaded=detail.get("loaded", 0), revised=detail.get("revised", 0),
    )  # fmt: skip
    return text + _pending(detail, names)


def _revision(detail: Detail, names: Names) -> str:
    text = names.t(
        "aud_revision", bureau=names.bureau(detail.get("bureau")), revised=detail.get("revised", 0),
        reason=detail.get("reason") or names.t("aud_none"),
    )  # fmt: skip
    return text + _pending(detail, names)


def _upload_rejected(detail: Detail, names: Names) -> str:
    return names.t(
        "aud_upload_rejected", bureau=names.bureau(detail.get("bureau")), file=detail.get("file", ""),
        problems=detail.get("problems", 0),
    )  # fmt: skip


def _upload_duplicate(detail: Detail, names: Names) -> str:
    return names.t("aud_upload_duplicate", file=detail.get("file", ""), same=detail.get("same_as", ""))


def _targets_reload(detail: Detail, names: Names) -> str:
    return names.t("aud_targets_reload", kpis=detail.get("kpis", 0), targets=detail.get("targets", 0))


def _rebuild(detail: Detail, names: Names) -> str:
    return names.t("aud_rebuild", files=detail.get("files", 0), accounts=detail.get("accounts", 0))


def _review(key: str) -> Sentence:
    def sentence(detail: Detail, names: Names) -> str:
        return names.t(
            key, id=detail.get("submission_id", ""), bureau=names.bureau(detail.get("bureau")),
            comment=detail.get("comment", ""),
        )  # fmt: skip

    return sentence


def _approval_setting(detail: Detail, names: Names) -> str:
    key = "aud_approval_on" if detail.get("required") else "aud_approval_off"
    return names.t(key, bureau=names.bureau(detail.get("bureau")))


def _explanation_save(detail: Detail, names: Names) -> str:
    return names.t(
        "aud_explanation_save", target=names.target(detail.get("target")),
        bureau=names.bureau(detail.get("bureau")), month=fmt.month(detail.get("period"), names.lang),
    )  # fmt: skip


def _push_outcome(detail: Detail, names: Names) -> str:
    outcome = detail.get("outcome")
    return names.t("aud_push_ok") if outcome == "ok" else names.t("aud_push_failed", code=outcome)


def _reminder_push(detail: Detail, names: Names) -> str:
    bureaus = detail.get("bureaus") or []
    listed = names.t("list_sep").join(names.bureau(b) for b in bureaus) if isinstance(bureaus, list) else ""
    return names.t(
        "aud_reminder_push", month=fmt.month(f"{detail.get('month', '')}-01", names.lang),
        host=detail.get("host", ""), bureaus=listed or names.t("aud_none"), outcome=_push_outcome(detail, names),
    )  # fmt: skip


def _target_setting(detail: Detail, names: Names) -> str:
    return names.t("aud_target_setting", target=names.target(detail.get("target")), reason=detail.get("reason", ""))


def _action_open(detail: Detail, names: Names) -> str:
    return names.t(
        "aud_action_open", id=detail.get("action_id", ""), target=names.target(detail.get("target")),
        bureau=names.bureau(detail.get("bureau")), asked=detail.get("asked", ""),
    )  # fmt: skip


def _action_step(action: str) -> Sentence:
    """A step of a 督办 action: the step's name is the audit log's own word for it (act_<action>)."""

    def sentence(detail: Detail, names: Names) -> str:
        return names.t("aud_action_step", what=names.t(f"act_{action}"), id=detail.get("action_id", ""),
                       note=detail.get("note") or names.t("aud_none"))  # fmt: skip

    return sentence


SENTENCES: dict[str, Sentence] = {
    "user_add": _user_add,
    "user_disable": _user_change("aud_user_disable"),
    "user_enable": _user_change("aud_user_enable"),
    "user_reset_password": _user_change("aud_user_reset_password"),
    "sign_in": _sign_in,
    "sign_out": lambda detail, names: names.t("aud_sign_out"),
    "sign_in_failed": _sign_in_failed,
    "sign_in_refused": _sign_in_refused,
    "upload_accepted": _upload,
    "revision": _revision,
    "upload_rejected": _upload_rejected,
    "upload_duplicate": _upload_duplicate,
    "targets_reload": _targets_reload,
    "rebuild": _rebuild,
    "review_approve": _review("aud_review_approve"),
    "review_return": _review("aud_review_return"),
    "approval_setting": _approval_setting,
    "explanation_save": _explanation_save,
    "reminder_push": _reminder_push,
    "target_setting": _target_setting,
    "action_open": _action_open,
    **{f"action_{step}": _action_step(f"action_{step}") for step in ("respond", "request_close", "close", "reopen")},
}


def _fallback(detail: Detail, names: Names) -> str:
    """An event this module does not know: its fields as "字段：值" pairs, lists joined, no braces."""
    pairs = []
    for name, value in detail.items():
        if value is None or value == "" or value == []:
            continue
        shown = names.t("list_sep").join(map(str, value)) if isinstance(value, list) else str(value)
        pairs.append(names.t("aud_fallback_pair", field=name, value=shown))
    return names.t("aud_pair_sep").join(pairs)


def sentence(action: str, detail: object, names: Names) -> str:
    """The event's detail (the stored JSON text, or a dict) as one sentence in names.lang.

    A detail that is not JSON (written by hand, or cut off) is shown as it is: the log must not hide it."""
    if isinstance(detail, str):
        try:
            detail = json.loads(detail) if detail.strip() else {}
        except json.JSONDecodeError:
            return detail
    if not isinstance(detail, Mapping):
        return "" if detail is None else str(detail)
    make = SENTENCES.get(action)
    if make is None:
        return _fallback(detail, names)
    try:
        return make(detail, names)
    except (KeyError, ValueError, TypeError):  # a detail of an older shape: still readable
        return _fallback(detail, names)

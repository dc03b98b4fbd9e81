"""督办 on the pages: the overview's count column, the target detail's section (list, history, and the
forms each role may use), the bureau page's list, and the bureau's open items on sign-in.

Every rule is monitor.actions'; these functions only draw and call it, and a refusal is shown as its
catalogue text. Whatever a user typed (what is asked, notes, comments, user names) is shown inside a
dataframe or escaped with fmt.plain, never as Markdown. Overdue is judged on data.today() (pinned by
the tests). The tables are small and change with every step, so the reads are not cached.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard.ui import T
from monitor import actions, fmt, i18n
from monitor.auth import User

MESSAGE = "fa_message"  # the outcome of the last step, shown after the page is drawn again
DEFAULT_DAYS = 30  # a new action's due date as first offered


def count_column(target_ids: list[str]) -> list[str]:
    """Per target, in order: its actions not closed, "2项（1项逾期）", or "" when there is none."""
    found = actions.counts(data.con(), target_ids, today=data.today())
    lang = ui.lang()
    return [actions.count_text(*found.get(t, (0, 0)), lang) for t in target_ids]


def _bureau_names() -> dict[str, str]:
    return dict(data.reference("bureaus").set_index("bureau_id")[f"name_{ui.lang()}"])


def _target_names() -> dict[str, str]:
    lang = ui.lang()
    return {t.id: i18n.name(t, lang) for t in data.config().targets}


def state_text(state: str) -> str:
    return T(f"fa_state_{state}")


def table(frame: pd.DataFrame, *, with_target: bool = False, with_bureau: bool = True) -> pd.DataFrame:
    """Actions as a leader reads them: number, (target,) (bureau,) what is asked, due date, state, the
    overdue flag, the latest note and who opened it."""
    bureaus = _bureau_names()
    columns: dict[str, object] = {T("fa_col_id"): frame["action_id"].astype(int)}
    if with_target:
        targets = _target_names()
        columns[T("fa_col_target")] = [targets.get(t, t) for t in frame["target_id"]]
    if with_bureau:
        columns[T("fa_col_bureau")] = [bureaus.get(b, b) for b in frame["bureau_id"]]
    columns |= {
        T("fa_col_asked"): frame["asked"],
        T("fa_col_due"): [d.isoformat() for d in frame["due_date"]],
        T("fa_col_state"): [state_text(s) for s in frame["state"]],
        T("fa_col_overdue"): [T("fa_overdue_flag") if o else "" for o in frame["overdue"]],
        T("fa_col_latest"): frame["latest_note"].fillna(""),
        T("fa_col_opened_by"): frame["opened_by"],
    }
    return pd.DataFrame(columns)


def history_table(frame: pd.DataFrame) -> pd.DataFrame:
    """An action's steps, oldest first: when, which step, who, what they wrote."""
    return pd.DataFrame(
        {
            T("fa_col_when"): [pd.Timestamp(v).strftime("%Y-%m-%d %H:%M") for v in frame["step_at"]],
            T("fa_col_step"): [T(f"fa_step_{k}") for k in frame["kind"]],
            T("user_name"): frame["user_name"],
            T("fa_col_note"): frame["note"],
        }
    )


def _done(message: str) -> None:
    st.session_state[MESSAGE] = message
    st.rerun()


def _open_form(user: User, target_id: str) -> None:
    """A leader's or administrator's form: a responsible bureau, what is asked, a due date."""
    cfg = data.config()
    names = _bureau_names()
    today = data.today()
    with st.form("fa_open_form"):
        st.markdown(f"**{T('fa_open_form')}**")
        bureau = st.selectbox(
            T("fa_col_bureau"),
            actions.responsible_bureaus(cfg, target_id),
            format_func=lambda b: names.get(b, b),
            key="fa_open_bureau",
        )
        asked = st.text_area(T("fa_asked_label"), max_chars=actions.MAX_TEXT, key="fa_open_asked")
        due = st.date_input(
            T("fa_due_label"), value=today + dt.timedelta(days=DEFAULT_DAYS), min_value=today, key="fa_open_due"
        )
        sent = st.form_submit_button(T("fa_open_button"), type="primary", key="fa_open_submit")
    if sent:
        try:
            number = actions.open_action(data.con(), cfg, user, target_id, str(bureau), asked, due, today=today)
        except actions.ActionError as refused:
            st.error(fmt.plain(refused.text(ui.lang())))
        else:
            _done(T("fa_opened_done", n=number))


def _step_forms(user: User, row: pd.Series) -> None:
    """The steps this user may take on the picked action: the bureau answers, the leader decides."""
    action_id = int(row["action_id"])
    con = data.con()
    if user.role in ("reporter", "approver") and user.bureau_id == row["bureau_id"] and row["state"] != "closed":
        note = st.text_area(T("fa_note_label"), max_chars=actions.MAX_TEXT, key=f"fa_note_{action_id}")
        left, right = st.columns(2)
        answer = left.button(T("fa_respond_button"), type="primary", key=f"fa_respond_{action_id}")
        ask = right.button(T("fa_request_button"), key=f"fa_request_{action_id}")
        if answer or ask:
            try:
                if answer:
                    actions.respond(con, user, action_id, note)
                else:
                    actions.request_close(con, user, action_id, note)
            except actions.ActionError as refused:
                st.error(fmt.plain(refused.text(ui.lang())))
            else:
                _done(T("fa_responded_done" if answer else "fa_requested_done"))
    if user.role in ("leader", "admin"):
        comment = st.text_area(T("fa_comment_label"), max_chars=actions.MAX_TEXT, key=f"fa_comment_{action_id}")
        closed = row["state"] == "closed"
        label = "fa_reopen_button" if closed else "fa_close_button"
        if st.button(T(label), key=f"fa_{'reopen' if closed else 'close'}_{action_id}"):
            try:
                (actions.reopen if closed else actions.close)(con, user, action_id, comment)
            except actions.ActionError as refused:
                st.error(fmt.plain(refused.text(ui.lang())))
            else:
                _done(T("fa_reopened_done" if closed else "fa_closed_done"))


def detail_section(user: User, target_id: str) -> None:
    """The target detail's 督办事项: every action on the target (open ones first, overdue flagged), the
    picked one's history and steps, and the form to open one for leaders and administrators."""
    st.subheader(T("fa_section"))
    message = st.session_state.pop(MESSAGE, None)
    if message:
        st.success(message)
    found = actions.actions(data.con(), [target_id], today=data.today())
    if found.empty:
        st.caption(T("fa_none"))
    else:
        st.dataframe(table(found), hide_index=True, width="stretch", key="fa_table")
        ids = [int(i) for i in found["action_id"]]
        states = dict(zip(ids, found["state"], strict=True))
        picked = st.selectbox(
            T("fa_pick"), ids, format_func=lambda i: T("fa_option", n=i, state=state_text(states[i])), key="fa_pick"
        )
        row = found.set_index("action_id", drop=False).loc[picked]
        st.caption(T("fa_history"))
        steps = actions.history(data.con(), int(picked))
        st.dataframe(history_table(steps), hide_index=True, width="stretch", key="fa_history")
        _step_forms(user, row)
    if user.role in ("leader", "admin"):
        _open_form(user, target_id)


def bureau_section(bureau_id: str) -> None:
    """The bureau page: actions not closed per bureau (overdue counted), then the picked bureau's."""
    names = _bureau_names()
    found = actions.open_actions(data.con(), today=data.today())
    st.subheader(T("fa_section"))
    if found.empty:
        st.caption(T("fa_none_open"))
        return
    per_bureau = found.groupby("bureau_id")["overdue"].agg(["count", "sum"]).sort_values("sum", ascending=False)
    counts = [actions.count_text(int(r["count"]), int(r["sum"]), ui.lang()) for _, r in per_bureau.iterrows()]
    st.dataframe(
        pd.DataFrame({T("fa_col_bureau"): [names.get(b, b) for b in per_bureau.index], T("fa_col_state"): counts}),
        hide_index=True,
        width="stretch",
        key="fa_per_bureau",
    )
    mine = found[found["bureau_id"] == bureau_id]
    st.caption(fmt.plain(names.get(bureau_id, bureau_id)))
    if mine.empty:
        st.caption(T("fa_none_open"))
    else:
        st.dataframe(table(mine, with_target=True), hide_index=True, width="stretch", key="fa_bureau_table")


# -- open items (dashboard.open_items.SOURCES)


def _waiting(user: User) -> pd.DataFrame:
    """The user's bureau's actions waiting for it to answer (open, not yet asked to close)."""
    if user.role not in ("reporter", "approver") or not user.bureau_id:
        return pd.DataFrame(columns=actions.COLUMNS)
    found = actions.actions(data.con(), bureau_id=user.bureau_id, include_closed=False, today=data.today())
    return found[found["state"] == actions.OPEN]


def open_items(user: User, lang: i18n.Lang) -> list[str]:
    """A bureau's "2项督办事项待办（1项逾期）"; a leader's actions the bureaus asked to close."""
    if user.role in ("leader", "admin"):
        found = actions.open_actions(data.con(), today=data.today())
        asking = int((found["state"] == actions.CLOSE_REQUESTED).sum())
        return [i18n.t("fa_open_items_close", lang, n=asking)] if asking else []
    waiting = _waiting(user)
    if waiting.empty:
        return []
    overdue = int(waiting["overdue"].sum())
    if overdue:
        return [i18n.t("fa_open_items_overdue", lang, n=len(waiting), overdue=overdue)]
    return [i18n.t("fa_open_items", lang, n=len(waiting))]


def my_actions(user: User) -> None:
    """Under the open items box: the bureau's actions waiting for it, overdue first."""
    waiting = _waiting(user)
    if not waiting.empty:
        # the bureau is the reader's own: its column would only push the later ones out of view
        st.dataframe(
            table(waiting, with_target=True, with_bureau=False), hide_index=True, width="stretch", key="fa_mine"
        )

"""Every view that matters is a URL: the page is the path, the choices are query parameters.

    /detail?target=rental_housing_15k&month=2026-10&lang=zh
    /?status=off_track,at_risk&section=4       (the overview, filtered)
    /bureaus?bureau=housing
    /districts?district=kangbashi             (one district's targets)

The widgets here read their first value from the URL and write the user's choice back to it, so a
link copied from the address bar, a bookmark or a reload shows the same view. A parameter that names
nothing (a target that does not exist, month=2099-01, lang=fr) is ignored: the widget shows its
usual default and the URL is corrected, never an error.

Which wins, the URL or the remembered choice? The URL, when it changed since this session last wrote
it (a link was opened, a page was switched to with parameters); otherwise the widget, which the user
has just moved. st.session_state[f"_url_{key}"] holds what this session last wrote.

A link opened signed out (see remember_request / resume) is kept in the session while the user signs
in, and opened afterwards with the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import streamlit as st

from dashboard import page_table, ui
from monitor import i18n

Option = TypeVar("Option")

LANG_PARAM = "lang"
LANG_LABELS: dict[i18n.Lang, str] = {"zh": "中文", "en": "English"}
SEPARATOR = ","  # several values of one filter: status=off_track,at_risk
_WANTED = "_link_wanted"  # the page and parameters asked for while signed out


def param(name: str) -> str | None:
    """A query parameter's (first) value, or None."""
    value = st.query_params.get(name)
    return value if value else None


def _write(name: str, text: str | None) -> None:
    """Put a value into the URL (None or "" removes it); unchanged values are not sent again."""
    if text:
        if st.query_params.get(name) != text:
            st.query_params[name] = text
    elif name in st.query_params:
        del st.query_params[name]


def _link_changed(name: str, key: str) -> str | None:
    """The URL's value of `name` when it differs from what this session last wrote there, else None."""
    raw = param(name)
    if raw is None or raw == st.session_state.get(f"_url_{key}"):
        return None
    return raw


def language() -> i18n.Lang:
    """The language control (中文 / English) in the sidebar, following ?lang=zh|en.

    The choice is kept in st.session_state["lang"], which ui.lang() and every page read."""
    raw = _link_changed(LANG_PARAM, "lang_choice")
    kept = st.session_state.get("lang")
    if raw in LANG_LABELS:
        st.session_state["lang_choice"] = LANG_LABELS[raw]  # type: ignore[index]
    elif "lang_choice" not in st.session_state and kept in LANG_LABELS:
        # st.switch_page (after sign-in) reruns without the browser's widget values: keep the choice
        st.session_state["lang_choice"] = LANG_LABELS[kept]  # type: ignore[index]
    choice = st.segmented_control("语言 / Language", list(LANG_LABELS.values()), default="中文", key="lang_choice")
    lang: i18n.Lang = "en" if choice == "English" else "zh"
    st.session_state["lang"] = lang
    st.session_state["_url_lang_choice"] = lang
    _write(LANG_PARAM, lang)
    return lang


def selectbox(
    label: str,
    options: Sequence[Option],
    key: str,
    name: str,
    *,
    index: int = 0,
    format_func: Callable[[Option], str] = str,
    to_text: Callable[[Option], str] = str,
) -> Option:
    """ui.kept_selectbox whose choice is also the URL parameter `name` (to_text(option) is its value):
    a link selects the option it names, a choice is written back; an unknown value is ignored."""
    options = list(options)
    raw = _link_changed(name, key)
    if raw is not None:
        wanted = next((o for o in options if to_text(o) == raw), None)
        if wanted is not None:
            st.session_state[key] = wanted
            st.session_state[f"{key}_{ui.lang()}"] = wanted  # the widget shows the link's choice
    value = ui.kept_selectbox(label, options, key, index=index, format_func=format_func)
    st.session_state[f"_url_{key}"] = to_text(value)
    _write(name, to_text(value))
    return value


def multiselect(
    label: str,
    options: Sequence[Option],
    key: str,
    name: str,
    *,
    format_func: Callable[[Option], str] = str,
    to_text: Callable[[Option], str] = str,
) -> list[Option]:
    """ui.kept_multiselect whose choice is also the URL parameter `name`, values joined by commas
    (status=off_track,at_risk); values that name no option are dropped, none left means "all"."""
    options = list(options)
    raw = _link_changed(name, key)
    if raw is not None:
        parts = raw.split(SEPARATOR)
        st.session_state[key] = [o for o in options if to_text(o) in parts]
        st.session_state[f"{key}_{ui.lang()}"] = st.session_state[key]
    value = ui.kept_multiselect(label, options, key, format_func=format_func)
    text = SEPARATOR.join(to_text(o) for o in value)
    st.session_state[f"_url_{key}"] = text
    _write(name, text)
    return value


# The multiselect filters of a page as (kept key, URL parameter). preload() applies a link's values
# before the page runs, so a page that counts its filters in force before drawing them (the overview's
# "筛选（2项）") counts the link's too; multiselect() then checks them against the options.
PAGE_FILTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "overview": (("ov_section", "section"), ("ov_bureau", "bureau"), ("ov_status", "status"), ("ov_year", "year")),
}


def preload(page_key: str) -> None:
    """Take the filters of a link to page_key into the session before the page draws anything."""
    for key, name in PAGE_FILTERS.get(page_key, ()):
        raw = _link_changed(name, key)
        if raw is not None:  # unchecked here; multiselect() drops values that name no option
            st.session_state[key] = st.session_state[f"{key}_{ui.lang()}"] = raw.split(SEPARATOR)


# -- links opened signed out ----------------------------------------------------------------------------


def remember_request(page_key: str) -> None:
    """Keep the page and parameters a signed-out visitor asked for (a shared link), for resume()."""
    if page_key != page_table.SIGN_IN.key:
        st.session_state[_WANTED] = {"page": page_key, "params": st.query_params.to_dict()}


def requested_language() -> dict[str, str]:
    """The parameters the sign-in page keeps while the visitor signs in: the language only."""
    lang = param(LANG_PARAM)
    return {LANG_PARAM: lang} if lang in LANG_LABELS else {}


def resume(role: str) -> None:
    """After sign-in: open the page the link asked for, with its parameters, when the role may open it;
    otherwise the landing page. Never returns (st.switch_page)."""
    wanted = st.session_state.pop(_WANTED, None) or {}
    page = next((p for p in page_table.PAGES if p.key == wanted.get("page")), None)
    if page is None or not page_table.may_open(role, page.key):
        landing = next(p for p in page_table.PAGES if p.key == page_table.DEFAULT)
        st.switch_page(landing.file, query_params=requested_language())
    st.switch_page(page.file, query_params=dict(wanted.get("params", {})))

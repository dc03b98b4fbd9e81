"""Small UI helpers shared by the pages: language, the as-of month, widgets, status styling.

Formatting is monitor.fmt's (the one vocabulary); these wrappers only add the session's language.
`T` is the catalogue lookup in the session's language (the option type of the widgets is `Option`)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import jinja2
import streamlit as st

from monitor import fmt, i18n
from monitor.style import STATUS_COLORS

if TYPE_CHECKING:
    from etl.errors import Problem
    from etl.load import LoadResult

Option = TypeVar("Option")


def lang() -> i18n.Lang:
    return "en" if st.session_state.get("lang") == "en" else "zh"


def T(key: str, **kwargs: object) -> str:
    """The catalogue text of key in the session's language."""
    return i18n.t(key, lang(), **kwargs)


def as_of() -> dt.date | None:
    return st.session_state.get("as_of")


def month(value: object) -> str:
    return fmt.month(value, lang())


def number(value: float | None, unit_zh: str = "", unit_en: str = "") -> str:
    return fmt.figure(value, unit_zh, unit_en, lang())


def status_text(status: str) -> str:
    return fmt.status(status, lang())


@functools.cache
def _templates() -> jinja2.Environment:
    """The one environment of dashboard/templates: autoescaped, so names, reasons and notes a user
    typed stay text in every HTML the app draws; a missing variable is an error, not an empty string."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template(name: str) -> jinja2.Template:
    """A template of dashboard/templates (status tile, phone list, print page)."""
    return _templates().get_template(name)


def status_tile(status: str, count: int, change: str = "") -> None:
    """One overview tile (status colour, symbol and word, count, and under it how it moved since last
    month, e.g. "上月 5 · ↓2 ↑1"). The HTML comes from an autoescaped template, so whatever reaches it
    is text; it is one line, so Markdown leaves it as HTML."""
    html = template("status_tile.html.j2").render(
        colour=STATUS_COLORS[status], label=status_text(status), count=int(count), change=change
    )
    st.markdown(html.strip(), unsafe_allow_html=True)


def stylesheet() -> None:
    """The app's own CSS (dashboard/style.css: tiles, the phone list, what a phone hides, browser
    print), drawn by app.py on every page as a style element that takes no room on the page."""
    st.html(Path(__file__).with_name("style.css"))


def require_data() -> dt.date:
    """Stop the page with guidance when the warehouse is empty; otherwise return the as-of month."""
    current = as_of()
    if current is None:
        st.info(f"**{T('empty_title')}**\n\n{T('empty_body')}")
        st.stop()
    return current


def percent_column(label: str, top: float = 100) -> st.column_config.ProgressColumn:
    """A progress bar with a whole percentage (76%, not 75.83%); the column holds percent values."""
    return st.column_config.ProgressColumn(label, min_value=0, max_value=top, format="%.0f%%")


def month_select(label: str, options: list[dt.date], key: str, *, index: int = 0) -> dt.date:
    """A month selectbox whose choice survives the language toggle (see kept_selectbox)."""
    return kept_selectbox(label, options, key, index=index, format_func=month)


def kept_selectbox(
    label: str, options: list[Option], key: str, *, index: int = 0, format_func: Callable[[Option], str] = str
) -> Option:
    """A selectbox whose choice survives the language toggle and a visit to another page.

    Streamlit keeps a selectbox's choice by its label, and labels follow the language: after the
    toggle the old label (2026年8月) matched no option (Aug 2026), the box went on showing it, and
    the next rerun quietly fell back to the default. So the widget key carries the language, and
    the chosen option itself is remembered in st.session_state[key]."""
    remembered = st.session_state.get(key)
    if remembered in options:
        index = options.index(remembered)
    value = st.selectbox(label, options, index=index, format_func=format_func, key=f"{key}_{lang()}")
    st.session_state[key] = value
    return value


def kept_value(key: str) -> object:
    """What a kept_selectbox / kept_multiselect holds before it is drawn in this run: the widget's
    state (this run's change) or, after a language toggle or on another page, the kept choice."""
    return st.session_state.get(f"{key}_{lang()}", st.session_state.get(key))


def kept_multiselect(
    label: str, options: list[Option], key: str, *, format_func: Callable[[Option], str] = str
) -> list[Option]:
    """A multiselect filter whose choice survives the language toggle (see kept_selectbox).

    An empty choice means "all", and the placeholder says so in the user's language."""
    remembered = [o for o in st.session_state.get(key, []) if o in options]
    value = st.multiselect(
        label, options, default=remembered, format_func=format_func, placeholder=T("all"), key=f"{key}_{lang()}"
    )
    st.session_state[key] = value
    return value


def summary(result: LoadResult) -> str:
    """A load's summary in the session's language, as text (it quotes the file name as uploaded)."""
    return fmt.plain(result.summary_zh() if lang() == "zh" else result.summary_en())


def problem(found: Problem) -> str:
    """A problem or warning (file, row, column, value, reason) in the session's language, as text."""
    return fmt.plain(found.zh() if lang() == "zh" else found.en())

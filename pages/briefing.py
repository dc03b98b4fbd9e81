"""简报导出 Briefing export: the deck, PDF, workbook and charts leadership takes into a meeting.

Filters (status, section, bureau, targets) choose the targets; the 简报形式 radio chooses the
exception-first pack (default: a slide per target needing attention, every target in the appendix) or
the full deck (a slide per target).

UI only: monitor.briefing builds the files. They are built into a temporary directory and kept in
session state as bytes, so the download buttons still work after the reruns each click causes.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import streamlit as st

from dashboard import data, session, ui
from dashboard.ui import T
from monitor import briefing, fmt
from monitor.fmt import plain
from monitor.style import STATUS_ORDER

session.require("briefing")

STATE_KEY = "briefing_files"
MIME = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}

as_of = ui.require_data()
lang = ui.lang()
card = data.scorecard(as_of)
bureau_names = data.reference("bureaus").set_index("bureau_id")[f"name_{lang}"]
names = dict(zip(card["target_id"], card[f"name_{lang}"], strict=True))
sections_of = dict(zip(card["target_id"], card["section"], strict=True))

st.title(T("nav_briefing"))
st.caption(T("brief_intro", month=ui.month(as_of)))

c1, c2, c3 = st.columns(3)
with c1:
    sections = ui.kept_multiselect(T("f_section"), list(dict.fromkeys(card["section"])), "br_section")
with c2:
    chosen_bureaus = ui.kept_multiselect(
        T("f_bureau"),
        list(dict.fromkeys(card["lead_bureau"])),
        "br_bureau",
        format_func=lambda b: str(bureau_names.get(b, b)),
    )
with c3:
    statuses = ui.kept_multiselect(
        T("f_status"), list(STATUS_ORDER), "br_status", format_func=lambda s: fmt.status(s, lang)
    )
pool = card
if statuses:
    pool = pool[pool["status"].isin(statuses)]
if sections:
    pool = pool[pool["section"].isin(sections)]
if chosen_bureaus:
    pool = pool[pool["lead_bureau"].isin(chosen_bureaus)]
chosen_targets = ui.kept_multiselect(
    T("brief_targets"),
    list(pool["target_id"]),
    "br_targets",
    format_func=lambda i: f"{sections_of.get(i, '')} · {names.get(i, i)}",
)
selected = [t for t in pool["target_id"] if not chosen_targets or t in chosen_targets]
kinds = {"pack": T("pack_kind_exceptions"), "full": T("pack_kind_full")}
kind = st.radio(T("pack_kind"), list(kinds), format_func=kinds.get, key="br_pack", horizontal=True)
full = kind == "full"
if not selected:
    st.caption(T("no_match"))
elif full:
    st.caption(T("brief_count", n=len(selected), slides=len(selected) + 3))
else:
    # the pack's rule (BriefingData.attention): a status needing attention, or worse than last month
    worse = set(data.changes(as_of).query("direction == 'worse'")["target_id"])
    chosen_rows = card[card["target_id"].isin(selected)]
    attention = int(
        (chosen_rows["status"].isin(briefing.ATTENTION_STATUSES) | chosen_rows["target_id"].isin(worse)).sum()
    )
    appendix = briefing.appendix_page_count(chosen_rows, lang, bureau_names)  # fewer rows a slide when names wrap
    st.caption(T("pack_count", n=len(selected), attention=attention, slides=2 + attention + 1 + appendix))

# what the files on offer were built from; a change of filter, month, language or of the choice to
# include figures pending review (data.con() hands build_briefing a cursor with them only then) makes them stale
signature = (str(as_of), lang, tuple(selected), data.including_pending(), full)

if st.button(T("brief_generate"), type="primary", disabled=not selected, key="br_generate"):
    bar = st.progress(0.0, text=T("brief_started"))

    def report(i: int, n: int, label: str) -> None:
        bar.progress(min(i / max(n, 1), 1.0), text=T("brief_progress", i=i, n=n, label=label))

    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="briefing-") as tmp:
            result = briefing.build_briefing(
                data.con(), data.config(), as_of, tmp, targets=selected, lang=lang, progress=report, full=full
            )
            stem = f"{T('brief_file_stem')}_{ui.month(as_of)}".replace(" ", "_")
            files = {
                "pptx": (f"{stem}.pptx", result.deck.read_bytes()),
                "pdf": (f"{stem}.pdf", result.pdf.read_bytes()),
                "xlsx": (f"{stem}.xlsx", result.workbook.read_bytes()),
                "zip": (f"{stem}_charts.zip", result.charts_zip.read_bytes()),
            }
    except briefing.BriefingError as exc:
        bar.empty()
        st.error(T("brief_failed", error=plain(exc)))
    else:
        st.session_state[STATE_KEY] = {
            "signature": signature,
            "month": ui.month(as_of),
            "n": len(result.target_ids),
            "files": files,
        }
        bar.progress(1.0, text=T("brief_done", n=len(result.target_ids), seconds=time.perf_counter() - started))

made = st.session_state.get(STATE_KEY)
if made:
    st.subheader(T("brief_files_for", month=made["month"], n=made["n"]))
    if made["signature"] != signature:
        st.warning(T("brief_stale"))
    labels = {"pptx": "brief_dl_deck", "pdf": "brief_dl_pdf", "xlsx": "brief_dl_xlsx", "zip": "brief_dl_charts"}
    for col, (kind, (file_name, content)) in zip(st.columns(len(labels)), made["files"].items(), strict=True):
        col.download_button(
            T(labels[kind]),
            content,
            file_name=Path(file_name).name,
            mime=MIME[kind],
            key=f"br_download_{kind}",
            on_click="ignore",
            width="stretch",
        )

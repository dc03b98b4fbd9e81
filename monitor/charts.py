"""Plotly figures shared by the app and the briefing export (same figure on screen and on paper).

Axes read the way users read numbers: 1.5万 on value axes, 2025年3月 on time axes (ticks are
computed here because plotly's d3 formats know neither 万 nor 年月).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from monitor import fmt, i18n
from monitor.i18n import Lang
from monitor.style import FONT_FAMILY, STATUS_COLORS
from monitor.targets import district_sort_key
from monitor.text_width import text_em

LABEL_GAP_PX = 10  # between a bar chart's category label and its bar (ticklabelstandoff)
VALUE_ROOM = 0.18  # share of the value axis beyond the longest bar: its number printed outside fits


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def value_ticks(
    values: list[float] | np.ndarray, unit: str, lang: Lang, *, whole: bool = False
) -> tuple[list[float], list[str]]:
    """Tick positions and labels from 0 (or the minimum) to the maximum, in 万 for Chinese; ``whole``
    (a count: fmt.is_whole_unit) keeps the step at 1 or more, so no tick reads 0.4个."""
    arr = np.asarray([x for x in values if x is not None and not pd.isna(x)], dtype=float)
    if arr.size == 0:
        return [], []
    lo, hi = min(0.0, float(arr.min())), float(arr.max())
    if hi <= lo:
        hi = lo + 1
    step = max(_nice_step(hi - lo), 1.0) if whole else _nice_step(hi - lo)
    ticks = list(np.arange(math.floor(lo / step) * step, hi + step * 1.01, step))
    label = fmt.number_zh if lang == "zh" else fmt.number_en
    return ticks, [label(t, "%" if unit == "%" else "") for t in ticks]


def month_ticks(periods: list, lang: Lang, max_ticks: int = 8) -> tuple[list, list[str]]:
    ps = sorted(pd.to_datetime(pd.Series(periods)).dropna().unique())
    if not ps:
        return [], []
    every = max(1, math.ceil(len(ps) / max_ticks))
    chosen = ps[::every]
    return chosen, [fmt.month(p, lang) for p in chosen]


def base_layout(fig: go.Figure, title: str, subtitle: str = "", height: int = 420) -> go.Figure:
    """Title, font, margins and axes every chart shares. A value axis title is never printed
    rotated (a rotated 个 reads like ←): it moves into the subtitle, horizontal, unless the subtitle
    names it already (a target chart's 单位：套)."""
    axis_title = fig.layout.yaxis.title.text or ""
    if axis_title:
        fig.update_yaxes(title_text="")
        if axis_title not in subtitle:
            subtitle = f"{subtitle} · {axis_title}" if subtitle else axis_title
    fig.update_layout(
        title={"text": title + (f"<br><sup>{subtitle}</sup>" if subtitle else ""), "x": 0.01},
        font={"family": FONT_FAMILY, "size": 13},
        height=height,
        margin={"l": 60, "r": 20, "t": 70, "b": 60},
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hoverlabel={"font": {"family": FONT_FAMILY}},
    )
    fig.update_xaxes(showgrid=False, linecolor="#888")
    fig.update_yaxes(gridcolor="#E5E5E5", zeroline=False)
    return fig


def trajectory(
    series: pd.DataFrame,
    row: dict,
    lang: Lang,
    *,
    as_of_label: str,
) -> go.Figure:
    """Actual against the planned line and the target at its deadline, with the forecast and its band.

    `series` has columns period, actual, expected, forecast, forecast_low, forecast_high (NaN where not
    applicable), as monitor.progress.series returns them.
    """
    fig = go.Figure()
    s = series.sort_values("period")
    unit = row.get(f"unit_{lang}", "")
    fc = s.dropna(subset=["forecast"]) if "forecast" in s else s.iloc[0:0]
    if not fc.empty and {"forecast_low", "forecast_high"} <= set(fc.columns):
        fig.add_trace(
            go.Scatter(
                x=list(fc["period"]) + list(fc["period"][::-1]),
                y=list(fc["forecast_high"]) + list(fc["forecast_low"][::-1]),
                fill="toself",
                fillcolor="rgba(0,114,178,0.12)",
                line={"width": 0},
                name=i18n.t("chart_band", lang),
                hoverinfo="skip",
            )
        )
    plan = s.dropna(subset=["expected"]) if "expected" in s else s.iloc[0:0]
    if not plan.empty:
        fig.add_trace(
            go.Scatter(
                x=plan["period"], y=plan["expected"], name=i18n.t("chart_planned", lang),
                line={"color": "#555555", "dash": "dash", "width": 2},
            )
        )  # fmt: skip
    act = s.dropna(subset=["actual"])
    fig.add_trace(
        go.Scatter(
            x=act["period"], y=act["actual"], name=i18n.t("chart_actual", lang), mode="lines+markers",
            line={"color": STATUS_COLORS.get(row.get("status", "on_track"), "#0072B2"), "width": 3},
        )
    )  # fmt: skip
    if not fc.empty:
        fig.add_trace(
            go.Scatter(
                x=fc["period"], y=fc["forecast"], name=i18n.t("chart_forecast", lang),
                line={"color": "#0072B2", "dash": "dot", "width": 2},
            )
        )  # fmt: skip
    if row.get("target_value") is not None and row.get("deadline") is not None:
        fig.add_trace(
            go.Scatter(
                x=[pd.Timestamp(row["deadline"])], y=[row["target_value"]], mode="markers+text",
                marker={"symbol": "star", "size": 16, "color": "#D55E00"},
                text=[i18n.t("chart_target", lang)], textposition="top center", name=i18n.t("chart_target", lang),
            )
        )  # fmt: skip
    allv = pd.concat([s.get(c, pd.Series(dtype=float)) for c in ("actual", "expected", "forecast", "forecast_high")])
    allv = pd.concat([allv, pd.Series([row.get("target_value")], dtype=float)])
    tv, tt = value_ticks(allv.to_numpy(dtype=float), unit, lang, whole=fmt.is_whole_unit(str(row.get("unit_zh", ""))))
    # the range spans the ticks, so every 万 / % label computed above is shown
    span = (tv[-1] - tv[0]) if len(tv) > 1 else 1.0
    # the unit is in the subtitle (单位：套), horizontal: no rotated axis title
    fig.update_yaxes(tickvals=tv, ticktext=tt, range=[tv[0] - 0.02 * span, tv[-1] + 0.04 * span] if tv else None)
    mv, mt = month_ticks(list(s["period"]) + ([row["deadline"]] if row.get("deadline") is not None else []), lang)
    fig.update_xaxes(tickvals=mv, ticktext=mt)
    status = row.get("status")
    title = f"{row.get(f'name_{lang}', '')}"
    sub = f"{as_of_label} · {i18n.t('unit', lang)}：{unit}" if lang == "zh" else f"{as_of_label} · unit: {unit}"
    if status:
        sub += f" · {fmt.status(status, lang)}"
    return base_layout(fig, title, sub)


def label_margin(labels: list[str], font_px: float) -> int:
    """Left margin (px) that holds the longest category label at ``font_px`` and the gap to its bar,
    measured (monitor.text_width) rather than left to plotly's automargin, which the print layer's
    fixed margins would undo: ◆ 逾期未完成 at 22 px needs 6.5 em = 144 px plus the gap."""
    longest = max((text_em(label) for label in labels), default=0.0)
    return math.ceil(longest * font_px) + LABEL_GAP_PX + 12  # 12: the paper's own edge


def status_bar(counts: dict[str, int], lang: Lang, title: str) -> go.Figure:
    """Horizontal bar of targets by status, worst first, with the status word beside each bar and the
    count after it. Room for both is set here: a left margin that holds the longest status word
    (label_margin) and a value axis running VALUE_ROOM beyond the longest bar for its number."""
    order = list(fmt.ATTENTION_RANK)
    labels = [fmt.status(s, lang) for s in order]
    values = [counts.get(s, 0) for s in order]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=values,
            orientation="h",
            marker_color=[STATUS_COLORS[s] for s in order],
            text=values,
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True, ticklabelstandoff=LABEL_GAP_PX)
    fig.update_xaxes(range=[0, max(max(values, default=0), 1) * (1 + VALUE_ROOM)])
    base_layout(fig, title, height=320)
    fig.update_layout(margin_l=label_margin(labels, fig.layout.font.size))
    return fig


def heatmap(frame: pd.DataFrame, lang: Lang, title: str) -> go.Figure:
    """Progress (0..1+) by target (rows, in the frame's order: the policy's) and district (columns,
    in the official order, targets.DISTRICT_ORDER, by ``district_id``): not a ranking, so neither
    axis is sorted by name or value. Every district is labelled, however narrow the chart."""
    rows = list(dict.fromkeys(frame["target"]))
    districts = frame.dropna(subset=["district"]).drop_duplicates("district")  # a scope sum has no name
    if "district_id" in districts:
        districts = districts.sort_values("district_id", key=district_sort_key, kind="stable")
    columns = list(districts["district"])
    pivot = frame.pivot_table(index="target", columns="district", values="progress", aggfunc="first")
    pivot = pivot.reindex(index=rows, columns=columns)
    text = pivot.map(fmt.percent)
    fig = go.Figure(
        go.Heatmap(
            z=pivot.clip(upper=1.2).to_numpy(),
            x=list(pivot.columns),
            y=list(pivot.index),
            text=text.to_numpy(),
            texttemplate="%{text}",
            colorscale=[[0, "#D55E00"], [0.5, "#F0E442"], [0.85, "#56B4E9"], [1, "#0072B2"]],
            zmin=0,
            zmax=1.2,
            colorbar={"title": "%", "tickvals": [0, 0.5, 1.0], "ticktext": ["0%", "50%", "100%"]},
            hoverongaps=False,
        )
    )
    # a category axis drops labels that would overlap (4 of 10 districts on a phone): every one is kept
    fig.update_xaxes(tickmode="array", tickvals=columns, ticktext=columns, automargin=True)
    fig.update_yaxes(autorange="reversed", automargin=True)  # the first target on top, as in a table
    return base_layout(fig, title, height=max(320, 40 * len(pivot.index) + 140))


def rate_chart(frame: pd.DataFrame, lang: Lang, title: str) -> go.Figure:
    """Completeness and timeliness by month (share of expected reports)."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=frame["period"], y=frame["completeness"], name=i18n.t("completeness", lang), line={"color": "#0072B2"}
        )
    )
    fig.add_trace(
        go.Scatter(
            x=frame["period"],
            y=frame["timeliness"],
            name=i18n.t("timeliness", lang),
            line={"color": "#E69F00", "dash": "dash"},  # dashed: visible where it runs on the other line
        )
    )
    mv, mt = month_ticks(list(frame["period"]), lang)
    fig.update_xaxes(tickvals=mv, ticktext=mt)
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return base_layout(fig, title, height=320)

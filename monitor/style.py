"""One colour scheme for statuses everywhere (charts, badges, exports).

Okabe–Ito colours, distinguishable with the common colour-vision deficiencies; the status word is
always printed beside the colour, so colour is never the only carrier of meaning.
"""

from __future__ import annotations

STATUS_ORDER: tuple[str, ...] = ("off_track", "overdue", "at_risk", "no_data", "on_track", "achieved")  # worst first

STATUS_COLORS: dict[str, str] = {
    "achieved": "#009E73",  # bluish green
    "on_track": "#0072B2",  # blue
    "at_risk": "#E69F00",  # orange
    "off_track": "#D55E00",  # vermillion
    "overdue": "#CC79A7",  # reddish purple
    "no_data": "#8C8C8C",  # grey
}

# Geometric symbols present in Noto CJK (no emoji font on the intranet machines).
STATUS_ICONS: dict[str, str] = {
    "achieved": "✔",
    "on_track": "●",
    "at_risk": "▲",
    "off_track": "▼",
    "overdue": "◆",
    "no_data": "○",
}

# Fonts installed locally (fonts-noto-cjk); never fetched from the internet.
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"

"""ECG paper: the millimetre grid, its scale and the calibration pulse, drawn in millimetre coordinates.

Everything on an ECG printout is placed in millimetres of paper. An axes whose data units are
millimetres (equal aspect) and a figure sized in millimetres print at true scale: 25 mm per second
along time and 10 mm per millivolt along amplitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

MM_PER_INCH = 25.4


@dataclass(frozen=True)
class PaperStyle:
    """Scale and colours of the paper.

    Parameters
    ----------
    speed_mm_s : float
        Paper speed, mm per second (25 is the clinical standard).
    gain_mm_mv : float
        Amplitude scale, mm per millivolt (10 is the clinical standard).
    """

    speed_mm_s: float = 25.0
    gain_mm_mv: float = 10.0
    background: str = "#fff5f3"
    minor_color: str = "#f7c1c1"
    major_color: str = "#e8817f"
    trace_color: str = "#111111"
    minor_width_pt: float = 0.3
    major_width_pt: float = 0.7
    trace_width_pt: float = 0.7

    def __post_init__(self) -> None:
        if not self.speed_mm_s > 0 or not self.gain_mm_mv > 0:
            raise ValueError(f"paper speed and gain must be positive, got {self.speed_mm_s}, {self.gain_mm_mv}")


def draw_grid(ax: Axes, width_mm: float, height_mm: float, style: PaperStyle) -> None:
    """Paper background with 1 mm and 5 mm lines over ``[0, width_mm] x [0, height_mm]``; fixes the view."""
    ax.set_facecolor(style.background)
    for step, color, width, zorder in (
        (1.0, style.minor_color, style.minor_width_pt, 0.1),
        (5.0, style.major_color, style.major_width_pt, 0.2),
    ):
        xs = np.arange(0.0, width_mm + 1e-6, step)
        ys = np.arange(0.0, height_mm + 1e-6, step)
        segments = [((x, 0.0), (x, height_mm)) for x in xs] + [((0.0, y), (width_mm, y)) for y in ys]
        ax.add_collection(LineCollection(segments, colors=color, linewidths=width, zorder=zorder))
    ax.set_xlim(0.0, width_mm)
    ax.set_ylim(0.0, height_mm)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def draw_calibration(ax: Axes, x_mm: float, baseline_mm: float, style: PaperStyle) -> None:
    """The 1 mV, 200 ms standardisation pulse starting at ``x_mm`` on a trace baseline."""
    width = 0.2 * style.speed_mm_s
    height = style.gain_mm_mv
    lead_in = 1.5
    xs = [x_mm, x_mm + lead_in, x_mm + lead_in, x_mm + lead_in + width, x_mm + lead_in + width,
          x_mm + 2 * lead_in + width]
    ys = [baseline_mm, baseline_mm, baseline_mm + height, baseline_mm + height, baseline_mm, baseline_mm]
    ax.plot(xs, ys, color=style.trace_color, linewidth=style.trace_width_pt, solid_joinstyle="miter", zorder=3,
            gid="calibration")

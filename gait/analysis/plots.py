"""Raw versus filtered trajectory plots (matplotlib, DejaVu Sans).

matplotlib is imported by the first plot, not with this module: it takes about half a second,
which the analysis service's start-up and its cached calls need not pay. The figures are
matplotlib `Figure`s, not pyplot's: no global figure list, so concurrent calls do not meet.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import numpy as np

STYLE = {"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
SIDE_COLOURS = {"left": "#d62728", "right": "#1f77b4"}


@functools.cache
def _figure_class():
    """matplotlib's Figure, with the plots' style set (once: the whole process draws in it)."""
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.rcParams.update(STYLE)
    return Figure


def _subplots(rows: int, columns: int, figsize: tuple[float, float], **kwargs):
    """A figure and its (rows, columns) array of panels, as pyplot.subplots(..., squeeze=False)."""
    figure = _figure_class()(figsize=figsize)
    return figure, figure.subplots(rows, columns, squeeze=False, **kwargs)


def plot_trajectories(
    path: Path,
    time_s: np.ndarray,
    raw: np.ndarray,
    filtered: np.ndarray,
    names: Sequence[str],
    axis_labels: Sequence[str],
    unit: str,
    title: str,
) -> None:
    """One panel per axis; each trajectory raw (thin, light) and filtered (bold), left red, right blue.

    raw and filtered are (frames, len(names), len(axis_labels)).
    """
    figure, panels = _subplots(len(axis_labels), 1, figsize=(9, 2.4 * len(axis_labels)), sharex=True)
    for axis_index, (panel, axis_label) in enumerate(zip(panels[:, 0], axis_labels)):
        for joint_index, name in enumerate(names):
            colour = SIDE_COLOURS["left" if name.startswith("left") else "right"]
            style = "-" if "ankle" in name else ("--" if "heel" in name else ":")
            panel.plot(time_s, raw[:, joint_index, axis_index], color=colour, alpha=0.3, lw=0.8, ls=style)
            panel.plot(time_s, filtered[:, joint_index, axis_index], color=colour, lw=1.6, ls=style,
                       label=name.replace("_", " "))
        if axis_label == "y":  # image and camera y point down: draw up as up
            panel.invert_yaxis()
            axis_label = "y, down"
        panel.set_ylabel(f"{axis_label} ({unit})")
        panel.grid(alpha=0.25)
    panels[0, 0].set_title(title, pad=24)
    panels[0, 0].legend(ncol=6, fontsize=7, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    panels[-1, 0].set_xlabel("time (s)   thin: raw, bold: filtered")
    _save(figure, path)


def _save(figure, path: Path) -> None:
    """PNG at `path` and the same figure as SVG beside it (vector, for reports and print)."""
    figure.tight_layout()
    # tight_layout leaves a placeholder layout engine behind, and with any engine set each savefig
    # draws the whole figure once more to lay it out before drawing it for real. The layout is
    # done: without the engine each file is drawn once (the same pixels; saving took 25-40 % less).
    figure.set_layout_engine(None)
    figure.savefig(path, dpi=120)
    figure.savefig(Path(path).with_suffix(".svg"))


def plot_cycle_curves(path: Path, kinematics, title: str, reference=None) -> None:
    """Mean +- SD of each sagittal angle over the gait cycle, left red, right blue; the normal
    reference's mean +- SD in grey behind where given (columns <joint>_deg_mean/_sd)."""
    order = ("pelvis_tilt", "hip_flexion", "thigh_angle", "knee_flexion", "ankle_dorsiflexion", "trunk_tilt")
    joints = [j for j in order
              if any(c.endswith(f"{j}_deg_mean") for c in kinematics.columns)]
    figure, panels = _subplots(1, max(1, len(joints)), figsize=(3.2 * max(1, len(joints)), 3.0))
    cycle = kinematics["cycle_pct"] if "cycle_pct" in kinematics else np.arange(101)
    for panel, joint in zip(panels[0], joints):
        if reference is not None and f"{joint}_deg_mean" in reference:
            normal, spread = reference[f"{joint}_deg_mean"], reference[f"{joint}_deg_sd"]
            panel.fill_between(reference["cycle_pct"], normal - spread, normal + spread, color="#999999", alpha=0.25,
                               lw=0, label="normal (mean +- SD)")
        for side in ("left", "right", None):
            name = f"{side}_{joint}_deg" if side else f"{joint}_deg"
            if f"{name}_mean" not in kinematics:
                continue
            mean, sd = kinematics[f"{name}_mean"], kinematics[f"{name}_sd"]
            colour = SIDE_COLOURS.get(side, "#444444")
            cycles = int(kinematics[f"{name}_cycles"].iloc[0])
            panel.plot(cycle, mean, color=colour, lw=1.6, label=f"{side or joint.split('_')[0]} (n={cycles})")
            panel.fill_between(cycle, mean - sd, mean + sd, color=colour, alpha=0.15, lw=0)
        panel.set_title(joint.replace("_", " "))
        panel.ticklabel_format(axis="y", useOffset=False)
        low, high = panel.get_ylim()
        if high - low < 10:  # a nearly constant angle: show it on a readable scale
            middle = (high + low) / 2
            panel.set_ylim(middle - 5, middle + 5)
        panel.set_xlabel("% gait cycle")
        panel.grid(alpha=0.25)
        panel.legend(fontsize=7, frameon=False)
    panels[0, 0].set_ylabel("degrees")
    figure.suptitle(title)
    _save(figure, path)


def plot_footfalls(path: Path, events, duration_s: float, bouts=None) -> None:
    """Footfall timeline: each side's stance (heel strike to toe off) as a bar, the analyzed
    walking bouts shaded behind."""
    figure, panels = _subplots(1, 1, figsize=(9, 1.9))
    panel = panels[0, 0]
    for bout in ([] if bouts is None else bouts.itertuples()):
        panel.axvspan(bout.start_s, bout.stop_s, color="#2ca02c", alpha=0.08, lw=0)
    for row, side in enumerate(("right", "left")):
        own = events[events.side == side].sort_values("time_s")
        strikes = own[own.event == "heel_strike"].time_s.to_numpy()
        offs = own[own.event == "toe_off"].time_s.to_numpy()
        bars = [(hs, offs[offs > hs][0] - hs) for hs in strikes if (offs > hs).any() and offs[offs > hs][0] - hs < 2.0]
        panel.broken_barh(bars, (row - 0.35, 0.7), color=SIDE_COLOURS[side], alpha=0.8)
        panel.plot(strikes, np.full(len(strikes), row), "k|", ms=14)
    panel.set_yticks([0, 1], ["right", "left"])
    panel.set_xlim(0, duration_s)
    panel.set_xlabel("time (s)   bars: stance (heel strike to toe off); shaded: walking bouts analyzed")
    panel.set_title("Footfalls")
    _save(figure, path)


def plot_left_right(path: Path, steps, columns: dict[str, str]) -> None:
    """Left and right mean with 95 % interval of each sided parameter (`columns`: name -> label)."""
    present = [c for c in columns if c in steps and steps[c].notna().any()]
    figure, panels = _subplots(1, max(1, len(present)), figsize=(2.4 * max(1, len(present)), 2.8))
    for panel, column in zip(panels[0], present):
        for x, side in enumerate(("left", "right")):
            values = steps.loc[steps.side == side, column].dropna().to_numpy()
            if values.size == 0:
                continue
            half = 1.96 * values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else 0.0
            panel.bar(x, values.mean(), color=SIDE_COLOURS[side], alpha=0.8, width=0.6)
            panel.errorbar(x, values.mean(), yerr=half, color="k", capsize=4, lw=1)
        panel.set_xticks([0, 1], ["left", "right"])
        panel.set_title(columns[column], fontsize=9)
        panel.grid(axis="y", alpha=0.25)
    figure.suptitle("Left and right (mean, 95 % interval)")
    _save(figure, path)

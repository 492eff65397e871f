"""Raw versus filtered trajectory plots (matplotlib, DejaVu Sans)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
SIDE_COLOURS = {"left": "#d62728", "right": "#1f77b4"}


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
    figure, panels = plt.subplots(len(axis_labels), 1, figsize=(9, 2.4 * len(axis_labels)), sharex=True, squeeze=False)
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
    figure.savefig(path, dpi=120)
    figure.savefig(Path(path).with_suffix(".svg"))
    plt.close(figure)


def plot_cycle_curves(path: Path, kinematics, title: str) -> None:
    """Mean +- SD of each sagittal angle over the gait cycle, left red, right blue."""
    joints = [j for j in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion", "trunk_tilt")
              if any(c.endswith(f"{j}_deg_mean") for c in kinematics.columns)]
    figure, panels = plt.subplots(1, max(1, len(joints)), figsize=(3.2 * max(1, len(joints)), 3.0), squeeze=False)
    cycle = kinematics["cycle_pct"] if "cycle_pct" in kinematics else np.arange(101)
    for panel, joint in zip(panels[0], joints):
        for side in ("left", "right", None):
            name = f"{side}_{joint}_deg" if side else f"{joint}_deg"
            if f"{name}_mean" not in kinematics:
                continue
            mean, sd = kinematics[f"{name}_mean"], kinematics[f"{name}_sd"]
            colour = SIDE_COLOURS.get(side, "#444444")
            cycles = int(kinematics[f"{name}_cycles"].iloc[0])
            panel.plot(cycle, mean, color=colour, lw=1.6, label=f"{side or 'trunk'} (n={cycles})")
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

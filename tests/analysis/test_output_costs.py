"""What the analysis's outputs cost: the service starts without the heavy libraries, each plot file
is drawn once, the reference spreadsheet is parsed once, and the PDF libraries' INFO chatter stays
out of the logs (issue 12)."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

import numpy as np
import pandas as pd

from gait.config import REPO_ROOT

HEAVY = ("scipy", "matplotlib", "weasyprint", "openpyxl", "xlsxwriter")


def test_starting_the_analysis_service_imports_none_of_the_heavy_libraries():
    """scipy, matplotlib, WeasyPrint, openpyxl and XlsxWriter take ~3 s to import together: the first analysis
    that needs them imports them, not the service's start-up nor a call answered from the cache."""
    code = ("import sys, services.analysis.server, gait.analysis.outputs, gait.tables\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              cwd=REPO_ROOT, check=True)
    assert imported.stdout.strip() == "[]"


def test_each_plot_file_is_drawn_once(tmp_path, monkeypatch):
    """tight_layout leaves a layout engine behind that makes savefig draw the figure twice per file."""
    from matplotlib.figure import Figure

    from gait.analysis.plots import plot_footfalls

    draws = []
    draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(renderer) or draw(self, renderer))
    events = pd.DataFrame({"side": ["left", "left", "right", "right"], "event": ["heel_strike", "toe_off"] * 2,
                           "time_s": [0.1, 0.7, 0.6, 1.2]})
    bouts = pd.DataFrame({"start_s": [0.0], "stop_s": [1.5]})
    plot_footfalls(tmp_path / "footfalls.png", events, 1.5, bouts)
    assert (tmp_path / "footfalls.png").stat().st_size and (tmp_path / "footfalls.svg").stat().st_size
    assert len(draws) == 2, draws  # the PNG's and the SVG's


def test_the_reference_spreadsheet_is_parsed_once_and_read_as_pandas_reads_it(monkeypatch):
    from gait.analysis import reference

    columns = ["Angle", "PercentageGaitCycle", "FreeMean", "FreeSd"]
    path = reference.reference_path("schwartz2008.xlsx")
    ours = reference._sheet(path, "Joint Rotations")[columns]
    theirs = pd.read_excel(path, sheet_name="Joint Rotations")[columns]
    ours = ours[ours["Angle"].notna()].reset_index(drop=True)
    assert list(ours["Angle"]) == list(theirs["Angle"])
    for column in columns[1:]:
        assert np.array_equal(ours[column].to_numpy(float), theirs[column].to_numpy(float))

    reference._kinematic_reference.cache_clear()
    parsed = []
    sheet = reference._sheet
    monkeypatch.setattr(reference, "_sheet", lambda *args: parsed.append(args) or sheet(*args))
    first = reference.kinematic_reference()
    first.loc[0, "knee_flexion_deg_mean"] = 1e9  # a caller's changes stay its own
    second = reference.kinematic_reference()
    assert len(parsed) == 1 and second.loc[0, "knee_flexion_deg_mean"] != 1e9


def test_the_pdf_libraries_log_only_their_warnings(tmp_path):
    from gait.logs import QUIET_LOGGERS, configure_logging

    root = logging.getLogger()
    saved = root.level, list(root.handlers), {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    try:
        configure_logging("INFO", path=tmp_path / "run.log")
        logging.getLogger("fontTools.subset").info("Glyph names: %s", ["a", "b"])
        logging.getLogger("weasyprint.progress").info("Step 1 - Fetching and parsing HTML")
        logging.getLogger("weasyprint").warning("a warning is kept")
        logging.getLogger("gait.analysis").info("our own INFO lines are kept")
        for handler in root.handlers:
            handler.flush()
        lines = [json.loads(line) for line in (tmp_path / "run.log").read_text().splitlines()]
        assert [line["msg"] for line in lines] == ["a warning is kept", "our own INFO lines are kept"]
    finally:
        for handler in list(root.handlers):
            if handler not in saved[1]:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(saved[0])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)

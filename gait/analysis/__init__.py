"""The gait-analysis library: readers for motion-capture files, event detection, walking bouts,
spatiotemporal parameters, joint angles, and the Excel, plot and report writers. It needs no
service; the analysis service and `gait analyze` are thin adapters around it. In a notebook:

    from pathlib import Path
    from gait.analysis import ButterworthLowPass, analyze, read_trajectories

    result = analyze(read_trajectories(Path("walk.c3d")), ButterworthLowPass())
    result.events, result.steps, result.parameters, result.kinematics

scipy and matplotlib (about 2 s to import together) are imported inside the functions that use
them, WeasyPrint, openpyxl and XlsxWriter too: importing the library, and starting the analysis service or
answering from its cache, does not pay for them (tests/analysis/test_output_costs.py).
"""
from gait.analysis.analyze import GaitAnalysis, analyze
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.readers import read_c3d, read_csv, read_trajectories, read_trc
from gait.analysis.trajectories import Trajectories

__all__ = ["ButterworthLowPass", "GaitAnalysis", "Trajectories", "analyze", "read_c3d", "read_csv",
           "read_trajectories", "read_trc"]

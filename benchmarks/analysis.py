"""Gait analysis: event accuracy on synthetic walks with known events, and speed.

Prints, per event method, sampling rate and noise level, the heel-strike and toe-off mean absolute
error and bias, the missed and extra events, and the cadence error, for marker-like data
(ground-fixed, heels and toes) and for video-like keypoints (relative to the pelvis); then the
time to analyze a 60 s, 100 Hz trial. The targets of issue 3: heel strike <= 20 ms, toe off
<= 10 ms at 100-150 Hz, no missed or extra events, cadence within 1 step/min.
The synthetic walker is our own model (gait/analysis/validation/synthetic.py): errors here show a
method's behaviour, not its accuracy on people, which needs marker data with force plates.
Run: python benchmarks/analysis.py
"""
from __future__ import annotations

import time

import numpy as np

from gait.analysis.analyze import analyze
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.trajectories import Trajectories
from gait.analysis.validation.runner import synthetic_reference
from gait.analysis.validation.scoring import score_events
from gait.analysis.validation.synthetic import SyntheticWalker
from gait.errors import InvalidInput

TOLERANCE_S = 0.25  # wider than gait validate's 0.1 s: the model's methods are up to 0.1 s off by design
UP = np.array([0.0, 0.0, 1.0])
DURATION_S = 20.0


def accuracy(method: str, rate_hz: float, noise_m: float, relative: bool, seed: int = 0) -> dict:
    walker = SyntheticWalker(cadence_steps_per_min=108.0)
    trial = walker.generate(DURATION_S, rate_hz)
    rng = np.random.default_rng(seed)
    origin = trial.positions["pelvis"] if relative else 0.0
    noisy = {name: p - origin + rng.normal(0, noise_m, p.shape) for name, p in trial.positions.items()}
    trajectories = Trajectories(noisy, rate_hz, UP, "synthetic", root_relative=relative)
    try:
        result = analyze(trajectories, ButterworthLowPass(), method)
    except InvalidInput:
        return {}
    figures = {}
    for kind in ("heel_strike", "toe_off"):
        score = score_events(result.events, synthetic_reference(trial), kind, (0.5, DURATION_S - 0.5), TOLERANCE_S)
        figures[kind] = (score.mae_ms, score.bias_ms, score.missed, score.extra)
    cadence = result.parameters.get("cadence_steps_per_min", {}).get("mean", float("nan"))
    figures["cadence_error"] = cadence - walker.cadence_steps_per_min
    return figures


def speed(seconds: float = 60.0, rate_hz: float = 100.0) -> float:
    trial = SyntheticWalker().generate(seconds, rate_hz)
    trajectories = Trajectories(dict(trial.positions), rate_hz, UP, "synthetic")
    started = time.perf_counter()
    analyze(trajectories, ButterworthLowPass())
    return time.perf_counter() - started


def main() -> None:
    print("Event methods on the synthetic walker (108 steps/min, 20 s); auto = the method chosen from the data")
    print(f"{'data':>9}{'method':>9}{'rate Hz':>8}{'noise mm':>10}{'HS MAE ms':>11}{'HS bias':>9}{'TO MAE ms':>11}"
          f"{'TO bias':>9}{'missed':>8}{'extra':>7}{'cadence err':>13}")
    for relative in (False, True):
        for method in ("velocity", "zeni", "oconnor", "contact", "auto"):
            for rate in (30.0, 100.0, 150.0):
                for noise in (0.0, 0.001, 0.005, 0.01):
                    f = accuracy(method, rate, noise, relative)
                    if not f:
                        continue
                    hs, to = f["heel_strike"], f["toe_off"]
                    print(f"{'keypoint' if relative else 'markers':>9}{method:>9}{rate:>8.0f}{noise * 1000:>10.0f}"
                          f"{hs[0]:>11.1f}{hs[1]:>9.1f}{to[0]:>11.1f}{to[1]:>9.1f}"
                          f"{hs[2] + to[2]:>8d}{hs[3] + to[3]:>7d}{f['cadence_error']:>13.2f}")
    print(f"\nanalyzing a 60 s, 100 Hz trial: {speed():.2f} s")


if __name__ == "__main__":
    main()

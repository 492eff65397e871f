"""A second opinion on a side view's toe offs: the same walk's image-plane keypoints.

The 3D path's feet are BlazePose's world landmarks; the image landmarks come from the same model
but another head. On six copies of the demo clip (docs/validation.md) the two heads' toe offs
disagreed by more than 50 ms four times in 46, and those four were 67-97 ms off the annotation
(the other toe offs: 24 ms on average); their disagreement follows the error (correlation 0.71).
The far foot's toe offs are where they part: on the mirrored clip its world landmarks lag by 2-3
frames while its image landmarks do not. Heel strikes are not checked: both heads share their
errors there (correlation 0.01), so agreement says nothing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MAX_DISAGREEMENT_S = 0.05  # between the two heads' toe offs: beyond it the toe off is doubted
PAIRING_S = 0.15  # the image-plane toe off further than this from a 3D one is another event
DOUBTED_FACTOR = 0.45  # a doubted toe off's confidence is multiplied by this: under MIN_CONFIDENCE even from 1
SIDE_VIEW_MAX_DEPTH = 0.5  # |forward . line of sight| below this: walking across the image


def is_side_view(forward: np.ndarray | None) -> bool:
    """Walking across the image: the walking direction within 60 degrees of the image plane (z is
    the camera's line of sight), where the image is close to the sagittal plane."""
    return forward is not None and abs(float(forward[2])) < SIDE_VIEW_MAX_DEPTH


def doubted_toe_offs(events: pd.DataFrame, image_plane: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, doubted): each toe off of `events` that the same foot's image-plane toe off (within
    PAIRING_S) puts more than MAX_DISAGREEMENT_S away keeps its time at DOUBTED_FACTOR of its
    confidence, so it delimits no stance or swing. `doubted` lists them with `disagreement_s`. A toe
    off with no image-plane partner is kept as it is: there is nothing to check it against."""
    events = events.copy()
    doubted: dict[int, float] = {}  # row -> disagreement in seconds
    for row in events.index[events.event == "toe_off"]:
        side, time_s = events.at[row, "side"], events.at[row, "time_s"]
        partners = image_plane[(image_plane.side == side) & (image_plane.event == "toe_off")].time_s.to_numpy(float)
        gap = float(np.min(np.abs(partners - time_s))) if partners.size else np.inf
        if MAX_DISAGREEMENT_S < gap <= PAIRING_S:
            events.at[row, "confidence"] *= DOUBTED_FACTOR
            doubted[row] = gap
    return events, events.loc[list(doubted)].assign(disagreement_s=list(doubted.values()))

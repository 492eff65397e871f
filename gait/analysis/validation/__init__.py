"""Accuracy of the gait analysis on real recordings with reference events (`gait validate`)."""

"""Boosting on network embeddings and features, stacking, probability calibration and thresholds."""

"""Per-lead time- and frequency-domain features, vectorised over beats and leads, with named columns."""

from cardioscreen.features.aggregate import record_features
from cardioscreen.features.rhythm import RHYTHM_FEATURES, rhythm_features
from cardioscreen.features.time_freq import (
    FREQ_FEATURES,
    LEAD_FEATURES,
    TIME_FEATURES,
    extract_features,
    feature_names,
    lead_statistics,
)

__all__ = [
    "FREQ_FEATURES",
    "LEAD_FEATURES",
    "RHYTHM_FEATURES",
    "TIME_FEATURES",
    "extract_features",
    "feature_names",
    "lead_statistics",
    "record_features",
    "rhythm_features",
]

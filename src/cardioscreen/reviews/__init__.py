"""Learning from the doctors' reviews: each conclusion's class verdicts as labels, written as a PTB-XL-layout
training set that ``train``, ``evaluate`` and ``train-ensemble`` read unchanged."""

from cardioscreen.reviews.export import ExportSummary, ReviewedRecord, write_ptbxl
from cardioscreen.reviews.labels import review_labels

__all__ = ["ExportSummary", "ReviewedRecord", "review_labels", "write_ptbxl"]

"""Reports for doctors: the 12-lead plot on ECG paper, pathology descriptions, HTML and PDF reports."""

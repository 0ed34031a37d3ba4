"""Per-lead time- and frequency-domain features, vectorised over beats and leads, with named columns."""

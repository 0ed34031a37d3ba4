"""ECG preprocessing as pure functions on (leads, samples) arrays in mV; ``fs`` is always required."""

"""Datasets: PTB-XL in its official layout, the preprocessed ptbxl-z100 folder, label tasks and caches."""

"""Data augmentation for training: ECG-SMOTE and classic SMOTE resamplers."""

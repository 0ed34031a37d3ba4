"""Training: losses, data loading, the trainer, metrics with bootstrap confidence intervals."""

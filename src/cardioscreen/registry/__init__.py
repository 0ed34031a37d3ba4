"""Model registry of a deployment: versioned bundles (content hash, training data, validation figures) in the app's
data folder, the active one, promotion and rollback, a shadow candidate, and the paired comparison of two bundles."""

from cardioscreen.registry.store import ModelEntry, ModelRegistry, registry_dir

__all__ = ["ModelEntry", "ModelRegistry", "registry_dir"]

"""Neural networks: a registry (``create_model``, ``list_models``), layers and the model bundle."""

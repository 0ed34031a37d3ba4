"""Learning from the doctors' reviews: each conclusion's verdicts as labels (:mod:`~.labels`), written as a
PTB-XL-layout training set that ``train``, ``evaluate`` and ``train-ensemble`` read unchanged (:mod:`~.export`)."""

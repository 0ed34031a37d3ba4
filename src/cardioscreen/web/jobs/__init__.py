"""Web analysis on a job queue: uploads are stored and queued, ``cardioscreen worker`` processes analyse them.

With ``CARDIOSCREEN_JOB_QUEUE=1`` (PostgreSQL only) the web app stores an upload, creates its study as ``queued`` and
adds an ``analyse`` job to the ``jobs`` table (:mod:`.queue`); a worker (:mod:`.worker`, any number of them, on any
machine that sees the database and the data folder) claims it with ``SELECT ... FOR UPDATE SKIP LOCKED``, holds a
lease that its heartbeat extends, reads and analyses the record in its own :class:`~cardioscreen.web.sandbox.Sandbox`
(the web app's limits) and stores the result. The job is marked done in the same transaction as the study's result,
by the holder of the current lease only: a job whose worker died is claimed again when its lease runs out
(at-least-once), and running it again gives the same study (idempotent). Saliency maps asked for by a plot or a
report are ``explain`` jobs, claimed before analyses (:mod:`.saliency`); an administrator's re-analysis of a study
with the active model is a ``reanalyse`` job, whose audit event is written in the transaction that completes it.
Without the setting (and always on SQLite) the web process analyses each upload in its own sandbox while the request
waits.
"""

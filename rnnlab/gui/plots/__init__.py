"""One plot widget per file; each draws :class:`~rnnlab.train.snapshot.Snapshot` objects via ``update``."""

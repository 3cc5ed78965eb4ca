"""One module per block of the built-in executor, found by ``shared.workflows.catalogue``: its ``SPECS`` (the
block as the compiler sees it, Roboflow's manifest) and, where needed, its ``check`` of literal parameters at save
time. Its run is the module of the same name in ``worker_svc/workflows/runs/``."""

"""One module per block of the built-in executor, named as its spec's module in ``shared/workflows/blocks/``: what
the block does (``run``, ``stateful`` or ``batched``: ``worker_svc.workflows.blocks`` says which is which), found
when ``worker_svc.workflows.blocks`` loads, never listed."""

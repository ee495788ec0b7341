"""Batch APIs: every article of an archive through a batch engine exactly once.

``summarise batch prepare`` writes OpenAI Batch request files (``requests-NNNN.jsonl``,
one chat completion request a line, the very body ``summarise run`` would send) and a
ledger beside them; ``submit``, ``status`` and ``cancel`` drive the OpenAI Files and
Batches API; ``collect`` reads the results (downloaded, or local files such as the output
of ``vllm run-batch``), judges every answer with the synchronous path's code, writes the
same feed and errors file as ``summarise run``, and queues what must be asked again in a
new round (``round-2/...``). Modules:

- ``ledger``: the sqlite ledger (articles, request files, batches), crash-safe upserts
- ``requests``: request lines and the files they go in, split at line and byte limits
- ``prepare``: inputs -> request files + ledger, streaming
- ``remote``: the Files and Batches API (submit, status, cancel, downloads)
- ``results``: reading result lines (OpenAI output/error files, vLLM's inline errors)
- ``collect``: results -> records, error records and the next round
- ``commands``: the ``summarise batch`` sub-commands (thin)
"""

from __future__ import annotations

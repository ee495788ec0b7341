"""From articles to events: coding (PLOVER, CAMEO), linking reports of one event, export.

``cues`` reads an event's mode, host and status off a record; ``coding`` turns them into
standard codes with the table in ``cameo.toml``; ``link`` groups records into event lines;
``export`` writes flat tables; ``commands`` holds ``summarise link`` and ``summarise export``.
"""

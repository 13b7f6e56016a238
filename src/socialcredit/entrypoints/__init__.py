"""The ways in and out: the command line (``cli``), the HTTP API (``api``),
and the JSON shapes both show (``views``). They parse, call one use case,
and render; the rules are the use cases'."""

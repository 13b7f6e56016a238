"""The use cases, over one unit of work: each owns its rules, and logs every
read of a subject's data it makes. ``socialcredit.bootstrap`` wires them."""

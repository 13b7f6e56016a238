"""Due process and data protection as pure functions: cases and their deadlines,
credit-repair rules, consent, decision overrides, notices and retention.

Nothing here reads a clock, a file or a database; ``socialcredit.casework``
feeds these functions from a store and writes back what they decide.
"""

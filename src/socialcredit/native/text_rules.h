/*
 * The limits every text the system takes must keep, in one place: the intake
 * of records (domain/ledger/intake.py), the HTTP API's request models and the
 * C accelerator (_speedups.c) all read them from here. Python reads this file
 * when socialcredit.native loads (one "#define SC_<NAME> <number>" a line), so
 * a limit changed here changes everywhere, and nowhere else may spell it.
 *
 * The characters a text may hold are ruled in domain/text.py: no control
 * characters (U+0000-U+001F, U+007F) and no lone surrogates, except that a
 * written statement may hold tabs and line breaks.
 */
#ifndef SOCIALCREDIT_TEXT_RULES_H
#define SOCIALCREDIT_TEXT_RULES_H

#define SC_MAX_ID_LENGTH 200         /* a record, case or key id; a scheme or list id */
#define SC_MAX_NAME_LENGTH 200       /* a scheme, purpose, category or action named in a request */
#define SC_MAX_TEXT_LENGTH 2000      /* a reporter or a piece of evidence: a name and a reference */
#define SC_MAX_STATEMENT_LENGTH 10000 /* what a subject or a reviewer writes */
#define SC_MAX_TIME_LENGTH 64        /* a time as text */

#endif

/*
 * socialcredit.native._speedups: the hottest loops of the import, of scoring and of
 * the audit log, in C.
 *
 * Each function here is an accelerator for one pure-Python function, and
 * either gives exactly that function's answer or gives up:
 *
 *   parse_common(line, table)      RecordIntake._parse_common (intake.py)
 *   parse_lines(...)               validate_lines over _read_jsonl (intake.py, readers.py)
 *   keep_kinds(fresh, kinds, new)  _refuse_kind_changes (ledger/batching.py)
 *   chain(fresh, known, heads, ...) _chain_rows (ledger/batching.py)
 *   add_months(moment, months)     add_months (schemes/durations.py), for the engine
 *   subject_records(rows, key, ...) the records a score or check reads (store/common.py)
 *   classify(ordered, events, ...)  classify_in_python (scoring/engine.py)
 *   list_entries(standing, t, ...)  list_entries_in_python (scoring/engine.py)
 *   link_hash(previous, kind, fields) link_hash_in_python (ledger/chain.py)
 *
 * parse_common returns None whenever it has the least doubt (a time not in
 * canonical ASCII form, a subject not seen yet, an expiry date not cached),
 * and the Python fast path, then the checked path, answer instead. It never
 * refuses a line itself. chain hands any item whose fields are not plain
 * text and integers to the Python hash function it is given. Tests hold both
 * equal to the Python spelling on generated lines and batches; setting
 * SOCIALCREDIT_PURE=1 turns this module off.
 *
 * Hashing calls OpenSSL's SHA-256, the implementation hashlib uses, directly:
 * through hashlib, creating and copying its objects cost more than the digest.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <openssl/evp.h>
#include <string.h>

#include "text_rules.h"

static EVP_MD *sha256_md;          /* fetched once */
static EVP_MD_CTX *digest_context; /* reused: every call holds the GIL */
static PyObject *s_empty; /* "" */
/* The record fields, interned once: PyDict_GetItemString would build each key anew per line. */
enum { F_ID, F_SCHEME, F_CATEGORY, F_SUBJECT, F_OCCURRED, F_REPORTER, F_REPORTED, F_EVIDENCE,
       F_COUNT };
static const char *field_names[F_COUNT] = {"id",          "scheme",   "category",
                                           "subject",     "occurred_at", "reporter",
                                           "reported_at", "evidence"};
static PyObject *field_keys[F_COUNT];

/* The text limits the intake and the HTTP API keep too (one header for all). */
#define MAX_ID_LENGTH SC_MAX_ID_LENGTH
#define MAX_TEXT_LENGTH SC_MAX_TEXT_LENGTH

/* ---- a growable byte buffer for the hashed payloads ---------------------- */

typedef struct {
    char *data;
    Py_ssize_t size;
    Py_ssize_t capacity;
    char inline_space[512];
} Buffer;

static void buffer_init(Buffer *b) {
    b->data = b->inline_space;
    b->size = 0;
    b->capacity = sizeof(b->inline_space);
}

static void buffer_free(Buffer *b) {
    if (b->data != b->inline_space) PyMem_Free(b->data);
}

static int buffer_add(Buffer *b, const char *bytes, Py_ssize_t n) {
    if (b->size + n > b->capacity) {
        Py_ssize_t wanted = (b->size + n) * 2;
        char *grown = PyMem_Malloc(wanted);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(grown, b->data, b->size);
        buffer_free(b);
        b->data = grown;
        b->capacity = wanted;
    }
    memcpy(b->data + b->size, bytes, n);
    b->size += n;
    return 0;
}

/* Text as UTF-8, as str.encode() gives it; -1 with the encoder's error set. */
static int buffer_add_text(Buffer *b, PyObject *text) {
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &n);
    if (utf8 == NULL) return -1;
    return buffer_add(b, utf8, n);
}

static int buffer_add_separator(Buffer *b) { return buffer_add(b, "\x1f", 1); }

static int buffer_add_long(Buffer *b, long long value) {
    char digits[24];
    int at = sizeof(digits);
    unsigned long long magnitude = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do {
        digits[--at] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0) digits[--at] = '-';
    return buffer_add(b, digits + at, (Py_ssize_t)sizeof(digits) - at);
}

/* An int as str(int) spells it; 1 if it does not fit a long long (caller gives up). */
static int buffer_add_int(Buffer *b, PyObject *number) {
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(number, &overflow);
    if (overflow) return 1;
    if (value == -1 && PyErr_Occurred()) return -1;
    return buffer_add_long(b, value);
}

/* The first `hex_digits` of hashlib.sha256(payload).hexdigest(). */
static PyObject *sha256_hex(Buffer *b, int hex_digits) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!EVP_DigestInit_ex(digest_context, sha256_md, NULL) ||
        !EVP_DigestUpdate(digest_context, b->data, (size_t)b->size) ||
        !EVP_DigestFinal_ex(digest_context, digest, &size) || size != 32) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL could not compute a SHA-256 digest");
        return NULL;
    }
    static const char hex_chars[] = "0123456789abcdef";
    PyObject *hex = PyUnicode_New(hex_digits, 127);
    if (hex == NULL) return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(hex);
    for (int i = 0; i < hex_digits; i++) {
        unsigned char byte = digest[i / 2];
        out[i] = hex_chars[(i % 2) ? (byte & 0x0f) : (byte >> 4)];
    }
    return hex;
}

/* ---- character classes, as Python's str methods and regexes see them ------ */

static int has_space(PyObject *text) {
    /* re.compile(r"\s").search(text): the regex module uses Py_UNICODE_ISSPACE. */
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) return 1;
    }
    return 0;
}

static int has_control(PyObject *text) {
    /* domain/text.py's LINE_CONTROL.search(text): a control character or a lone surrogate */
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x20 || c == 0x7f || (c >= 0xd800 && c <= 0xdfff)) return 1;
    }
    return 0;
}

/* Non-empty, with no space at either end (the checked path would trim it). */
static int trimmed(PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0) return 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    return !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, 0)) &&
           !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, n - 1));
}

/* ---- canonical UTC times -------------------------------------------------- */

static int digits(const char *s, int from, int count, int *value) {
    int v = 0;
    for (int i = from; i < from + count; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return 1;
}

static int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) return 29;
    return days[month - 1];
}

/*
 * Whether text is a time exactly as datetime.isoformat() spells a UTC instant
 * ("2026-01-31T08:00:00+00:00", or with six fraction digits, not all zero),
 * with ASCII digits and a real date and time. Such texts compare as strings
 * in the order of the instants they name: equal widths up to the seconds,
 * and "+" sorts before "." where only one has a fraction.
 */
/* The fields of a canonical time, as canonical_time reads them. */
typedef struct {
    int year, month, day, hour, minute, second, micro;
} Instant;

static int canonical_time(PyObject *text, Instant *at) {
    if (!PyUnicode_IS_ASCII(text)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const char *s = (const char *)PyUnicode_DATA(text);
    Py_ssize_t zone = 19;
    at->micro = 0;
    if (n == 32) {
        if (s[19] != '.' || !digits(s, 20, 6, &at->micro) || at->micro == 0) return 0;
        zone = 26;
    } else if (n != 25) {
        return 0;
    }
    if (memcmp(s + zone, "+00:00", 6) != 0) return 0;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return 0;
    if (!digits(s, 0, 4, &at->year) || !digits(s, 5, 2, &at->month) ||
        !digits(s, 8, 2, &at->day) || !digits(s, 11, 2, &at->hour) ||
        !digits(s, 14, 2, &at->minute) || !digits(s, 17, 2, &at->second))
        return 0;
    return at->year >= 1 && at->month >= 1 && at->month <= 12 && at->day >= 1 &&
           at->day <= days_in_month(at->year, at->month) && at->hour <= 23 && at->minute <= 59 &&
           at->second <= 59;
}

static int text_le(PyObject *a, PyObject *b) {
    /* Both canonical (ASCII): byte order is time order. */
    return PyUnicode_Compare(a, b) <= 0;
}

/* ---- parse_common --------------------------------------------------------- */

/*
 * table: (schemes, subjects, first_sight, now_text, latest_text, expiry_dates,
 *         record_type, own_subjects, own_dates, own_texts)
 *   schemes:      {scheme id: (version, rated kinds tuple, {code: (points, validity text,
 *                  code) or None where the validity has a time part}, scheme id)}
 *   subjects:     the intake's subject cache {(text, None): SubjectRow}
 *   first_sight:  RecordIntake._first_sight (through a weak proxy of the intake)
 *   now_text, latest_text: isoformat() of the intake's now and now + clock skew (UTC)
 *   expiry_dates: the intake's cache {(validity text, date): expiry date}
 *   record_type:  NewRecord
 *   own_subjects, own_dates: this module's caches of the two above, keyed by plain
 *                 text ({text: SubjectRow} and {validity: {date: expiry date}})
 *   own_texts:    {reporter: reporter}
 *
 * A record takes its scheme id, category code and reporter from the table, not
 * from the line: equal text, but one object shared by every record, which the
 * import worker's marshal then writes once.
 */
static PyObject *give_up(void) { Py_RETURN_NONE; }

static PyObject *get_text(PyObject *line, int field) {
    PyObject *value = PyDict_GetItem(line, field_keys[field]); /* borrowed */
    return (value != NULL && PyUnicode_CheckExact(value)) ? value : NULL;
}

/* The table's slots (RecordIntake.native_table builds it). */
enum { T_SCHEMES, T_SUBJECTS, T_FIRST_SIGHT, T_NOW, T_LATEST, T_EXPIRY_DATES, T_RECORD_TYPE,
       T_OWN_SUBJECTS, T_OWN_DATES, T_OWN_TEXTS, TABLE_SIZE };
#define CACHE_LIMIT 200000 /* as the intake's own subject cache */

static int valid_table(PyObject *table) {
    int valid = PyTuple_CheckExact(table) && PyTuple_GET_SIZE(table) == TABLE_SIZE;
    static const int dicts[] = {T_SCHEMES,   T_SUBJECTS,  T_EXPIRY_DATES,
                                T_OWN_SUBJECTS, T_OWN_DATES, T_OWN_TEXTS};
    for (size_t i = 0; valid && i < sizeof(dicts) / sizeof(dicts[0]); i++) {
        valid = PyDict_CheckExact(PyTuple_GET_ITEM(table, dicts[i]));
    }
    if (valid) {
        PyObject *record_type = PyTuple_GET_ITEM(table, T_RECORD_TYPE);
        valid = PyCallable_Check(PyTuple_GET_ITEM(table, T_FIRST_SIGHT)) &&
                PyUnicode_CheckExact(PyTuple_GET_ITEM(table, T_NOW)) &&
                PyUnicode_CheckExact(PyTuple_GET_ITEM(table, T_LATEST)) && PyType_Check(record_type) &&
                PyType_IsSubtype((PyTypeObject *)record_type, &PyTuple_Type);
    }
    if (!valid) PyErr_SetString(PyExc_TypeError, "parse: not a table RecordIntake.native_table built");
    return valid;
}

/* A value kept in one of this module's own caches (dicts of str keys, cleared when
   they grow past CACHE_LIMIT); -1 on error. */
static int remember(PyObject *cache, PyObject *key, PyObject *value) {
    if (PyDict_GET_SIZE(cache) > CACHE_LIMIT) PyDict_Clear(cache);
    return PyDict_SetItem(cache, key, value);
}

/* The subject a text names, as the intake's cache has it (a new reference), or
   Py_None where the Python paths must read it. */
static PyObject *subject_of(PyObject *text, PyObject *table) {
    PyObject *mine = PyTuple_GET_ITEM(table, T_OWN_SUBJECTS); /* {text: SubjectRow} */
    PyObject *subject = PyDict_GetItemWithError(mine, text);
    if (subject != NULL) return Py_NewRef(subject);
    if (PyErr_Occurred()) return NULL;
    PyObject *cache_key = PyTuple_Pack(2, text, Py_None); /* the intake's key */
    if (cache_key == NULL) return NULL;
    subject = PyDict_GetItemWithError(PyTuple_GET_ITEM(table, T_SUBJECTS), cache_key);
    Py_DECREF(cache_key);
    if (subject != NULL) {
        Py_INCREF(subject);
    } else {
        if (PyErr_Occurred()) return NULL;
        subject = PyObject_CallOneArg(PyTuple_GET_ITEM(table, T_FIRST_SIGHT), text); /* _first_sight */
        if (subject == NULL) return NULL;
    }
    if (subject == Py_None) return subject;
    if (!PyTuple_Check(subject) || PyTuple_GET_SIZE(subject) != 3) {
        Py_DECREF(subject);
        return Py_NewRef(Py_None);
    }
    if (remember(mine, text, subject) < 0) {
        Py_DECREF(subject);
        return NULL;
    }
    return subject;
}

/* intake._expiry for a validity of whole days or months: the cached date plus
   occurred_at's time of day. A new reference, Py_None if the date is not cached
   yet (the Python fast path computes and caches it), or NULL on error. */
static PyObject *expiry_of(PyObject *validity, PyObject *occurred, PyObject *table) {
    PyObject *mine = PyTuple_GET_ITEM(table, T_OWN_DATES); /* {validity: {day: date}} */
    PyObject *dates = PyDict_GetItemWithError(mine, validity);
    if (dates == NULL) {
        if (PyErr_Occurred()) return NULL;
        dates = PyDict_New();
        if (dates == NULL || PyDict_SetItem(mine, validity, dates) < 0) {
            Py_XDECREF(dates);
            return NULL;
        }
        Py_DECREF(dates); /* `mine` holds it */
    }
    PyObject *day = PyUnicode_Substring(occurred, 0, 10);
    if (day == NULL) return NULL;
    PyObject *date = PyDict_GetItemWithError(dates, day);
    if (date == NULL && !PyErr_Occurred()) {
        PyObject *key = PyTuple_Pack(2, validity, day); /* the intake's key */
        date = key ? PyDict_GetItemWithError(PyTuple_GET_ITEM(table, T_EXPIRY_DATES), key) : NULL;
        Py_XDECREF(key);
        if (date != NULL && remember(dates, day, date) < 0) date = NULL;
    }
    Py_DECREF(day);
    if (date == NULL) return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    PyObject *time_of_day = PyUnicode_Substring(occurred, 10, PyUnicode_GET_LENGTH(occurred));
    if (time_of_day == NULL) return NULL;
    PyObject *expires = PyUnicode_Concat(date, time_of_day);
    Py_DECREF(time_of_day);
    return expires;
}

/* The fingerprint: sha256 of what the reporter sent (times canonical), the first 32
   hex digits. Py_None (a new reference) where a text cannot be encoded. */
static PyObject *fingerprint_of(PyObject *const *parts, int count, PyObject *evidence) {
    Buffer sent;
    buffer_init(&sent);
    int failed = 0;
    for (int i = 0; i < count && !failed; i++) {
        failed = buffer_add_text(&sent, parts[i]) || buffer_add_separator(&sent);
    }
    if (!failed) failed = evidence ? buffer_add_text(&sent, evidence) : buffer_add(&sent, "\x00", 1);
    PyObject *fingerprint = failed ? NULL : sha256_hex(&sent, 32);
    buffer_free(&sent);
    if (fingerprint == NULL && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        PyErr_Clear(); /* e.g. a lone surrogate: the Python path says what it says */
        return Py_NewRef(Py_None);
    }
    return fingerprint;
}

/* The object `texts` keeps for a text equal to `text` (borrowed), or NULL on error. */
static PyObject *shared_text(PyObject *text, PyObject *texts) {
    PyObject *kept = PyDict_GetItemWithError(texts, text);
    if (kept != NULL || PyErr_Occurred()) return kept;
    return remember(texts, text, text) < 0 ? NULL : text;
}

/* A NewRecord built in place from 12 new references (stolen, even on failure). */
static PyObject *new_record(PyObject *record_type, PyObject **values) {
    PyTypeObject *type = (PyTypeObject *)record_type;
    PyObject *record = type->tp_alloc(type, 12);
    for (int i = 0; i < 12; i++) {
        if (record != NULL) {
            PyTuple_SET_ITEM(record, i, values[i]);
        } else {
            Py_DECREF(values[i]);
        }
    }
    return record;
}

/* The record of one line (a dict), Py_None to give up, or NULL with an error. */
static PyObject *parse_known(PyObject *line, PyObject *table, PyObject *subject);

static PyObject *parse_record(PyObject *line, PyObject *table) {
    /* The subject first: its first sight runs Python code (_first_sight), which could
       change `line`; every other field is read after it, so that no borrowed value
       outlives a call into Python. */
    PyObject *subject_text = get_text(line, F_SUBJECT);
    if (subject_text == NULL) return give_up();
    Py_INCREF(subject_text);
    PyObject *subject = subject_of(subject_text, table);
    PyObject *result = subject;
    if (subject != NULL && subject != Py_None) {
        /* The line must still name the subject it named (the same object). */
        result = get_text(line, F_SUBJECT) == subject_text ? parse_known(line, table, subject)
                                                            : give_up();
        Py_DECREF(subject);
    }
    Py_DECREF(subject_text);
    return result;
}

static PyObject *parse_known(PyObject *line, PyObject *table, PyObject *subject) {
    PyObject *schemes = PyTuple_GET_ITEM(table, T_SCHEMES);
    PyObject *now_text = PyTuple_GET_ITEM(table, T_NOW), *latest_text = PyTuple_GET_ITEM(table, T_LATEST);

    PyObject *record_id = get_text(line, F_ID), *scheme_id = get_text(line, F_SCHEME);
    PyObject *code = get_text(line, F_CATEGORY), *subject_text = get_text(line, F_SUBJECT);
    PyObject *occurred = get_text(line, F_OCCURRED), *reporter = get_text(line, F_REPORTER);
    if (!record_id || !scheme_id || !code || !subject_text || !occurred || !reporter)
        return give_up();
    if (!trimmed(reporter)) return give_up();
    PyObject *reported = PyDict_GetItem(line, field_keys[F_REPORTED]);
    PyObject *evidence = PyDict_GetItem(line, field_keys[F_EVIDENCE]);
    /* Every key a record field: the six required, and only those optional ones found
       here (subject_kind sends the line to the Python paths). */
    Py_ssize_t fields = 6 + (reported != NULL) + (evidence != NULL);
    if (PyDict_GET_SIZE(line) != fields) return give_up();
    if (reported == Py_None) reported = NULL;
    if (evidence == Py_None) evidence = NULL;
    if ((reported && !PyUnicode_CheckExact(reported)) ||
        (evidence && !PyUnicode_CheckExact(evidence)))
        return give_up();
    Py_ssize_t id_length = PyUnicode_GET_LENGTH(record_id);
    if (id_length == 0 || id_length > MAX_ID_LENGTH || has_space(record_id)) return give_up();

    PyObject *scheme = PyDict_GetItemWithError(schemes, scheme_id); /* borrowed */
    if (scheme == NULL) return PyErr_Occurred() ? NULL : give_up();
    if (!PyTuple_CheckExact(scheme) || PyTuple_GET_SIZE(scheme) != 4 ||
        !PyDict_CheckExact(PyTuple_GET_ITEM(scheme, 2)))
        return give_up(); /* not a table native_table built */
    PyObject *version = PyTuple_GET_ITEM(scheme, 0), *rated = PyTuple_GET_ITEM(scheme, 1);
    PyObject *category = PyDict_GetItemWithError(PyTuple_GET_ITEM(scheme, 2), code);
    if (category == NULL) return PyErr_Occurred() ? NULL : give_up();
    if (category == Py_None) return give_up(); /* a validity with a time part */
    if (!PyTuple_CheckExact(category) || PyTuple_GET_SIZE(category) != 3) return give_up();

    Instant instant; /* only whether the times are canonical matters here */
    if (!canonical_time(occurred, &instant)) return give_up();
    PyObject *reported_text = s_empty, *reported_at = now_text;
    if (reported && PyUnicode_GET_LENGTH(reported) > 0) {
        if (!canonical_time(reported, &instant)) return give_up();
        reported_text = reported_at = reported;
    }
    if (!text_le(occurred, reported_at) || !text_le(reported_at, latest_text)) return give_up();
    if (evidence && !trimmed(evidence)) return give_up();
    if (has_control(reporter) || (evidence && has_control(evidence))) return give_up();
    if (PyUnicode_GET_LENGTH(reporter) > MAX_TEXT_LENGTH ||
        (evidence && PyUnicode_GET_LENGTH(evidence) > MAX_TEXT_LENGTH))
        return give_up();

    int rates = PySequence_Contains(rated, PyTuple_GET_ITEM(subject, 1));
    PyObject *expires = rates > 0 ? expiry_of(PyTuple_GET_ITEM(category, 1), occurred, table)
                                  : NULL;
    if (expires == NULL || expires == Py_None) {
        if (expires != NULL || rates == 0) {
            Py_XDECREF(expires);
            return give_up();
        }
        return NULL;
    }
    reporter = shared_text(reporter, PyTuple_GET_ITEM(table, T_OWN_TEXTS));
    if (reporter == NULL) {
        Py_DECREF(expires);
        return NULL;
    }
    scheme_id = PyTuple_GET_ITEM(scheme, 3);
    code = PyTuple_GET_ITEM(category, 2);
    PyObject *sent[] = {scheme_id, code, PyTuple_GET_ITEM(subject, 0), occurred, reported_text,
                        reporter};
    PyObject *fingerprint = fingerprint_of(sent, 6, evidence);
    if (fingerprint == NULL || fingerprint == Py_None) {
        Py_DECREF(expires);
        return fingerprint;
    }
    PyObject *values[12] = {
        Py_NewRef(record_id), Py_NewRef(subject), Py_NewRef(scheme_id), Py_NewRef(version),
        Py_NewRef(code), Py_NewRef(occurred), Py_NewRef(reported_at), expires,
        Py_NewRef(PyTuple_GET_ITEM(category, 0)), Py_NewRef(reporter),
        Py_NewRef(evidence ? evidence : Py_None), fingerprint,
    };
    return new_record(PyTuple_GET_ITEM(table, T_RECORD_TYPE), values);
}

static PyObject *parse_common(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyDict_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "parse_common(line: dict, table: tuple)");
        return NULL;
    }
    return valid_table(args[1]) ? parse_record(args[0], args[1]) : NULL;
}

/*
 * parse_lines(raw_lines, first_number, table, loads, judge, reread) -> list
 *
 * The (line number, record) items of a chunk of a JSON Lines file read as
 * bytes, in order: what intake.validate_lines(readers._read_jsonl(...)) yields
 * for the same lines. A line orjson cannot read from bytes, or that is not an
 * object, goes to reread(number, raw) (the text path: it decodes with
 * replacement, skips a blank line by answering None, and says what is wrong);
 * an object this module gives up on goes to judge(number, fields), the Python
 * validation. Their answers are put in the list as they come.
 */
static int add_answer(PyObject *out, PyObject *answer) {
    if (answer == NULL) return -1;
    int failed = answer != Py_None && PyList_Append(out, answer) < 0;
    Py_DECREF(answer);
    return failed ? -1 : 0;
}

/* What one raw line gives: a NewRecord the C path read (*own = 1), or the Python
   paths' answer (*own = 0): a (line, record) or (line, None, id, reason) item, or
   Py_None for a blank line. A new reference, or NULL with an error. */
static PyObject *line_answer(PyObject *raw, PyObject *number, PyObject *table, PyObject *loads,
                             PyObject *judge, PyObject *reread, int *own) {
    *own = 0;
    PyObject *fields = PyObject_CallOneArg(loads, raw);
    if (fields == NULL || !PyDict_CheckExact(fields)) {
        if (fields == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_ValueError)) return NULL;
            PyErr_Clear(); /* orjson.JSONDecodeError is a ValueError */
        }
        Py_XDECREF(fields);
        return PyObject_CallFunctionObjArgs(reread, number, raw, NULL);
    }
    PyObject *record = PyTuple_GET_SIZE(table) ? parse_record(fields, table) : Py_NewRef(Py_None);
    if (record == Py_None) {
        Py_DECREF(record);
        record = PyObject_CallFunctionObjArgs(judge, number, fields, NULL);
    } else if (record != NULL) {
        *own = 1;
    }
    Py_DECREF(fields);
    return record;
}

static int parse_line(PyObject *out, PyObject *raw, PyObject *number, PyObject *table,
                      PyObject *loads, PyObject *judge, PyObject *reread) {
    int own;
    PyObject *answer = line_answer(raw, number, table, loads, judge, reread, &own);
    if (answer != NULL && own) {
        PyObject *item = PyTuple_Pack(2, number, answer);
        Py_DECREF(answer);
        answer = item;
    }
    return add_answer(out, answer);
}

static PyObject *parse_lines(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6 || !PyList_CheckExact(args[0]) || !PyLong_CheckExact(args[1]) ||
        !PyTuple_CheckExact(args[2]) || (PyTuple_GET_SIZE(args[2]) && !valid_table(args[2]))) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError,
                            "parse_lines(raw_lines: list, first_number: int, table, loads, judge, "
                            "reread)");
        return NULL;
    }
    long long first = PyLong_AsLongLong(args[1]);
    if (first == -1 && PyErr_Occurred()) return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(args[0]); i++) { /* re-read: Python runs between */
        PyObject *number = PyLong_FromLongLong(first + i);
        if (number == NULL) goto failed;
        PyObject *raw = Py_NewRef(PyList_GET_ITEM(args[0], i));
        int failed = parse_line(out, raw, number, args[2], args[3], args[4], args[5]);
        Py_DECREF(raw);
        Py_DECREF(number);
        if (failed) goto failed;
    }
    return out;
failed:
    Py_DECREF(out);
    return NULL;
}

/* ---- chain ---------------------------------------------------------------- */

/* The record's link hash (chain.record_item_hash), or Py_None if a field is not
   plain text or a small integer (the caller then asks the Python function). */
static PyObject *record_hash(PyObject *previous, PyObject *subject, long long seq, PyObject *item) {
    Buffer b;
    buffer_init(&b);
    PyObject *result = NULL;
    /* item: id, subject row, scheme, version, category, occurred, reported, expires, points,
       reporter, evidence, fingerprint */
    int failed = !PyUnicode_CheckExact(previous) || !PyUnicode_CheckExact(subject) ||
                 buffer_add_text(&b, previous) ||
                 buffer_add(&b, "\x1frecord\x1f", 8) || buffer_add_text(&b, subject) ||
                 buffer_add_separator(&b) || buffer_add_long(&b, seq) ||
                 buffer_add_separator(&b);
    static const int text_fields[] = {0, 2, -3, 4, 5, 6, 7, -8, 9};
    for (size_t i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]) && !failed; i++) {
        int index = text_fields[i];
        if (index < 0) { /* an integer field */
            PyObject *value = PyTuple_GET_ITEM(item, -index);
            failed = !PyLong_CheckExact(value) || buffer_add_int(&b, value) ||
                     buffer_add_separator(&b);
        } else {
            PyObject *value = PyTuple_GET_ITEM(item, index);
            failed = !PyUnicode_CheckExact(value) || buffer_add_text(&b, value) ||
                     buffer_add_separator(&b);
        }
    }
    PyObject *evidence = PyTuple_GET_ITEM(item, 10);
    if (!failed) {
        if (evidence == Py_None) {
            failed = buffer_add(&b, "\x00", 1);
        } else {
            failed = !PyUnicode_CheckExact(evidence) || buffer_add_text(&b, evidence);
        }
    }
    if (!failed) {
        result = sha256_hex(&b, 64);
    } else if (!PyErr_Occurred()) {
        result = Py_NewRef(Py_None);
    } else if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        PyErr_Clear(); /* let the Python function raise its own error */
        result = Py_NewRef(Py_None);
    }
    buffer_free(&b);
    return result;
}

/* heads.get(subject) or known.get(subject): a falsy head counts as none, as there. */
static PyObject *head_of(PyObject *subject, PyObject *heads, PyObject *known) {
    PyObject *head = PyDict_GetItemWithError(heads, subject);
    if (head == NULL && PyErr_Occurred()) return NULL;
    if (head == NULL || head == Py_None || (PyTuple_Check(head) && PyTuple_GET_SIZE(head) == 0)) {
        head = PyDict_GetItemWithError(known, subject);
        if (head == NULL && PyErr_Occurred()) return NULL;
        if (head == Py_None || (head && PyTuple_Check(head) && PyTuple_GET_SIZE(head) == 0))
            head = NULL;
    }
    if (head != NULL && (!PyTuple_Check(head) || PyTuple_GET_SIZE(head) != 2)) {
        PyErr_SetString(PyExc_TypeError, "chain: a head must be (seq, hash)");
        return NULL;
    }
    return head != NULL ? Py_NewRef(head) : Py_NewRef(Py_None);
}

static PyObject *chain_held(PyObject *item, PyObject *known, PyObject *heads, PyObject *rows,
                            PyObject *genesis, PyObject *fallback);

/* One record linked to its subject's head and its row appended (_chain_rows' loop body).
   The record is held throughout: the fallback is Python code, which could drop it. */
static PyObject *chain_one(PyObject *item, PyObject *known, PyObject *heads, PyObject *rows,
                           PyObject *genesis, PyObject *fallback) {
    Py_INCREF(item);
    PyObject *result = chain_held(item, known, heads, rows, genesis, fallback);
    Py_DECREF(item);
    return result;
}

static PyObject *chain_held(PyObject *item, PyObject *known, PyObject *heads, PyObject *rows,
                            PyObject *genesis, PyObject *fallback) {
    PyObject *subject_row = PyTuple_GET_ITEM(item, 1);
    if (!PyTuple_Check(subject_row) || PyTuple_GET_SIZE(subject_row) < 1) {
        PyErr_SetString(PyExc_TypeError, "chain: a record's subject must be a SubjectRow");
        return NULL;
    }
    PyObject *subject = PyTuple_GET_ITEM(subject_row, 0);
    PyObject *head = head_of(subject, heads, known); /* (0, GENESIS) where None */
    if (head == NULL) return NULL;
    long long seq = 0;
    PyObject *previous = genesis;
    if (head != Py_None) {
        seq = PyLong_AsLongLong(PyTuple_GET_ITEM(head, 0));
        previous = PyTuple_GET_ITEM(head, 1);
    }
    if (seq == LLONG_MAX) PyErr_SetString(PyExc_OverflowError, "chain: seq out of range");
    PyObject *seq_object = PyErr_Occurred() ? NULL : PyLong_FromLongLong(seq + 1);
    PyObject *digest = seq_object ? record_hash(previous, subject, seq + 1, item) : NULL;
    if (digest == Py_None) {
        Py_DECREF(digest);
        digest = PyObject_CallFunctionObjArgs(fallback, previous, subject, seq_object, item, NULL);
    }
    Py_DECREF(head); /* held until the fallback, which reads `previous`, has returned */
    if (digest == NULL) {
        Py_XDECREF(seq_object);
        return NULL;
    }
    PyObject *new_head = PyTuple_Pack(2, seq_object, digest);
    if (new_head == NULL || PyDict_SetItem(heads, subject, new_head) < 0) {
        Py_XDECREF(new_head);
        Py_DECREF(seq_object);
        Py_DECREF(digest);
        return NULL;
    }
    Py_DECREF(new_head);
    /* The records row: subject, seq, the record's fields without its SubjectRow, the hash. */
    Py_ssize_t fields = PyTuple_GET_SIZE(item);
    PyObject *row = PyTuple_New(fields + 2);
    if (row == NULL) {
        Py_DECREF(seq_object);
        Py_DECREF(digest);
        return NULL;
    }
    PyTuple_SET_ITEM(row, 0, Py_NewRef(subject));
    PyTuple_SET_ITEM(row, 1, seq_object);
    PyTuple_SET_ITEM(row, 2, Py_NewRef(PyTuple_GET_ITEM(item, 0)));
    for (Py_ssize_t i = 2; i < fields; i++) {
        PyTuple_SET_ITEM(row, i + 1, Py_NewRef(PyTuple_GET_ITEM(item, i)));
    }
    PyTuple_SET_ITEM(row, fields + 1, digest);
    int appended = PyList_Append(rows, row);
    Py_DECREF(row);
    return appended < 0 ? NULL : Py_None;
}

static PyObject *chain(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    /* chain(fresh: list[(position, NewRecord)], known: dict, heads: dict, rows: list,
             genesis: str, fallback: record_item_hash) */
    if (nargs != 6 || !PyList_CheckExact(args[0]) || !PyDict_Check(args[1]) ||
        !PyDict_CheckExact(args[2]) || !PyList_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "chain(fresh: list, known: dict, heads: dict, rows: list, genesis, fallback)");
        return NULL;
    }
    PyObject *fresh = args[0];
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(fresh); i++) {
        PyObject *pair = PyList_GET_ITEM(fresh, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
            !PyTuple_Check(PyTuple_GET_ITEM(pair, 1)) ||
            PyTuple_GET_SIZE(PyTuple_GET_ITEM(pair, 1)) != 12) {
            PyErr_SetString(PyExc_TypeError, "chain: fresh items must be (position, NewRecord)");
            return NULL;
        }
        if (chain_one(PyTuple_GET_ITEM(pair, 1), args[1], args[2], args[3], args[4], args[5]) ==
            NULL)
            return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- plan_lines ------------------------------------------------------------ */

/*
 * plan_lines(raw_lines, start, first_number, context, batch, limit) -> next index
 *
 * The import worker's loop over a chunk of a JSON Lines file (intake_worker's
 * _work_planned with batching.plan_batch, for a batch none of whose ids the
 * ledger holds yet), in one pass: each line is read, validated, and at once
 * judged and chained, while its objects are still in the processor's cache.
 * It stops after the line that fills the batch (`limit` records) and returns
 * the index of the next line, or len(raw_lines).
 *
 * context: (table, loads, judge, reread, known heads, known kinds, GENESIS,
 *           record_item_hash, conflict reason)
 * batch:   [rows, heads, new_subjects, refused, duplicates, rejected, firsts,
 *           records, seen, last_line, accepted], filled in place:
 *   rows, heads, new_subjects  as in a BatchPlan (rows unsorted)
 *   refused                    (line, id, reason) of kind changes and conflicts
 *   duplicates                 lines repeating an earlier line of the batch
 *   rejected                   (line, id or None, reason) of lines refused on reading
 *   firsts                     {id: fingerprint} of the batch's first lines
 *   records, seen, last_line, accepted  counts, and the line of the last record
 * What it gives is plan_batch's plan, but for the order of `refused` (a test holds
 * the two equal); the caller sorts the rows and moves the known heads on.
 */
enum { B_ROWS, B_HEADS, B_NEW_SUBJECTS, B_REFUSED, B_DUPLICATES, B_REJECTED, B_FIRSTS, B_RECORDS,
       B_SEEN, B_LAST_LINE, B_ACCEPTED, B_SIZE };
enum { C_TABLE, C_LOADS, C_JUDGE, C_REREAD, C_KNOWN, C_KINDS, C_GENESIS, C_FALLBACK, C_CONFLICT,
       C_SIZE };

static PyObject *chain_one(PyObject *item, PyObject *known, PyObject *heads, PyObject *rows,
                           PyObject *genesis, PyObject *fallback);

static int add_count(PyObject *batch, int slot, long long by) {
    long long now = PyLong_AsLongLong(PyList_GET_ITEM(batch, slot));
    if (now == -1 && PyErr_Occurred()) return -1;
    PyObject *count = PyLong_FromLongLong(now + by);
    return count == NULL ? -1 : PyList_SetItem(batch, slot, count);
}

static int append_new(PyObject *list, PyObject *item) {
    if (item == NULL) return -1;
    int failed = PyList_Append(list, item);
    Py_DECREF(item);
    return failed;
}

static int valid_batch(PyObject *batch) {
    int valid = PyList_CheckExact(batch) && PyList_GET_SIZE(batch) == B_SIZE;
    for (int slot = B_ROWS; valid && slot < B_SIZE; slot++) {
        PyObject *part = PyList_GET_ITEM(batch, slot);
        int is_dict = slot == B_HEADS || slot == B_NEW_SUBJECTS || slot == B_FIRSTS;
        valid = slot > B_FIRSTS ? PyLong_CheckExact(part)
                                : is_dict ? PyDict_CheckExact(part) : PyList_CheckExact(part);
    }
    if (!valid) PyErr_SetString(PyExc_TypeError, "plan_lines: a malformed batch");
    return valid;
}

/* Whether `subject` (a SubjectRow) keeps the kind the ledger (`kinds`) or an earlier
   record of the batch (`new_subjects`, filled here as batching does) gives its key:
   1 or 0, with the kind held in *held (borrowed), or -1 on error. */
static int keeps_kind(PyObject *subject, PyObject *kinds, PyObject *new_subjects, PyObject **held) {
    PyObject *key = PyTuple_GET_ITEM(subject, 0), *kind = PyTuple_GET_ITEM(subject, 1);
    *held = PyDict_GetItemWithError(kinds, key);
    if (*held == NULL && PyErr_Occurred()) return -1;
    if (*held == NULL || *held == Py_None) { /* kinds.get(key) is None */
        PyObject *earlier = PyDict_SetDefault(new_subjects, key, subject);
        if (earlier == NULL) return -1;
        *held = PyTuple_GET_ITEM(earlier, 1);
    }
    return *held == kind ? 1 : PyObject_RichCompareBool(*held, kind, Py_EQ);
}

/* One validated record into the batch, as plan_batch would take it. */
static int plan_record(PyObject *batch, PyObject *number, PyObject *item, PyObject *context) {
    if (add_count(batch, B_RECORDS, 1) < 0) return -1;
    Py_INCREF(number);
    if (PyList_SetItem(batch, B_LAST_LINE, number) < 0) return -1;
    PyObject *id = PyTuple_GET_ITEM(item, 0), *fingerprint = PyTuple_GET_ITEM(item, 11);
    /* The id's first fingerprint in the batch: this one, if the id is new to it. */
    PyObject *firsts = PyList_GET_ITEM(batch, B_FIRSTS);
    Py_ssize_t known_ids = PyDict_GET_SIZE(firsts);
    PyObject *first = PyDict_SetDefault(firsts, id, fingerprint);
    if (first == NULL) return -1;
    if (PyDict_GET_SIZE(firsts) == known_ids) { /* a repeat: judged against the batch's first
                                                    line with the id */
        int same = PyObject_RichCompareBool(first, fingerprint, Py_EQ);
        if (same < 0) return -1;
        if (same) return PyList_Append(PyList_GET_ITEM(batch, B_DUPLICATES), number);
        return append_new(PyList_GET_ITEM(batch, B_REFUSED),
                          PyTuple_Pack(3, number, id, PyTuple_GET_ITEM(context, C_CONFLICT)));
    }
    PyObject *subject = PyTuple_GET_ITEM(item, 1);
    if (!PyTuple_Check(subject) || PyTuple_GET_SIZE(subject) != 3) {
        PyErr_SetString(PyExc_TypeError, "plan_lines: a record's subject must be a SubjectRow");
        return -1;
    }
    PyObject *held;
    int same = keeps_kind(subject, PyTuple_GET_ITEM(context, C_KINDS),
                          PyList_GET_ITEM(batch, B_NEW_SUBJECTS), &held);
    if (same < 0) return -1;
    if (!same) {
        PyObject *reason = PyUnicode_FromFormat("subject: %S is already held as a %S, not a %S",
                                                PyTuple_GET_ITEM(subject, 2), held,
                                                PyTuple_GET_ITEM(subject, 1));
        int failed = reason == NULL ||
                     append_new(PyList_GET_ITEM(batch, B_REFUSED), PyTuple_Pack(3, number, id, reason));
        Py_XDECREF(reason);
        /* A refused line stores nothing: the id's next line in the batch is its first. */
        if (!failed && PyDict_DelItem(firsts, id) < 0) failed = 1;
        return failed ? -1 : 0;
    }
    if (chain_one(item, PyTuple_GET_ITEM(context, C_KNOWN), PyList_GET_ITEM(batch, B_HEADS),
                  PyList_GET_ITEM(batch, B_ROWS), PyTuple_GET_ITEM(context, C_GENESIS),
                  PyTuple_GET_ITEM(context, C_FALLBACK)) == NULL)
        return -1;
    return add_count(batch, B_ACCEPTED, 1);
}

/* One raw line into the batch; 1 if it was a record, 0 if not, -1 on error. */
static int plan_line(PyObject *batch, PyObject *raw, PyObject *number, PyObject *context) {
    int own;
    PyObject *answer = line_answer(raw, number, PyTuple_GET_ITEM(context, C_TABLE),
                                   PyTuple_GET_ITEM(context, C_LOADS),
                                   PyTuple_GET_ITEM(context, C_JUDGE),
                                   PyTuple_GET_ITEM(context, C_REREAD), &own);
    if (answer == NULL) return -1;
    if (answer == Py_None) { /* a blank line: not seen */
        Py_DECREF(answer);
        return 0;
    }
    /* The batch is the caller's: check its parts again after the Python paths ran. */
    int result = valid_batch(batch) ? add_count(batch, B_SEEN, 1) : -1;
    if (result == 0 && own) {
        result = plan_record(batch, number, answer, context) < 0 ? -1 : 1;
    } else if (result == 0) { /* the Python paths' (line, record) or (line, None, id, reason) */
        Py_ssize_t size = PyTuple_Check(answer) ? PyTuple_GET_SIZE(answer) : 0;
        PyObject *record = size == 2 || size == 4 ? PyTuple_GET_ITEM(answer, 1) : NULL;
        if (!(size == 4 && record == Py_None) &&
            !(size == 2 && PyTuple_Check(record) && PyTuple_GET_SIZE(record) == 12)) {
            PyErr_SetString(PyExc_TypeError,
                            "plan_lines: judge and reread must answer (line, NewRecord) or "
                            "(line, None, id, reason)");
            result = -1;
        } else if (record == Py_None) {
            result = append_new(PyList_GET_ITEM(batch, B_REJECTED),
                                PyTuple_Pack(3, PyTuple_GET_ITEM(answer, 0),
                                             PyTuple_GET_ITEM(answer, 2),
                                             PyTuple_GET_ITEM(answer, 3)));
        } else {
            result = plan_record(batch, PyTuple_GET_ITEM(answer, 0), PyTuple_GET_ITEM(answer, 1),
                                 context) < 0 ? -1 : 1;
        }
    }
    Py_DECREF(answer);
    return result;
}

static PyObject *plan_lines(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6 || !PyList_CheckExact(args[0]) || !PyLong_CheckExact(args[1]) ||
        !PyLong_CheckExact(args[2]) || !PyTuple_CheckExact(args[3]) ||
        PyTuple_GET_SIZE(args[3]) != C_SIZE || !PyList_CheckExact(args[4]) ||
        PyList_GET_SIZE(args[4]) != B_SIZE || !PyLong_CheckExact(args[5])) {
        PyErr_SetString(PyExc_TypeError,
                        "plan_lines(raw_lines, start, first_number, context, batch, limit)");
        return NULL;
    }
    PyObject *context = args[3], *batch = args[4];
    PyObject *table = PyTuple_GET_ITEM(context, C_TABLE);
    if (!PyTuple_CheckExact(table) || (PyTuple_GET_SIZE(table) && !valid_table(table))) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "plan_lines: bad table");
        return NULL;
    }
    if (!PyDict_Check(PyTuple_GET_ITEM(context, C_KNOWN)) ||
        !PyDict_Check(PyTuple_GET_ITEM(context, C_KINDS))) {
        PyErr_SetString(PyExc_TypeError, "plan_lines: known heads and kinds must be dicts");
        return NULL;
    }
    if (!valid_batch(batch)) return NULL;
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    long long first = PyLong_AsLongLong(args[2]), limit = PyLong_AsLongLong(args[5]);
    if (PyErr_Occurred()) return NULL;
    if (start < 0 || start > PyList_GET_SIZE(args[0])) {
        PyErr_SetString(PyExc_IndexError, "plan_lines: start is outside the chunk");
        return NULL;
    }
    /* The chunk's length is read each time round: the Python paths run in between. */
    for (Py_ssize_t i = start; i < PyList_GET_SIZE(args[0]); i++) {
        PyObject *number = PyLong_FromLongLong(first + i);
        if (number == NULL) return NULL;
        PyObject *raw = Py_NewRef(PyList_GET_ITEM(args[0], i));
        int taken = plan_line(batch, raw, number, context);
        Py_DECREF(raw);
        Py_DECREF(number);
        if (taken < 0) return NULL;
        if (taken) {
            long long records = PyLong_AsLongLong(PyList_GET_ITEM(batch, B_RECORDS));
            if (records == -1 && PyErr_Occurred()) return NULL;
            if (records >= limit) return PyLong_FromSsize_t(i + 1);
        }
    }
    return PyLong_FromSsize_t(PyList_GET_SIZE(args[0]));
}

/* ---- keep_kinds ------------------------------------------------------------ */

/*
 * keep_kinds(fresh, kinds, new_subjects) -> (kept, refused)
 *
 * batching._refuse_kind_changes without the messages: the (position, record)
 * pairs whose subject keeps the kind the ledger (kinds) or an earlier record of
 * the batch (new_subjects, filled here as there) gives it, and (position,
 * record, kind held) for the others, for the caller to word.
 */
static PyObject *keep_kinds(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyList_CheckExact(args[0]) || !PyDict_Check(args[1]) ||
        !PyDict_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "keep_kinds(fresh: list, kinds: dict, new_subjects: dict)");
        return NULL;
    }
    PyObject *fresh = args[0], *kinds = args[1], *new_subjects = args[2];
    PyObject *kept = PyList_New(0), *refused = PyList_New(0);
    if (kept == NULL || refused == NULL) goto failed;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(fresh); i++) {
        PyObject *pair = PyList_GET_ITEM(fresh, i);
        PyObject *item = PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2
                             ? PyTuple_GET_ITEM(pair, 1) : NULL;
        PyObject *subject = item && PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 12
                                ? PyTuple_GET_ITEM(item, 1) : NULL;
        if (subject == NULL || !PyTuple_Check(subject) || PyTuple_GET_SIZE(subject) != 3) {
            PyErr_SetString(PyExc_TypeError, "keep_kinds: fresh items must be (position, NewRecord)");
            goto failed;
        }
        PyObject *held;
        int same = keeps_kind(subject, kinds, new_subjects, &held);
        if (same < 0) goto failed;
        if (same) {
            if (PyList_Append(kept, pair) < 0) goto failed;
        } else {
            PyObject *refusal = PyTuple_Pack(3, PyTuple_GET_ITEM(pair, 0), item, held);
            int failed = refusal == NULL || PyList_Append(refused, refusal) < 0;
            Py_XDECREF(refusal);
            if (failed) goto failed;
        }
    }
    PyObject *result = PyTuple_Pack(2, kept, refused);
    Py_DECREF(kept);
    Py_DECREF(refused);
    return result;
failed:
    Py_XDECREF(kept);
    Py_XDECREF(refused);
    return NULL;
}

/* ---- add_months ------------------------------------------------------------ */

/*
 * add_months(moment, months) -> datetime
 *
 * durations.add_months for a plain datetime (not a subclass) with fold 0, the
 * case it builds with the positional constructor: the same calendar month
 * arithmetic, the day clamped to the month's end, the time and tzinfo kept.
 * A year out of range raises the constructor's ValueError, as there.
 */
#define MONTHS_LIMIT 120000 /* ten thousand years: every year it gives fits an int */

/* `moment` (an exact datetime with fold 0) moved by `months` (|months| <= MONTHS_LIMIT). */
static PyObject *shift_months(PyObject *moment, long long months) {
    long long index = PyDateTime_GET_YEAR(moment) * 12LL + (PyDateTime_GET_MONTH(moment) - 1) + months;
    long long year = index >= 0 ? index / 12 : -((-index + 11) / 12); /* floor division */
    int month = (int)(index - year * 12) + 1;
    int day = PyDateTime_GET_DAY(moment);
    if (day > 28) {
        int last = month == 2 ? ((year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28)
                              : days_in_month(2001, month);
        if (day > last) day = last;
    }
    if (year < 1 || year > 9999) {
        PyErr_Format(PyExc_ValueError, "year %lld is out of range", year);
        return NULL;
    }
    PyObject *tzinfo = PyDateTime_DATE_GET_TZINFO(moment);
    return PyDateTimeAPI->DateTime_FromDateAndTime(
        (int)year, month, day, PyDateTime_DATE_GET_HOUR(moment), PyDateTime_DATE_GET_MINUTE(moment),
        PyDateTime_DATE_GET_SECOND(moment), PyDateTime_DATE_GET_MICROSECOND(moment), tzinfo,
        PyDateTimeAPI->DateTimeType);
}

/* The months of `number` if shift_months takes them (1), else 0; -1 with an error set. */
static int months_in_reach(PyObject *number, long long *months) {
    if (!PyLong_CheckExact(number)) return 0;
    int overflow = 0;
    *months = PyLong_AsLongLongAndOverflow(number, &overflow);
    if (*months == -1 && PyErr_Occurred()) return -1;
    return !overflow && *months <= MONTHS_LIMIT && *months >= -MONTHS_LIMIT;
}

static PyObject *add_months(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyDateTime_CheckExact(args[0]) || !PyLong_CheckExact(args[1]) ||
        PyDateTime_DATE_GET_FOLD(args[0])) {
        PyErr_SetString(PyExc_TypeError, "add_months(moment: datetime with fold 0, months: int)");
        return NULL;
    }
    long long months;
    int reach = months_in_reach(args[1], &months);
    if (reach < 0) return NULL;
    if (!reach) {
        PyErr_SetString(PyExc_TypeError, "add_months: months beyond 120,000 are Python's");
        return NULL;
    }
    return shift_months(args[0], months);
}

/* ---- subject_records ------------------------------------------------------- */

/* datetime.fromisoformat(text) for a canonical UTC text (a new reference), or
   NULL with no error set where the text is in any other form. */
static PyObject *canonical_datetime(PyObject *text) {
    Instant at;
    if (!PyUnicode_CheckExact(text) || !canonical_time(text, &at)) return NULL;
    return PyDateTimeAPI->DateTime_FromDateAndTime(at.year, at.month, at.day, at.hour, at.minute,
                                                   at.second, at.micro, PyDateTime_TimeZone_UTC,
                                                   PyDateTimeAPI->DateTimeType);
}

static PyObject *time_of(PyObject *text, PyObject *parse) {
    PyObject *moment = canonical_datetime(text);
    if (moment != NULL || PyErr_Occurred()) return moment;
    return PyObject_CallOneArg(parse, text);
}

/*
 * subject_records(rows, key, record_type, parse) -> list
 *
 * store.common.subject_records: a Record per row (id, scheme, version, category,
 * occurred_at, reported_at, expires_at, points, reporter, evidence) of the
 * subject `key`, its three times read by `parse` (datetime.fromisoformat), or
 * here where they are canonical UTC texts, as stored.
 */
static PyObject *subject_records(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "subject_records(rows, key, record_type, parse)");
        return NULL;
    }
    PyObject *rows = PyObject_GetIter(args[0]);
    if (rows == NULL) return NULL;
    PyObject *key = args[1], *parse = args[3];
    PyTypeObject *type = (PyTypeObject *)args[2];
    PyObject *out = PyList_New(0), *row;
    if (out == NULL) goto failed;
    while ((row = PyIter_Next(rows)) != NULL) {
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 10) {
            Py_DECREF(row);
            PyErr_SetString(PyExc_TypeError, "subject_records: rows must have 10 columns");
            goto failed;
        }
        PyObject *record = type->tp_alloc(type, 11);
        if (record == NULL) {
            Py_DECREF(row);
            goto failed;
        }
        /* id, key, scheme, version, category, then the three times, then the rest */
        PyTuple_SET_ITEM(record, 0, Py_NewRef(PyTuple_GET_ITEM(row, 0)));
        PyTuple_SET_ITEM(record, 1, Py_NewRef(key));
        for (int i = 1; i <= 3; i++) PyTuple_SET_ITEM(record, i + 1, Py_NewRef(PyTuple_GET_ITEM(row, i)));
        for (int i = 7; i <= 9; i++) PyTuple_SET_ITEM(record, i + 1, Py_NewRef(PyTuple_GET_ITEM(row, i)));
        int failed = 0;
        for (int i = 4; i <= 6 && !failed; i++) {
            PyObject *moment = time_of(PyTuple_GET_ITEM(row, i), parse);
            if (moment == NULL) {
                failed = 1;
            } else {
                PyTuple_SET_ITEM(record, i + 1, moment);
            }
        }
        Py_DECREF(row);
        /* A record left part-filled on failure is freed whole: tupledealloc skips NULLs. */
        if (failed || PyList_Append(out, record) < 0) {
            Py_DECREF(record);
            goto failed;
        }
        Py_DECREF(record);
    }
    if (PyErr_Occurred()) goto failed;
    Py_DECREF(rows);
    return out;
failed:
    Py_DECREF(rows);
    Py_XDECREF(out);
    return NULL;
}

/* ---- classify and list_spans: the scoring engine's loop over records ---------- */

/* Record's fields (ledger/model.py), RecordRule's and ListTarget's (schemes/compiled.py). */
enum { R_ID = 0, R_VERSION = 3, R_CATEGORY = 4, R_OCCURRED = 5, R_REPORTED = 6, R_EXPIRES = 7,
       R_COUNT = 11 };
enum { RULE_LIMIT = 1, RULE_LISTS = 2, RULE_COUNT = 3 };
enum { TARGET_LIST = 0, TARGET_DURATION = 1, TARGET_COUNT = 2 };
/* The context tuple classify is given (engine._NATIVE_CLASSIFY). */
enum { C_RECORD, C_RULE, C_EXCLUDED, C_STATUS_AT, C_SUSPENDING, C_PERIOD_KEYS, C_ERASED, C_COUNT };

static PyObject *s_not_yet_reported, *s_no_consent, *s_expired, *s_limit, *s_erased_reason,
    *s_per, *s_count, *s_months, *s_span, *s_after, *s_id, *s_kind;

/* Appends Excluded(record.id, record.category, reason) to `out`; -1 on error. */
static int exclude(PyObject *out, PyTypeObject *type, PyObject *record, PyObject *reason) {
    PyObject *excluded = type->tp_alloc(type, 3);
    if (excluded == NULL) return -1;
    PyTuple_SET_ITEM(excluded, 0, Py_NewRef(PyTuple_GET_ITEM(record, R_ID)));
    PyTuple_SET_ITEM(excluded, 1, Py_NewRef(PyTuple_GET_ITEM(record, R_CATEGORY)));
    PyTuple_SET_ITEM(excluded, 2, Py_NewRef(reason));
    return append_new(out, excluded);
}

/* Appends (first, second) to `out`; -1 on error. */
static int append_pair(PyObject *out, PyObject *first, PyObject *second) {
    return append_new(out, PyTuple_Pack(2, first, second));
}

/* 1 if each of the `count` items of `context` from `first` on is a tuple type
   (the named tuples read and built here by position), else 0. */
static int tuple_types(PyObject *context, Py_ssize_t first, Py_ssize_t count) {
    for (Py_ssize_t i = first; i < first + count; i++) {
        PyObject *type = PyTuple_GET_ITEM(context, i);
        if (!PyType_Check(type) || !PyType_IsSubtype((PyTypeObject *)type, &PyTuple_Type)) return 0;
    }
    return 1;
}

/* 1 if `value` is a `type` (exactly) of `size` items, else 0. */
static int shaped(PyObject *value, PyObject *type, Py_ssize_t size) {
    return (PyObject *)Py_TYPE(value) == type && PyTuple_GET_SIZE(value) == size;
}

/* The rule of a record (a new reference; Py_None if its category has none), NULL
   with an error, or NULL without one to give up (a table that is not a dict of
   rules). References are held across lookups, whose __eq__ could run any code. */
static PyObject *rule_of(PyObject *record, PyObject *rules, PyObject *current, PyObject *rule_type) {
    PyObject *table = PyDict_GetItemWithError(rules, PyTuple_GET_ITEM(record, R_VERSION));
    if (table == NULL && PyErr_Occurred()) return NULL;
    table = Py_NewRef(table == NULL ? current : table);
    PyObject *rule = NULL;
    if (PyDict_CheckExact(table)) {
        rule = PyDict_GetItemWithError(table, PyTuple_GET_ITEM(record, R_CATEGORY));
        if (rule == NULL && !PyErr_Occurred()) rule = Py_None;
        if (rule != NULL && rule != Py_None && !shaped(rule, rule_type, RULE_COUNT)) rule = NULL;
        Py_XINCREF(rule);
    }
    Py_DECREF(table);
    return rule;
}

/* status_at(events[record.id], now) where the record has events, else Py_None (new references). */
static PyObject *status_of(PyObject *record, PyObject *events, PyObject *now, PyObject *status_at) {
    PyObject *found = PyDict_GetItemWithError(events, PyTuple_GET_ITEM(record, R_ID));
    if (found == NULL) return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    Py_INCREF(found); /* held across truth test and call, which could change `events` */
    int any = PyObject_IsTrue(found);
    PyObject *status = any < 0 ? NULL
                       : any   ? PyObject_CallFunctionObjArgs(status_at, found, now, NULL)
                               : Py_NewRef(Py_None);
    Py_DECREF(found);
    return status;
}

/* 1 if the slot has had `limit.count` records already, else 0 after counting one more
   in it; -1 on error. `used` maps slots to the ints this function stored. */
static int limit_reached(PyObject *used, PyObject *slot, PyObject *limit) {
    PyObject *taken = PyDict_GetItemWithError(used, slot); /* borrowed */
    if (taken == NULL && PyErr_Occurred()) return -1;
    long so_far = taken == NULL ? 0 : PyLong_AsLong(taken); /* small: one per record */
    PyObject *so_far_number = PyLong_FromLong(so_far);
    PyObject *count = so_far_number == NULL ? NULL : PyObject_GetAttr(limit, s_count);
    int full = count == NULL ? -1 : PyObject_RichCompareBool(so_far_number, count, Py_GE);
    Py_XDECREF(count);
    Py_XDECREF(so_far_number);
    if (full == 0) {
        PyObject *one_more = PyLong_FromLong(so_far + 1);
        full = one_more == NULL ? -1 : PyDict_SetItem(used, slot, one_more);
        Py_XDECREF(one_more);
    }
    return full;
}

/* _apply_limits: the candidates that count, the rest excluded for their limit. */
static PyObject *apply_limits(PyObject *candidates, PyObject *excluded, PyObject *context) {
    PyTypeObject *excluded_type = (PyTypeObject *)PyTuple_GET_ITEM(context, C_EXCLUDED);
    PyObject *period_keys = PyTuple_GET_ITEM(context, C_PERIOD_KEYS);
    PyObject *used = PyDict_New(), *counted = PyList_New(0);
    if (used == NULL || counted == NULL) goto failed;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(candidates); i++) {
        PyObject *pair = PyList_GET_ITEM(candidates, i);
        PyObject *record = PyTuple_GET_ITEM(pair, 0), *rule = PyTuple_GET_ITEM(pair, 1);
        PyObject *limit = rule == Py_None ? Py_None : PyTuple_GET_ITEM(rule, RULE_LIMIT);
        if (limit != Py_None) {
            /* slot = (record.category, PERIOD_KEYS[limit.per](record.occurred_at)) */
            PyObject *per = PyObject_GetAttr(limit, s_per);
            if (per == NULL) goto failed;
            PyObject *period_key = PyObject_GetItem(period_keys, per);
            Py_DECREF(per);
            if (period_key == NULL) goto failed;
            PyObject *key = PyObject_CallOneArg(period_key, PyTuple_GET_ITEM(record, R_OCCURRED));
            Py_DECREF(period_key);
            if (key == NULL) goto failed;
            PyObject *slot = PyTuple_Pack(2, PyTuple_GET_ITEM(record, R_CATEGORY), key);
            Py_DECREF(key);
            if (slot == NULL) goto failed;
            int full = limit_reached(used, slot, limit);
            Py_DECREF(slot);
            if (full < 0) goto failed;
            if (full && exclude(excluded, excluded_type, record, s_limit) < 0) goto failed;
            if (full) continue;
        }
        if (PyList_Append(counted, pair) < 0) goto failed;
    }
    Py_DECREF(used);
    return counted;
failed:
    Py_XDECREF(used);
    Py_XDECREF(counted);
    return NULL;
}

/* Sorts one record into excluded, standing or candidates (classify's loop body).
   `known` is updated as the Python loop does; 0 done, 1 to give up, -1 on error. */
static int classify_one(PyObject *record, PyObject *const *args, PyObject *lists[3], int *known) {
    PyObject *events = args[1], *t = args[2], *now = args[3], *context = args[7];
    PyObject *excluded = lists[0], *standing = lists[1], *candidates = lists[2];
    PyTypeObject *excluded_type = (PyTypeObject *)PyTuple_GET_ITEM(context, C_EXCLUDED);
    if (!shaped(record, PyTuple_GET_ITEM(context, C_RECORD), R_COUNT)) return 1;
    int erased = PyObject_RichCompareBool(PyTuple_GET_ITEM(record, R_CATEGORY),
                                          PyTuple_GET_ITEM(context, C_ERASED), Py_EQ);
    if (erased) return erased < 0 ? -1 : exclude(excluded, excluded_type, record, s_erased_reason);
    PyObject *reported = PyTuple_GET_ITEM(record, R_REPORTED);
    int later = PyObject_RichCompareBool(reported, t, Py_GT);
    if (later == 0) later = PyObject_RichCompareBool(PyTuple_GET_ITEM(record, R_OCCURRED), t, Py_GT);
    if (later) {
        if (later < 0 || exclude(excluded, excluded_type, record, s_not_yet_reported) < 0) return -1;
        if (!*known) *known = PyObject_RichCompareBool(reported, t, Py_LE);
        return *known < 0 ? -1 : 0;
    }
    int consenting = PyObject_IsTrue(args[4]);
    if (consenting <= 0) return consenting < 0 ? -1 : exclude(excluded, excluded_type, record, s_no_consent);
    *known = 1;
    PyObject *rule = rule_of(record, args[5], args[6], PyTuple_GET_ITEM(context, C_RULE));
    if (rule == NULL) return PyErr_Occurred() ? -1 : 1;
    PyObject *status = status_of(record, events, now, PyTuple_GET_ITEM(context, C_STATUS_AT));
    if (status == NULL) {
        Py_DECREF(rule);
        return -1;
    }
    int expired = PyObject_RichCompareBool(t, PyTuple_GET_ITEM(record, R_EXPIRES), Py_GE);
    /* `status in SUSPENDING_STATUSES`: the operator, which also takes a set as a frozenset */
    int suspending = expired < 0 ? -1 : PySequence_Contains(PyTuple_GET_ITEM(context, C_SUSPENDING), status);
    if (suspending < 0) expired = -1;
    int done = -1;
    if (expired > 0) {
        done = exclude(excluded, excluded_type, record, s_expired);
        if (done == 0 && !suspending) done = append_pair(standing, record, rule);
    } else if (expired == 0) {
        done = suspending ? exclude(excluded, excluded_type, record, status)
                          : append_pair(candidates, record, rule);
    }
    Py_DECREF(status);
    Py_DECREF(rule);
    return done;
}

/* 0 if classify_one can read `record` through without giving up, 1 if not, -1 on
   error. Every record is looked at before any Python code runs, so that giving
   up never follows a call (status_at, a comparison) that Python then makes again;
   a version or category of another type than int and str is left to Python, as
   looking it up could run code. */
static int readable(PyObject *record, PyObject *const *args) {
    PyObject *context = args[7];
    if (!shaped(record, PyTuple_GET_ITEM(context, C_RECORD), R_COUNT) ||
        !PyLong_CheckExact(PyTuple_GET_ITEM(record, R_VERSION)) ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(record, R_CATEGORY)))
        return 1;
    PyObject *rule = rule_of(record, args[5], args[6], PyTuple_GET_ITEM(context, C_RULE));
    if (rule == NULL) return PyErr_Occurred() ? -1 : 1;
    Py_DECREF(rule);
    return 0;
}

/*
 * classify(ordered, events, t, now, consenting, rules, current_rules, context)
 *     -> (excluded, counted, standing, known) | None
 *
 * scoring.engine.classify_in_python. `context` is engine._NATIVE_CLASSIFY:
 * (Record, RecordRule, Excluded, status_at, SUSPENDING_STATUSES, PERIOD_KEYS,
 * ERASED). None (give up) for anything but dicts of events and rules and
 * exact Records and RecordRules; the Python loop then answers.
 */
static PyObject *classify(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8 || !PyTuple_Check(args[7]) || PyTuple_GET_SIZE(args[7]) != C_COUNT ||
        !tuple_types(args[7], C_RECORD, 3) || !PyFrozenSet_Check(PyTuple_GET_ITEM(args[7], C_SUSPENDING))) {
        PyErr_SetString(PyExc_TypeError,
                        "classify(ordered, events, t, now, consenting, rules, current_rules, context)");
        return NULL;
    }
    if (!PyDict_CheckExact(args[1]) || !PyDict_CheckExact(args[5]) || !PyDict_CheckExact(args[6]))
        return give_up();
    PyObject *ordered = PySequence_Fast(args[0], "classify: ordered must be a sequence");
    if (ordered == NULL) return NULL;
    PyObject *lists[3] = {PyList_New(0), PyList_New(0), PyList_New(0)};
    PyObject *counted = NULL, *result = NULL;
    int known = 0, outcome = 0;
    if (lists[0] == NULL || lists[1] == NULL || lists[2] == NULL) goto done;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(ordered) && outcome == 0; i++) {
        outcome = readable(PySequence_Fast_GET_ITEM(ordered, i), args);
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(ordered) && outcome == 0; i++) {
        PyObject *record = PySequence_Fast_GET_ITEM(ordered, i);
        Py_INCREF(record); /* held: the calls it makes could change a list `ordered` is */
        outcome = classify_one(record, args, lists, &known);
        Py_DECREF(record);
    }
    if (outcome == 1) {
        result = give_up();
        goto done;
    }
    if (outcome < 0) goto done;
    counted = apply_limits(lists[2], lists[0], args[7]);
    if (counted == NULL) goto done;
    /* standing.extend(counted) */
    if (PyList_SetSlice(lists[1], PY_SSIZE_T_MAX, PY_SSIZE_T_MAX, counted) < 0) goto done;
    result = Py_BuildValue("(OOOO)", lists[0], counted, lists[1], known ? Py_True : Py_False);
done:
    Py_DECREF(ordered);
    for (int i = 0; i < 3; i++) Py_XDECREF(lists[i]);
    Py_XDECREF(counted);
    return result;
}

/* duration.after(start) (schemes/durations.py) as a new reference: in C for a
   Duration whose months shift_months takes, else by calling the method. */
static PyObject *duration_after(PyObject *duration, PyObject *start, PyObject *duration_type) {
    if ((PyObject *)Py_TYPE(duration) != duration_type || !PyDateTime_CheckExact(start) ||
        PyDateTime_DATE_GET_FOLD(start))
        return PyObject_CallMethodOneArg(duration, s_after, start);
    PyObject *months = PyObject_GetAttr(duration, s_months);
    if (months == NULL) return NULL;
    long long count = 0;
    int reach = months_in_reach(months, &count);
    Py_DECREF(months);
    if (reach < 0) return NULL;
    if (!reach) return PyObject_CallMethodOneArg(duration, s_after, start);
    PyObject *moved = count ? shift_months(start, count) : Py_NewRef(start);
    PyObject *span = moved == NULL ? NULL : PyObject_GetAttr(duration, s_span);
    int some = span == NULL ? -1 : PyObject_IsTrue(span);
    PyObject *until = some > 0 ? PyNumber_Add(moved, span) : (some == 0 ? Py_NewRef(moved) : NULL);
    Py_XDECREF(span);
    Py_XDECREF(moved);
    return until;
}

/* spans.setdefault(list_id, []).append(span), `span` a new reference (stolen); -1 on error. */
static int add_span(PyObject *spans, PyObject *list_id, PyObject *span) {
    PyObject *fresh = span == NULL ? NULL : PyList_New(0);
    PyObject *entries = fresh == NULL ? NULL : PyDict_SetDefault(spans, list_id, fresh); /* borrowed */
    Py_XDECREF(fresh); /* the dict holds the list it keeps */
    if (entries == NULL) {
        Py_XDECREF(span);
        return -1;
    }
    return append_new(entries, span);
}

/* 1 if a (record, rule) pair of standing has the shape spans_of reads, else 0
   (checked for every pair before any Python code runs, so that giving up never
   follows a comparison or a Duration's method that Python will then run again). */
static int pair_shaped(PyObject *pair, PyObject *context) {
    if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) return 0;
    PyObject *rule = PyTuple_GET_ITEM(pair, 1);
    if (rule == Py_None) return 1;
    if (!shaped(PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(context, 0), R_COUNT) ||
        !shaped(rule, PyTuple_GET_ITEM(context, 1), RULE_COUNT))
        return 0;
    PyObject *targets = PyTuple_GET_ITEM(rule, RULE_LISTS);
    if (!PyTuple_CheckExact(targets)) return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(targets); i++) {
        if (!shaped(PyTuple_GET_ITEM(targets, i), PyTuple_GET_ITEM(context, 2), TARGET_COUNT)) return 0;
    }
    return 1;
}

/* Adds a record's spans on its rule's lists to `spans`; 0 done, 1 to give up, -1 on error. */
static int spans_of(PyObject *pair, PyObject *t, PyObject *spans, PyObject *context) {
    if (!pair_shaped(pair, context)) return 1; /* only if code run since changed standing */
    PyObject *record = PyTuple_GET_ITEM(pair, 0), *rule = PyTuple_GET_ITEM(pair, 1);
    if (rule == Py_None) return 0;
    PyObject *targets = PyTuple_GET_ITEM(rule, RULE_LISTS);
    PyObject *occurred = PyTuple_GET_ITEM(record, R_OCCURRED);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(targets); i++) {
        PyObject *target = PyTuple_GET_ITEM(targets, i);
        PyObject *duration = PyTuple_GET_ITEM(target, TARGET_DURATION);
        PyObject *until = duration == Py_None
                              ? Py_NewRef(PyTuple_GET_ITEM(record, R_EXPIRES))
                              : duration_after(duration, occurred, PyTuple_GET_ITEM(context, 3));
        int listed = until == NULL ? -1 : PyObject_RichCompareBool(t, until, Py_LT);
        if (listed > 0) {
            PyObject *list_id = PyTuple_GET_ITEM(target, TARGET_LIST);
            listed = add_span(spans, list_id, PyTuple_Pack(3, occurred, until, PyTuple_GET_ITEM(record, R_ID)));
        }
        Py_XDECREF(until);
        if (listed < 0) return -1;
    }
    return 0;
}

/* The first least item of a non-empty list by `<`, as min() picks it (borrowed);
   with `greatest`, the first greatest by `>`, as max() does. NULL on error. */
static PyObject *extreme(PyObject *items, int greatest) {
    PyObject *best = PyList_GET_ITEM(items, 0);
    for (Py_ssize_t i = 1; i < PyList_GET_SIZE(items); i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        int better = PyObject_RichCompareBool(item, best, greatest ? Py_GT : Py_LT);
        if (better < 0) return NULL;
        if (better) best = item;
    }
    return best;
}

/* engine._merge: one ListEntry for the spans (a non-empty list) of one list, or NULL. */
static PyObject *merged_entry(PyObject *scheme_id, PyObject *definition, PyObject *spans,
                              PyObject *entry_type) {
    Py_ssize_t n = PyList_GET_SIZE(spans);
    PyObject *untils = PyList_New(n), *ids = PyList_New(n), *fields[7] = {NULL};
    if (untils == NULL || ids == NULL) goto failed;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *span = PyList_GET_ITEM(spans, i); /* (since, until, id), built by add_span */
        PyList_SET_ITEM(untils, i, Py_NewRef(PyTuple_GET_ITEM(span, 1)));
        PyList_SET_ITEM(ids, i, Py_NewRef(PyTuple_GET_ITEM(span, 2)));
    }
    /* in _merge's order: the definition's id and kind, then min, max and sorted */
    fields[1] = PyObject_GetAttr(definition, s_id);
    fields[2] = fields[1] == NULL ? NULL : PyObject_GetAttr(definition, s_kind);
    PyObject *first = fields[2] == NULL ? NULL : extreme(spans, 0);
    PyObject *last = first == NULL ? NULL : extreme(untils, 1);
    if (last == NULL || PyList_Sort(ids) < 0) goto failed;
    fields[0] = Py_NewRef(scheme_id);
    fields[3] = Py_NewRef(PyTuple_GET_ITEM(first, 0));
    fields[4] = Py_NewRef(last);
    fields[5] = PyList_AsTuple(ids);
    fields[6] = Py_NewRef(Py_None);
    PyTypeObject *type = (PyTypeObject *)entry_type;
    PyObject *entry = fields[1] && fields[2] && fields[5] ? type->tp_alloc(type, 7) : NULL;
    for (int i = 0; i < 7; i++) {
        if (entry != NULL) {
            PyTuple_SET_ITEM(entry, i, fields[i]);
        } else {
            Py_XDECREF(fields[i]);
        }
    }
    Py_DECREF(untils);
    Py_DECREF(ids);
    return entry;
failed:
    Py_XDECREF(fields[1]);
    Py_XDECREF(fields[2]);
    Py_XDECREF(untils);
    Py_XDECREF(ids);
    return NULL;
}

/*
 * list_entries(standing, t, scheme_id, lists, context) -> [ListEntry] | None
 *
 * scoring.engine.list_entries_in_python: the spans, by list, of the
 * records in standing still listed at t, merged into one entry per list.
 * `context` is engine._NATIVE_LISTS: (Record, RecordRule, ListTarget,
 * Duration, ListEntry). None (give up) for a pair that is not an exact
 * (Record, RecordRule or None), or lists that are not a dict.
 */
static PyObject *list_entries(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5 || !PyTuple_Check(args[4]) || PyTuple_GET_SIZE(args[4]) != 5 ||
        !tuple_types(args[4], 0, 3) || !tuple_types(args[4], 4, 1)) {
        PyErr_SetString(PyExc_TypeError, "list_entries(standing, t, scheme_id, lists, context)");
        return NULL;
    }
    PyObject *standing = args[0], *lists = args[3];
    if (!PyList_CheckExact(standing) || !PyDict_CheckExact(lists)) return give_up();
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(standing); i++) {
        if (!pair_shaped(PyList_GET_ITEM(standing, i), args[4])) return give_up();
    }
    PyObject *spans = PyDict_New(), *entries = NULL;
    if (spans == NULL) return NULL;
    int outcome = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(standing) && outcome == 0; i++) {
        PyObject *pair = PyList_GET_ITEM(standing, i);
        Py_INCREF(pair); /* held: a comparison could run code that changes `standing` */
        outcome = spans_of(pair, args[1], spans, args[4]);
        Py_DECREF(pair);
    }
    if (outcome != 0) {
        Py_DECREF(spans);
        return outcome == 1 ? give_up() : NULL;
    }
    entries = PyList_New(0);
    PyObject *list_id, *found;
    Py_ssize_t position = 0;
    while (entries != NULL && PyDict_Next(spans, &position, &list_id, &found)) {
        PyObject *definition = PyDict_GetItemWithError(lists, list_id); /* lists[list_id] */
        if (definition == NULL) {
            if (!PyErr_Occurred()) { /* KeyError(list_id), whatever list_id is */
                PyObject *key = PyTuple_Pack(1, list_id);
                if (key != NULL) PyErr_SetObject(PyExc_KeyError, key);
                Py_XDECREF(key);
            }
            Py_CLEAR(entries);
            break;
        }
        Py_INCREF(definition);
        PyObject *entry = merged_entry(args[2], definition, found, PyTuple_GET_ITEM(args[4], 4));
        Py_DECREF(definition);
        if (append_new(entries, entry) < 0) Py_CLEAR(entries);
    }
    Py_DECREF(spans);
    return entries;
}

/* ---- link_hash: one row's link in its hash chain ------------------------------ */

static PyObject *s_isoformat;

/* Adds one field as chain.canonical spells it: a str as it is, None as "\0", a
   datetime by isoformat(), anything else by str(). 0, 1 to give up, -1 on error. */
static int add_field(Buffer *b, PyObject *value) {
    if (PyUnicode_CheckExact(value)) return buffer_add_text(b, value) < 0 ? 1 : 0;
    if (value == Py_None) return buffer_add(b, "\x00", 1);
    if (PyLong_CheckExact(value)) {
        int added = buffer_add_int(b, value);
        if (added != 1) return added; /* beyond a long long: str() below */
    }
    /* isinstance(value, datetime), as Python asks it: a proxy can claim the class */
    int moment = PyObject_IsInstance(value, (PyObject *)PyDateTimeAPI->DateTimeType);
    if (moment < 0) return -1;
    PyObject *text = moment ? PyObject_CallMethodNoArgs(value, s_isoformat) : PyObject_Str(value);
    if (text == NULL) return -1;
    int added = PyUnicode_Check(text) ? (buffer_add_text(b, text) < 0 ? 1 : 0) : 1;
    Py_DECREF(text);
    return added;
}

/*
 * link_hash(previous, row_kind, fields) -> str | None
 *
 * ledger.chain.link_hash for fields given as a tuple or list. None (give up)
 * for any other iterable, or a text UTF-8 cannot carry (a lone surrogate):
 * the Python spelling then raises its own error.
 */
static PyObject *link_hash(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyUnicode_CheckExact(args[0]) || !PyUnicode_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "link_hash(previous: str, row_kind: str, fields)");
        return NULL;
    }
    if (!PyTuple_CheckExact(args[2]) && !PyList_CheckExact(args[2])) return give_up();
    PyObject *fields = Py_NewRef(args[2]); /* held: str() of a field could run any code */
    Buffer b;
    buffer_init(&b);
    /* previous SEP kind SEP, then the fields joined by SEP (a trailing SEP when none) */
    int outcome = buffer_add_text(&b, args[0]) < 0 || buffer_add_separator(&b) < 0 ||
                          buffer_add_text(&b, args[1]) < 0 || buffer_add_separator(&b) < 0
                      ? 1
                      : 0;
    for (Py_ssize_t i = 0; outcome == 0 && i < PySequence_Fast_GET_SIZE(fields); i++) {
        PyObject *value = Py_NewRef(PySequence_Fast_GET_ITEM(fields, i));
        outcome = i > 0 && buffer_add_separator(&b) < 0 ? -1 : add_field(&b, value);
        Py_DECREF(value);
    }
    Py_DECREF(fields);
    PyObject *digest = outcome == 0 ? sha256_hex(&b, 64) : NULL;
    buffer_free(&b);
    if (outcome == 1) {
        PyErr_Clear(); /* the encoding error, which Python will raise in its own words */
        return give_up();
    }
    return digest;
}

static PyMethodDef methods[] = {
    {"parse_common", (PyCFunction)(void (*)(void))parse_common, METH_FASTCALL,
     "The record a well-formed line reports, or None to leave the line to the Python paths."},
    {"parse_lines", (PyCFunction)(void (*)(void))parse_lines, METH_FASTCALL,
     "The (line, record) items of a chunk of JSON Lines read as bytes."},
    {"plan_lines", (PyCFunction)(void (*)(void))plan_lines, METH_FASTCALL,
     "Read, validate, judge and chain a chunk of lines into a batch, until it is full."},
    {"subject_records", (PyCFunction)(void (*)(void))subject_records, METH_FASTCALL,
     "The Records of one subject's rows, their canonical times read in C."},
    {"add_months", (PyCFunction)(void (*)(void))add_months, METH_FASTCALL,
     "A datetime moved by whole calendar months, the day clamped to the month's end."},
    {"keep_kinds", (PyCFunction)(void (*)(void))keep_kinds, METH_FASTCALL,
     "The records whose subject keeps its kind, and the others with the kind held."},
    {"chain", (PyCFunction)(void (*)(void))chain, METH_FASTCALL,
     "Chain fresh records onto their subjects' heads, appending their rows."},
    {"link_hash", (PyCFunction)(void (*)(void))link_hash, METH_FASTCALL,
     "The hash that links one row to the row before it in its chain."},
    {"classify", (PyCFunction)(void (*)(void))classify, METH_FASTCALL,
     "Sort one scheme's records of a subject into excluded, counted and standing."},
    {"list_entries", (PyCFunction)(void (*)(void))list_entries, METH_FASTCALL,
     "The list entries the records in standing cause, one per list."},
    {NULL, NULL, 0, NULL},
};

static int speedups_exec(PyObject *module) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return -1;
    if (sha256_md == NULL) sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (digest_context == NULL) digest_context = EVP_MD_CTX_new();
    if (sha256_md == NULL || digest_context == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL has no SHA-256 here");
        return -1;
    }
    for (int i = 0; i < F_COUNT; i++) {
        if (field_keys[i] == NULL) field_keys[i] = PyUnicode_InternFromString(field_names[i]);
        if (field_keys[i] == NULL) return -1;
    }
    if (s_empty == NULL) s_empty = PyUnicode_FromString("");
    if (s_empty == NULL) return -1;
    struct { PyObject **slot; const char *text; } names[] = {
        {&s_not_yet_reported, "not_yet_reported"}, {&s_no_consent, "no_consent"},
        {&s_expired, "expired"}, {&s_limit, "limit"}, {&s_erased_reason, "erased"},
        {&s_per, "per"}, {&s_count, "count"}, {&s_months, "months"}, {&s_span, "span"},
        {&s_after, "after"}, {&s_id, "id"}, {&s_kind, "kind"}, {&s_isoformat, "isoformat"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (*names[i].slot == NULL) *names[i].slot = PyUnicode_InternFromString(names[i].text);
        if (*names[i].slot == NULL) return -1;
    }
    return 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, speedups_exec},
    {0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "socialcredit.native._speedups",
    "C accelerators for the hot loops of the import, scoring and the audit log; each agrees with a Python function.",
    0, methods, slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModuleDef_Init(&module_definition); }

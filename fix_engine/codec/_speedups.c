/* fix_engine.codec._speedups: optional C accelerator for the codec's hot paths.
 *
 * Every function here has a pure-Python twin (the reference semantics) and handles only the
 * common, well-formed case itself: whenever the input is unusual (a raw-data length field, a
 * malformed field, an object that is not exactly ``bytes``, ...) it hands the call to the Python
 * implementation registered with ``configure()``, so results and exceptions are identical by
 * construction.  The Python modules import this extension when it is built and
 * FIXGATE_PURE_PYTHON is not set; see parsing.py.
 *
 *   split_fields(buf, data_length_tags=DATA_LENGTH_TAGS) -> [(tag, value), ...]
 *   scan_frames(buf, max_message_size, validate_checksum) -> (frames, pos, need, discarded)
 *   finish(begin_string, body) -> b"8=...\x019=len\x01" + body + b"10=nnn\x01"
 *   encode_cached(fields, begin_string, plans, header_tags, keep_body_order) -> bytes, or None
 *   fast_valid(fields, info, required, checks) -> True when the validator would find nothing,
 *                                                  None when the Python validator must decide
 *   new_fields(msg_type, fields) -> [(35, msg_type bytes), (tag, bytes), ...] for FixMessage.new
 *                                   when every value is bytes or str, else None
 *   has_any_tag(fields, tags) -> whether a (tag, value) pair of the list has its tag in the
 *                                frozenset, None for an unusual list
 *   utc_epoch(raw) -> UTCTimestamp bytes as float epoch seconds, None when Python must decide
 *   MessageCore: the base type of FixMessage (slots ``fields``, ``_index``, ``_indexed_len``) with
 *                ``get_raw``, ``field_index`` and ``_build_index`` in C; unusual contents go to the
 *                Python twins registered with configure(message_fallbacks=...)
 *   format_timestamp(epoch_seconds, precision) -> UTCTimestamp bytes, None when Python must decide
 *
 * Bounds: every index is checked against the buffer length before it is read.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define SOH 0x01
#define MAX_TAG_DIGITS 9

/* ------------------------------------------------------------------ configuration (module globals) */

static PyObject *split_fallback = NULL;    /* pure-Python split_fields */
static PyObject *default_length_tags = NULL; /* tags.DATA_LENGTH_TAGS */
static PyObject *scan_fallback = NULL;     /* pure-Python _scan_frames */
static PyObject *finish_fallback = NULL;   /* pure-Python _finish */
static PyObject *frame_type = NULL;        /* framing.Frame */
static PyObject *err_checksum = NULL, *err_body_length = NULL, *err_bad_body_length = NULL,
                *err_header_order = NULL, *err_too_large = NULL; /* framing.FrameError members */

/* Interned tag ints: tag -> PyLong, created on first use. */
#define TAG_CACHE_SIZE 10000
static PyObject *tag_ints[TAG_CACHE_SIZE];

static PyObject *
tag_object(long tag)
{
    if (tag >= 0 && tag < TAG_CACHE_SIZE) {
        PyObject *o = tag_ints[tag];
        if (o == NULL) {
            o = PyLong_FromLong(tag);
            if (o == NULL)
                return NULL;
            tag_ints[tag] = o; /* the cache keeps one reference */
        }
        Py_INCREF(o);
        return o;
    }
    return PyLong_FromLong(tag);
}

/* ------------------------------------------------------------------ data-length tag sets
 *
 * A mapping of length tags is consulted once per field.  For an exact dict we cache a bitmap of
 * its small int keys, keyed by identity (we hold a reference, so the id cannot be reused) and
 * length, like parsing.py's own per-mapping cache.  Keys that are not small ints, and other
 * mapping types, are asked with ``tag in mapping`` per field.
 */

#define BITMAP_TAGS 8192
#define LT_CACHE 4

/* A dict's state: its size, plus (CPython < 3.12) its version tag, which changes on every
 * mutation, so a same-size edit is noticed too. */
#if PY_VERSION_HEX < 0x030C0000
#define DICT_STAMP(d) (((PyDictObject *)(d))->ma_version_tag)
#else
#define DICT_STAMP(d) ((uint64_t)0)
#endif

typedef struct {
    PyObject *mapping; /* strong reference, NULL when the slot is free */
    Py_ssize_t size;
    uint64_t stamp;
    int generic;       /* a key that is not an int in [0, BITMAP_TAGS): ask the dict for big tags */
    int odd;           /* a key that is not an int at all (e.g. 95.0): ask the dict for every tag */
    uint8_t bits[BITMAP_TAGS / 8];
} LengthTags;

static LengthTags lt_cache[LT_CACHE];
static int lt_next = 0;

static LengthTags *
length_tags_for(PyObject *mapping)
{
    if (!PyDict_CheckExact(mapping))
        return NULL;
    Py_ssize_t size = PyDict_GET_SIZE(mapping);
    for (int i = 0; i < LT_CACHE; i++) {
        if (lt_cache[i].mapping == mapping && lt_cache[i].size == size && lt_cache[i].stamp == DICT_STAMP(mapping))
            return &lt_cache[i];
    }
    LengthTags *lt = NULL;
    for (int i = 0; i < LT_CACHE; i++) {
        if (lt_cache[i].mapping == mapping) {
            lt = &lt_cache[i];
            break;
        }
    }
    if (lt == NULL) {
        lt = &lt_cache[lt_next];
        lt_next = (lt_next + 1) % LT_CACHE;
    }
    Py_XDECREF(lt->mapping);
    lt->mapping = NULL;
    memset(lt->bits, 0, sizeof(lt->bits));
    lt->generic = 0;
    lt->odd = 0;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(mapping, &pos, &key, &value)) {
        if (PyLong_Check(key)) {
            int overflow = 0;
            long long k = PyLong_AsLongLongAndOverflow(key, &overflow);
            if (overflow == 0 && k >= 0 && k < BITMAP_TAGS)
                lt->bits[k >> 3] |= (uint8_t)(1u << (k & 7));
            else
                lt->generic = 1;
        }
        else {
            lt->odd = 1;
        }
    }
    Py_INCREF(mapping);
    lt->mapping = mapping;
    lt->size = size;
    lt->stamp = DICT_STAMP(mapping);
    return lt;
}

/* 1: tag is a length tag, 0: it is not, -1: error */
static int
is_length_tag(LengthTags *lt, PyObject *mapping, long tag, PyObject *tag_obj)
{
    /* the slot still describes this mapping (a re-entrant call could have reused it) */
    if (lt != NULL && !lt->odd && lt->mapping == mapping && lt->size == PyDict_GET_SIZE(mapping)
        && lt->stamp == DICT_STAMP(mapping)) {
        if (tag < BITMAP_TAGS)
            return (lt->bits[tag >> 3] >> (tag & 7)) & 1;
        if (!lt->generic)
            return 0;
        return PyDict_Contains(mapping, tag_obj);
    }
    return PySequence_Contains(mapping, tag_obj);
}

/* ------------------------------------------------------------------ split_fields */

static PyObject *
call_split_fallback(PyObject *buf, PyObject *tags)
{
    if (split_fallback == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure() was not called");
        return NULL;
    }
    PyObject *args[2] = {buf, tags};
    return PyObject_Vectorcall(split_fallback, args, 2, NULL);
}

static PyObject *
split_fields(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "split_fields(buf, data_length_tags=DATA_LENGTH_TAGS)");
        return NULL;
    }
    PyObject *buf = args[0];
    PyObject *tags = nargs == 2 ? args[1] : default_length_tags;
    if (tags == NULL || !PyBytes_CheckExact(buf))
        return call_split_fallback(buf, tags ? tags : Py_None);

    const char *data = PyBytes_AS_STRING(buf);
    Py_ssize_t len = PyBytes_GET_SIZE(buf);
    if (len == 0)
        return PyList_New(0);
    if (data[len - 1] != SOH)
        return call_split_fallback(buf, tags);

    Py_ssize_t n = 0;
    for (const char *p = data, *end = data + len; p < end; n++) {
        p = memchr(p, SOH, end - p);
        p++; /* found: the buffer ends with SOH */
    }
    LengthTags *lt = length_tags_for(tags);
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    const char *p = data;
    const char *end = data + len;
    for (Py_ssize_t i = 0; i < n; i++) {
        /* tag: 1-9 ASCII digits, no leading zero, then '=' */
        const char *q = p;
        long long tag = 0; /* at most 10 digits are read: no overflow */
        while (q < end && q - p <= MAX_TAG_DIGITS && (unsigned char)(*q - '0') < 10) {
            tag = tag * 10 + (*q - '0');
            q++;
        }
        Py_ssize_t digits = q - p;
        if (digits == 0 || digits > MAX_TAG_DIGITS || *p == '0' || q >= end || *q != '=')
            goto fallback;
        PyObject *tag_obj = tag_object((long)tag); /* 1 to 999999999 */
        if (tag_obj == NULL)
            goto error;
        int is_len = is_length_tag(lt, tags, (long)tag, tag_obj);
        if (is_len != 0) {
            Py_DECREF(tag_obj);
            if (is_len < 0)
                goto error;
            goto fallback; /* raw data follows: the positional parse is Python's */
        }
        const char *v = q + 1;
        const char *e = memchr(v, SOH, end - v); /* found: the buffer ends with SOH */
        PyObject *value = PyBytes_FromStringAndSize(v, e - v);
        if (value == NULL) {
            Py_DECREF(tag_obj);
            goto error;
        }
        PyObject *pair = PyTuple_New(2);
        if (pair == NULL) {
            Py_DECREF(tag_obj);
            Py_DECREF(value);
            goto error;
        }
        PyTuple_SET_ITEM(pair, 0, tag_obj);
        PyTuple_SET_ITEM(pair, 1, value);
        PyList_SET_ITEM(list, i, pair);
        p = e + 1;
    }
    return list;
fallback:
    Py_DECREF(list); /* unset items are NULL: list_dealloc skips them */
    return call_split_fallback(buf, tags);
error:
    Py_DECREF(list);
    return NULL;
}

/* ------------------------------------------------------------------ FrameParser scan */

#define MAX_BEGIN_STRING 64
#define MAX_LENGTH_DIGITS 12
#define TRAILER_SIZE 7

/* bytes.find(needle, start, stop) with stop clipped to len; -1 when absent */
static Py_ssize_t
find(const char *data, Py_ssize_t len, const char *needle, Py_ssize_t nlen, Py_ssize_t start, Py_ssize_t stop)
{
    if (stop > len)
        stop = len;
    if (start < 0)
        start = 0;
    if (nlen == 0)
        return start <= stop ? start : -1;
    Py_ssize_t last = stop - nlen; /* the last possible match position */
    Py_ssize_t i = start;
    while (i <= last) {
        const char *hit = memchr(data + i, needle[0], (size_t)(last - i + 1));
        if (hit == NULL)
            return -1;
        i = hit - data;
        if (memcmp(data + i, needle, (size_t)nlen) == 0)
            return i;
        i++;
    }
    return -1;
}

static int
starts(const char *data, Py_ssize_t len, const char *prefix, Py_ssize_t plen, Py_ssize_t at)
{
    return at >= 0 && at + plen <= len && memcmp(data + at, prefix, (size_t)plen) == 0;
}

static int
all_digits(const char *p, Py_ssize_t n)
{
    if (n <= 0)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((unsigned char)(p[i] - '0') >= 10)
            return 0;
    }
    return 1;
}

/* Append Frame(buf[a:b], error) to frames; 0 on success, -1 on error. */
static int
add_frame(PyObject *frames, const char *data, Py_ssize_t a, Py_ssize_t b, PyObject *error)
{
    PyObject *raw = PyBytes_FromStringAndSize(data + a, b - a);
    if (raw == NULL)
        return -1;
    PyObject *args[2] = {raw, error};
    PyObject *frame = PyObject_Vectorcall(frame_type, args, error ? 2 : 1, NULL);
    Py_DECREF(raw);
    if (frame == NULL)
        return -1;
    int rc = PyList_Append(frames, frame);
    Py_DECREF(frame);
    return rc;
}

static PyObject *
scan_frames(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "scan_frames(buf, max_message_size, validate_checksum)");
        return NULL;
    }
    if (scan_fallback == NULL || frame_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure() was not called");
        return NULL;
    }
    PyObject *buf = args[0];
    long long max_size;
    if (!PyBytes_CheckExact(buf) || !PyLong_CheckExact(args[1]))
        return PyObject_Vectorcall(scan_fallback, args, 3, NULL);
    {
        int overflow = 0;
        max_size = PyLong_AsLongLongAndOverflow(args[1], &overflow);
        if (max_size == -1 && PyErr_Occurred())
            return NULL;
        if (overflow > 0)
            max_size = LLONG_MAX;
        else if (overflow < 0)
            max_size = LLONG_MIN;
    }
    int validate = -1; /* truth of validate_checksum, asked (like Python) at the first full frame */

    const char *d = PyBytes_AS_STRING(buf);
    const Py_ssize_t end = PyBytes_GET_SIZE(buf);
    PyObject *frames = PyList_New(0);
    if (frames == NULL)
        return NULL;
    Py_ssize_t pos = 0, need = 0, discarded = 0;

    while (pos < end) {
        Py_ssize_t start = find(d, end, "8=FIX", 5, pos, end);
        if (start < 0) {
            /* keep a tail that could be the start of "8=FIX" */
            Py_ssize_t keep = end - pos < 4 ? end - pos : 4;
            for (; keep > 0; keep--) {
                if (memcmp(d + end - keep, "8=FIX", (size_t)keep) == 0)
                    break;
            }
            discarded += end - pos - keep;
            pos = end - keep;
            break;
        }
        if (start > pos) {
            discarded += start - pos;
            pos = start;
        }
        Py_ssize_t soh1 = find(d, end, "\x01", 1, start, start + MAX_BEGIN_STRING);
        if (soh1 < 0) {
            if (end - start < MAX_BEGIN_STRING)
                break; /* BeginString not complete yet */
            discarded += 2;
            pos = start + 2;
            continue;
        }
        if (!starts(d, end, "9=", 2, soh1 + 1)) {
            if (end - soh1 < 3)
                break; /* BodyLength tag not complete yet */
            if (add_frame(frames, d, start, soh1 + 1, err_header_order) < 0)
                goto error;
            pos = soh1 + 1;
            continue;
        }
        Py_ssize_t soh2 = find(d, end, "\x01", 1, soh1 + 3, soh1 + 4 + MAX_LENGTH_DIGITS);
        if (soh2 < 0) {
            if (end < soh1 + 4 + MAX_LENGTH_DIGITS)
                break; /* BodyLength not complete yet */
            if (add_frame(frames, d, start, soh1 + 3, err_bad_body_length) < 0)
                goto error;
            pos = soh1 + 3;
            continue;
        }
        if (!all_digits(d + soh1 + 3, soh2 - (soh1 + 3))) {
            if (add_frame(frames, d, start, soh2 + 1, err_bad_body_length) < 0)
                goto error;
            pos = soh2 + 1;
            continue;
        }
        long long body_length = 0; /* at most 12 digits: no overflow */
        for (Py_ssize_t i = soh1 + 3; i < soh2; i++)
            body_length = body_length * 10 + (d[i] - '0');
        if (body_length > max_size) {
            if (add_frame(frames, d, start, soh2 + 1, err_too_large) < 0)
                goto error;
            pos = soh2 + 1;
            continue;
        }
        long long trailer_ll = (long long)soh2 + 1 + body_length;
        long long frame_end_ll = trailer_ll + TRAILER_SIZE;
        if (frame_end_ll > (long long)end) {
            need = (Py_ssize_t)(frame_end_ll - start);
            break; /* body not complete yet */
        }
        Py_ssize_t trailer = (Py_ssize_t)trailer_ll;
        Py_ssize_t frame_end = (Py_ssize_t)frame_end_ll;
        /* here start < trailer and frame_end <= end */
        int ok;
        if (validate < 0 && (validate = PyObject_IsTrue(args[2])) < 0)
            goto error;
        if (validate) {
            unsigned int sum = 0;
            const unsigned char *u = (const unsigned char *)d;
            for (Py_ssize_t i = start; i < trailer; i++)
                sum += u[i];
            sum &= 0xFF;
            char expect[7] = {'1', '0', '=', (char)('0' + sum / 100), (char)('0' + sum / 10 % 10),
                              (char)('0' + sum % 10), SOH};
            ok = memcmp(d + trailer, expect, 7) == 0;
        }
        else {
            ok = starts(d, end, "10=", 3, trailer) && d[frame_end - 1] == SOH && all_digits(d + trailer + 3, 3);
        }
        if (ok && d[trailer - 1] == SOH) {
            PyObject *error = starts(d, end, "35=", 3, soh2 + 1) ? NULL : err_header_order;
            if (add_frame(frames, d, start, frame_end, error) < 0)
                goto error;
            pos = frame_end;
            continue;
        }
        if (starts(d, end, "10=", 3, trailer) && d[trailer - 1] == SOH && d[frame_end - 1] == SOH) {
            /* the frame lands on its trailer: only the CheckSum is wrong (or not three digits) */
            if (add_frame(frames, d, start, frame_end, err_checksum) < 0)
                goto error;
            pos = frame_end;
            continue;
        }
        /* BodyLength wrong: consume up to the next real trailer, or up to the next message */
        {
            Py_ssize_t body_start = soh2 + 1;
            Py_ssize_t next_begin = find(d, end, "\x01" "8=FIX", 6, body_start, end);
            Py_ssize_t t = find(d, end, "\x01" "10=", 4, body_start, end);
            Py_ssize_t stop_at = -1;
            if (t >= 0 && (next_begin < 0 || t < next_begin)) {
                Py_ssize_t stop = find(d, end, "\x01", 1, t + 4, end);
                if (stop >= 0 && (next_begin < 0 || stop <= next_begin))
                    stop_at = stop + 1;
            }
            if (stop_at < 0)
                stop_at = next_begin >= 0 ? next_begin + 1 : body_start;
            if (add_frame(frames, d, start, stop_at, err_body_length) < 0)
                goto error;
            pos = stop_at;
        }
    }
    return Py_BuildValue("(Nnnn)", frames, pos, need, discarded);
error:
    Py_DECREF(frames);
    return NULL;
}

/* ------------------------------------------------------------------ encode's last step */

static PyObject *
finish(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "finish(begin_string, body)");
        return NULL;
    }
    PyObject *begin = args[0], *body = args[1];
    if (!PyBytes_CheckExact(begin) || !PyBytes_CheckExact(body)) {
        if (finish_fallback == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "_speedups.configure() was not called");
            return NULL;
        }
        return PyObject_Vectorcall(finish_fallback, args, 2, NULL);
    }
    Py_ssize_t blen = PyBytes_GET_SIZE(begin), n = PyBytes_GET_SIZE(body);
    char digits[24];
    int ndigits = snprintf(digits, sizeof(digits), "%zd", n);
    Py_ssize_t total = 2 + blen + 3 + ndigits + 1 + n + 7;
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL)
        return NULL;
    char *o = PyBytes_AS_STRING(out);
    char *w = o;
    memcpy(w, "8=", 2);
    w += 2;
    memcpy(w, PyBytes_AS_STRING(begin), (size_t)blen);
    w += blen;
    memcpy(w, "\x01" "9=", 3);
    w += 3;
    memcpy(w, digits, (size_t)ndigits);
    w += ndigits;
    *w++ = SOH;
    memcpy(w, PyBytes_AS_STRING(body), (size_t)n);
    w += n;
    unsigned int sum = 0;
    const unsigned char *u = (const unsigned char *)o;
    for (const unsigned char *p = u; p < (const unsigned char *)w; p++)
        sum += *p;
    sum &= 0xFF;
    w[0] = '1';
    w[1] = '0';
    w[2] = '=';
    w[3] = (char)('0' + sum / 100);
    w[4] = (char)('0' + sum / 10 % 10);
    w[5] = (char)('0' + sum % 10);
    w[6] = SOH;
    return out;
}

/* encode_cached(fields, begin_string, plans, header_tags, keep_body_order) -> bytes or None
 *
 * encode()'s common case in one pass: a message whose fields are all (int, bytes), whose layout
 * (an encoding._Plan, keyed like encode()'s cache by (tags, header_tags, keep_body_order)) is
 * already cached, and whose values hold no SOH.  The plan's ``emit`` tuple gives, in wire order,
 * ``(field index, b"tag=")``.  Returns None for anything else; encode()'s Python path then builds
 * the plan, renders groups or raises exactly as before. */
static PyObject *emit_name = NULL, *begin_index_name = NULL;

static PyObject *
encode_cached(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "encode_cached(fields, begin_string, plans, header_tags, keep_body_order)");
        return NULL;
    }
    PyObject *fields = args[0], *begin = args[1], *plans = args[2];
    if (!PyList_CheckExact(fields) || !PyDict_CheckExact(plans))
        Py_RETURN_NONE;
    Py_ssize_t n = PyList_GET_SIZE(fields);
    PyObject *tags = PyTuple_New(n);
    if (tags == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *field = PyList_GET_ITEM(fields, i);
        if (!PyTuple_CheckExact(field) || PyTuple_GET_SIZE(field) != 2
            || !PyLong_CheckExact(PyTuple_GET_ITEM(field, 0)) || !PyBytes_CheckExact(PyTuple_GET_ITEM(field, 1))) {
            Py_DECREF(tags);
            Py_RETURN_NONE;
        }
        PyObject *tag = PyTuple_GET_ITEM(field, 0);
        Py_INCREF(tag);
        PyTuple_SET_ITEM(tags, i, tag);
    }
    PyObject *key = PyTuple_Pack(3, tags, args[3], args[4]);
    Py_DECREF(tags);
    if (key == NULL)
        return NULL;
    /* hashing the key may run Python code (an odd header_tags or flag): the loops below re-check
     * the list and every field they read */
    PyObject *plan = PyDict_GetItemWithError(plans, key); /* borrowed */
    Py_DECREF(key);
    if (plan == NULL) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    Py_INCREF(plan);
    PyObject *emit = PyObject_GetAttr(plan, emit_name);
    PyObject *result = NULL;
    PyObject *begin_ref = NULL;
    if (emit == NULL)
        goto done;
    if (!PyTuple_CheckExact(emit) || PyList_GET_SIZE(fields) != n)
        goto none;
    if (begin == Py_None) {
        PyObject *bi = PyObject_GetAttr(plan, begin_index_name);
        if (bi == NULL)
            goto done;
        Py_ssize_t b = PyLong_Check(bi) ? PyLong_AsSsize_t(bi) : -1;
        Py_DECREF(bi);
        if (b == -1 && PyErr_Occurred())
            goto done;
        if (b < 0 || b >= PyList_GET_SIZE(fields))
            goto none; /* no BeginString: Python raises */
        PyObject *bfield = PyList_GET_ITEM(fields, b);
        if (!PyTuple_CheckExact(bfield) || PyTuple_GET_SIZE(bfield) != 2)
            goto none;
        begin = PyTuple_GET_ITEM(bfield, 1);
    }
    if (!PyBytes_CheckExact(begin))
        goto none;
    Py_INCREF(begin);
    begin_ref = begin;
    Py_ssize_t m = PyTuple_GET_SIZE(emit);
    Py_ssize_t body_len = 0;
    for (Py_ssize_t k = 0; k < m; k++) {
        PyObject *item = PyTuple_GET_ITEM(emit, k);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2 || !PyLong_CheckExact(PyTuple_GET_ITEM(item, 0))
            || !PyBytes_CheckExact(PyTuple_GET_ITEM(item, 1)))
            goto none;
        Py_ssize_t idx = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0));
        if (idx == -1 && PyErr_Occurred())
            goto done;
        if (idx < 0 || idx >= PyList_GET_SIZE(fields))
            goto none;
        PyObject *field = PyList_GET_ITEM(fields, idx);
        /* re-checked: a collection triggered by the allocations above may have run Python code */
        if (!PyTuple_CheckExact(field) || PyTuple_GET_SIZE(field) != 2 || !PyBytes_CheckExact(PyTuple_GET_ITEM(field, 1)))
            goto none;
        PyObject *value = PyTuple_GET_ITEM(field, 1);
        Py_ssize_t vlen = PyBytes_GET_SIZE(value);
        if (memchr(PyBytes_AS_STRING(value), SOH, (size_t)vlen) != NULL)
            goto none; /* SOH in a value: Python accepts it for data fields, rejects it otherwise */
        body_len += PyBytes_GET_SIZE(PyTuple_GET_ITEM(item, 1)) + vlen + 1;
    }
    {
        Py_ssize_t blen = PyBytes_GET_SIZE(begin);
        char digits[24];
        int ndigits = snprintf(digits, sizeof(digits), "%zd", body_len);
        Py_ssize_t total = 2 + blen + 3 + ndigits + 1 + body_len + 7;
        result = PyBytes_FromStringAndSize(NULL, total);
        if (result == NULL)
            goto done;
        char *o = PyBytes_AS_STRING(result);
        char *w = o;
        memcpy(w, "8=", 2);
        w += 2;
        memcpy(w, PyBytes_AS_STRING(begin), (size_t)blen);
        w += blen;
        memcpy(w, "\x01" "9=", 3);
        w += 3;
        memcpy(w, digits, (size_t)ndigits);
        w += ndigits;
        *w++ = SOH;
        for (Py_ssize_t k = 0; k < m; k++) {
            PyObject *item = PyTuple_GET_ITEM(emit, k);
            PyObject *prefix = PyTuple_GET_ITEM(item, 1);
            Py_ssize_t idx = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0)); /* checked above */
            PyObject *value = PyTuple_GET_ITEM(PyList_GET_ITEM(fields, idx), 1);
            memcpy(w, PyBytes_AS_STRING(prefix), (size_t)PyBytes_GET_SIZE(prefix));
            w += PyBytes_GET_SIZE(prefix);
            memcpy(w, PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value));
            w += PyBytes_GET_SIZE(value);
            *w++ = SOH;
        }
        unsigned int sum = 0;
        for (const unsigned char *p = (const unsigned char *)o; p < (const unsigned char *)w; p++)
            sum += *p;
        sum &= 0xFF;
        w[0] = '1';
        w[1] = '0';
        w[2] = '=';
        w[3] = (char)('0' + sum / 100);
        w[4] = (char)('0' + sum / 10 % 10);
        w[5] = (char)('0' + sum % 10);
        w[6] = SOH;
        assert(w + 7 == o + total);
    }
    goto done;
none:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(begin_ref);
    Py_XDECREF(emit);
    Py_DECREF(plan);
    return result;
}

/* ------------------------------------------------------------------ validator happy path */

/* Value checks the C code knows, by identity of the Python function (see configure()). */
enum { CK_NONE = 0, CK_INT, CK_NON_NEG_INT, CK_POS_INT, CK_FLOAT, CK_CHAR, CK_BOOLEAN, CK_UTC_TIMESTAMP,
       CK_UTC_TIME_ONLY, CK_DATE, CK_COUNT };
static PyObject *check_funcs[CK_COUNT];

static int
month_day_ok(const char *v) /* v[0:4] is MMDD, digits already checked */
{
    int m = (v[0] - '0') * 10 + (v[1] - '0');
    int dd = (v[2] - '0') * 10 + (v[3] - '0');
    return m >= 1 && m <= 12 && dd >= 1 && dd <= 31;
}

static int
hour_minute_ok(const char *v) /* HH:MM, digits already checked */
{
    int h = (v[0] - '0') * 10 + (v[1] - '0');
    int m = (v[3] - '0') * 10 + (v[4] - '0');
    return h <= 23 && m <= 59;
}

/* formats.py's ``_ZERO_DIGITS`` shapes: fixed chars at given places, digits elsewhere, and an
 * optional fraction ``.d`` to ``.ddddddddd`` after ``base`` chars */
static int
shape_ok(const char *v, Py_ssize_t n, const char *shape, Py_ssize_t base)
{
    if (n < base)
        return 0;
    for (Py_ssize_t i = 0; i < base; i++) {
        if (shape[i] == '0') {
            if ((unsigned char)(v[i] - '0') >= 10)
                return 0;
        }
        else if (v[i] != shape[i]) {
            return 0;
        }
    }
    if (n == base)
        return 1;
    Py_ssize_t frac = n - base - 1;
    return v[base] == '.' && frac >= 1 && frac <= 9 && all_digits(v + base + 1, frac);
}

static int
two_digits_le_60(const char *v)
{
    /* bytes comparison v[0:2] <= b"60" on two digits */
    return (v[0] < '6') || (v[0] == '6' && v[1] <= '0');
}

/* 1: the check passes, 0: it fails, -1: error */
static int
run_check(PyObject *check, PyObject *value_obj)
{
    const char *v = PyBytes_AS_STRING(value_obj);
    Py_ssize_t n = PyBytes_GET_SIZE(value_obj);
    int kind = CK_NONE;
    for (int k = 1; k < CK_COUNT; k++) {
        if (check_funcs[k] == check) {
            kind = k;
            break;
        }
    }
    switch (kind) {
    case CK_INT:
        if (all_digits(v, n))
            return 1;
        return n >= 1 && v[0] == '-' && all_digits(v + 1, n - 1);
    case CK_NON_NEG_INT:
        return all_digits(v, n);
    case CK_POS_INT:
        return all_digits(v, n) && v[0] != '0';
    case CK_FLOAT: {
        Py_ssize_t dots = 0, minus = 0, others = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            char c = v[i];
            if ((unsigned char)(c - '0') < 10)
                continue;
            if (c == '.')
                dots++;
            else if (c == '-')
                minus++;
            else
                others++;
        }
        if (n == 0 || others)
            return 0;
        if (dots == 0 && minus == 0)
            return 1;
        /* formats.is_float: the non-digits, in order, must be exactly ".", "-" or "-." */
        if (dots == 1 && minus == 0)
            return n > 1;
        if (dots == 0 && minus == 1)
            return v[0] == '-' && n > 1;
        if (dots == 1 && minus == 1) {
            /* rest == b"-." means the '-' comes before the '.' */
            const char *m = memchr(v, '-', (size_t)n);
            const char *dot = memchr(v, '.', (size_t)n);
            return m < dot && v[0] == '-' && n > 2;
        }
        return 0;
    }
    case CK_CHAR:
        return n == 1;
    case CK_BOOLEAN:
        return n == 1 && (v[0] == 'Y' || v[0] == 'N');
    case CK_UTC_TIMESTAMP:
        return shape_ok(v, n, "00000000-00:00:00", 17) && month_day_ok(v + 4) && hour_minute_ok(v + 9)
               && two_digits_le_60(v + 15);
    case CK_UTC_TIME_ONLY:
        return shape_ok(v, n, "00:00:00", 8) && hour_minute_ok(v) && two_digits_le_60(v + 6);
    case CK_DATE:
        return n == 8 && all_digits(v, 8) && month_day_ok(v + 4);
    default: {
        PyObject *r = PyObject_CallOneArg(check, value_obj);
        if (r == NULL)
            return -1;
        int ok = PyObject_IsTrue(r);
        Py_DECREF(r);
        return ok;
    }
    }
}

#define SEEN_BITMAP 2048
#define MAX_FAST_FIELDS 512

static PyObject *
fast_valid(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    /* fast_valid(fields, info, required): True when Validator.validate would return [] for
     * sure (a flat message whose every field the MsgType defines, in section order, no
     * duplicate, every value present and well formed, the required tags there, CheckSum
     * last); None whenever anything needs a closer look, which the Python validator gives. */
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "fast_valid(fields, info, required)");
        return NULL;
    }
    PyObject *fields = args[0], *info = args[1], *required = args[2];
    if (!PyList_CheckExact(fields) || !PyDict_CheckExact(info) || !PyTuple_CheckExact(required))
        Py_RETURN_NONE;
    Py_ssize_t n = PyList_GET_SIZE(fields);
    if (n < 3 || n > MAX_FAST_FIELDS)
        Py_RETURN_NONE;
    uint8_t seen[SEEN_BITMAP / 8];
    memset(seen, 0, sizeof(seen));
    long big[MAX_FAST_FIELDS];
    Py_ssize_t nbig = 0;
    long section = 0;
    long last_tag = -1;
    static const long first_tags[3] = {8, 9, 35};
    /* A check may be Python code: hold references to what we read while it runs, and re-read
     * the list size each round. */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_GET_SIZE(fields) != n)
            Py_RETURN_NONE;
        PyObject *field = PyList_GET_ITEM(fields, i);
        if (!PyTuple_CheckExact(field) || PyTuple_GET_SIZE(field) != 2)
            Py_RETURN_NONE;
        PyObject *tag_obj = PyTuple_GET_ITEM(field, 0), *value = PyTuple_GET_ITEM(field, 1);
        if (!PyLong_CheckExact(tag_obj) || !PyBytes_CheckExact(value))
            Py_RETURN_NONE;
        int overflow = 0;
        long tag = PyLong_AsLongAndOverflow(tag_obj, &overflow);
        if (tag == -1 && PyErr_Occurred())
            return NULL;
        if (overflow || tag < 0)
            Py_RETURN_NONE;
        if (i < 3 && tag != first_tags[i])
            Py_RETURN_NONE;
        /* duplicates */
        if (tag < SEEN_BITMAP) {
            uint8_t bit = (uint8_t)(1u << (tag & 7));
            if (seen[tag >> 3] & bit)
                Py_RETURN_NONE;
            seen[tag >> 3] |= bit;
        }
        else {
            for (Py_ssize_t j = 0; j < nbig; j++) {
                if (big[j] == tag)
                    Py_RETURN_NONE;
            }
            big[nbig++] = tag; /* nbig < n <= MAX_FAST_FIELDS */
        }
        last_tag = tag;
        PyObject *entry = PyDict_GetItemWithError(info, tag_obj); /* borrowed */
        if (entry == NULL) {
            if (PyErr_Occurred())
                return NULL;
            Py_RETURN_NONE; /* a field the message does not define: Python decides */
        }
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 5)
            Py_RETURN_NONE;
        PyObject *kind_obj = PyTuple_GET_ITEM(entry, 0), *check = PyTuple_GET_ITEM(entry, 1),
                 *values = PyTuple_GET_ITEM(entry, 2), *multi = PyTuple_GET_ITEM(entry, 3),
                 *group = PyTuple_GET_ITEM(entry, 4);
        if (group != Py_None || multi != Py_False || !PyLong_CheckExact(kind_obj))
            Py_RETURN_NONE;
        long kind = PyLong_AsLongAndOverflow(kind_obj, &overflow);
        if (kind == -1 && PyErr_Occurred())
            return NULL;
        if (overflow || kind < section)
            Py_RETURN_NONE; /* out of order */
        section = kind;
        if (PyBytes_GET_SIZE(value) == 0)
            Py_RETURN_NONE; /* no value */
        if (values != Py_None) {
            if (!PyFrozenSet_CheckExact(values))
                Py_RETURN_NONE;
            int in = PySet_Contains(values, value); /* nothing borrowed is used after this */
            if (in < 0)
                return NULL;
            if (!in)
                Py_RETURN_NONE;
        }
        else if (check != Py_None) {
            Py_INCREF(field); /* keeps value alive */
            Py_INCREF(entry); /* keeps check alive */
            int ok = run_check(check, value);
            Py_DECREF(entry);
            Py_DECREF(field);
            if (ok < 0)
                return NULL;
            if (!ok)
                Py_RETURN_NONE;
        }
    }
    if (last_tag != 10)
        Py_RETURN_NONE; /* CheckSum not last: Python decides */
    Py_ssize_t nreq = PyTuple_GET_SIZE(required);
    for (Py_ssize_t r = 0; r < nreq; r++) {
        PyObject *t = PyTuple_GET_ITEM(required, r);
        if (!PyLong_CheckExact(t))
            Py_RETURN_NONE;
        int overflow = 0;
        long tag = PyLong_AsLongAndOverflow(t, &overflow);
        if (tag == -1 && PyErr_Occurred())
            return NULL;
        if (overflow || tag < 0)
            Py_RETURN_NONE;
        int present = 0;
        if (tag < SEEN_BITMAP) {
            present = (seen[tag >> 3] >> (tag & 7)) & 1;
        }
        else {
            for (Py_ssize_t j = 0; j < nbig; j++) {
                if (big[j] == tag) {
                    present = 1;
                    break;
                }
            }
        }
        if (!present)
            Py_RETURN_NONE;
    }
    Py_RETURN_TRUE;
}

/* ------------------------------------------------------------------ FixMessage.new / fill_header */

static PyObject *
new_fields(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_CheckExact(args[0]) || !PyTuple_CheckExact(args[1]))
        Py_RETURN_NONE;
    PyObject *fields = args[1];
    Py_ssize_t n = PyTuple_GET_SIZE(fields);
    for (Py_ssize_t i = 0; i < n; i++) { /* only the common case: (tag, bytes | str) pairs */
        PyObject *field = PyTuple_GET_ITEM(fields, i);
        if (!PyTuple_CheckExact(field) || PyTuple_GET_SIZE(field) != 2)
            Py_RETURN_NONE;
        PyObject *value = PyTuple_GET_ITEM(field, 1);
        if (!PyBytes_CheckExact(value) && !PyUnicode_CheckExact(value))
            Py_RETURN_NONE;
    }
    PyObject *out = PyList_New(n + 1); /* items start NULL: Py_DECREF(out) is safe half-filled */
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) { /* the values first, as the Python twin does */
        PyObject *field = PyTuple_GET_ITEM(fields, i);
        PyObject *value = PyTuple_GET_ITEM(field, 1);
        if (PyBytes_CheckExact(value)) {
            Py_INCREF(field); /* (tag, bytes): the caller's tuple as it is */
            PyList_SET_ITEM(out, i + 1, field);
            continue;
        }
        PyObject *encoded = PyUnicode_AsUTF8String(value);
        if (encoded == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyObject *pair = PyTuple_Pack(2, PyTuple_GET_ITEM(field, 0), encoded);
        Py_DECREF(encoded);
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i + 1, pair);
    }
    PyObject *msg_type = PyUnicode_AsASCIIString(args[0]);
    if (msg_type == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    PyObject *tag35 = tag_object(35);
    if (tag35 == NULL) {
        Py_DECREF(msg_type);
        Py_DECREF(out);
        return NULL;
    }
    PyObject *first = PyTuple_Pack(2, tag35, msg_type);
    Py_DECREF(tag35);
    Py_DECREF(msg_type);
    if (first == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    PyList_SET_ITEM(out, 0, first);
    return out;
}

static PyObject *
has_any_tag(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[0]) || !PyFrozenSet_CheckExact(args[1]))
        Py_RETURN_NONE;
    PyObject *fields = args[0], *tags = args[1];
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(fields); i++) {
        PyObject *field = PyList_GET_ITEM(fields, i);
        if (!PyTuple_CheckExact(field) || PyTuple_GET_SIZE(field) < 1
            || !PyLong_CheckExact(PyTuple_GET_ITEM(field, 0)))
            Py_RETURN_NONE;
        int found = PySet_Contains(tags, PyTuple_GET_ITEM(field, 0));
        if (found < 0)
            return NULL;
        if (found)
            Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

/* ------------------------------------------------------------------ UTCTimestamp <-> epoch seconds */

static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void
civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

static int
read_digits(const char *p, int n, long long *out)
{
    long long v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

static PyObject *
utc_epoch(PyObject *self, PyObject *raw)
{
    if (!PyBytes_CheckExact(raw))
        Py_RETURN_NONE;
    Py_ssize_t n = PyBytes_GET_SIZE(raw);
    const char *s = PyBytes_AS_STRING(raw);
    if ((n != 17 && n != 21 && n != 24 && n != 27) || s[8] != '-' || s[11] != ':' || s[14] != ':')
        Py_RETURN_NONE;
    long long year, month, day, hour, minute, second, micros = 0;
    if (!read_digits(s, 4, &year) || !read_digits(s + 4, 2, &month) || !read_digits(s + 6, 2, &day)
        || !read_digits(s + 9, 2, &hour) || !read_digits(s + 12, 2, &minute) || !read_digits(s + 15, 2, &second))
        Py_RETURN_NONE;
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60)
        Py_RETURN_NONE;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > dim[month - 1] + (month == 2 && leap))
        Py_RETURN_NONE;
    if (second == 60) /* leap second: FIX allows 60 */
        second = 59;
    if (n > 17) {
        long long frac;
        if (s[17] != '.' || !read_digits(s + 18, (int)(n - 18), &frac))
            Py_RETURN_NONE;
        if (n == 21)
            micros = frac * 1000;
        else if (n == 24)
            micros = frac;
        else
            micros = frac / 1000; /* nanoseconds: the first six digits */
    }
    long long secs = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hour * 3600 + minute * 60 + second;
    if (n == 17)
        return PyFloat_FromDouble((double)secs);
    /* (secs * 10**6 + micros) / 10**6 as Python computes it: exact only while both fit a double */
    if (secs <= -9000000000LL || secs >= 9000000000LL)
        Py_RETURN_NONE;
    return PyFloat_FromDouble((double)(secs * 1000000 + micros) / 1e6);
}

static PyObject *
format_timestamp(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyFloat_CheckExact(args[0]) || !PyLong_CheckExact(args[1]))
        Py_RETURN_NONE;
    long precision = PyLong_AsLong(args[1]);
    if (precision == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    long long units;
    switch (precision) {
    case 0: units = 1; break;
    case 3: units = 1000; break;
    case 6: units = 1000000; break;
    case 9: units = 1000000000; break;
    default: Py_RETURN_NONE;
    }
    double x = PyFloat_AS_DOUBLE(args[0]) * (double)units;
    if (!isfinite(x) || fabs(x) >= 9.0e18)
        Py_RETURN_NONE;
    long long r = (long long)nearbyint(x); /* round half to even, as Python's round() */
    long long whole = r / units, frac = r % units;
    if (frac < 0) { /* floor division, as divmod */
        frac += units;
        whole -= 1;
    }
    long long days = whole / 86400, rem = whole % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    long long year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    if (year < 1 || year > 9999)
        Py_RETURN_NONE;
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%04lld%02u%02u-%02lld:%02lld:%02lld", year, month, day, rem / 3600,
                       (rem / 60) % 60, rem % 60);
    if (precision == 3)
        len += snprintf(buf + len, sizeof buf - len, ".%03lld", frac);
    else if (precision == 6)
        len += snprintf(buf + len, sizeof buf - len, ".%06lld", frac);
    else if (precision == 9)
        len += snprintf(buf + len, sizeof buf - len, ".%09lld", frac);
    return PyBytes_FromStringAndSize(buf, len);
}

/* ------------------------------------------------------------------ MessageCore (FixMessage's base) */

static PyObject *py_build_index = NULL, *py_get_raw = NULL; /* the pure-Python twins */

typedef struct {
    PyObject_HEAD
    PyObject *fields;      /* list of (tag, value) */
    PyObject *index;       /* dict tag -> first value, or NULL/None when not built */
    Py_ssize_t indexed_len; /* len(fields) when index was built */
} MessageCore;

static int
core_traverse(MessageCore *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fields);
    Py_VISIT(self->index);
    return 0;
}

static int
core_clear(MessageCore *self)
{
    Py_CLEAR(self->fields);
    Py_CLEAR(self->index);
    return 0;
}

static void
core_dealloc(MessageCore *self)
{
    PyObject_GC_UnTrack(self);
    core_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The index, built when missing or stale; a new reference, or NULL with an exception. */
static PyObject *
core_index(MessageCore *self)
{
    PyObject *fields = self->fields;
    if (fields == NULL) {
        PyErr_SetString(PyExc_AttributeError, "fields");
        return NULL;
    }
    PyObject *index = self->index;
    if (index != NULL && index != Py_None && PyList_CheckExact(fields) && self->indexed_len == PyList_GET_SIZE(fields)) {
        Py_INCREF(index);
        return index;
    }
    if (py_build_index == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "MessageCore: configure(message_fallbacks=...) was not called");
        return NULL;
    }
    if (!PyList_CheckExact(fields))
        return PyObject_CallOneArg(py_build_index, (PyObject *)self);
    Py_ssize_t n = PyList_GET_SIZE(fields);
    index = PyDict_New();
    if (index == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *field = PyList_GET_ITEM(fields, i);
        if (!PyTuple_CheckExact(field) || PyTuple_GET_SIZE(field) != 2) {
            Py_DECREF(index);
            return PyObject_CallOneArg(py_build_index, (PyObject *)self); /* Python raises as it does */
        }
        PyObject *got = PyDict_SetDefault(index, PyTuple_GET_ITEM(field, 0), PyTuple_GET_ITEM(field, 1));
        if (got == NULL) { /* unhashable tag */
            Py_DECREF(index);
            return NULL;
        }
    }
    Py_XSETREF(self->index, index);
    self->indexed_len = n;
    Py_INCREF(index);
    return index;
}

static PyObject *
core_build_index(MessageCore *self, PyObject *unused)
{
    Py_CLEAR(self->index); /* rebuild even when it looks current, as the Python twin does */
    return core_index(self);
}

static PyObject *
core_field_index(MessageCore *self, PyObject *unused)
{
    return core_index(self);
}

static PyObject *
core_get_raw(MessageCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get_raw() takes from 1 to 2 arguments but %zd were given", nargs);
        return NULL;
    }
    if (nargs < 1 || py_get_raw == NULL)
        goto python;
    PyObject *dflt = nargs == 2 ? args[1] : Py_None;
    if (dflt != Py_None && !PyBytes_CheckExact(dflt))
        goto python;
    PyObject *index = core_index(self);
    if (index == NULL)
        return NULL;
    if (!PyDict_CheckExact(index)) {
        Py_DECREF(index);
        goto python;
    }
    PyObject *value = PyDict_GetItemWithError(index, args[0]); /* borrowed */
    if (value == NULL) {
        Py_DECREF(index);
        if (PyErr_Occurred())
            return NULL;
        Py_INCREF(dflt);
        return dflt;
    }
    if (PyBytes_CheckExact(value)) {
        Py_INCREF(value);
        Py_DECREF(index);
        return value;
    }
    Py_DECREF(index);
python: ;
    /* the Python twin with self first: a group's count, odd values, argument errors */
    PyObject *call[3] = {(PyObject *)self, nargs > 0 ? args[0] : NULL, nargs > 1 ? args[1] : NULL};
    if (py_get_raw == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "MessageCore: configure(message_fallbacks=...) was not called");
        return NULL;
    }
    return PyObject_Vectorcall(py_get_raw, call, (size_t)(nargs + 1), NULL);
}

static PyMemberDef core_members[] = {
    {"fields", T_OBJECT_EX, offsetof(MessageCore, fields), 0, "the (tag, value) pairs in order"},
    {"_index", T_OBJECT, offsetof(MessageCore, index), 0, NULL},
    {"_indexed_len", T_PYSSIZET, offsetof(MessageCore, indexed_len), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyMethodDef core_methods[] = {
    {"get_raw", (PyCFunction)(void (*)(void))core_get_raw, METH_FASTCALL,
     "get_raw(tag, default=None) -> the first value of tag as bytes, or default"},
    {"field_index", (PyCFunction)core_field_index, METH_NOARGS,
     "field_index() -> {tag: first value} (read-only; rebuilt when fields changes length)"},
    {"_build_index", (PyCFunction)core_build_index, METH_NOARGS, "rebuild the tag -> first value index"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject MessageCoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fix_engine.codec._speedups.MessageCore",
    .tp_doc = "The C base of FixMessage: its three slots and its hot lookups.",
    .tp_basicsize = sizeof(MessageCore),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)core_dealloc,
    .tp_traverse = (traverseproc)core_traverse,
    .tp_clear = (inquiry)core_clear,
    .tp_members = core_members,
    .tp_methods = core_methods,
};

/* ------------------------------------------------------------------ configure */

static void
set_ref(PyObject **slot, PyObject *value)
{
    Py_XINCREF(value);
    Py_XSETREF(*slot, value);
}

static PyObject *
configure(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"split_fallback", "data_length_tags", "scan_fallback", "frame_type", "frame_errors",
                             "finish_fallback", "checks", "message_fallbacks", NULL};
    PyObject *sf = NULL, *dlt = NULL, *scan = NULL, *ft = NULL, *errors = NULL, *fin = NULL, *checks = NULL,
             *msg = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$OOOOOOOO", kwlist, &sf, &dlt, &scan, &ft, &errors, &fin,
                                     &checks, &msg))
        return NULL;
    if (msg) {
        /* (build_index, get_raw): FixMessage's pure-Python twins */
        if (!PyTuple_Check(msg) || PyTuple_GET_SIZE(msg) != 2) {
            PyErr_SetString(PyExc_TypeError, "message_fallbacks must be a 2-tuple");
            return NULL;
        }
        set_ref(&py_build_index, PyTuple_GET_ITEM(msg, 0));
        set_ref(&py_get_raw, PyTuple_GET_ITEM(msg, 1));
    }
    if (sf)
        set_ref(&split_fallback, sf);
    if (dlt)
        set_ref(&default_length_tags, dlt);
    if (scan)
        set_ref(&scan_fallback, scan);
    if (ft)
        set_ref(&frame_type, ft);
    if (errors) {
        /* (CHECKSUM, BODY_LENGTH, BAD_BODY_LENGTH, HEADER_ORDER, TOO_LARGE) */
        if (!PyTuple_Check(errors) || PyTuple_GET_SIZE(errors) != 5) {
            PyErr_SetString(PyExc_TypeError, "frame_errors must be a 5-tuple");
            return NULL;
        }
        set_ref(&err_checksum, PyTuple_GET_ITEM(errors, 0));
        set_ref(&err_body_length, PyTuple_GET_ITEM(errors, 1));
        set_ref(&err_bad_body_length, PyTuple_GET_ITEM(errors, 2));
        set_ref(&err_header_order, PyTuple_GET_ITEM(errors, 3));
        set_ref(&err_too_large, PyTuple_GET_ITEM(errors, 4));
    }
    if (fin)
        set_ref(&finish_fallback, fin);
    if (checks) {
        /* {"is_int": fn, ...}: the formats.py functions whose C twins run_check() implements */
        static const char *names[CK_COUNT] = {NULL, "is_int", "is_non_negative_int", "is_positive_int", "is_float",
                                              "is_char", "is_boolean", "is_utc_timestamp", "is_utc_time_only",
                                              "is_date"};
        if (!PyDict_Check(checks)) {
            PyErr_SetString(PyExc_TypeError, "checks must be a dict");
            return NULL;
        }
        for (int k = 1; k < CK_COUNT; k++) {
            PyObject *fn = PyDict_GetItemString(checks, names[k]); /* borrowed */
            set_ref(&check_funcs[k], fn);
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"split_fields", (PyCFunction)(void (*)(void))split_fields, METH_FASTCALL,
     "split_fields(buf, data_length_tags=DATA_LENGTH_TAGS) -> [(tag, value), ...] (C fast path)"},
    {"scan_frames", (PyCFunction)(void (*)(void))scan_frames, METH_FASTCALL,
     "scan_frames(buf, max_message_size, validate_checksum) -> (frames, pos, need, discarded)"},
    {"finish", (PyCFunction)(void (*)(void))finish, METH_FASTCALL,
     "finish(begin_string, body) -> the message with BeginString, BodyLength and CheckSum"},
    {"encode_cached", (PyCFunction)(void (*)(void))encode_cached, METH_FASTCALL,
     "encode_cached(fields, begin_string, plans, header_tags, keep_body_order) -> bytes, or None"},
    {"fast_valid", (PyCFunction)(void (*)(void))fast_valid, METH_FASTCALL,
     "fast_valid(fields, info, required) -> True if valid for sure, None if Python must decide"},
    {"new_fields", (PyCFunction)(void (*)(void))new_fields, METH_FASTCALL,
     "new_fields(msg_type, fields) -> the field list of FixMessage.new, or None for unusual values"},
    {"has_any_tag", (PyCFunction)(void (*)(void))has_any_tag, METH_FASTCALL,
     "has_any_tag(fields, tags) -> whether a field's tag is in the frozenset, or None"},
    {"utc_epoch", (PyCFunction)utc_epoch, METH_O,
     "utc_epoch(raw) -> epoch seconds of a UTCTimestamp, or None when Python must decide"},
    {"format_timestamp", (PyCFunction)(void (*)(void))format_timestamp, METH_FASTCALL,
     "format_timestamp(epoch_seconds, precision) -> UTCTimestamp bytes, or None"},
    {"configure", (PyCFunction)(void (*)(void))configure, METH_VARARGS | METH_KEYWORDS,
     "configure(**fallbacks): register the pure-Python twins and constants"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "fix_engine.codec._speedups",
    "Optional C accelerator for fix_engine.codec (pure-Python fallback when absent).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    emit_name = PyUnicode_InternFromString("emit");
    begin_index_name = PyUnicode_InternFromString("begin_index");
    if (emit_name == NULL || begin_index_name == NULL)
        return NULL;
    if (PyType_Ready(&MessageCoreType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&MessageCoreType);
    if (PyModule_AddObject(m, "MessageCore", (PyObject *)&MessageCoreType) < 0) {
        Py_DECREF(&MessageCoreType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
#include "reviews.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/tgz.h"

static int push(reviews *r, const char *text, size_t n, int label)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        char **nt = realloc(r->text, cap * sizeof *nt);
        if (!nt)
            return -1;
        r->text = nt;
        int *nl = realloc(r->label, cap * sizeof *nl);
        if (!nl)
            return -1;
        r->label = nl;
        r->cap = cap;
    }
    char *s = malloc(n + 1);
    if (!s)
        return -1;
    memcpy(s, text, n);
    s[n] = 0;
    r->text[r->n] = s;
    r->label[r->n++] = label;
    return 0;
}

/* Walks the lines of a file; fn parses one (without its newline). A file
 * without a record is an error. */
static int each_line(reviews *r, const char *path, char *err, size_t errlen,
                     int (*fn)(reviews *, char *, size_t, const char *, size_t, char *, size_t))
{
    size_t n;
    char *buf = read_file_gz(path, &n, err, errlen);
    if (!buf)
        return -1;
    size_t lineno = 0, before = r->n;
    int rc = 0;
    for (char *line = buf; !rc && line < buf + n;) {
        char *nl = memchr(line, '\n', (size_t)(buf + n - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(buf + n - line);
        lineno++;
        if (len && line[len - 1] == '\r')
            len--;
        line[len] = 0;
        int blank = 1;
        for (size_t i = 0; i < len; i++)
            blank &= isspace((unsigned char)line[i]) != 0;
        if (!blank && strlen(line) != len) {
            snprintf(err, errlen, "%s:%zu: a NUL byte in the line", path, lineno);
            rc = -1;
        } else if (!blank) {
            rc = fn(r, line, len, path, lineno, err, errlen);
        }
        line = nl ? nl + 1 : buf + n;
    }
    free(buf);
    if (!rc && r->n == before) {
        snprintf(err, errlen, "%s: no records (%s)", path,
                 n ? "only blank lines" : "the file is empty");
        rc = -1;
    }
    return rc;
}

static int blank_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 1 when [s, s + n) is a whole number in [lo, hi]. */
static int whole_in(const char *s, size_t n, long lo, long hi)
{
    long v = 0;
    if (n == 0 || n > 9)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi;
}

static int imdb_line(reviews *r, char *line, size_t len, const char *path, size_t lineno,
                     char *err, size_t errlen)
{
    /* label<TAB>id<TAB>rating<TAB>text: exactly four fields (the text's own
     * tabs were made spaces when the file was made) */
    char *f[4];
    size_t nf = 0;
    f[nf++] = line;
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\t' && nf++ < 4)
            f[nf - 1] = line + i + 1;
    if (nf != 4) {
        snprintf(err, errlen, "%s:%zu: expected label<TAB>id<TAB>rating<TAB>text, found %zu "
                 "field%s", path, lineno, nf, nf == 1 ? "" : "s");
        return -1;
    }
    const char *what = NULL;
    if (f[1] - f[0] != 2 || (line[0] != '0' && line[0] != '1'))
        what = "the label must be 0 or 1";
    else if (!whole_in(f[1], (size_t)(f[2] - f[1] - 1), 0, 999999999))
        what = "the id must be a whole number";
    else if (!whole_in(f[2], (size_t)(f[3] - f[2] - 1), 1, 10))
        what = "the rating must be a whole number in 1..10";
    else if (blank_text(f[3], len - (size_t)(f[3] - line)))
        what = "the review text is empty";
    if (what) {
        snprintf(err, errlen, "%s:%zu: %s (expected label<TAB>id<TAB>rating<TAB>text)", path,
                 lineno, what);
        return -1;
    }
    if (push(r, f[3], len - (size_t)(f[3] - line), line[0] == '1')) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    return 0;
}

static int uci_line(reviews *r, char *line, size_t len, const char *path, size_t lineno,
                    char *err, size_t errlen)
{
    /* sentence<TAB>label, the LAST tab: sentences may contain tabs */
    char *tab = NULL;
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\t')
            tab = line + i;
    const char *lab = tab ? tab + 1 : NULL;
    while (lab && *lab == ' ')
        lab++;
    if (!tab || (lab[0] != '0' && lab[0] != '1') || !blank_text(lab + 1, strlen(lab + 1))) {
        snprintf(err, errlen, "%s:%zu: expected sentence<TAB>0 or 1", path, lineno);
        return -1;
    }
    if (blank_text(line, (size_t)(tab - line))) {
        snprintf(err, errlen, "%s:%zu: the sentence is empty (expected sentence<TAB>0 or 1)",
                 path, lineno);
        return -1;
    }
    if (push(r, line, (size_t)(tab - line), lab[0] == '1')) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    return 0;
}

int reviews_load_imdb(reviews *r, const char *path, char *err, size_t errlen)
{
    return each_line(r, path, err, errlen, imdb_line);
}

int reviews_load_uci(reviews *r, const char *path, char *err, size_t errlen)
{
    return each_line(r, path, err, errlen, uci_line);
}

void reviews_free(reviews *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->text[i]);
    free(r->text);
    free(r->label);
    memset(r, 0, sizeof *r);
}

static int word_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

size_t tokenize(const char *text, void (*fn)(void *user, const char *tok), void *user)
{
    size_t count = 0;
    const unsigned char *p = (const unsigned char *)text;
    char tok[64];
    while (*p) {
        if (*p == '<') { /* an HTML tag such as <br />: skip to '>' */
            const unsigned char *q = p + 1;
            while (*q && *q != '>' && *q != '<' && q - p < 32)
                q++;
            if (*q == '>' && (isalpha(p[1]) || p[1] == '/')) {
                p = q + 1;
                continue;
            }
        }
        if (*p == '!' || *p == '?') {
            tok[0] = (char)*p++;
            tok[1] = 0;
            fn(user, tok);
            count++;
            continue;
        }
        if (!word_byte(*p)) {
            p++;
            continue;
        }
        size_t n = 0;
        while (word_byte(*p) || (*p == '\'' && word_byte(p[1]) && n > 0)) {
            if (n + 1 < sizeof tok)
                tok[n++] = (char)tolower(*p);
            p++;
        }
        tok[n] = 0;
        fn(user, tok);
        count++;
    }
    return count;
}

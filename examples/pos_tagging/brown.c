/* SPDX-License-Identifier: Apache-2.0 */
#define _DEFAULT_SOURCE /* strdup, DT_* */
#include "brown.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/tgz.h"

const char *const BROWN_TAGS[BROWN_NUM_TAGS] = {".",   "ADJ",  "ADP", "ADV",  "CONJ", "DET",
                                                "NOUN", "NUM", "PRON", "PRT", "VERB", "X"};
enum { TAG_X = 11 };

/* Open-addressing hash of Brown tag -> universal id. */
struct brown_map {
    size_t cap, count;
    char **key;
    int *val;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int brown_map_tag(const brown_map *m, const char *tag)
{
    for (size_t i = fnv(tag) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->key[i])
            return TAG_X;
        if (!strcmp(m->key[i], tag))
            return m->val[i];
    }
}

size_t brown_map_size(const brown_map *m)
{
    return m->count;
}

void brown_map_free(brown_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->key[i]);
    free(m->key);
    free(m->val);
    free(m);
}

brown_map *brown_map_load(const char *path, char *err, size_t errlen)
{
    size_t n;
    char *text = read_file_gz(path, &n, err, errlen);
    if (!text)
        return NULL;
    brown_map *m = calloc(1, sizeof *m);
    if (m) {
        m->cap = 4096;
        m->key = calloc(m->cap, sizeof *m->key);
        m->val = calloc(m->cap, sizeof *m->val);
    }
    if (!m || !m->key || !m->val) {
        snprintf(err, errlen, "out of memory");
        brown_map_free(m);
        free(text);
        return NULL;
    }
    size_t count = 0, lineno = 0;
    for (char *line = text, *next; line && line < text + n; line = next) {
        next = memchr(line, '\n', (size_t)(text + n - line));
        size_t len = (size_t)((next ? next : text + n) - line);
        if (next)
            *next++ = 0;
        lineno++;
        if (len && line[len - 1] == '\r')
            line[--len] = 0;
        if (!len)
            continue;
        if (strlen(line) != len) {
            snprintf(err, errlen, "%s:%zu: a NUL byte in the line", path, lineno);
            goto fail;
        }
        char *tab = strchr(line, '\t');
        if (!tab || tab == line) {
            snprintf(err, errlen, "%s:%zu: expected BROWN_TAG<TAB>UNIVERSAL_TAG%s", path, lineno,
                     tab ? " (the Brown tag is empty)" : "");
            goto fail;
        }
        *tab = 0;
        char *u = tab + 1;
        size_t ul = strcspn(u, "\t "), rest = ul + strspn(u + ul, "\t ");
        if (u[rest]) { /* only the two fields */
            snprintf(err, errlen, "%s:%zu: expected BROWN_TAG<TAB>UNIVERSAL_TAG, found more after "
                     "\"%.*s\"", path, lineno, (int)ul, u);
            goto fail;
        }
        u[ul] = 0;
        for (const char *c = line; *c; c++)
            if (isspace((unsigned char)*c) || islower((unsigned char)*c)) {
                /* the corpus' tags are looked up upper-cased: this one could never match */
                snprintf(err, errlen, "%s:%zu: \"%s\" is not a Brown tag (%s)", path, lineno,
                         line, islower((unsigned char)*c) ? "lower-case" : "white space");
                goto fail;
            }
        int id = -1;
        for (int k = 0; k < BROWN_NUM_TAGS; k++)
            if (!strcmp(u, BROWN_TAGS[k]))
                id = k;
        if (id < 0) {
            snprintf(err, errlen, "%s:%zu: \"%s\" is not a universal tag", path, lineno, u);
            goto fail;
        }
        if (count + 1 > m->cap / 2) {
            snprintf(err, errlen, "%s: more than %zu tags", path, m->cap / 2);
            goto fail;
        }
        size_t i = fnv(line) & (m->cap - 1);
        while (m->key[i] && strcmp(m->key[i], line))
            i = (i + 1) & (m->cap - 1);
        if (m->key[i]) {
            snprintf(err, errlen, "%s:%zu: Brown tag \"%s\" is mapped a second time", path,
                     lineno, line);
            goto fail;
        }
        if (!(m->key[i] = strdup(line))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        m->val[i] = id;
        count++;
    }
    if (count == 0) {
        snprintf(err, errlen, "%s: no BROWN_TAG<TAB>UNIVERSAL_TAG lines (%s)", path,
                 n ? "only blank lines" : "the file is empty");
        goto fail;
    }
    m->count = count;
    free(text);
    return m;
fail:
    free(text);
    brown_map_free(m);
    return NULL;
}

static int push_token(brown *b, const char *w, size_t wl, int tag)
{
    if (b->n_tokens == b->cap_tokens) {
        size_t cap = b->cap_tokens ? b->cap_tokens * 2 : 1 << 16;
        char **nw = realloc(b->word, cap * sizeof *nw);
        if (!nw)
            return -1;
        b->word = nw;
        unsigned char *nt = realloc(b->tag, cap);
        if (!nt)
            return -1;
        b->tag = nt;
        b->cap_tokens = cap;
    }
    char *s = malloc(wl + 1);
    if (!s)
        return -1;
    memcpy(s, w, wl);
    s[wl] = 0;
    b->word[b->n_tokens] = s;
    b->tag[b->n_tokens++] = (unsigned char)tag;
    return 0;
}

static int end_sentence(brown *b)
{
    if (b->n_sents + 2 > b->cap_sents) {
        size_t cap = b->cap_sents ? b->cap_sents * 2 : 1 << 12;
        size_t *ns = realloc(b->sent, cap * sizeof *ns);
        if (!ns)
            return -1;
        b->sent = ns;
        b->cap_sents = cap;
    }
    if (b->n_sents == 0)
        b->sent[0] = 0;
    b->sent[++b->n_sents] = b->n_tokens;
    return 0;
}

int brown_parse_text(brown *b, const char *text, size_t n, const brown_map *m)
{
    size_t i = 0;
    char tag[64];
    while (i < n) {
        size_t eol = i;
        while (eol < n && text[eol] != '\n')
            eol++;
        size_t before = b->n_tokens;
        for (size_t p = i; p < eol;) {
            while (p < eol && isspace((unsigned char)text[p]))
                p++;
            if (p >= eol)
                break;
            size_t q = p;
            while (q < eol && !isspace((unsigned char)text[q]))
                q++;
            size_t slash = q;
            for (size_t k = p; k < q; k++)
                if (text[k] == '/')
                    slash = k;
            int id = TAG_X;
            if (slash < q) {
                size_t tl = q - slash - 1;
                if (tl >= sizeof tag)
                    tl = sizeof tag - 1;
                for (size_t k = 0; k < tl; k++)
                    tag[k] = (char)toupper((unsigned char)text[slash + 1 + k]);
                tag[tl] = 0;
                id = brown_map_tag(m, tag);
            }
            if (push_token(b, text + p, slash - p, id))
                return -1;
            p = q;
        }
        if (b->n_tokens > before && end_sentence(b))
            return -1;
        i = eol + 1;
    }
    return 0;
}

static int is_corpus_file(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return strlen(base) == 4 && base[0] == 'c' && base[1] >= 'a' && base[1] <= 'r' &&
           isdigit((unsigned char)base[2]) && isdigit((unsigned char)base[3]);
}

typedef struct member {
    char *name;
    char *data;
    size_t size;
} member;

typedef struct collect {
    member *v;
    size_t n, cap;
} collect;

static int collect_one(void *user, const char *name, const char *data, size_t size)
{
    collect *c = user;
    if (!is_corpus_file(name))
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 512;
        member *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return -2;
        c->v = nv;
        c->cap = cap;
    }
    member *mb = &c->v[c->n];
    mb->name = strdup(name);
    mb->data = malloc(size + 1);
    if (!mb->name || !mb->data) {
        free(mb->name);
        free(mb->data);
        return -2;
    }
    memcpy(mb->data, data, size);
    mb->size = size;
    c->n++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    const char *x = strrchr(((const member *)a)->name, '/'), *y = strrchr(((const member *)b)->name, '/');
    x = x ? x + 1 : ((const member *)a)->name;
    y = y ? y + 1 : ((const member *)b)->name;
    return strcmp(x, y);
}

int brown_load(const char *path, const brown_map *m, brown *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    collect c = {0};
    struct stat sb;
    int rc = 0;
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            return -1;
        }
        struct dirent *e;
        while (!rc && (e = readdir(d))) {
            if (!is_corpus_file(e->d_name))
                continue;
            char full[4096];
            snprintf(full, sizeof full, "%s/%s", path, e->d_name);
            size_t n;
            char *data = read_file_gz(full, &n, err, errlen);
            if (!data) {
                rc = -1;
                break;
            }
            rc = collect_one(&c, e->d_name, data, n);
            free(data);
        }
        closedir(d);
    } else {
        rc = tgz_foreach(path, collect_one, &c, err, errlen);
    }
    if (rc == -2)
        snprintf(err, errlen, "out of memory reading %s", path);
    if (!rc && c.n == 0) {
        snprintf(err, errlen, "%s holds no Brown corpus files (ca01 .. cr09)", path);
        rc = -1;
    }
    if (!rc) {
        qsort(c.v, c.n, sizeof *c.v, by_name);
        for (size_t i = 0; i < c.n && !rc; i++) {
            size_t before = out->n_sents;
            if (brown_parse_text(out, c.v[i].data, c.v[i].size, m)) {
                snprintf(err, errlen, "out of memory parsing %s", c.v[i].name);
                rc = -1;
            } else if (out->n_sents == before) {
                snprintf(err, errlen, "%s: corpus file %s holds no sentences (%zu bytes)", path,
                         c.v[i].name, c.v[i].size);
                rc = -1;
            }
        }
    }
    for (size_t i = 0; i < c.n; i++) {
        free(c.v[i].name);
        free(c.v[i].data);
    }
    free(c.v);
    if (rc) {
        brown_free(out);
        return -1;
    }
    return 0;
}

void brown_free(brown *b)
{
    for (size_t i = 0; i < b->n_tokens; i++)
        free(b->word[i]);
    free(b->word);
    free(b->tag);
    free(b->sent);
    memset(b, 0, sizeof *b);
}

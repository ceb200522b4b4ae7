/* SPDX-License-Identifier: Apache-2.0 */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* "a, b or c" */
static void print_choices(FILE *f, const char *const *c)
{
    for (size_t k = 0; c[k]; k++)
        fprintf(f, "%s%s", k == 0 ? "" : c[k + 1] ? ", " : " or ", c[k]);
}

static int set_value(const char *prog, const ex_opt *o, const char *v)
{
    if (o->type == EX_STRING) {
        *(const char **)o->dst = v;
        return 0;
    }
    if (o->type == EX_CHOICE) {
        for (int k = 0; o->choices[k]; k++)
            if (!strcmp(v, o->choices[k])) {
                *(int *)o->dst = k;
                return 0;
            }
        fprintf(stderr, "%s: %s must be ", prog, o->name);
        print_choices(stderr, o->choices);
        fprintf(stderr, " (got \"%s\")\n", v);
        return -1;
    }
    const int whole = o->type != EX_DOUBLE && o->type != EX_FLOAT;
    char *end = NULL;
    errno = 0;
    const double d = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(d) || !(d >= o->lo && d <= o->hi) ||
        (whole && d != floor(d))) {
        if (whole)
            fprintf(stderr, "%s: %s must be a whole number in [%.0f, %.0f] (got \"%s\")\n",
                    prog, o->name, o->lo, o->hi, v);
        else
            fprintf(stderr, "%s: %s must be a number in [%g, %g] (got \"%s\")\n", prog,
                    o->name, o->lo, o->hi, v);
        return -1;
    }
    switch (o->type) {
    case EX_INT: *(int *)o->dst = (int)d; break;
    case EX_LONG: *(long *)o->dst = (long)d; break;
    case EX_INT64: *(int64_t *)o->dst = (int64_t)d; break;
    case EX_U64: *(uint64_t *)o->dst = (uint64_t)d; break;
    case EX_DOUBLE: *(double *)o->dst = d; break;
    case EX_FLOAT: *(float *)o->dst = (float)d; break;
    default: break;
    }
    return 0;
}

int ex_parse_args(const char *prog, int argc, char **argv, const ex_opt *opts, size_t n,
                  void (*usage)(FILE *))
{
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            usage(stdout);
            exit(0);
        }
        const ex_opt *o = NULL;
        for (size_t k = 0; k < n && !o; k++)
            if (!strcmp(name, opts[k].name))
                o = &opts[k];
        if (!o) {
            fprintf(stderr, "%s: unknown option %s (see --help)\n", prog, name);
            return -1;
        }
        if (o->type == EX_FLAG) {
            *(int *)o->dst = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs a value (see --help)\n", prog, name);
            return -1;
        }
        if (set_value(prog, o, argv[++i]))
            return -1;
    }
    return 0;
}

const char *ex_data_dir(const char *prog, const char *given, const char *needed)
{
    const char *env = getenv(EX_DATA_ENV);
    const char *dir = given                ? given
                      : env && env[0] != 0 ? env
                                           : EX_DEFAULT_DATA;
    const char *from = given        ? "is the one given with --data"
                       : dir == env ? "comes from the environment variable " EX_DATA_ENV
                                    : "is the installed default: neither --data nor " EX_DATA_ENV
                                      " is given";
    size_t n = strlen(dir) + strlen(needed) + 2;
    char *path = malloc(n);
    if (!path) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return NULL;
    }
    snprintf(path, n, "%s/%s", dir, needed);
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        free(path);
        return dir;
    }
    fprintf(stderr,
            "%s: cannot read %s: %s\n"
            "  The data folder %s %s.\n"
            "  The data folder (laid out as librnn's ../shared/data) comes from --data DIR, else\n"
            "  the environment variable %s=DIR, else the installed default %s.\n",
            prog, path, strerror(errno ? errno : ENOENT), dir, from, EX_DATA_ENV,
            EX_DEFAULT_DATA);
    free(path);
    return NULL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The replaceable allocator. Every block librnn allocates comes from here,
 * 64-byte aligned, with a small header recording the size, so that
 * rnn_memory_used() can account for live memory and tests can prove that
 * failed calls leak nothing.
 *
 * The default allocator maps blocks of 1 MiB and more straight from the
 * kernel (mmap) and unmaps them when freed. Through malloc, glibc raises its
 * mmap threshold to the size of each such block freed (up to 32 MiB), after
 * which blocks below it come from the heap, whose holes it rarely returns:
 * training runs whose batches grow (every "ensure" buffer is reallocated at a
 * larger batch) then stay tens of MiB above what they hold. The POS tagger's
 * epoch peaked at 398 MiB through malloc and peaks at 360 mapped. Big blocks
 * are allocated once per batch shape, so the system calls cost nothing
 * measurable. Under AddressSanitizer, and under valgrind when built with its
 * header, everything goes to malloc, so that they guard the big blocks too. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#ifdef RNN_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#define RNN__UNDER_VALGRIND RUNNING_ON_VALGRIND
#else
#define RNN__UNDER_VALGRIND 0
#endif

#define RNN__ALIGN 64

typedef struct block_header {
    void *base;    /* what the allocator returned */
    size_t size;   /* payload size */
    size_t mapped; /* length of the direct mapping at base; 0: from alloc_fn */
} block_header;

#if defined(__SANITIZE_ADDRESS__)
#define RNN__MAP_MIN SIZE_MAX /* never: let ASan see every block */
#else
#define RNN__MAP_MIN ((size_t)1 << 20)
#endif

/* A fresh private anonymous mapping of at least total bytes, or NULL; *len
 * receives its length. */
static void *map_block(size_t total, size_t *len)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t padded;
    if (!rnn__add_size(total, page - 1, &padded))
        return NULL;
    *len = padded & ~(page - 1);
    void *p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void *default_alloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void default_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static rnn_alloc_fn alloc_fn = default_alloc;
static rnn_free_fn free_fn = default_free;
static void *alloc_user;
static size_t bytes_live;  /* atomic */
static size_t blocks_live; /* atomic */

rnn_status rnn_set_allocator(rnn_alloc_fn a, rnn_free_fn f, void *user_data)
{
    if ((a == NULL) != (f == NULL))
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "alloc_fn and free_fn must both be set or both be NULL (got %s, %s)",
                        a ? "set" : "NULL", f ? "set" : "NULL");
    size_t live = __atomic_load_n(&blocks_live, __ATOMIC_ACQUIRE);
    if (live != 0)
        return RNN__ERR(RNN_ERR_STATE,
                        "cannot replace the allocator while %zu librnn blocks are live "
                        "(destroy every handle first)",
                        live);
    alloc_fn = a ? a : default_alloc;
    free_fn = f ? f : default_free;
    alloc_user = a ? user_data : NULL;
    return RNN_OK;
}

static size_t workspace_limit; /* 0: none */

rnn_status rnn_set_workspace_limit(size_t bytes)
{
    __atomic_store_n(&workspace_limit, bytes, __ATOMIC_RELEASE);
    return RNN_OK;
}

size_t rnn_get_workspace_limit(void)
{
    return __atomic_load_n(&workspace_limit, __ATOMIC_ACQUIRE);
}

size_t rnn_memory_used(void)
{
    return __atomic_load_n(&bytes_live, __ATOMIC_ACQUIRE);
}

void *rnn__malloc(size_t size)
{
    if (size == 0)
        size = 1;
    size_t total;
    if (!rnn__add_size(size, sizeof(block_header) + RNN__ALIGN - 1, &total))
        return NULL;
    size_t mapped = 0;
    void *base = alloc_fn == default_alloc && total >= RNN__MAP_MIN && !RNN__UNDER_VALGRIND
                     ? map_block(total, &mapped)
                     : alloc_fn(alloc_user, total);
    if (base == NULL)
        return NULL;
    uintptr_t p = ((uintptr_t)base + sizeof(block_header) + RNN__ALIGN - 1) &
                  ~(uintptr_t)(RNN__ALIGN - 1);
    block_header *h = (block_header *)p - 1;
    h->base = base;
    h->size = size;
    h->mapped = mapped;
    __atomic_add_fetch(&bytes_live, size, __ATOMIC_RELAXED);
    __atomic_add_fetch(&blocks_live, 1, __ATOMIC_RELEASE);
    return (void *)p;
}

void *rnn__calloc(size_t count, size_t size)
{
    size_t total;
    if (!rnn__mul_size(count, size, &total))
        return NULL;
    void *p = rnn__malloc(total);
    if (p && !((block_header *)p - 1)->mapped) /* a fresh mapping is zero already */
        memset(p, 0, total);
    return p;
}

void rnn__free(void *ptr)
{
    if (ptr == NULL)
        return;
    block_header *h = (block_header *)ptr - 1;
    __atomic_sub_fetch(&bytes_live, h->size, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&blocks_live, 1, __ATOMIC_RELEASE);
    if (h->mapped)
        munmap(h->base, h->mapped);
    else
        free_fn(alloc_user, h->base);
}

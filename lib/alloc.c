/* SPDX-License-Identifier: Apache-2.0 */
/* The replaceable allocator. Every block librnn allocates comes from here,
 * 64-byte aligned, with a small header recording the size, so that
 * rnn_memory_used() can account for live memory and tests can prove that
 * failed calls leak nothing. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RNN__ALIGN 64

typedef struct block_header {
    void *base;  /* what the user allocator returned */
    size_t size; /* payload size */
} block_header;

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
    void *base = alloc_fn(alloc_user, total);
    if (base == NULL)
        return NULL;
    uintptr_t p = ((uintptr_t)base + sizeof(block_header) + RNN__ALIGN - 1) &
                  ~(uintptr_t)(RNN__ALIGN - 1);
    block_header *h = (block_header *)p - 1;
    h->base = base;
    h->size = size;
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
    if (p)
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
    free_fn(alloc_user, h->base);
}

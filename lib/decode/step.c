/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step-wise decoding (rnn/decode.h): the layers that depend on the token
 * input run one step at a time, recurrent ones from their carried states.
 * The decoding owns its state (which layers step, the batch size, a work
 * buffer), attached to the model between rnn_model_step_begin() and
 * rnn_model_step_end(); forwards of a model with a decoding attached run
 * with rnn__run.stepping set.
 */
#include <string.h>

#include "decode/decoding.h"

typedef struct decoding {
    int token_input;
    int64_t N;           /* batch size of the begin call */
    unsigned char *step; /* per layer: depends on the token input */
    rnn__fbuf tmp;       /* rows of carried states, reordered */
} decoding;

static void release(rnn_model *m)
{
    decoding *d = m->decoding;
    if (!d)
        return;
    rnn__free(d->step);
    rnn__fbuf_free(&d->tmp);
    rnn__free(d);
    m->decoding = NULL;
    m->release_decoding = NULL;
}

/* Marks the layers that depend on token input ti and checks each can run
 * one step at a time. */
static rnn_status mark_step_layers(const char *func, rnn_model *m, int ti, unsigned char *step)
{
    step[m->inputs[ti]->index] = 1;
    for (int i = 0; i < m->n_layers; i++) {
        const rnn_layer *l = m->layers[i];
        int in_step[RNN__MAX_IN] = {0}, any = 0;
        for (int k = 0; k < l->n_in; k++)
            any |= in_step[k] = step[l->in[k].layer->index];
        if (!any)
            continue;
        step[i] = 1;
        const char *why = l->ops->step_check ? l->ops->step_check(l, in_step)
                                             : "the kind works on whole sequences";
        if (why)
            return rnn__err(RNN_ERR_UNSUPPORTED, func,
                            "layer %s (%s) depends on the token input and cannot run one step "
                            "at a time: %s",
                            l->name, rnn__layer_type_name(l), why);
    }
    return RNN_OK;
}

/* Forgets the carried states that decoding may have set: of every step
 * layer and of every layer that does not carry states between batches. */
static void reset_step_states(rnn_model *m, const unsigned char *step)
{
    for (int i = 0; i < m->n_layers; i++) {
        rnn_layer *l = m->layers[i];
        if (l->ops->reset_state && (step[i] || !l->stateful))
            l->ops->reset_state(l);
    }
}

rnn_status rnn__check_token_input(const char *func, const rnn_model *m, int ti)
{
    if (ti < 0 || ti >= m->n_inputs)
        return rnn__err(RNN_ERR_RANGE, func, "token_input must be in [0, %d) (got %d)", m->n_inputs,
                        ti);
    const rnn_layer *in = m->inputs[ti];
    if (in->out_dtype[0] != RNN_I32 || !in->out_seq[0])
        return rnn__err(RNN_ERR_DTYPE, func,
                        "input %d must be a sequence of token ids (RNN_I32 (N, T)) to be the token "
                        "input",
                        ti);
    return RNN_OK;
}

rnn_status rnn_model_step_begin(rnn_model *model, int token_input, int num_inputs,
                                const rnn_tensor *const *inputs, const rnn_tensor *const *lengths)
{
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(inputs);
    rnn_status st;
    if ((st = rnn__check_token_input(__func__, model, token_input)))
        return st;
    if (lengths && lengths[token_input])
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "lengths[%d] must be NULL: every row of the prefix has its full length",
                        token_input);
    rnn_model_step_end(model);
    decoding *d = rnn__calloc(1, sizeof *d);
    unsigned char *step = rnn__calloc((size_t)model->n_layers, 1);
    if (!d || !step) {
        rnn__free(d);
        rnn__free(step);
        return RNN__NOMEM(sizeof *d + (size_t)model->n_layers);
    }
    d->step = step;
    d->token_input = token_input;
    d->N = inputs[token_input] ? inputs[token_input]->dims[0] : 0;
    model->decoding = d;
    model->release_decoding = release;
    if ((st = mark_step_layers(__func__, model, token_input, step))) {
        release(model);
        return st;
    }
    reset_step_states(model, step);
    if ((st = rnn_model_forward(model, num_inputs, inputs, lengths, 0))) {
        reset_step_states(model, step);
        release(model);
        return RNN__PASS(st);
    }
    return RNN_OK;
}

rnn_status rnn_model_step(rnn_model *model, const rnn_tensor *tokens)
{
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(tokens);
    decoding *d = model->decoding;
    if (!d)
        return RNN__ERR(RNN_ERR_STATE, "call rnn_model_step_begin() first");
    if (tokens->dtype != RNN_I32)
        return RNN__ERR(RNN_ERR_DTYPE, "tokens must be RNN_I32 (got dtype %d)", (int)tokens->dtype);
    if (tokens->rank != 2 || tokens->dims[0] != d->N || tokens->dims[1] < 1)
        return RNN__ERR(RNN_ERR_SHAPE, "tokens must have shape (%lld, S) with S >= 1 (got rank %d, "
                                       "%lld elements)",
                        (long long)d->N, tokens->rank, (long long)tokens->numel);
    rnn__model_set_input(model, d->token_input, tokens, NULL);
    const rnn__run r = rnn__model_run_ctx(model, 0);
    rnn_status st = rnn__model_run(model, &r, d->step);
    return st ? RNN__PASS(st) : RNN_OK;
}

rnn_status rnn_model_step_select(rnn_model *model, const int32_t *rows, int64_t count)
{
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(rows);
    decoding *d = model->decoding;
    if (!d)
        return RNN__ERR(RNN_ERR_STATE, "call rnn_model_step_begin() first");
    if (count != d->N)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "count must be the batch size %lld (got %lld)",
                        (long long)d->N, (long long)count);
    for (int64_t n = 0; n < count; n++)
        if (rows[n] < 0 || rows[n] >= count)
            return RNN__ERR(RNN_ERR_RANGE, "rows[%lld] must be in [0, %lld) (got %d)", (long long)n,
                            (long long)count, rows[n]);
    for (int i = 0; i < model->n_layers; i++) {
        rnn_layer *l = model->layers[i];
        if (!d->step[i] || !l->ops->select_carry)
            continue;
        rnn_status st = l->ops->select_carry(l, rows, count, &d->tmp);
        if (st)
            return RNN__PASS(st);
    }
    return RNN_OK;
}

rnn_status rnn_model_step_end(rnn_model *model)
{
    RNN__CHECK_ARG(model);
    decoding *d = model->decoding;
    if (!d)
        return RNN_OK;
    reset_step_states(model, d->step);
    release(model);
    return RNN_OK;
}

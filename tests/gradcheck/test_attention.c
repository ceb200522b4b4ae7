/* SPDX-License-Identifier: Apache-2.0 */
/* lib/layers/attention.c: every score (dot, scaled dot, general, additive) with padding on
 * both sides and without lengths, both outputs (contexts and weights); attentional
 * encoder-decoders (encoder states into the decoder, attention, Concatenate, two Dense) on f32
 * inputs and on token ids through Embeddings; on both backends. */
#include "../common/attention_models.h"
#include "gc_tests.h"
#include "gradcheck.h"

static rnn_backend backend(int be)
{
    return be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN;
}

START_TEST(every_score)
{
    static const struct {
        rnn_attention_score s;
        int scale;
        int64_t dq, dv;
        const char *what;
    } cases[] = {{RNN_ATTENTION_DOT, 0, 4, 4, "dot"},
                 {RNN_ATTENTION_DOT, 1, 4, 4, "dot scaled"},
                 {RNN_ATTENTION_GENERAL, 0, 4, 3, "general"},
                 {RNN_ATTENTION_GENERAL, 1, 4, 3, "general scaled"},
                 {RNN_ATTENTION_ADDITIVE, 0, 4, 3, "additive"},
                 {RNN_ATTENTION_ADDITIVE, 1, 2, 3, "additive scaled"}};
    for (int be = 0; be < 2; be++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            rnn_layer *att;
            rnn_model *m = att_model_on(backend(be), cases[c].s, cases[c].scale, cases[c].dq,
                                        cases[c].dv, &att);
            int64_t dq[3] = {N, TQ, cases[c].dq}, dv[3] = {N, TV, cases[c].dv}, nd[1] = {N};
            tm_rng = 0xA77ull + c;
            rnn_tensor *x[2] = {tm_tensor(3, dq, 1.0), tm_tensor(3, dv, 1.0)};
            rnn_tensor *len[2] = {i32(1, nd, QL), i32(1, nd, VL)};
            for (int padded = 0; padded < 2; padded++) {
                char what[96];
                snprintf(what, sizeof what, "attention %s%s %s", cases[c].what,
                         padded ? " padded" : "", be ? "reference" : "onednn");
                gc_model(m, 2, x, padded ? len : NULL, NULL, what);
            }
            for (int k = 0; k < 2; k++) {
                rnn_tensor_destroy(x[k]);
                rnn_tensor_destroy(len[k]);
            }
            rnn_model_destroy(m);
        }
}
END_TEST

START_TEST(attentional_encoder_decoder)
{
    rnn_attention_score sc[3] = {RNN_ATTENTION_DOT, RNN_ATTENTION_GENERAL, RNN_ATTENTION_ADDITIVE};
    for (int be = 0; be < 2; be++)
        for (int c = 0; c < 3; c++)
            for (int ids = 0; ids < 2; ids++) {
                rnn_model *m = seq2seq_on(backend(be), 4, sc[c], !ids, 5);
                int64_t ds[3] = {N, TV, 3}, dt[3] = {N, TQ, 3}, nd[1] = {N};
                int64_t is[2] = {N, TV}, it[2] = {N, TQ};
                static const int32_t src[N * TV] = {1, 2, 3, 1, 2, 3, 3, 1, 0, 0, 2, 1, 0, 0, 0};
                static const int32_t tgt[N * TQ] = {1, 3, 2, 2, 0, 0, 3, 1, 0};
                tm_rng = 0xE0Dull + (uint64_t)c;
                rnn_tensor *x[2] = {ids ? i32(2, is, src) : tm_tensor(3, ds, 1.0),
                                    ids ? i32(2, it, tgt) : tm_tensor(3, dt, 1.0)};
                rnn_tensor *len[2] = {i32(1, nd, VL), i32(1, nd, QL)};
                char what[96];
                snprintf(what, sizeof what, "encoder-decoder with attention %d%s %s", c,
                         ids ? " (token ids)" : "", be ? "reference" : "onednn");
                gc_model(m, 2, x, len, NULL, what);
                for (int k = 0; k < 2; k++) {
                    rnn_tensor_destroy(x[k]);
                    rnn_tensor_destroy(len[k]);
                }
                rnn_model_destroy(m);
            }
}
END_TEST

void gc_add_attention(TCase *tc)
{
    tcase_add_test(tc, every_score);
    tcase_add_test(tc, attentional_encoder_decoder);
}

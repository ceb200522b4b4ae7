/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/io.h
 * @brief Saving and loading whole models.
 *
 * File format: the safetensors layout, so other tools read the weights:
 * an 8-byte little-endian header size, a JSON header mapping each parameter
 * ("<layer>/<param>", e.g. "lstm/kernel") to its dtype, shape and byte
 * offsets, then the raw little-endian data. The header's "__metadata__"
 * holds "format": "librnn", "format_version": "1", the library version, and
 * "architecture": the model's layers and their options as a JSON string.
 * Nothing depends on the batch size: a model saved after training at one
 * batch size loads and runs at any other.
 *
 * A model also carries metadata: string key/value pairs of your own
 * (rnn_model_set_metadata()), saved verbatim as further string entries of
 * "__metadata__", where other safetensors readers find them, and read back
 * by rnn_model_load(). Limits, the same for the API, saving and loading:
 * - a key has 1 to 255 bytes, a value at most 16 MiB (16777216 bytes), and
 *   all keys and values of a model together at most 16 MiB;
 * - a model has at most 1024 keys;
 * - keys and values are valid UTF-8 without NUL (no overlong forms,
 *   surrogates or code points above U+10FFFF);
 * - the format's own keys are reserved: "format", "format_version",
 *   "librnn_version", "architecture", "checksum" and every key starting with
 *   "librnn.".
 * The file's checksum covers the metadata too: a file whose metadata was
 * edited by hand no longer loads.
 */
#ifndef RNN_IO_H
#define RNN_IO_H

#include "rnn/common.h"
#include "rnn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Writes the model (architecture and weights) to @p path, atomically:
 * a temporary file in the same directory is written, flushed to disk and
 * renamed over @p path, so a crash never leaves a half-written file and the
 * previous file stays intact until the new one is complete. No temporary
 * file is left behind, also when the save fails. Where the file system has
 * O_TMPFILE (Linux ext4, xfs, btrfs, tmpfs) the data is written to an
 * unnamed file, named `<path>.tmp-XXXXXX` only once complete and renamed at
 * once, so a killed process leaves nothing unless it dies in that short
 * window (measured: 1 or 2 of 50 random kills); elsewhere a killed save can
 * leave one at any point. Either way the next save to the same path removes
 * it (a save in progress holds its temporary file locked with flock(), and
 * only unlocked ones are removed), so they never pile up.
 *
 * File mode: a new file gets 0666 minus the process' umask (umask 022: 0644,
 * 077: 0600), or what the directory's default ACL gives, as
 * `fopen(path, "w")` would. A save over an existing regular file keeps that
 * file's permission bits (not its owner, group or ACL), whatever the umask,
 * as editors and in-place writers such as `torch.save()` do: a checkpoint made
 * private with `chmod 600` stays private when it is saved again. The
 * temporary file never has more permissions than the final file.
 * When @p path is a symbolic link, the file it points to is written (and
 * created when the link dangles), as a shell's `>` does; the link stays.
 * Optimizer state is not saved (see rnn_model_save_ex()).
 * @retval RNN_ERR_IO the file could not be created, written or given its
 *         mode (the message has the system's reason); @p path is unchanged.
 * @retval RNN_ERR_NOMEM, RNN_ERR_INVALID_ARG
 */
RNN_API rnn_status rnn_model_save(const rnn_model *model, const char *path);

/** @brief rnn_model_save_ex() flag: also save the compile configuration (loss,
 * reduction) and the optimizer with its state (moments, step count), as
 * Keras' `model.save(include_optimizer=True)`. */
#define RNN_SAVE_OPTIMIZER 1u

/**
 * @brief rnn_model_save() with options: @p flags 0 or RNN_SAVE_OPTIMIZER.
 * A model saved with its optimizer loads compiled, and training resumes
 * exactly where it stopped (same updates as if never interrupted). The
 * optimizer state is stored as extra tensors "__optimizer__/m|v/<param>".
 * @retval RNN_ERR_STATE RNN_SAVE_OPTIMIZER on a model that is not compiled.
 * @retval RNN_ERR_INVALID_ARG unknown flags. Other errors as rnn_model_save().
 */
RNN_API rnn_status rnn_model_save_ex(const rnn_model *model, const char *path, unsigned flags);

/**
 * @brief Reads a model written by rnn_model_save() or rnn_model_save_ex().
 *
 * Every field and size is checked before anything is allocated from it: a
 * truncated, corrupted or hostile file gives RNN_ERR_FORMAT (never a crash,
 * and never an allocation larger than what the file itself holds). The file's
 * checksum (`__metadata__.checksum`, 64-bit FNV-1a of the architecture, the
 * tensor entries (names, dtypes, shapes, offsets), the metadata and the data,
 * written by every save) must match, the file must list exactly the model's
 * tensors, and no two tensors may share bytes. A path that is not a regular
 * file (a FIFO, a directory) is refused
 * at once with RNN_ERR_IO, without waiting on it.
 * @param options backend and seed of the new model (NULL: defaults); the
 *        seed only matters for dropout masks.
 * @param[out] out the model, with the file's metadata (each key of
 *        "__metadata__" that is not reserved; see the top of this file):
 *        compiled with its saved optimizer state when it was saved with
 *        RNN_SAVE_OPTIMIZER, else not compiled (compile it to train further).
 * @retval RNN_ERR_IO the file cannot be opened or read.
 * @retval RNN_ERR_FORMAT not a librnn model file, or damaged (the message
 *         says what and where).
 * @retval RNN_ERR_NOMEM, RNN_ERR_INVALID_ARG
 */
RNN_API rnn_status rnn_model_load(const char *path, const rnn_model_options *options,
                                  rnn_model **out);

/**
 * @brief Sets metadata @p key of @p model to @p value (both copied), replacing
 * the key's previous value; @p value NULL removes the key (nothing happens
 * when it is absent). Saved with the model and restored by rnn_model_load()
 * (limits and reserved keys: see the top of this file).
 *
 * On failure the model's metadata is unchanged.
 * @retval RNN_ERR_INVALID_ARG NULL @p model or @p key; a key or value outside
 *         the limits, not valid UTF-8 (the message gives the byte offset) or
 *         reserved; a new key beyond 1024 keys or 16 MiB in all.
 * @retval RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_model_set_metadata(rnn_model *model, const char *key, const char *value);

/**
 * @brief Looks up metadata @p key of @p model: like getenv(), an absent key is
 * not an error.
 * @param[out] out the value, owned by the model and valid until the key is
 *        set or removed or the model destroyed; NULL when the key is absent.
 * @retval RNN_ERR_INVALID_ARG NULL @p model, @p key or @p out.
 */
RNN_API rnn_status rnn_model_get_metadata(const rnn_model *model, const char *key,
                                          const char **out);

/**
 * @brief The number of metadata keys of @p model (0 to 1024).
 * @retval RNN_ERR_INVALID_ARG NULL @p model or @p out.
 */
RNN_API rnn_status rnn_model_metadata_count(const rnn_model *model, int *out);

/**
 * @brief Metadata key number @p index of @p model, keys sorted by strcmp():
 * with rnn_model_metadata_count(), enumerates the metadata.
 * @param[out] out the key, owned by the model and valid until the metadata
 *        changes or the model is destroyed.
 * @retval RNN_ERR_RANGE @p index outside [0, count).
 * @retval RNN_ERR_INVALID_ARG NULL @p model or @p out.
 */
RNN_API rnn_status rnn_model_metadata_key(const rnn_model *model, int index, const char **out);

#ifdef __cplusplus
}
#endif

#endif /* RNN_IO_H */

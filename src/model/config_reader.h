/* Typed, validated reads of one config section. Each read marks its entry
 * used; cfg_reader_finish reports any entry nobody read as an unknown key,
 * so a misspelt key is an error, never a silent default. */
#ifndef NERVE_CONFIG_READER_H
#define NERVE_CONFIG_READER_H

#include "io/config.h"
#include "nerve.h"

#define CFG_READER_KEYS_MAX 64

typedef struct cfg_reader {
    const char *file;
    nerve_config_section *section;
    nerve_error *err;
    nerve_status status; /* first error; later reads are no-ops */
    /* The keys asked for, present or not: the section's known keys, for a
     * "did you mean" after an unknown one. */
    const char *asked[CFG_READER_KEYS_MAX];
    int asked_count;
    /* [net] init: the `init` of every layer that sets none (NULL: the
     * layers' own defaults). */
    const char *default_init;
} cfg_reader;

cfg_reader cfg_reader_begin(const nerve_config *cfg, nerve_config_section *section, nerve_error *err);
/* Each returns false once the reader has failed. A NULL default (or
 * required=true) makes the key required. */
bool cfg_read_int(cfg_reader *r, const char *key, bool required, int64_t def, int64_t min,
                  int64_t max, int64_t *out);
/* An optional integer as cfg_read_int, or the word `word`, read as word_value
 * ("batch = full"). */
bool cfg_read_int_or(cfg_reader *r, const char *key, const char *word, int64_t word_value,
                     int64_t def, int64_t min, int64_t max, int64_t *out);
bool cfg_read_double(cfg_reader *r, const char *key, bool required, double def, double min,
                     double max, double *out);
bool cfg_read_string(cfg_reader *r, const char *key, bool required, const char *def, char *out,
                     size_t size);
/* 0 or 1, or false or true. */
bool cfg_read_bool(cfg_reader *r, const char *key, bool def, bool *out);
/* One of choices (NULL-terminated); *out is its index. */
bool cfg_read_choice(cfg_reader *r, const char *key, const char *const *choices, int def, int *out);
/* An optional initialiser in the cfg spelling (nerve_init_parse;
 * docs/config.md); when absent, for the key `init` the [net] section's
 * init if it has one, else `default`. */
bool cfg_read_init(cfg_reader *r, const char *key, nerve_init *init);
/* bias_init= of a layer with `units` biases: it needs a bias, and an
 * initialiser a 1-D tensor can take. */
bool cfg_read_bias_init(cfg_reader *r, bool bias, int64_t units, nerve_init *init);
/* A comma-separated list of numbers in [min, max], e.g. "1, 2.5, 0"; *values
 * (malloc'ed, the caller frees) stays NULL when the key is absent. */
bool cfg_read_list(cfg_reader *r, const char *key, double min, double max, float **values,
                   int64_t *count);
/* "784" or "1x28x28" (C x H x W). */
bool cfg_read_shape(cfg_reader *r, const char *key, bool required, nerve_shape *out);
/* A size per axis of an image: one number for both (`kernel = 3`) or
 * height,width (`kernel = 3,2`), each in [min, max]. Absent and optional,
 * out is left as it is. */
bool cfg_read_pair(cfg_reader *r, const char *key, bool required, int64_t min, int64_t max,
                   int64_t out[2]);
/* The line of key's entry: 0 for a --set override, -1 when absent. */
int cfg_line(const cfg_reader *r, const char *key);
/* "file:12" for a line of the file, "file (--set)" for line 0. */
void cfg_location(const cfg_reader *r, int line, char *buf, size_t size);
/* True if the section sets key (without marking it used). */
bool cfg_has(const cfg_reader *r, const char *key);
/* Fails with "file:line: [type] key: message". */
bool cfg_fail(cfg_reader *r, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Fails on the first key nobody read: "file:LINE: unknown key 'unit' in
 * [dense], did you mean 'units'? (see docs/config.md)". */
nerve_status cfg_reader_finish(cfg_reader *r);

#endif

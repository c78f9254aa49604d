/* nerve/config.h, part of nerve.h (include that, or this part alone): the .cfg (INI) parser and
 * --set overrides. */
#ifndef NERVE_PUBLIC_CONFIG_H
#define NERVE_PUBLIC_CONFIG_H

#include "nerve/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- config */

/* A parsed darknet-like INI file: sections in order, each with key = value
 * entries that remember their line. Comments start with # or ;. */
typedef struct nerve_config nerve_config;

NERVE_API nerve_status nerve_config_load(const char *path, nerve_config **out, nerve_error *err);
NERVE_API nerve_status nerve_config_parse(const char *text, const char *filename,
                                          nerve_config **out, nerve_error *err);
NERVE_API void nerve_config_free(nerve_config *cfg);
NERVE_API const char *nerve_config_filename(const nerve_config *cfg);
NERVE_API int nerve_config_section_count(const nerve_config *cfg);

#define NERVE_CONFIG_NAME_MAX 64
/* Section i's name: its name= value, or by default its type followed by its
 * index among the sections of that type ("dense0", "dense1", "activation0").
 * buf (NERVE_CONFIG_NAME_MAX bytes) holds a default name. */
NERVE_API const char *nerve_config_section_name(const nerve_config *cfg, int i, char *buf,
                                                size_t size);
/* Applies "section.key=value" (from --set): section is a section type that
 * occurs once ("net", "optimizer") or a section's name (see
 * nerve_config_section_name). The key is
 * replaced or added; the entry's line is 0 and messages say "--set". */
NERVE_API nerve_status nerve_config_override(nerve_config *cfg, const char *assignment,
                                             nerve_error *err);

/* The name of names[0..count) nearest to word, for a "did you mean" after a
 * misspelt key, option or name: none for words of 2 characters, within one
 * edit for 3 or 4, two or a third of the word's length for longer ones (insertions,
 * deletions, substitutions, swaps of neighbours); NULL when none is that
 * close. count may be -1 for a NULL-terminated list. */
NERVE_API const char *nerve_closest_name(const char *word, const char *const *names, int count);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_CONFIG_H */

/* The parsed .cfg's sections and entries: the parser's internals, shared by
 * the readers in src/model (cfg_reader marks entries used) and the CLI. Not
 * public: nerve.h's nerve/config.h has the parser's handle and --set only,
 * so that the `used` flag and the layouts can change. */
#ifndef NERVE_IO_CONFIG_H
#define NERVE_IO_CONFIG_H

#include "nerve.h"

typedef struct nerve_config_entry {
    const char *key;
    const char *value;
    int line;
    bool used; /* set by readers; unused entries are reported as unknown keys */
} nerve_config_entry;

typedef struct nerve_config_section {
    const char *type; /* "net", "dense", ... */
    int line;
    nerve_config_entry *entries;
    int entry_count;
} nerve_config_section;

nerve_config_section *nerve_config_section_at(nerve_config *cfg, int i);
/* Appends an empty section (line 0), e.g. an optional settings section that
 * overrides may then fill. */
nerve_config_section *nerve_config_add_section(nerve_config *cfg, const char *type,
                                               nerve_error *err);

/* A deep copy of cfg (its entries' used flags too), or NULL when out of
 * memory: what nerve_model_set changes, kept only when the settings it
 * gives are valid. */
nerve_config *nerve_config_copy(const nerve_config *cfg);
/* The value of "section.key" (section as nerve_config_override resolves
 * it), or *value NULL when the section leaves the key out. */
nerve_status nerve_config_lookup(nerve_config *cfg, const char *name, const char **value,
                                 nerve_error *err);

#endif

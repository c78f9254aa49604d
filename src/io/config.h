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

#endif

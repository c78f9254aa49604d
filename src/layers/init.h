/* What the initialisers' cfg grammar (src/model/init_spec.c) takes from
 * their maths. */
#ifndef NERVE_LAYERS_INIT_H
#define NERVE_LAYERS_INIT_H

#include "nerve.h"

/* torch.nn.init's nonlinearity names, in nerve_nonlinearity's order,
 * NULL-terminated. */
extern const char *const nerve_nonlinearity_names[];
/* The arguments' own constraints, as torch checks them; messages say `name`
 * (the spelling the user wrote). */
nerve_status nerve_init_check(const nerve_init *init, const char *name, nerve_error *err);

#endif

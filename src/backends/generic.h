/* The generic composites: each composite kernel (kernels.h) written once on
 * top of the core kernels, for any device that does not write its own. */
#ifndef NERVE_GENERIC_H
#define NERVE_GENERIC_H

#include "backends/device.h"

#define NERVE_GENERIC_DECLARE(name, params) nerve_status nerve_generic_##name params;
NERVE_COMPOSITE_KERNELS(NERVE_GENERIC_DECLARE)
#undef NERVE_GENERIC_DECLARE

#endif

/* The library's version, which a program compares with the NERVE_VERSION it
 * was compiled against (docs/api.md, "Compatibility"). */
#include "nerve.h"

const char *nerve_version(void) { return NERVE_VERSION; }
int nerve_version_number(void) { return NERVE_VERSION_NUMBER; }

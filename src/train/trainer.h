/* What the training loops (trainer.c, gan.c) share. */
#ifndef NERVE_TRAINER_H
#define NERVE_TRAINER_H

#include "nerve.h"

/* m's optimizer, created on first use from [optimizer] with the layers'
 * weight_decay and l1: the training layer makes it, the model only holds
 * it (nerve_model_optimizer). */
nerve_status nerve_model_ensure_optimizer(nerve_model *m, nerve_error *err);

#endif

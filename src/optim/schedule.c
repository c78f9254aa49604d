/* Learning-rate schedules, stepped once per epoch, in the closed forms of
 * torch.optim.lr_scheduler (StepLR: lr = base * gamma^floor(epoch / step_size)). */
#include <math.h>

#include "nerve.h"

double nerve_schedule_lr(const nerve_schedule *s, double base_lr, int64_t epoch)
{
    switch (s->kind) {
    case NERVE_SCHEDULE_CONSTANT:
        return base_lr;
    case NERVE_SCHEDULE_STEP:
        return base_lr * pow(s->gamma, (double)(epoch / (s->step_size > 0 ? s->step_size : 1)));
    }
    return base_lr;
}

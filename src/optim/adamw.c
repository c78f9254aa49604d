/* AdamW (Loshchilov & Hutter), torch.optim.AdamW's algorithm: Adam with the
 * weight decay taken out of the gradient, w *= 1 - lr * weight_decay before
 * Adam's update (adam.c), so that adaptive scaling does not weaken it. */
#include "optim/optimizer.h"

const nerve_optimizer_type nerve_adamw_type = {"adamw", true, optim_adam_init, optim_adam_describe,
                                         {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}};

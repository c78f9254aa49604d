#include <omp.h>

#include "backends/cpu/cpu.h"

static void cpu_set_threads(int n) { omp_set_num_threads(n); }

static const nerve_backend cpu_backend = {
    .name = "cpu",
    .set_threads = cpu_set_threads,
    .gemm = nerve_cpu_gemm,
    .fill_rows = nerve_cpu_fill_rows,
    .sum_rows = nerve_cpu_sum_rows,
    .activation_forward = nerve_cpu_activation_forward,
    .activation_backward = nerve_cpu_activation_backward,
    .swish_beta_gradient = nerve_cpu_swish_beta_gradient,
    .prelu_forward = nerve_cpu_prelu_forward,
    .prelu_backward = nerve_cpu_prelu_backward,
    .crelu_forward = nerve_cpu_crelu_forward,
    .crelu_backward = nerve_cpu_crelu_backward,
    .maxout_forward = nerve_cpu_maxout_forward,
    .maxout_backward = nerve_cpu_maxout_backward,
    .softmax = nerve_cpu_softmax,
    .softmax_backward = nerve_cpu_softmax_backward,
    .log_softmax = nerve_cpu_log_softmax,
    .log_softmax_backward = nerve_cpu_log_softmax_backward,
    .cross_entropy = nerve_cpu_cross_entropy,
    .cross_entropy_backward = nerve_cpu_cross_entropy_backward,
    .nll = nerve_cpu_nll,
    .nll_backward = nerve_cpu_nll_backward,
    .focal = nerve_cpu_focal,
    .focal_backward = nerve_cpu_focal_backward,
    .distillation = nerve_cpu_distillation,
    .large_margin_logits = nerve_cpu_large_margin_logits,
    .large_margin_backward = nerve_cpu_large_margin_backward,
    .squared_error = nerve_cpu_squared_error,
    .add_scaled_difference = nerve_cpu_add_scaled_difference,
    .absolute_error = nerve_cpu_absolute_error,
    .absolute_error_backward = nerve_cpu_absolute_error_backward,
    .smooth_l1 = nerve_cpu_smooth_l1,
    .smooth_l1_backward = nerve_cpu_smooth_l1_backward,
    .binary_cross_entropy = nerve_cpu_binary_cross_entropy,
    .binary_cross_entropy_backward = nerve_cpu_binary_cross_entropy_backward,
    .bce_with_logits = nerve_cpu_bce_with_logits,
    .bce_with_logits_backward = nerve_cpu_bce_with_logits_backward,
    .max_pool2d_forward = nerve_cpu_max_pool2d_forward,
    .max_pool2d_backward = nerve_cpu_max_pool2d_backward,
    .avg_pool2d_forward = nerve_cpu_avg_pool2d_forward,
    .avg_pool2d_backward = nerve_cpu_avg_pool2d_backward,
    .mean_rows = nerve_cpu_mean_rows,
    .mean_rows_backward = nerve_cpu_mean_rows_backward,
    .add_forward = nerve_cpu_add_forward,
    .copy_block = nerve_cpu_copy_block,
    .add_block = nerve_cpu_add_block,
    .batch_norm_statistics = nerve_cpu_batch_norm_statistics,
    .batch_norm_forward = nerve_cpu_batch_norm_forward,
    .batch_norm_backward = nerve_cpu_batch_norm_backward,
    .scale_rows = nerve_cpu_scale_rows,
    .scale_rows_backward = nerve_cpu_scale_rows_backward,
    .conv_workspace = nerve_cpu_conv_workspace,
    .conv_columns = nerve_cpu_conv_columns,
    .conv_image = nerve_cpu_conv_image,
    .conv_weight_gradient = nerve_cpu_conv_weight_gradient,
    .sum_channels = nerve_cpu_sum_channels,
    .embedding_forward = nerve_cpu_embedding_forward,
    .embedding_backward = nerve_cpu_embedding_backward,
    .one_hot = nerve_cpu_one_hot,
    .recurrent_workspace = nerve_cpu_recurrent_workspace,
    .recurrent_forward = nerve_cpu_recurrent_forward,
    .recurrent_backward = nerve_cpu_recurrent_backward,
};

const nerve_backend *nerve_backend_cpu(void) { return &cpu_backend; }

static int thread_count;

void nerve_set_threads(int n)
{
    if (n < 1) n = 1;
    thread_count = n;
    cpu_backend.set_threads(n);
}

int nerve_get_threads(void) { return thread_count ? thread_count : omp_get_max_threads(); }

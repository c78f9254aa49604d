/* The convolution's data movement (conv.c runs the GEMMs): im2col, the
 * adjoint gathered per image pixel (deterministic, no atomics), and the
 * bias (or zero) written across planes. */
#include "backends/cuda/cuda_device.cuh"

__global__ static void im2col(nerve_conv_geometry g, const float *image, int64_t count,
                              int64_t group, float *out)
{
    const int64_t in_group = g.channels / g.groups, taps = g.kernel[0] * g.kernel[1];
    const int64_t K = in_group * taps, P = g.col_height * g.col_width;
    CUDA_FOR(e, count * K * P)
    {
        int64_t s = e / (K * P), k = e / P % K, p = e % P;
        int64_t icl = k / taps, kh = k % taps / g.kernel[1], kw = k % g.kernel[1];
        int64_t oh = p / g.col_width, ow = p % g.col_width;
        int64_t h = oh * g.stride[0] - g.padding[0] + kh * g.dilation[0];
        int64_t w = ow * g.stride[1] - g.padding[1] + kw * g.dilation[1];
        int64_t c = group * in_group + icl;
        out[e] = h < 0 || h >= g.height || w < 0 || w >= g.width
                     ? 0.0f
                     : image[((s * g.channels + c) * g.height + h) * g.width + w];
    }
}

/* The output position (along one axis) whose tap t reads image position x, or -1. */
__device__ static int64_t output_at(int64_t x, int64_t pad, int64_t t, int64_t dilation,
                                    int64_t stride, int64_t outs)
{
    int64_t at = x + pad - t * dilation;
    if (at < 0 || at % stride) return -1;
    return at / stride < outs ? at / stride : -1;
}

__global__ static void col2im(nerve_conv_geometry g, const float *columns, int64_t count,
                              int64_t group, float *image)
{
    const int64_t in_group = g.channels / g.groups, taps = g.kernel[0] * g.kernel[1];
    const int64_t K = in_group * taps, P = g.col_height * g.col_width;
    const int64_t plane = g.height * g.width;
    CUDA_FOR(e, count * in_group * plane)
    {
        int64_t s = e / (in_group * plane), icl = e / plane % in_group;
        int64_t h = e % plane / g.width, w = e % g.width;
        float sum = 0;
        for (int64_t kh = 0; kh < g.kernel[0]; kh++) {
            int64_t oh = output_at(h, g.padding[0], kh, g.dilation[0], g.stride[0], g.col_height);
            if (oh < 0) continue;
            for (int64_t kw = 0; kw < g.kernel[1]; kw++) {
                int64_t ow = output_at(w, g.padding[1], kw, g.dilation[1], g.stride[1], g.col_width);
                if (ow < 0) continue;
                sum += columns[(s * K + (icl * g.kernel[0] + kh) * g.kernel[1] + kw) * P +
                               oh * g.col_width + ow];
            }
        }
        image[((s * g.channels + group * in_group + icl) * g.height + h) * g.width + w] += sum;
    }
}

__global__ static void bias_planes(float *x, const float *bias, bool keep, int64_t n,
                                   int64_t channels, int64_t plane)
{
    CUDA_FOR(i, n)
    {
        float b = bias ? bias[i / plane % channels] : 0.0f;
        x[i] = keep ? x[i] + b : b;
    }
}

extern "C" void nerve_cuda_im2col(const nerve_conv_geometry *geo, const float *image,
                                  int64_t count, int64_t group, float *out)
{
    int64_t n = count * geo->channels / geo->groups * geo->kernel[0] * geo->kernel[1] *
                geo->col_height * geo->col_width;
    if (n > 0) CUDA_LAUNCH(im2col, n)(*geo, image, count, group, out);
}

extern "C" void nerve_cuda_col2im(const nerve_conv_geometry *geo, const float *columns,
                                  int64_t count, int64_t group, float *image)
{
    int64_t n = count * geo->channels / geo->groups * geo->height * geo->width;
    if (n > 0) CUDA_LAUNCH(col2im, n)(*geo, columns, count, group, image);
}

extern "C" void nerve_cuda_bias_planes(float *x, const float *bias, bool keep, int64_t count,
                                       int64_t channels, int64_t plane)
{
    int64_t n = count * channels * plane;
    if (n > 0) CUDA_LAUNCH(bias_planes, n)(x, bias, keep, n, channels, plane);
}

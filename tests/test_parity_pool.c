/* Pooling agrees with PyTorch, forward and backward: F.max_pool2d (padding,
 * dilation, ceil_mode, overlapping windows, ties), F.avg_pool2d (padding in
 * or out of the divisor, ceil_mode's edge windows, divisor_override) and
 * adaptive_avg_pool2d(1) + flatten, against tests/fixtures/pool.safetensors
 * (tests/reference/fixtures_pool.py lists every case). */
#include "parity_support.h"

typedef enum pool_kind { MAX_POOL, AVG_POOL } pool_kind;

static void check_pool(parity *p, const char *name, pool_kind kind, nerve_pool2d_options o)
{
    char x_name[64];
    open_fixture(p, "pool");
    name_in(x_name, sizeof x_name, name, ".x");
    nerve_node x = fixture_param(p, x_name, false);
    nerve_node y = kind == MAX_POOL ? nerve_max_pool2d(p->g, x, &o, &p->err)
                                    : nerve_avg_pool2d(p->g, x, &o, &p->err);
    check_activation(p, name, x, y);
}

static nerve_pool2d_options pool(int64_t kernel_h, int64_t kernel_w, int64_t stride_h,
                                 int64_t stride_w, int64_t pad_h, int64_t pad_w)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(kernel_h, kernel_w);
    o.stride[0] = stride_h;
    o.stride[1] = stride_w;
    o.padding[0] = pad_h;
    o.padding[1] = pad_w;
    return o;
}

static void test_max_pool(void **state)
{
    check_pool(*state, "max_2", MAX_POOL, nerve_pool2d_defaults(2, 2));
}

static void test_max_pool_overlapping(void **state)
{
    check_pool(*state, "max_overlap", MAX_POOL, pool(3, 3, 1, 1, 0, 0));
}

static void test_max_pool_padded(void **state)
{
    check_pool(*state, "max_pad", MAX_POOL, pool(3, 3, 2, 2, 1, 1));
}

static void test_max_pool_rectangular(void **state)
{
    check_pool(*state, "max_rect", MAX_POOL, pool(3, 2, 2, 1, 1, 0));
}

static void test_max_pool_dilated(void **state)
{
    nerve_pool2d_options o = pool(2, 2, 1, 1, 1, 1);
    o.dilation[0] = o.dilation[1] = 2;
    check_pool(*state, "max_dilated", MAX_POOL, o);
}

static void test_max_pool_ceil_mode(void **state)
{
    nerve_pool2d_options o = pool(3, 3, 2, 2, 0, 0);
    o.ceil_mode = true;
    check_pool(*state, "max_ceil", MAX_POOL, o);
}

/* 5 + 2 padding in windows of 2, stride 2, rounded up would be 4 windows;
 * the fourth would start in the right padding, so torch has 3. */
static void test_max_pool_ceil_mode_drops_a_window_in_the_padding(void **state)
{
    nerve_pool2d_options o = pool(2, 2, 2, 2, 1, 1);
    o.ceil_mode = true;
    check_pool(*state, "max_ceil_pad", MAX_POOL, o);
}

static void test_max_pool_ties_go_to_the_first_maximum(void **state)
{
    check_pool(*state, "max_ties", MAX_POOL, pool(3, 3, 1, 1, 0, 0));
}

static void test_max_pool_2x2_ties_go_to_the_first_maximum(void **state)
{
    check_pool(*state, "max_ties_2x2", MAX_POOL, pool(2, 2, 2, 2, 0, 0));
}

static void test_avg_pool(void **state)
{
    check_pool(*state, "avg_2", AVG_POOL, nerve_pool2d_defaults(2, 2));
}

static void test_avg_pool_padded(void **state)
{
    check_pool(*state, "avg_pad", AVG_POOL, pool(3, 3, 2, 2, 1, 1));
}

static void test_avg_pool_padding_not_counted(void **state)
{
    nerve_pool2d_options o = pool(3, 3, 2, 2, 1, 1);
    o.count_include_pad = false;
    check_pool(*state, "avg_pad_exclude", AVG_POOL, o);
}

static void test_avg_pool_ceil_mode(void **state)
{
    nerve_pool2d_options o = pool(3, 3, 2, 2, 0, 1);
    o.ceil_mode = true;
    check_pool(*state, "avg_ceil", AVG_POOL, o);
}

static void test_avg_pool_ceil_mode_padding_not_counted(void **state)
{
    nerve_pool2d_options o = pool(3, 3, 2, 2, 0, 1);
    o.ceil_mode = true;
    o.count_include_pad = false;
    check_pool(*state, "avg_ceil_exclude", AVG_POOL, o);
}

static void test_avg_pool_ceil_mode_padded(void **state)
{
    nerve_pool2d_options o = pool(2, 2, 2, 2, 1, 1);
    o.ceil_mode = true;
    check_pool(*state, "avg_ceil_pad", AVG_POOL, o);
}

static void test_avg_pool_divisor_override(void **state)
{
    nerve_pool2d_options o = pool(3, 3, 2, 2, 1, 1);
    o.divisor_override = 4;
    check_pool(*state, "avg_divisor", AVG_POOL, o);
}

static void test_global_avg_pool(void **state)
{
    parity *p = *state;
    open_fixture(p, "pool");
    nerve_node x = fixture_param(p, "global_avg.x", false);
    check_activation(p, "global_avg", x, nerve_global_avg_pool(p->g, x, &p->err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PARITY_TEST(test_max_pool),
        PARITY_TEST(test_max_pool_overlapping),
        PARITY_TEST(test_max_pool_padded),
        PARITY_TEST(test_max_pool_rectangular),
        PARITY_TEST(test_max_pool_dilated),
        PARITY_TEST(test_max_pool_ceil_mode),
        PARITY_TEST(test_max_pool_ceil_mode_drops_a_window_in_the_padding),
        PARITY_TEST(test_max_pool_ties_go_to_the_first_maximum),
        PARITY_TEST(test_max_pool_2x2_ties_go_to_the_first_maximum),
        PARITY_TEST(test_avg_pool),
        PARITY_TEST(test_avg_pool_padded),
        PARITY_TEST(test_avg_pool_padding_not_counted),
        PARITY_TEST(test_avg_pool_ceil_mode),
        PARITY_TEST(test_avg_pool_ceil_mode_padding_not_counted),
        PARITY_TEST(test_avg_pool_ceil_mode_padded),
        PARITY_TEST(test_avg_pool_divisor_override),
        PARITY_TEST(test_global_avg_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

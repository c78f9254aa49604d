/* How OpenMP's threads wait (src/preinit/openmp_wait.c): every program that
 * links nerve starts with a bounded spin, set before the OpenMP runtime
 * read its environment, unless the user chose a wait policy or spin count.
 * ctest runs this test with GOMP_SPINCOUNT and OMP_WAIT_POLICY removed from
 * its environment (tests/CMakeLists.txt), so what it finds was set by the
 * program's .preinit_array. */
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static void test_a_bounded_spin_is_set_before_openmp_starts(void **state)
{
    const char *spin = getenv("GOMP_SPINCOUNT"), *policy = getenv("OMP_WAIT_POLICY");
    assert_true(spin != NULL || policy != NULL);
    if (!getenv("NERVE_TEST_OWN_WAIT_SETTING")) {
        assert_null(policy);
        assert_non_null(spin);
        assert_string_equal(spin, "10000");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_bounded_spin_is_set_before_openmp_starts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

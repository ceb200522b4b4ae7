/* SPDX-License-Identifier: Apache-2.0 */
/* Guards the sanitizer setup: `meson test --setup asan` sets
 * RNN_EXPECT_SANITIZERS=1, and this program fails unless it was really built
 * with AddressSanitizer, so a setup run on an uninstrumented build cannot pass
 * silently. Without the variable it is skipped (77). */
#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifndef HAVE_ASAN
#define HAVE_ASAN 0
#endif

int main(void)
{
    const char *want = getenv("RNN_EXPECT_SANITIZERS");
    if (!want || want[0] != '1') {
        printf("not running under the asan setup: skipped\n");
        return 77;
    }
    if (!HAVE_ASAN) {
        fprintf(stderr, "the asan setup needs an instrumented build: "
                        "meson setup build-asan -Db_sanitize=address,undefined\n");
        return 1;
    }
    printf("built with AddressSanitizer\n");
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libFuzzer entry point every fuzz_<name>.c defines. A target must accept any bytes: it
 * may return early on rejected input, but it must never crash, leak or trip a sanitizer. Where
 * a decoder accepts the input, targets check the encode/decode round trip too (with ASSERT, so
 * a mismatch is a crash the fuzzer reports).
 */
#ifndef AETHER_TESTS_FUZZ_H
#define AETHER_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* AETHER_TESTS_FUZZ_H */

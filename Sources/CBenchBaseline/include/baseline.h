/*
 * The benchmark's yardstick: the same AEAD operations as Tern's, written as a
 * plain C loop over libsodium. tern-bench runs both in one process and prints
 * the ratio.
 */
#ifndef TERN_BENCH_BASELINE_H
#define TERN_BENCH_BASELINE_H

#include <stddef.h>
#include <stdint.h>

/// Seals `size` bytes in place `iterations` times with a WireGuard counter
/// nonce; returns the elapsed monotonic nanoseconds.
uint64_t tern_baseline_seal(uint8_t *buffer, size_t size, const uint8_t key[32], uint64_t iterations);

/// Restores `sealed` (size + 16 bytes) into `buffer` and opens it in place,
/// `iterations` times; returns the elapsed nanoseconds, or 0 if any open failed.
uint64_t tern_baseline_open(uint8_t *buffer, const uint8_t *sealed, size_t size, const uint8_t key[32],
                            uint64_t iterations);

#endif

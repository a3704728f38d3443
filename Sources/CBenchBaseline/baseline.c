#include "baseline.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void counter_nonce(uint8_t nonce[12], uint64_t counter) {
    memset(nonce, 0, 4);
    for (int i = 0; i < 8; i++) nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

uint64_t tern_baseline_seal(uint8_t *buffer, size_t size, const uint8_t key[32], uint64_t iterations) {
    uint8_t nonce[12];
    uint64_t start = now_ns();
    for (uint64_t i = 0; i < iterations; i++) {
        counter_nonce(nonce, i);
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(buffer, buffer + size, NULL, buffer, size, NULL, 0,
                                                           NULL, nonce, key);
    }
    return now_ns() - start;
}

uint64_t tern_baseline_open(uint8_t *buffer, const uint8_t *sealed, size_t size, const uint8_t key[32],
                            uint64_t iterations) {
    uint8_t nonce[12];
    counter_nonce(nonce, 0);
    int failed = 0;
    uint64_t start = now_ns();
    for (uint64_t i = 0; i < iterations; i++) {
        memcpy(buffer, sealed, size + 16);
        failed |= crypto_aead_chacha20poly1305_ietf_decrypt_detached(buffer, NULL, buffer, size, buffer + size,
                                                                     NULL, 0, nonce, key);
    }
    uint64_t elapsed = now_ns() - start;
    return failed ? 0 : elapsed;
}

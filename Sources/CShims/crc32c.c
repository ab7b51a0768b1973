/* CRC32C: SSE4.2 when the CPU has it (chosen once at run time), slice-by-8 otherwise.
 * No -march flags: the hardware path is compiled for sse4.2 per function. */
#ifndef _GNU_SOURCE
#error "CShims needs _GNU_SOURCE (set by the package manifest)"
#endif
#include "CShims.h"

#include <pthread.h>
#include <string.h>

static uint32_t crc_table[8][256];
static int has_sse42;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = crc_table[0][c & 0xFF] ^ (c >> 8);
            crc_table[t][i] = c;
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    has_sse42 = __builtin_cpu_supports("sse4.2");
#else
    has_sse42 = 0;
#endif
}

uint32_t hy_crc32c_portable(uint32_t crc, const void *data, size_t len) {
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc;
        crc = crc_table[7][w & 0xFF] ^ crc_table[6][(w >> 8) & 0xFF] ^
              crc_table[5][(w >> 16) & 0xFF] ^ crc_table[4][(w >> 24) & 0xFF] ^
              crc_table[3][(w >> 32) & 0xFF] ^ crc_table[2][(w >> 40) & 0xFF] ^
              crc_table[1][(w >> 48) & 0xFF] ^ crc_table[0][(w >> 56) & 0xFF];
        p += 8;
        len -= 8;
    }
    while (len--) crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

/* Three independent streams hide the 3-cycle latency of crc32q; they are joined with the
 * portable shift tables (crc of a block followed by zeros), computed once. */
__attribute__((target("sse4.2")))
static uint32_t crc_sse42(uint32_t crc, const uint8_t *p, size_t len) {
    uint64_t c = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    while (len >= 64) {
        uint64_t w[8];
        memcpy(w, p, 64);
        c = _mm_crc32_u64(c, w[0]);
        c = _mm_crc32_u64(c, w[1]);
        c = _mm_crc32_u64(c, w[2]);
        c = _mm_crc32_u64(c, w[3]);
        c = _mm_crc32_u64(c, w[4]);
        c = _mm_crc32_u64(c, w[5]);
        c = _mm_crc32_u64(c, w[6]);
        c = _mm_crc32_u64(c, w[7]);
        p += 64;
        len -= 64;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        len -= 8;
    }
    while (len--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#endif

uint32_t hy_crc32c_hardware(uint32_t crc, const void *data, size_t len) {
    pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
    if (has_sse42) return crc_sse42(crc, (const uint8_t *)data, len);
#endif
    return hy_crc32c_portable(crc, data, len);
}

int hy_crc32c_has_hardware(void) {
    pthread_once(&crc_once, crc_init);
    return has_sse42;
}

uint32_t hy_crc32c(uint32_t crc, const void *data, size_t len) {
    return hy_crc32c_hardware(crc, data, len);
}

/* UTF-8 validation (RFC 3629): one pass, ASCII 32 bytes at a time. */
#include "CShims.h"

#include <string.h>

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline int is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

int hy_utf8_valid(const void *data, size_t len) {
    const uint8_t *p = (const uint8_t *)data;
    const uint64_t high = 0x8080808080808080ULL;
    size_t i = 0;
    while (i < len) {
        while (i + 32 <= len && ((load64(p + i) | load64(p + i + 8) | load64(p + i + 16) | load64(p + i + 24)) & high) == 0) {
            i += 32;
        }
        while (i + 8 <= len && (load64(p + i) & high) == 0) {
            i += 8;
        }
        if (i >= len) {
            break;
        }
        uint8_t b = p[i];
        if (b < 0x80) {
            i += 1;
            continue;
        }
        /* The second byte's range depends on the first (RFC 3629, section 4): this excludes
         * overlongs, surrogates and values past U+10FFFF. */
        size_t need;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        } else {
            return 0;
        }
        if (len - i <= need) {
            return 0;
        }
        if (p[i + 1] < lo || p[i + 1] > hi) {
            return 0;
        }
        for (size_t k = 2; k <= need; k++) {
            if (!is_continuation(p[i + k])) {
                return 0;
            }
        }
        i += need + 1;
    }
    return 1;
}

/* Batch header v2: encode, decode, check, resync, write. Layout in docs/wal-format.md. */
#ifndef _GNU_SOURCE
#error "CShims needs _GNU_SOURCE (set by the package manifest)"
#endif
#include "CShims.h"

#include <string.h>

_Static_assert(HY_BATCH_HEADER_SIZE == 72, "batch header v2 is 72 bytes");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the on-disk format is little-endian");

#define HEADER_CRC_OFFSET 68

static inline void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

void hy_batch_header_encode(const hy_batch_header *h, void *dst) {
    uint8_t *p = dst;
    put32(p + 0, h->magic);
    put16(p + 4, h->version);
    p[6] = h->codec;
    p[7] = h->flags;
    put32(p + 8, h->shard);
    put32(p + 12, h->record_count);
    put64(p + 16, h->base_sequence);
    put64(p + 24, (uint64_t)h->min_timestamp);
    put64(p + 32, (uint64_t)h->max_timestamp);
    put64(p + 40, h->producer_id);
    put64(p + 48, h->producer_sequence);
    put32(p + 56, h->uncompressed_length);
    put32(p + 60, h->stored_length);
    put32(p + 64, h->payload_crc);
    put32(p + HEADER_CRC_OFFSET, hy_crc32c(0, p, HEADER_CRC_OFFSET));
}

void hy_batch_header_decode(const void *src, hy_batch_header *out) {
    const uint8_t *p = src;
    out->magic = get32(p + 0);
    out->version = get16(p + 4);
    out->codec = p[6];
    out->flags = p[7];
    out->shard = get32(p + 8);
    out->record_count = get32(p + 12);
    out->base_sequence = get64(p + 16);
    out->min_timestamp = (int64_t)get64(p + 24);
    out->max_timestamp = (int64_t)get64(p + 32);
    out->producer_id = get64(p + 40);
    out->producer_sequence = get64(p + 48);
    out->uncompressed_length = get32(p + 56);
    out->stored_length = get32(p + 60);
    out->payload_crc = get32(p + 64);
    out->header_crc = get32(p + HEADER_CRC_OFFSET);
}

static int header_crc_ok(const uint8_t *p) {
    return hy_crc32c(0, p, HEADER_CRC_OFFSET) == get32(p + HEADER_CRC_OFFSET);
}

int hy_batch_check(const void *ptr, size_t avail, int verifyPayload, hy_batch_header *out) {
    const uint8_t *p = ptr;
    if (avail < 4) {
        for (size_t i = 0; i < avail; i++)
            if (p[i]) return HY_BATCH_BAD_MAGIC;
        return HY_BATCH_END;
    }
    uint32_t magic = get32(p);
    if (magic == 0) return HY_BATCH_END;
    if (magic != HY_BATCH_MAGIC) return HY_BATCH_BAD_MAGIC;
    if (avail < HY_BATCH_HEADER_SIZE) return HY_BATCH_TRUNCATED;
    if (!header_crc_ok(p)) return HY_BATCH_BAD_HEADER_CRC;
    hy_batch_header_decode(p, out);
    if (out->version != HY_BATCH_VERSION || out->codec > HY_CODEC_ZSTD ||
        out->uncompressed_length > HY_BATCH_MAX_PAYLOAD || out->stored_length > HY_BATCH_MAX_PAYLOAD ||
        (out->codec == HY_CODEC_NONE && out->stored_length != out->uncompressed_length))
        return HY_BATCH_BAD_VERSION;
    if ((size_t)out->stored_length > avail - HY_BATCH_HEADER_SIZE) return HY_BATCH_TRUNCATED;
    if (verifyPayload &&
        hy_crc32c(0, p + HY_BATCH_HEADER_SIZE, out->stored_length) != out->payload_crc)
        return HY_BATCH_BAD_PAYLOAD_CRC;
    return HY_BATCH_VALID;
}

int64_t hy_batch_resync(const void *ptr, size_t avail, size_t from) {
    const uint8_t *p = ptr;
    static const uint8_t magic[4] = {'H', 'Y', 'B', '2'};
    size_t at = from;
    while (avail >= HY_BATCH_HEADER_SIZE && at <= avail - HY_BATCH_HEADER_SIZE) {
        const uint8_t *hit = memmem(p + at, avail - at, magic, sizeof magic);
        if (!hit) return -1;
        size_t off = (size_t)(hit - p);
        if (off > avail - HY_BATCH_HEADER_SIZE) return -1;
        if (header_crc_ok(hit)) return (int64_t)off;
        at = off + 1;
    }
    return -1;
}

int64_t hy_batch_write(hy_codec_ctx *ctx, hy_batch_header *h, const void *src, size_t srcSize,
                       void *dstv, size_t dstCapacity) {
    uint8_t *dst = dstv;
    if (srcSize > HY_BATCH_MAX_PAYLOAD) return HY_ETOOLARGE;
    if (dstCapacity < HY_BATCH_HEADER_SIZE) return HY_ENOSPACE;
    uint8_t *payload = dst + HY_BATCH_HEADER_SIZE;
    size_t room = dstCapacity - HY_BATCH_HEADER_SIZE;
    int codec = h->codec;
    int64_t stored = -1;
    if (codec != HY_CODEC_NONE && srcSize > 0) {
        /* Compress in place; give up (and store raw) when it would not shrink the data. */
        size_t cap = room < srcSize ? room : srcSize;
        stored = hy_compress(ctx, codec, src, srcSize, payload, cap);
        if (stored == HY_ECODEC || stored == HY_ENOMEM || stored == HY_ETOOLARGE) return stored;
        if (stored < 0 || (size_t)stored >= srcSize) stored = -1;
    }
    if (stored < 0) {
        codec = HY_CODEC_NONE;
        if (room < srcSize) return HY_ENOSPACE;
        if (srcSize) memcpy(payload, src, srcSize);
        stored = (int64_t)srcSize;
    }
    h->magic = HY_BATCH_MAGIC;
    h->version = HY_BATCH_VERSION;
    h->codec = (uint8_t)codec;
    h->uncompressed_length = (uint32_t)srcSize;
    h->stored_length = (uint32_t)stored;
    h->payload_crc = hy_crc32c(0, payload, (size_t)stored);
    hy_batch_header_encode(h, dst);
    h->header_crc = get32(dst + HEADER_CRC_OFFSET);
    return HY_BATCH_HEADER_SIZE + stored;
}

/* lz4 and zstd behind one caller-owns-the-buffer API with reusable contexts. */
#ifndef _GNU_SOURCE
#error "CShims needs _GNU_SOURCE (set by the package manifest)"
#endif
#include "CShims.h"

#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

struct hy_codec_ctx {
    void *lz4_state;     /* LZ4_sizeofState() bytes, for LZ4_compress_fast_extState */
    ZSTD_CCtx *zcctx;
    ZSTD_DCtx *zdctx;
    int zstd_level;
    void *scratch;       /* hy_codec_scratch(): grows; hy_codec_scratch_trim() frees it */
    size_t scratch_capacity;
};

hy_codec_ctx *hy_codec_ctx_create(int zstdLevel) {
    hy_codec_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->zstd_level = zstdLevel > 0 ? zstdLevel : 1;
    return ctx;
}

void hy_codec_ctx_free(hy_codec_ctx *ctx) {
    if (!ctx) return;
    free(ctx->lz4_state);
    ZSTD_freeCCtx(ctx->zcctx);
    ZSTD_freeDCtx(ctx->zdctx);
    free(ctx->scratch);
    free(ctx);
}

void *hy_codec_scratch(hy_codec_ctx *ctx, size_t size) {
    if (size > ctx->scratch_capacity) {
        void *grown = realloc(ctx->scratch, size);
        if (!grown) return NULL;
        ctx->scratch = grown;
        ctx->scratch_capacity = size;
    }
    return ctx->scratch;
}

void hy_codec_scratch_trim(hy_codec_ctx *ctx, size_t limit) {
    if (ctx->scratch_capacity <= limit) return;
    free(ctx->scratch);
    ctx->scratch = NULL;
    ctx->scratch_capacity = 0;
}

int64_t hy_compress_bound(int codec, size_t srcSize) {
    if (srcSize > (size_t)LZ4_MAX_INPUT_SIZE) return HY_ETOOLARGE;
    switch (codec) {
    case HY_CODEC_NONE: return (int64_t)srcSize;
    case HY_CODEC_LZ4: return LZ4_compressBound((int)srcSize);
    case HY_CODEC_ZSTD: return (int64_t)ZSTD_compressBound(srcSize);
    default: return HY_ECODEC;
    }
}

int64_t hy_compress(hy_codec_ctx *ctx, int codec, const void *src, size_t srcSize,
                    void *dst, size_t dstCapacity) {
    if (srcSize > (size_t)LZ4_MAX_INPUT_SIZE) return HY_ETOOLARGE;
    switch (codec) {
    case HY_CODEC_NONE:
        if (dstCapacity < srcSize) return HY_ENOSPACE;
        if (srcSize) memcpy(dst, src, srcSize);
        return (int64_t)srcSize;
    case HY_CODEC_LZ4: {
        if (srcSize == 0) return 0;
        if (!ctx->lz4_state) {
            ctx->lz4_state = malloc((size_t)LZ4_sizeofState());
            if (!ctx->lz4_state) return HY_ENOMEM;
        }
        int cap = dstCapacity > (size_t)INT32_MAX ? INT32_MAX : (int)dstCapacity;
        int n = LZ4_compress_fast_extState(ctx->lz4_state, src, dst, (int)srcSize, cap, 1);
        return n > 0 ? n : HY_ENOSPACE;
    }
    case HY_CODEC_ZSTD: {
        if (!ctx->zcctx) {
            ctx->zcctx = ZSTD_createCCtx();
            if (!ctx->zcctx) return HY_ENOMEM;
        }
        size_t r = ZSTD_compressCCtx(ctx->zcctx, dst, dstCapacity, src, srcSize, ctx->zstd_level);
        if (ZSTD_isError(r)) return HY_ENOSPACE;
        return (int64_t)r;
    }
    default: return HY_ECODEC;
    }
}

int64_t hy_decompress(hy_codec_ctx *ctx, int codec, const void *src, size_t srcSize,
                      void *dst, size_t dstCapacity) {
    switch (codec) {
    case HY_CODEC_NONE:
        if (dstCapacity < srcSize) return HY_ENOSPACE;
        if (srcSize) memcpy(dst, src, srcSize);
        return (int64_t)srcSize;
    case HY_CODEC_LZ4: {
        if (srcSize == 0) return dstCapacity == 0 ? 0 : HY_ECORRUPT;
        if (srcSize > (size_t)INT32_MAX) return HY_ETOOLARGE;
        int cap = dstCapacity > (size_t)INT32_MAX ? INT32_MAX : (int)dstCapacity;
        int n = LZ4_decompress_safe(src, dst, (int)srcSize, cap);
        return n >= 0 ? n : HY_ECORRUPT;
    }
    case HY_CODEC_ZSTD: {
        if (!ctx->zdctx) {
            ctx->zdctx = ZSTD_createDCtx();
            if (!ctx->zdctx) return HY_ENOMEM;
        }
        size_t r = ZSTD_decompressDCtx(ctx->zdctx, dst, dstCapacity, src, srcSize);
        if (ZSTD_isError(r)) {
            return ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall ? HY_ENOSPACE : HY_ECORRUPT;
        }
        return (int64_t)r;
    }
    default: return HY_ECODEC;
    }
}

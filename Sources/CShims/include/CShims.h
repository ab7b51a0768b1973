/*
 * CShims: Hypha's C core.
 *
 * Compression (lz4, zstd) into caller-owned buffers with reusable contexts, CRC32C with a
 * hardware path chosen at run time, memory-mapped segment files, and the batch header v2
 * layout with its encoder and checker (docs/wal-format.md is the byte-by-byte reference),
 * UTF-8 validation, and the one process-spawning call Swift's Glibc module lacks.
 *
 * Conventions (as lz4.h):
 *   - every exported symbol starts with hy_ / HY_;
 *   - the caller owns every buffer and passes its capacity; nothing here writes outside
 *     [dst, dst + dstCapacity);
 *   - errors travel in the return value as a negative HY_E* code;
 *   - contexts are opaque, reusable, and used by one thread at a time.
 *
 * This header is self-contained: it includes only <stdint.h> and <stddef.h>; lz4.h and
 * zstd.h stay inside the .c files.
 */
#ifndef HYPHA_CSHIMS_H
#define HYPHA_CSHIMS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Error codes (negative return values)
 * ------------------------------------------------------------------------------------- */
enum {
    HY_OK = 0,
    HY_ENOSPACE = -1,      /* destination capacity too small */
    HY_ECORRUPT = -2,      /* compressed input is malformed */
    HY_ECODEC = -3,        /* unknown codec id */
    HY_ENOMEM = -4,        /* allocation failed */
    HY_EIO = -5,           /* system call failed; errno holds the reason */
    HY_ETOOLARGE = -6,     /* input exceeds the codec's or format's limit */
};

/* Codec identifiers stored in the batch header. */
enum {
    HY_CODEC_NONE = 0,
    HY_CODEC_LZ4 = 1,
    HY_CODEC_ZSTD = 2,
};

/* ---------------------------------------------------------------------------------------
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78)
 * ------------------------------------------------------------------------------------- */

/*! hy_crc32c() :
 *  Extends `crc` (0 to start) over `len` bytes at `data` and returns the new value.
 *  Uses the SSE4.2 instruction when the CPU has it (checked once), else slice-by-8.
 *  Known answer: hy_crc32c(0, "123456789", 9) == 0xE3069283.
 *  Thread-safe; never reads outside [data, data + len). */
uint32_t hy_crc32c(uint32_t crc, const void *data, size_t len);

/*! hy_crc32c_portable() : the slice-by-8 path, same contract as hy_crc32c(). */
uint32_t hy_crc32c_portable(uint32_t crc, const void *data, size_t len);

/*! hy_crc32c_hardware() : the SSE4.2 path, same contract as hy_crc32c().
 *  @return : the CRC, or the portable result when the CPU lacks SSE4.2. */
uint32_t hy_crc32c_hardware(uint32_t crc, const void *data, size_t len);

/*! hy_crc32c_has_hardware() : 1 when hy_crc32c() uses SSE4.2 on this CPU, else 0. */
int hy_crc32c_has_hardware(void);

/* ---------------------------------------------------------------------------------------
 * Compression with reusable contexts
 * ------------------------------------------------------------------------------------- */

/*! hy_codec_ctx : an opaque, reusable compression context (lz4 state, zstd CCtx and DCtx,
 *  created lazily). One per thread: it is not safe to share between threads concurrently. */
typedef struct hy_codec_ctx hy_codec_ctx;

/*! hy_codec_ctx_create() :
 *  `zstdLevel` : zstd compression level (1..19; 1 is the fast default worth using on logs).
 *  @return : a context, or NULL when memory is short. Free with hy_codec_ctx_free(). */
hy_codec_ctx *hy_codec_ctx_create(int zstdLevel);

/*! hy_codec_ctx_free() : releases a context; NULL is accepted. */
void hy_codec_ctx_free(hy_codec_ctx *ctx);

/*! hy_codec_scratch() :
 *  A buffer of at least `size` bytes owned by the context, valid until the next call,
 *  hy_codec_scratch_trim() or hy_codec_ctx_free(). It grows as needed, so a writer reuses one
 *  allocation for every batch.
 *  @return : the buffer, or NULL when memory is short. */
void *hy_codec_scratch(hy_codec_ctx *ctx, size_t size);

/*! hy_codec_scratch_trim() : frees the scratch buffer when it is larger than `limit`, so one
 *  rare huge batch does not stay resident. */
void hy_codec_scratch_trim(hy_codec_ctx *ctx, size_t limit);

/*! hy_compress_bound() :
 *  @return : the largest output hy_compress() can produce for `srcSize` bytes with `codec`,
 *            or a negative HY_E* code (HY_ECODEC, HY_ETOOLARGE above 2 GiB). */
int64_t hy_compress_bound(int codec, size_t srcSize);

/*! hy_compress() :
 *  Compresses `srcSize` bytes from `src` into `dst` with `codec` (HY_CODEC_NONE copies).
 *  `srcSize` : at most 0x7E000000 bytes (lz4's LZ4_MAX_INPUT_SIZE).
 *  @return : bytes written (0 is valid for empty input), or HY_ENOSPACE when `dstCapacity`
 *            is too small (use hy_compress_bound()), HY_ECODEC, HY_ENOMEM, HY_ETOOLARGE.
 *  Never writes outside [dst, dst + dstCapacity). */
int64_t hy_compress(hy_codec_ctx *ctx, int codec, const void *src, size_t srcSize,
                    void *dst, size_t dstCapacity);

/*! hy_decompress() :
 *  Decompresses `srcSize` bytes into `dst`; the caller knows the original size and passes it
 *  as `dstCapacity`.
 *  @return : bytes written, or HY_ECORRUPT on malformed input, HY_ENOSPACE when the output
 *            does not fit, HY_ECODEC, HY_ENOMEM.
 *  Protected against malformed input: never reads outside src nor writes outside dst. */
int64_t hy_decompress(hy_codec_ctx *ctx, int codec, const void *src, size_t srcSize,
                      void *dst, size_t dstCapacity);

/* ---------------------------------------------------------------------------------------
 * Batch header v2 (72 bytes, little-endian on disk; docs/wal-format.md)
 * ------------------------------------------------------------------------------------- */

#define HY_BATCH_MAGIC 0x32425948u /* "HYB2" read as little-endian u32 */
#define HY_BATCH_VERSION 2
#define HY_BATCH_HEADER_SIZE 72
/* The largest payload (stored or uncompressed) one batch may hold: 64 MiB. */
#define HY_BATCH_MAX_PAYLOAD 67108864

/*! hy_batch_header : the decoded form of a batch header. */
typedef struct hy_batch_header {
    uint32_t magic;
    uint16_t version;
    uint8_t codec;
    uint8_t flags;
    uint32_t shard;
    uint32_t record_count;
    uint64_t base_sequence;
    int64_t min_timestamp;
    int64_t max_timestamp;
    uint64_t producer_id;
    uint64_t producer_sequence;
    uint32_t uncompressed_length;
    uint32_t stored_length;
    uint32_t payload_crc;
    uint32_t header_crc;
} hy_batch_header;

/*! hy_batch_header_encode() : writes `h` as 72 bytes at `dst`, computing header_crc over
 *  bytes 0..67 (the field in `h` is ignored). `dst` must hold HY_BATCH_HEADER_SIZE bytes. */
void hy_batch_header_encode(const hy_batch_header *h, void *dst);

/*! hy_batch_header_decode() : reads 72 bytes at `src` into `out` without checking them. */
void hy_batch_header_decode(const void *src, hy_batch_header *out);

/* Results of hy_batch_check(). */
enum {
    HY_BATCH_VALID = 0,
    HY_BATCH_END = 1,             /* four zero bytes where a magic would be: clean end of data */
    HY_BATCH_BAD_MAGIC = 2,
    HY_BATCH_BAD_HEADER_CRC = 3,
    HY_BATCH_BAD_VERSION = 4,     /* header CRC is right but version/codec/lengths are not */
    HY_BATCH_TRUNCATED = 5,       /* header valid, payload runs past the end of the data */
    HY_BATCH_BAD_PAYLOAD_CRC = 6,
};

/*! hy_batch_check() :
 *  Checks the batch starting at `p` with `avail` readable bytes: magic, header CRC, version,
 *  codec, lengths within HY_BATCH_MAX_PAYLOAD and `avail`, and (when `verifyPayload` is
 *  non-zero) the payload CRC. Fills `out` whenever the header CRC is right.
 *  @return : one of HY_BATCH_* above. Never reads outside [p, p + avail). */
int hy_batch_check(const void *p, size_t avail, int verifyPayload, hy_batch_header *out);

/*! hy_batch_resync() :
 *  Looks for the next plausible batch after a damaged one: the first offset >= `from` where
 *  a magic number and a correct header CRC stand.
 *  @return : that offset, or -1 when none exists before `avail`. */
int64_t hy_batch_resync(const void *p, size_t avail, size_t from);

/*! hy_batch_write() :
 *  Encodes a whole batch at `dst`: compresses `src` with `h->codec` straight into place after
 *  the header (storing it uncompressed instead, with codec NONE, when compression does not
 *  shrink it), computes both CRCs and writes the header last. `h` supplies shard, sequence,
 *  counts, timestamps and producer fields; lengths, CRCs, magic and version are filled in
 *  and copied back into `h`.
 *  @return : total bytes written (header + payload), or HY_ENOSPACE when it does not fit in
 *            `dstCapacity`, HY_ETOOLARGE above HY_BATCH_MAX_PAYLOAD, HY_ECODEC, HY_ENOMEM.
 *  Never writes outside [dst, dst + dstCapacity); on HY_ENOSPACE what it wrote there is
 *  garbage (segments get batches through hy_segment_append_batch(), which writes nothing
 *  then). */
int64_t hy_batch_write(hy_codec_ctx *ctx, hy_batch_header *h, const void *src, size_t srcSize,
                       void *dst, size_t dstCapacity);

/* ---------------------------------------------------------------------------------------
 * Segment files (preallocated, memory-mapped)
 * ------------------------------------------------------------------------------------- */

/*! hy_segment : an open, mapped segment file. Fields are read-only for callers. */
typedef struct hy_segment {
    int fd;
    int writable;
    uint8_t *base;
    size_t size;
} hy_segment;

/*! hy_segment_create() :
 *  Creates `path` (which must not exist), preallocates `size` bytes with posix_fallocate,
 *  maps it read-write and shared, and fsyncs the file. The caller fsyncs the directory.
 *  @return : HY_OK, or HY_EIO with errno set (EEXIST when the file exists). */
int hy_segment_create(const char *path, size_t size, hy_segment *out);

/*! hy_segment_open() :
 *  Maps an existing segment file over its whole length, read-write when `writable`.
 *  @return : HY_OK, or HY_EIO with errno set. */
int hy_segment_open(const char *path, int writable, hy_segment *out);

/*! hy_segment_sync() :
 *  Makes [offset, offset + len) durable (msync MS_SYNC over the enclosing pages, which on
 *  Linux writes the range back and waits, like fdatasync for that range, including bytes
 *  written with pwrite rather than through the mapping).
 *  @return : HY_OK, or HY_EIO with errno set. */
int hy_segment_sync(const hy_segment *seg, size_t offset, size_t len);

/*! hy_segment_release() :
 *  Drops the pages wholly inside [offset, offset + len) from this process's resident set
 *  (MADV_DONTNEED on a shared mapping: the data stays in the page cache and dirty pages are
 *  still written back). Keeps RSS flat while long logs are written or scanned.
 *  @return : HY_OK, or HY_EIO with errno set. */
int hy_segment_release(const hy_segment *seg, size_t offset, size_t len);

/*! hy_segment_advise_sequential() : tells the kernel the mapping will be read in order. */
void hy_segment_advise_sequential(const hy_segment *seg);

/*! hy_segment_write() : writes `len` bytes at `offset` with pwrite(2) (not through the
 *  mapping: see hy_segment_append_batch()).
 *  @return : HY_OK, HY_ENOSPACE when the range passes the end of the segment, or HY_EIO with
 *            errno set. */
int hy_segment_write(const hy_segment *seg, size_t offset, const void *src, size_t len);

/*! hy_segment_append_batch() :
 *  Encodes a batch like hy_batch_write() into the context's scratch buffer, then writes it at
 *  `offset` with pwrite(2): the payload first, the header (with the magic) second. The data
 *  lands in the same page cache the mapping shows, so readers of the mapping see it at once
 *  and hy_segment_sync() makes it durable. Scratch buffers above 4 MiB are freed afterwards.
 *  Writing through the mapping instead costs a page fault that zero-fills every new page of
 *  the preallocated (unwritten) extent before it is overwritten, and at every msync a
 *  write-protect of the dirty pages with a TLB shootdown on every CPU running the process
 *  (docs/wal-format.md).
 *  @return : bytes written (header + stored payload), or HY_ENOSPACE when the batch does not fit
 *            before the end of the segment (nothing is written), HY_ETOOLARGE, HY_ECODEC,
 *            HY_ENOMEM, or HY_EIO with errno set. */
int64_t hy_segment_append_batch(const hy_segment *seg, hy_codec_ctx *ctx, hy_batch_header *h,
                                const void *src, size_t srcSize, size_t offset);

/*! hy_segment_zero_tail() : zeroes [offset, end of segment) and syncs it.
 *  @return : HY_OK, or HY_EIO with errno set. */
int hy_segment_zero_tail(const hy_segment *seg, size_t offset);

/*! hy_find_nonzero() :
 *  @return : the offset of the first non-zero byte in [p, p + len), or -1 when all are zero. */
int64_t hy_find_nonzero(const void *p, size_t len);

/*! hy_segment_find_nonzero() :
 *  Like hy_find_nonzero() over [offset, end of segment), but read with pread(2) in 1 MiB
 *  chunks instead of through the mapping, so checking a long preallocated tail does not grow
 *  the process's resident memory; the pages read are then dropped from the page cache.
 *  @return : offset of the first non-zero byte (relative to the segment), -1 when all are zero,
 *            or HY_EIO (as -5, with errno set) when reading fails. */
int64_t hy_segment_find_nonzero(const hy_segment *seg, size_t offset);

/*! hy_segment_close() : unmaps and closes; safe to call twice. */
void hy_segment_close(hy_segment *seg);

/*! hy_fsync_directory() : fsyncs a directory so renames and creations in it are durable.
 *  @return : HY_OK, or HY_EIO with errno set. */
int hy_fsync_directory(const char *path);

/*! hy_utf8_valid() :
 *  @return : 1 when [data, data + len) is well-formed UTF-8 (RFC 3629: no overlongs, surrogates
 *            or values past U+10FFFF), else 0. ASCII is checked 32 bytes at a time. */
int hy_utf8_valid(const void *data, size_t len);

/*! hy_errno() : the calling thread's errno, for messages after an HY_EIO. */
int hy_errno(void);

/* ---- Processes -------------------------------------------------------------------------- */

/*! hy_spawn_addchdir() :
 *  Adds to `actions` (a posix_spawn_file_actions_t *, initialised by the caller) a change of
 *  the child's working directory to `path`, done before the program starts: glibc's
 *  posix_spawn_file_actions_addchdir_np(3), which Swift's Glibc module does not export.
 *  The path is copied; the caller keeps ownership of both arguments.
 *  @return : 0, or an errno value (ENOMEM) as the posix_spawn_file_actions_* functions do.
 *  A directory that does not exist makes posix_spawn() itself fail with that errno. */
int hy_spawn_addchdir(void *actions, const char *path);

/*! hy_pipe2() :
 *  Creates a pipe with `flags` (O_CLOEXEC, O_NONBLOCK, O_DIRECT) set atomically on both ends:
 *  pipe2(2), a GNU extension Swift's Glibc module does not export. Setting O_CLOEXEC this way
 *  leaves no moment in which another thread's posix_spawn could inherit the descriptors.
 *  `fds` must have room for two descriptors: [0] the read end, [1] the write end.
 *  @return : 0, or -1 with errno set (EMFILE, ENFILE, EINVAL). Thread-safe. */
int hy_pipe2(int fds[2], int flags);

/* ---- Scans ------------------------------------------------------------------------------ */

/*! hy_find() : the first occurrence of the `needle_len` bytes at `needle` in the
 *  `haystack_len` bytes at `haystack` (glibc's memmem, a two-way search).
 *  @return : a pointer into `haystack`, or NULL when there is none. An empty needle is found
 *            at `haystack`. Reads nothing outside the two ranges; thread-safe. */
const void *hy_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

/* ---- Threads ---------------------------------------------------------------------------- */

/** Names the calling thread (at most 15 bytes are kept), for top -H, perf and /proc. */
void hy_thread_set_name(const char *name);

/*! hy_thread_set_niceness() : sets the calling thread's (not the process's) nice value
 *  (Linux keeps one per thread), so background work such as a query scan yields the CPU to
 *  the ingest threads. `nice` is -20 … 19; raising it needs no privilege.
 *  @return : HY_OK, or HY_EIO with errno set. */
int hy_thread_set_niceness(int nice);

#ifdef __cplusplus
}
#endif

#endif /* HYPHA_CSHIMS_H */

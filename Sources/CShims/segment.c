/* Segment files: create with preallocation, map, write, sync ranges, release pages. */
#ifndef _GNU_SOURCE
#error "CShims needs _GNU_SOURCE (set by the package manifest)"
#endif
#include "CShims.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t page_size(void) {
    static size_t ps;
    if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

int hy_errno(void) { return errno; }

int hy_fsync_directory(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return HY_EIO;
    int r = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return r == 0 ? HY_OK : HY_EIO;
}

static int map_fd(int fd, size_t size, int writable, hy_segment *out) {
    void *base = mmap(NULL, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) return HY_EIO;
    out->fd = fd;
    out->writable = writable;
    out->base = base;
    out->size = size;
    return HY_OK;
}

int hy_segment_create(const char *path, size_t size, hy_segment *out) {
    memset(out, 0, sizeof *out);
    out->fd = -1;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return HY_EIO;
    int r = posix_fallocate(fd, 0, (off_t)size);
    if (r != 0) {
        /* Filesystems without fallocate (tmpfs on old kernels) still get a sized file. */
        if (r != EOPNOTSUPP && r != EINVAL) goto fail_errno_r;
        if (ftruncate(fd, (off_t)size) != 0) goto fail;
    }
    if (fsync(fd) != 0) goto fail;
    if (map_fd(fd, size, 1, out) != HY_OK) goto fail;
    return HY_OK;
fail_errno_r:
    errno = r;
fail: {
        int saved = errno;
        close(fd);
        unlink(path);
        errno = saved;
        return HY_EIO;
    }
}

int hy_segment_open(const char *path, int writable, hy_segment *out) {
    memset(out, 0, sizeof *out);
    out->fd = -1;
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return HY_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) goto fail;
    if (st.st_size <= 0) {
        errno = EINVAL;
        goto fail;
    }
    if (map_fd(fd, (size_t)st.st_size, writable, out) != HY_OK) goto fail;
    return HY_OK;
fail: {
        int saved = errno;
        close(fd);
        errno = saved;
        return HY_EIO;
    }
}

int hy_segment_sync(const hy_segment *seg, size_t offset, size_t len) {
    if (!seg->base || len == 0) return HY_OK;
    if (offset >= seg->size) return HY_OK;
    if (len > seg->size - offset) len = seg->size - offset;
    size_t ps = page_size();
    size_t start = offset & ~(ps - 1);
    size_t end = offset + len;
    if (msync(seg->base + start, end - start, MS_SYNC) != 0) return HY_EIO;
    return HY_OK;
}

int hy_segment_release(const hy_segment *seg, size_t offset, size_t len) {
    if (!seg->base || offset >= seg->size) return HY_OK;
    if (len > seg->size - offset) len = seg->size - offset;
    size_t ps = page_size();
    size_t start = (offset + ps - 1) & ~(ps - 1);
    size_t end = (offset + len) & ~(ps - 1);
    if (end <= start) return HY_OK;
    if (madvise(seg->base + start, end - start, MADV_DONTNEED) != 0) return HY_EIO;
    return HY_OK;
}

void hy_segment_advise_sequential(const hy_segment *seg) {
    if (seg->base) (void)madvise(seg->base, seg->size, MADV_SEQUENTIAL);
}

/* Batch scratch buffers above this are freed after use (typical batches are far smaller). */
#define SCRATCH_KEEP ((size_t)4 << 20)

/* pwrite(2) all of it, through short writes and signals. */
static int write_fully(int fd, const uint8_t *src, size_t len, size_t offset) {
    while (len > 0) {
        ssize_t n = pwrite(fd, src, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            return HY_EIO;
        }
        if (n == 0) {
            errno = EIO;
            return HY_EIO;
        }
        src += n;
        offset += (size_t)n;
        len -= (size_t)n;
    }
    return HY_OK;
}

int hy_segment_write(const hy_segment *seg, size_t offset, const void *src, size_t len) {
    if (offset > seg->size || len > seg->size - offset) return HY_ENOSPACE;
    return write_fully(seg->fd, src, len, offset);
}

int64_t hy_segment_append_batch(const hy_segment *seg, hy_codec_ctx *ctx, hy_batch_header *h,
                                const void *src, size_t srcSize, size_t offset) {
    if (offset > seg->size) return HY_ENOSPACE;
    if (srcSize > HY_BATCH_MAX_PAYLOAD) return HY_ETOOLARGE;
    /* The encoded batch is never longer than the header plus the raw payload. */
    size_t room = seg->size - offset;
    size_t capacity = HY_BATCH_HEADER_SIZE + srcSize;
    if (capacity > room) capacity = room;
    void *scratch = hy_codec_scratch(ctx, capacity > 0 ? capacity : 1);
    if (!scratch) return HY_ENOMEM;
    int64_t n = hy_batch_write(ctx, h, src, srcSize, scratch, capacity);
    /* Payload first, header (with the magic) second: a reader of the mapping or a process
     * crash between the two sees no batch rather than a header over a partial payload. */
    const uint8_t *batch = scratch;
    if (n >= 0 &&
        (write_fully(seg->fd, batch + HY_BATCH_HEADER_SIZE, (size_t)n - HY_BATCH_HEADER_SIZE, offset + HY_BATCH_HEADER_SIZE) != HY_OK ||
         write_fully(seg->fd, batch, HY_BATCH_HEADER_SIZE, offset) != HY_OK))
        n = HY_EIO;
    int saved = errno;
    hy_codec_scratch_trim(ctx, SCRATCH_KEEP);
    errno = saved;
    return n;
}

int hy_segment_zero_tail(const hy_segment *seg, size_t offset) {
    if (offset >= seg->size) return HY_OK;
    /* Whole pages: let the file system zero them without touching memory; the partial first
     * page (and file systems without ZERO_RANGE) through the mapping. The fdatasync covers
     * both. */
    size_t ps = page_size();
    size_t aligned = (offset + ps - 1) & ~(ps - 1);
    if (aligned < seg->size &&
        fallocate(seg->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)aligned, (off_t)(seg->size - aligned)) == 0) {
        if (aligned > offset) memset(seg->base + offset, 0, aligned - offset);
        return fdatasync(seg->fd) == 0 ? HY_OK : HY_EIO;
    }
    memset(seg->base + offset, 0, seg->size - offset);
    return hy_segment_sync(seg, offset, seg->size - offset);
}

void hy_segment_close(hy_segment *seg) {
    if (seg->base) munmap(seg->base, seg->size);
    if (seg->fd >= 0) close(seg->fd);
    seg->base = NULL;
    seg->fd = -1;
    seg->size = 0;
}

int64_t hy_find_nonzero(const void *ptr, size_t len) {
    const uint8_t *p = ptr;
    size_t i = 0;
    while (i < len && ((uintptr_t)(p + i) & 7)) {
        if (p[i]) return (int64_t)i;
        i++;
    }
    while (len - i >= 64) {
        uint64_t w[8];
        memcpy(w, p + i, 64);
        if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0) break;
        i += 64;
    }
    for (; i < len; i++)
        if (p[i]) return (int64_t)i;
    return -1;
}

int64_t hy_segment_find_nonzero(const hy_segment *seg, size_t offset) {
    enum { CHUNK = 1 << 20 };
    if (offset >= seg->size) return -1;
    uint8_t *buffer = malloc(CHUNK);
    if (!buffer) return HY_ENOMEM;
    int64_t found = -1;
    size_t at = offset;
    while (at < seg->size) {
        size_t want = seg->size - at < CHUNK ? seg->size - at : CHUNK;
        ssize_t n = pread(seg->fd, buffer, want, (off_t)at);
        if (n < 0) {
            if (errno == EINTR) continue;
            found = HY_EIO;
            break;
        }
        if (n == 0) break;
        int64_t hit = hy_find_nonzero(buffer, (size_t)n);
        if (hit >= 0) {
            found = (int64_t)at + hit;
            break;
        }
        at += (size_t)n;
    }
    int saved = errno;
    free(buffer);
    (void)posix_fadvise(seg->fd, (off_t)offset, (off_t)(seg->size - offset), POSIX_FADV_DONTNEED);
    errno = saved;
    return found;
}

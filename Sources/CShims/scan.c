#include "CShims.h"

#ifndef _GNU_SOURCE
#error You must define _GNU_SOURCE (Package.swift does for CShims): memmem is a GNU extension
#endif
#include <string.h>

const void *hy_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    return memmem(haystack, haystack_len, needle, needle_len);
}

#include "CShims.h"

#ifndef _GNU_SOURCE
#error You must define _GNU_SOURCE (posix_spawn_file_actions_addchdir_np is a GNU extension)
#endif

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

int hy_spawn_addchdir(void *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np((posix_spawn_file_actions_t *)actions, path);
}

int hy_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags) == 0 ? 0 : -1;
}

/*
 * LD_PRELOAD heap-allocation counter for the allocation benchmark: counts
 * calls to malloc, calloc, realloc, posix_memalign, aligned_alloc and
 * memalign, and on SIGUSR2 writes the total to $MALLOC_COUNT_FILE.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_ulong allocations;

#define COUNTED(ret, name, params, args)                                   \
    ret name params {                                                      \
        static ret (*real) params;                                         \
        if (!real) real = (ret (*) params)dlsym(RTLD_NEXT, #name);         \
        atomic_fetch_add(&allocations, 1);                                 \
        return real args;                                                  \
    }

COUNTED(void *, malloc, (size_t size), (size))
COUNTED(void *, realloc, (void *p, size_t size), (p, size))
COUNTED(int, posix_memalign, (void **p, size_t alignment, size_t size), (p, alignment, size))
COUNTED(void *, aligned_alloc, (size_t alignment, size_t size), (alignment, size))
COUNTED(void *, memalign, (size_t alignment, size_t size), (alignment, size))

/* dlsym itself may call calloc: serve that first call from a static buffer. */
void *calloc(size_t n, size_t size) {
    static void *(*real)(size_t, size_t);
    static char early[4096];
    static int resolving;
    if (!real) {
        if (resolving) return early;
        resolving = 1;
        real = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
        resolving = 0;
    }
    atomic_fetch_add(&allocations, 1);
    return real(n, size);
}

static void report(int signal) {
    (void)signal;
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (!path) return;
    char line[32];
    int length = snprintf(line, sizeof line, "%lu\n", (unsigned long)atomic_load(&allocations));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        (void)!write(fd, line, (size_t)length);
        close(fd);
    }
}

__attribute__((constructor)) static void install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = report;
    action.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &action, NULL);
}

/*
 * Asynchronous name lookup with glibc's getaddrinfo_a (in libc itself since
 * glibc 2.34: Debian 12 and Raspberry Pi OS bookworm have 2.36), so that a
 * dead DNS server never holds ternd's one thread. glibc declares the API
 * only under _GNU_SOURCE, which the rest of CTern does not want (it changes
 * other declarations, strerror_r's for one), so it is declared here with
 * glibc's own layout and values when they are hidden.
 */
#ifndef TERN_RESOLVER_SHIM_H
#define TERN_RESOLVER_SHIM_H

#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifdef __USE_GNU
typedef struct gaicb tern_gaicb;
#define TERN_GAI_NOWAIT GAI_NOWAIT
#define TERN_EAI_INPROGRESS EAI_INPROGRESS
#define TERN_EAI_CANCELED EAI_CANCELED
#else
/* struct gaicb and the GNU values from glibc's <netdb.h>. */
typedef struct tern_gaicb {
    const char *ar_name;
    const char *ar_service;
    const struct addrinfo *ar_request;
    struct addrinfo *ar_result;
    int __return;
    int __glibc_reserved[5];
} tern_gaicb;
extern int getaddrinfo_a(int mode, tern_gaicb *list[], int count, struct sigevent *notification);
extern int gai_error(tern_gaicb *request);
extern int gai_cancel(tern_gaicb *request);
#define TERN_GAI_NOWAIT 1
#define TERN_EAI_INPROGRESS (-100)
#define TERN_EAI_CANCELED (-101)
#endif

/// One lookup under way: the request and what it points at, kept together
/// until glibc is done with them.
struct tern_lookup {
    tern_gaicb request;
    struct addrinfo hints;
    char name[256];
};

/// Starts looking up `name` (TCP addresses of any family) without waiting.
/// NULL and `*error` (a getaddrinfo code) if it cannot start.
static inline struct tern_lookup *tern_lookup_start(const char *name, int *error) {
    if (strlen(name) >= sizeof(((struct tern_lookup *)0)->name)) {
        *error = EAI_NONAME;
        return NULL;
    }
    struct tern_lookup *lookup = calloc(1, sizeof *lookup);
    if (lookup == NULL) {
        *error = EAI_MEMORY;
        return NULL;
    }
    strcpy(lookup->name, name);
    lookup->hints.ai_socktype = SOCK_STREAM;
    lookup->request.ar_name = lookup->name;
    lookup->request.ar_request = &lookup->hints;
    struct sigevent notification;
    memset(&notification, 0, sizeof notification);
    notification.sigev_notify = SIGEV_NONE;
    tern_gaicb *list[1] = { &lookup->request };
    int started = getaddrinfo_a(TERN_GAI_NOWAIT, list, 1, &notification);
    if (started != 0) {
        free(lookup);
        *error = started;
        return NULL;
    }
    return lookup;
}

/// 1 while the lookup runs, 0 when it found addresses, a getaddrinfo code
/// (negative) when it failed.
static inline int tern_lookup_status(struct tern_lookup *lookup) {
    int status = gai_error(&lookup->request);
    return status == TERN_EAI_INPROGRESS ? 1 : status;
}

/// The addresses found (valid after status 0, until release).
static inline const struct addrinfo *tern_lookup_result(struct tern_lookup *lookup) {
    return lookup->request.ar_result;
}

/// Frees the lookup and returns 1, or returns 0 if glibc is still working
/// on it and cannot cancel it (call again later).
static inline int tern_lookup_release(struct tern_lookup *lookup) {
    if (gai_error(&lookup->request) == TERN_EAI_INPROGRESS && gai_cancel(&lookup->request) != TERN_EAI_CANCELED) {
        return 0;
    }
    if (lookup->request.ar_result != NULL) freeaddrinfo(lookup->request.ar_result);
    free(lookup);
    return 1;
}

#endif

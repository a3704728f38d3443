/*
 * The one C surface Tern's Swift code sees: libc, the Linux uapi headers,
 * libsodium and libmnl. Swift never imports Glibc, so the same sources build
 * in normal and in Embedded mode (where `#if os(Linux)` is false).
 *
 * Variadic or macro-only C interfaces cannot be called from Swift; the small
 * inline wrappers below give them fixed signatures.
 */
#ifndef TERN_SHIM_H
#define TERN_SHIM_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <sodium.h>
#include <libmnl/libmnl.h>

/// The calling thread's errno (a macro in C).
static inline int tern_errno(void) { return errno; }

/// Sets the calling thread's errno.
static inline void tern_set_errno(int value) { errno = value; }

/// `ioctl(fd, request, arg)` with a pointer argument.
static inline int tern_ioctl_ptr(int fd, unsigned long request, void *arg) {
    return ioctl(fd, request, arg);
}

/// `fcntl(fd, cmd, arg)` with an integer argument.
static inline int tern_fcntl_int(int fd, int cmd, int arg) {
    return fcntl(fd, cmd, arg);
}

/// `open(path, flags, mode)`.
static inline int tern_open(const char *path, int flags, mode_t mode) {
    return open(path, flags, mode);
}

/// Monotonic time in nanoseconds (CLOCK_MONOTONIC), for the shell's clock.
static inline uint64_t tern_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// Wall-clock time (CLOCK_REALTIME) as seconds and nanoseconds since 1970.
static inline void tern_realtime(int64_t *seconds, int32_t *nanoseconds) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *seconds = (int64_t)ts.tv_sec;
    *nanoseconds = (int32_t)ts.tv_nsec;
}

/// `struct mmsghdr` for `tern_recvmmsg`/`tern_sendmmsg`: glibc declares it only under
/// _GNU_SOURCE, which would also turn every sockaddr parameter into a transparent union.
struct tern_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// `recvmmsg(fd, vector, count, flags, NULL)` (a GNU extension), as the raw system call.
static inline int tern_recvmmsg(int fd, struct tern_mmsghdr *vector, unsigned int count, int flags) {
    return (int)syscall(SYS_recvmmsg, (long)fd, vector, (long)count, (long)flags, (struct timespec *)0);
}

/// `sendmmsg(fd, vector, count, flags)` (a GNU extension), as the raw system call.
static inline int tern_sendmmsg(int fd, struct tern_mmsghdr *vector, unsigned int count, int flags) {
    return (int)syscall(SYS_sendmmsg, (long)fd, vector, (long)count, (long)flags);
}

/* UDP segmentation offload (Linux 4.18) and UDP GRO (5.0); older C headers lack the names. */
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/// Bytes of control buffer one message needs for a UDP_SEGMENT (send) or
/// UDP_GRO (receive) control message, with room for one more: a multiple of
/// the cmsg alignment, so per-message buffers can sit back to back.
static inline size_t tern_udp_control_space(void) {
    return 2 * CMSG_SPACE(sizeof(int));
}

/// Puts one UDP_SEGMENT control message (`segment_size`, a uint16_t) in
/// `control` (`capacity` bytes, cmsg-aligned) and points `message` at it.
/// Returns 0, or -1 if the buffer is too small (the message is left without
/// control data).
static inline int tern_mmsghdr_set_udp_segment(struct tern_mmsghdr *message, void *control,
                                               size_t capacity, uint16_t segment_size) {
    if (capacity < CMSG_SPACE(sizeof(uint16_t))) {
        message->msg_hdr.msg_control = 0;
        message->msg_hdr.msg_controllen = 0;
        return -1;
    }
    memset(control, 0, CMSG_SPACE(sizeof(uint16_t)));
    message->msg_hdr.msg_control = control;
    message->msg_hdr.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    struct cmsghdr *header = CMSG_FIRSTHDR(&message->msg_hdr);
    header->cmsg_level = SOL_UDP;
    header->cmsg_type = UDP_SEGMENT;
    header->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(header), &segment_size, sizeof segment_size);
    return 0;
}

/// Points `message` at `control` (`capacity` bytes, cmsg-aligned) for a
/// receive, or at nothing when `control` is NULL.
static inline void tern_mmsghdr_set_control(struct tern_mmsghdr *message, void *control, size_t capacity) {
    message->msg_hdr.msg_control = control;
    message->msg_hdr.msg_controllen = control ? capacity : 0;
}

/// The segment size of the UDP_GRO control message the kernel put in a
/// received `message` (it coalesced several datagrams of that size, the last
/// possibly shorter), or 0 when there is none.
static inline int tern_mmsghdr_udp_gro_size(struct tern_mmsghdr *message) {
    struct msghdr *header = &message->msg_hdr;
    if (header->msg_controllen == 0) return 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(header); c != 0; c = CMSG_NXTHDR(header, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int size;
            memcpy(&size, CMSG_DATA(c), sizeof size);
            return size > 0 ? size : 0;
        }
    }
    return 0;
}

/// True when two socket addresses name the same IPv6 address and port
/// (flow label and scope are not compared).
static inline int tern_sockaddr_in6_same(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b) {
    return a->sin6_port == b->sin6_port && memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
}

/// The TUNSETIFF ioctl request number (`_IOW('T', 202, int)`, a macro Swift cannot import).
static inline unsigned long tern_tunsetiff(void) { return TUNSETIFF; }

/// Sets `signo`'s disposition to SIG_IGN (a macro cast Swift cannot import); 0 or -1 and errno.
static inline int tern_signal_ignore(int signo) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_IGN;
    sigemptyset(&action.sa_mask);
    return sigaction(signo, &action, NULL);
}

#endif

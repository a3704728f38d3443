/*
 * Additions to the C surface for the Netlink module: the netfilter and
 * nfnetlink uapi headers (nftables batches, hooks, verdicts) and setns(2).
 *
 * Listed in module.modulemap after shim.h (`header "netlink_shim.h"`), so the
 * glibc headers come first and <linux/libc-compat.h> suppresses the
 * duplicate `struct in_addr` definitions of <linux/in.h>.
 */
#ifndef TERN_NETLINK_SHIM_H
#define TERN_NETLINK_SHIM_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

/* setns(2) is declared by glibc only under _GNU_SOURCE; this redeclaration
   is compatible with glibc's. */
extern int setns(int fd, int nstype);

/// `setns(fd, CLONE_NEWNET)`: moves the calling thread into the network
/// namespace `fd` refers to. 0, or -1 and errno.
static inline int tern_setns_net(int fd) {
    return setns(fd, 0x40000000 /* CLONE_NEWNET */);
}

/// Macro constants Swift may not import (they are expressions, not literals).
enum {
    TERN_NFNL_MSG_BATCH_BEGIN = NFNL_MSG_BATCH_BEGIN,
    TERN_NFNL_MSG_BATCH_END = NFNL_MSG_BATCH_END,
    TERN_NFNL_SUBSYS_NFTABLES = NFNL_SUBSYS_NFTABLES,
    TERN_NLMSG_MIN_TYPE = NLMSG_MIN_TYPE,
    /* A conditional on sizeof(time_t) on 32-bit targets. */
    TERN_SO_RCVTIMEO = SO_RCVTIMEO,
};

#endif

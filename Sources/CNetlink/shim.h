#ifndef CONDUIT_CNETLINK_SHIM_H
#define CONDUIT_CNETLINK_SHIM_H

/* Netlink and netfilter headers, libmnl, and setns: what speaking netlink to nf_tables and ctnetlink needs, and
   rtnetlink and sock_diag for route lookups and socket listings. Order matters: see NFTABLES.md (linux headers
   before libmnl, netinet/in.h before linux/netfilter.h). */
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <libmnl/libmnl.h>

/* setns(2) is a GNU extension the Glibc module does not export: enter a network namespace for this thread. */
int setns(int fd, int nstype);
static inline int conduit_enter_network_namespace(int fd) { return setns(fd, 0x40000000 /* CLONE_NEWNET */); }
/* unshare(2), likewise: give this thread a new, empty network namespace of its own. */
int unshare(int flags);
static inline int conduit_new_network_namespace(void) { return unshare(0x40000000 /* CLONE_NEWNET */); }

#endif

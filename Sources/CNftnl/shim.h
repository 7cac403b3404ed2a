#ifndef CONDUIT_CNFTNL_SHIM_H
#define CONDUIT_CNFTNL_SHIM_H

/* libnftnl's object and expression API. The netlink and netfilter headers and libmnl are in CNetlink; libnftnl's
   headers need none of them (they name struct nlmsghdr only through pointers). */
#include <stdint.h>
#include <sys/socket.h>
#include <libnftnl/common.h>
#include <libnftnl/batch.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#endif

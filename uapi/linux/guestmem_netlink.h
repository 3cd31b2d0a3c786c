/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * guestmem: the generic netlink family "guestmem", read-only introspection
 * of guest memory objects.  Every mutation stays an ioctl on the object fd
 * (<linux/guestmem.h>); this family only reports.
 */
#ifndef _UAPI_LINUX_GUESTMEM_NETLINK_H
#define _UAPI_LINUX_GUESTMEM_NETLINK_H

#define GUESTMEM_GENL_NAME		"guestmem"
#define GUESTMEM_GENL_VERSION		1
#define GUESTMEM_GENL_MCGRP_EVENTS	"events"

/**
 * DOC: guestmem generic netlink family
 *
 * GUESTMEM_CMD_GET with NLM_F_DUMP lists the objects the caller may see,
 * one message per object; with GUESTMEM_A_ID it returns that one object
 * (-ENOENT if it does not exist or is not visible), with GUESTMEM_A_FD the
 * object behind that fd of the caller (-EBADF if it is not an object fd).  A dump that races
 * with object creation or destruction ends with NLM_F_DUMP_INTR set on a
 * message: the caller should start over.
 *
 * Visibility: a caller with CAP_SYS_ADMIN sees every object; any other
 * caller sees the objects created by a process with the caller's
 * effective uid.
 *
 * The multicast group "events" (joining needs CAP_NET_ADMIN) carries one
 * message per event, with the object's attributes as GET reports them:
 * GUESTMEM_CMD_OBJ_NEW, GUESTMEM_CMD_OBJ_DEL, GUESTMEM_CMD_DEV_ATTACH and
 * GUESTMEM_CMD_LOCK_FAIL (a lock failed because the pins would exceed
 * RLIMIT_MEMLOCK).
 *
 * Attributes may be added at the end; readers skip the ones they do not
 * know.  64-bit attributes are padded with GUESTMEM_A_PAD.
 */

/**
 * enum guestmem_nl_cmd - commands and event types
 * @GUESTMEM_CMD_GET: request (doit or dump), and its replies
 * @GUESTMEM_CMD_OBJ_NEW: event: an object was created
 * @GUESTMEM_CMD_OBJ_DEL: event: an object is being destroyed
 * @GUESTMEM_CMD_DEV_ATTACH: event: a device was attached
 * @GUESTMEM_CMD_LOCK_FAIL: event: a lock failed on RLIMIT_MEMLOCK
 */
enum guestmem_nl_cmd {
	GUESTMEM_CMD_GET = 1,
	GUESTMEM_CMD_OBJ_NEW,
	GUESTMEM_CMD_OBJ_DEL,
	GUESTMEM_CMD_DEV_ATTACH,
	GUESTMEM_CMD_LOCK_FAIL,

	__GUESTMEM_CMD_MAX,
	GUESTMEM_CMD_MAX = __GUESTMEM_CMD_MAX - 1
};

/**
 * enum guestmem_nl_kind - GUESTMEM_A_KIND
 * @GUESTMEM_NL_KIND_USER: one region of the creator's memory
 * @GUESTMEM_NL_KIND_MULTI: several regions of the creator's memory
 * @GUESTMEM_NL_KIND_ALLOC: zeroed kernel pages
 * @GUESTMEM_NL_KIND_EMPTY: the empty object
 * @GUESTMEM_NL_KIND_SUBRANGE: a view of another object (GUESTMEM_A_BASE_ID)
 * @GUESTMEM_NL_KIND_FILE: one region of a shared-memory file
 */
enum guestmem_nl_kind {
	GUESTMEM_NL_KIND_USER = 1,
	GUESTMEM_NL_KIND_MULTI,
	GUESTMEM_NL_KIND_ALLOC,
	GUESTMEM_NL_KIND_EMPTY,
	GUESTMEM_NL_KIND_SUBRANGE,
	GUESTMEM_NL_KIND_FILE,
};

/**
 * enum guestmem_nl_attr - attributes of one object
 * @GUESTMEM_A_PAD: padding for 64-bit attributes
 * @GUESTMEM_A_ID: u32, the object's id (unique while it lives, from 1)
 * @GUESTMEM_A_NAME: string, the debug name
 * @GUESTMEM_A_KIND: u32, enum guestmem_nl_kind
 * @GUESTMEM_A_BASE_ID: u32, subranges only: the id of the base object
 * @GUESTMEM_A_OWNER_PID: u32, tgid of the creator (initial pid namespace)
 * @GUESTMEM_A_OWNER_UID: u32, effective uid of the creator
 * @GUESTMEM_A_OWNER_COMM: string, the creator's comm at creation
 * @GUESTMEM_A_CREATED_NS: u64, creation time, CLOCK_REALTIME nanoseconds
 * @GUESTMEM_A_SIZE: u64, bytes of backing (a subrange: its length)
 * @GUESTMEM_A_REGION_COUNT: u32, region slots (holes included)
 * @GUESTMEM_A_REGION_SIZE: u64, bytes per region slot
 * @GUESTMEM_A_LOCK_COUNT: u32, locks made through this object
 * @GUESTMEM_A_LOCKED_PAGES: u64, entries (4 KiB gpns) in those locks
 * @GUESTMEM_A_PINNED_PAGES: u64, kernel pages those locks pin (and charge)
 * @GUESTMEM_A_DMA_MAPPED: u64, base objects: bytes DMA-mapped for the
 *	attached device
 * @GUESTMEM_A_DEVICE: string, the attached device (PCI name), if any
 * @GUESTMEM_A_FILES: u32, open files (fds, up to dup()) of this object
 * @GUESTMEM_A_SUBRANGES: u32, subranges of this object alive
 * @GUESTMEM_A_READS: u64, read calls (READ, READ_PLAIN, RANGE_READ)
 * @GUESTMEM_A_WRITES: u64, write calls (WRITE*, FILL, RANGE_WRITE/FILL)
 * @GUESTMEM_A_BYTES: u64, bytes moved by successful reads and writes
 * @GUESTMEM_A_FAULTS: u64, reads and writes that failed
 * @GUESTMEM_A_LOCKS: u64, LOCK_GPNS calls
 * @GUESTMEM_A_UNLOCKS: u64, UNLOCK_GPNS calls
 * @GUESTMEM_A_LOCK_FAILURES: u64, LOCK_GPNS calls that failed
 * @GUESTMEM_A_FD: u32, GET request only: select the object by a file
 *	descriptor of the caller (an object fd) instead of GUESTMEM_A_ID
 */
enum guestmem_nl_attr {
	GUESTMEM_A_PAD = 1,
	GUESTMEM_A_ID,
	GUESTMEM_A_NAME,
	GUESTMEM_A_KIND,
	GUESTMEM_A_BASE_ID,
	GUESTMEM_A_OWNER_PID,
	GUESTMEM_A_OWNER_UID,
	GUESTMEM_A_OWNER_COMM,
	GUESTMEM_A_CREATED_NS,
	GUESTMEM_A_SIZE,
	GUESTMEM_A_REGION_COUNT,
	GUESTMEM_A_REGION_SIZE,
	GUESTMEM_A_LOCK_COUNT,
	GUESTMEM_A_LOCKED_PAGES,
	GUESTMEM_A_PINNED_PAGES,
	GUESTMEM_A_DMA_MAPPED,
	GUESTMEM_A_DEVICE,
	GUESTMEM_A_FILES,
	GUESTMEM_A_SUBRANGES,
	GUESTMEM_A_READS,
	GUESTMEM_A_WRITES,
	GUESTMEM_A_BYTES,
	GUESTMEM_A_FAULTS,
	GUESTMEM_A_LOCKS,
	GUESTMEM_A_UNLOCKS,
	GUESTMEM_A_LOCK_FAILURES,
	GUESTMEM_A_FD,

	__GUESTMEM_A_MAX,
	GUESTMEM_A_MAX = __GUESTMEM_A_MAX - 1
};

#endif /* _UAPI_LINUX_GUESTMEM_NETLINK_H */

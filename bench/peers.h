/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The peers gmbench measures guestmem against, reached with raw syscalls
 * and ioctls (no liburing, no libvfio): io_uring buffer registration,
 * VFIO type1 DMA mapping, /proc/self/pagemap, and binding a PCI device to
 * vfio-pci with driver_override.
 */
#ifndef GMBENCH_PEERS_H
#define GMBENCH_PEERS_H

#include <stddef.h>
#include <stdint.h>

/* io_uring: a one-entry ring whose only use is buffer registration. */
int uring_open(void);
int uring_register(int ring, void *base, size_t len);     /* 0 or -errno */
int uring_unregister(int ring);

/* VFIO type1: a container with the device's group in it. */
struct vfio {
	int container, group;
};

int vfio_open(struct vfio *v, const char *bdf, const char **why);
int vfio_map(struct vfio *v, void *va, uint64_t iova, uint64_t len);
int vfio_unmap(struct vfio *v, uint64_t iova, uint64_t len);
void vfio_close(struct vfio *v);

/*
 * Bind @bdf to vfio-pci through driver_override (unbinding its driver, if
 * any); *@old gets the driver it had ("" for none).  Undo with
 * pci_restore_driver().
 */
int pci_bind_vfio(const char *bdf, char *old, size_t oldlen);
void pci_restore_driver(const char *bdf, const char *old);

/* DPDK's rte_mem_virt2phy: open, read one entry, close. */
int pagemap_lookup_once(const void *va, uint64_t *entry);

#endif /* GMBENCH_PEERS_H */

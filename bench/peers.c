// SPDX-License-Identifier: GPL-2.0
/*
 * Peers of guestmem's lock and IOVA paths, with raw syscalls and ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <linux/vfio.h>

#include "peers.h"

/* ------------------------------------------------------------------------ */
/* io_uring: IORING_REGISTER_BUFFERS pins with FOLL_WRITE | FOLL_LONGTERM. */

int uring_open(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(SYS_io_uring_setup, 1, &p);
	return fd < 0 ? -errno : fd;
}

int uring_register(int ring, void *base, size_t len)
{
	struct iovec iov = { .iov_base = base, .iov_len = len };

	return syscall(SYS_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1) < 0 ?
	       -errno : 0;
}

int uring_unregister(int ring)
{
	return syscall(SYS_io_uring_register, ring, IORING_UNREGISTER_BUFFERS, NULL, 0) < 0 ?
	       -errno : 0;
}

/* ------------------------------------------------------------------------ */
/* VFIO type1 (the legacy container: iommufd is not in the guest kernels). */

static int pci_group_id(const char *bdf)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	int id;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	if (sscanf(basename(target), "%d", &id) != 1)
		return -EINVAL;
	return id;
}

int vfio_open(struct vfio *v, const char *bdf, const char **why)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[64];
	int id, rc;

	v->container = v->group = -1;
	id = pci_group_id(bdf);
	if (id < 0) {
		*why = "device has no IOMMU group";
		return id;
	}
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->container < 0) {
		*why = "no /dev/vfio/vfio (vfio not loaded)";
		return -errno;
	}
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		*why = "no VFIO type1v2 IOMMU (vfio_iommu_type1 not loaded)";
		rc = -ENODEV;
		goto out_close;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", id);
	v->group = open(path, O_RDWR | O_CLOEXEC);
	if (v->group < 0) {
		*why = "no VFIO group node (device not bound to vfio-pci)";
		rc = -errno;
		goto out_close;
	}
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &st) ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		*why = "VFIO group not viable";
		rc = -EBUSY;
		goto out_close;
	}
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) ||
	    ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		*why = "VFIO container setup failed";
		rc = -errno;
		goto out_close;
	}
	return 0;

out_close:
	vfio_close(v);
	return rc;
}

int vfio_map(struct vfio *v, void *va, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	return ioctl(v->container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

int vfio_unmap(struct vfio *v, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = len,
	};

	return ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

void vfio_close(struct vfio *v)
{
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	v->group = v->container = -1;
}

/* ------------------------------------------------------------------------ */
/* Binding a PCI device to vfio-pci. */

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static void current_driver(const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	drv[0] = 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = 0;
	snprintf(drv, len, "%s", basename(target));
}

int pci_bind_vfio(const char *bdf, char *old, size_t oldlen)
{
	char path[PATH_MAX], now[64];
	int rc;

	current_driver(bdf, old, oldlen);
	if (!strcmp(old, "vfio-pci"))
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	rc = sysfs_write(path, "vfio-pci");
	if (rc)
		return rc;
	if (old[0]) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		rc = sysfs_write(path, bdf);
		if (rc)
			return rc;
	}
	sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	current_driver(bdf, now, sizeof(now));
	return strcmp(now, "vfio-pci") ? -ENODEV : 0;
}

void pci_restore_driver(const char *bdf, const char *old)
{
	char path[PATH_MAX];

	if (!strcmp(old, "vfio-pci"))
		return;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	sysfs_write(path, bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	sysfs_write(path, "\n");
	if (old[0])
		sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

/* ------------------------------------------------------------------------ */
/* pagemap */

int pagemap_lookup_once(const void *va, uint64_t *entry)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), rc = 0;
	off_t off = (uintptr_t)va / (uintptr_t)getpagesize() * sizeof(*entry);

	if (fd < 0)
		return -errno;
	if (lseek(fd, off, SEEK_SET) != off ||
	    read(fd, entry, sizeof(*entry)) != sizeof(*entry))
		rc = -EIO;
	close(fd);
	return rc;
}

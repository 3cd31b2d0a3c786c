// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PCI devices: binding a device to guestmem's driver (sysfs), and the PCI
 * fd that routes its interrupts to eventfds and sets its DMA mask.
 *
 * Errors are recorded like the others, op "pci device", named after the
 * device ("guest memory '0000:00:03.0': pci device error: ...").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define PCI_DEVICES "/sys/bus/pci/devices"

struct gm_pci_dev {
	int fd;
	char bdf[16];
};

static int gm_fail_pci(const char *bdf, int ret, const char *fmt, const char *arg)
{
	struct gm_fault f = { .errnum = -ret, .kind = GM_ERROR_OTHER, .op = GM_OP_PCI };

	return gm_fail_usage(&f, bdf ? bdf : "(null)", fmt, arg, strerror(-ret));
}

/* A PCI address as sysfs spells it, checked before it goes into a path. */
static int gm_pci_check_bdf(const char *bdf)
{
	uint32_t domain, bus, devfn;

	if (gm_parse_bdf(bdf, &domain, &bus, &devfn))
		return gm_fail_pci(bdf, -EINVAL, "'%s' is not a PCI address: %s",
				   bdf ? bdf : "(null)");
	return 0;
}

static int gm_sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int gm_pci_driver(const char *bdf, char *driver, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *name;
	ssize_t n;
	int ret;

	ret = gm_pci_check_bdf(bdf);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s", bdf);
	if (access(path, F_OK))
		return gm_fail_pci(bdf, -ENODEV, "no PCI device %s: %s", bdf);
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return gm_fail_pci(bdf, -errno, "cannot read %s: %s", path);
		n = 0;
	}
	link[n] = '\0';
	name = strrchr(link, '/');
	snprintf(driver, len, "%s", name ? name + 1 : link);
	return 0;
}

int gm_pci_bind(const char *bdf, const char *driver, char *old, size_t oldlen)
{
	char path[PATH_MAX], now[64];
	const char *want = driver ? driver : "guestmem";
	int ret;

	ret = gm_pci_driver(bdf, now, sizeof(now));
	if (ret)
		return ret;
	if (old)
		snprintf(old, oldlen, "%s", now);
	if (!strcmp(now, want))
		return 0;
	/* The override first: an unbound device would otherwise match again. */
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override", bdf);
	ret = gm_sysfs_write(path, want[0] ? want : "\n");
	if (ret)
		return gm_fail_pci(bdf, ret, "cannot write %s: %s", path);
	if (now[0]) {
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver/unbind", bdf);
		ret = gm_sysfs_write(path, bdf);
		if (ret)
			return gm_fail_pci(bdf, ret, "cannot unbind it from %s: %s", now);
	}
	if (!want[0])
		return 0;
	/* drivers_probe reports the probe's failure only in the binding. */
	gm_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	ret = gm_pci_driver(bdf, now, sizeof(now));
	if (ret)
		return ret;
	if (strcmp(now, want))
		return gm_fail_pci(bdf, -ENODEV, "driver %s did not take it: %s", want);
	return 0;
}

/* Record a failed PCI fd ioctl. */
static int gm_fail_pci_ioctl(const struct gm_pci_dev *pci, int ret, const char *what)
{
	return gm_fail_pci(pci->bdf, ret, "%s: %s", what);
}

int gm_pci_open(const char *bdf, struct gm_pci_dev **out)
{
	struct guestmem_open_pci a = { .size = sizeof(a) };
	struct gm_pci_dev *pci;
	char driver[64] = "";
	int dev, ret;

	if (!out)
		return gm_fail_pci(bdf, -EINVAL, "no place for the %s: %s", "PCI fd");
	ret = gm_parse_bdf(bdf, &a.pci_domain, &a.pci_bus, &a.pci_devfn);
	if (ret)
		return gm_pci_check_bdf(bdf);
	pci = calloc(1, sizeof(*pci));
	if (!pci)
		return gm_fail_pci(bdf, -ENOMEM, "%s: %s", "no memory");
	snprintf(pci->bdf, sizeof(pci->bdf), "%s", bdf);
	dev = open(GM_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = gm_fail_pci(bdf, -errno, "cannot open %s: %s", GM_DEVICE);
		goto out_free;
	}
	ret = gm_ioctl(dev, GUESTMEM_OPEN_PCI, &a);
	close(dev);
	if (ret == -EBUSY && !gm_pci_driver(bdf, driver, sizeof(driver)) &&
	    strcmp(driver, "guestmem")) {
		ret = gm_fail_pci(bdf, ret, "bound to %s, not guestmem: %s",
				  driver[0] ? driver : "no driver");
		goto out_free;
	}
	if (ret) {
		ret = gm_fail_pci_ioctl(pci, ret, "cannot open it");
		goto out_free;
	}
	pci->fd = (int)a.out_fd;
	*out = pci;
	return 0;

out_free:
	free(pci);
	return ret;
}

void gm_pci_close(struct gm_pci_dev *pci)
{
	if (!pci)
		return;
	close(pci->fd);
	free(pci);
}

int gm_pci_fd(const struct gm_pci_dev *pci)
{
	return pci->fd;
}

int gm_pci_info(struct gm_pci_dev *pci, struct gm_pci_info *info)
{
	struct guestmem_pci_info a = { .size = sizeof(a) };
	int ret;

	ret = gm_ioctl(pci->fd, GUESTMEM_PCI_INFO, &a);
	if (ret)
		return gm_fail_pci_ioctl(pci, ret, "cannot describe it");
	*info = (struct gm_pci_info){
		.gone = a.out_flags & GUESTMEM_PCI_GONE,
		.iova_phys = a.out_flags & GUESTMEM_PCI_IOVA_PHYS,
		.has_intx = a.out_flags & GUESTMEM_PCI_HAS_INTX,
		.msix_count = a.out_msix_count,
		.msi_count = a.out_msi_count,
		.irq_type = (enum gm_irq_type)a.out_irq_type,
		.irq_count = a.out_irq_count,
		.dma_mask_bits = a.out_dma_mask_bits,
	};
	return 0;
}

int gm_pci_set_irqs(struct gm_pci_dev *pci, enum gm_irq_type type, const int *eventfds,
		    unsigned int count)
{
	struct guestmem_pci_set_irqs a = {
		.size = sizeof(a),
		.irq_type = (uint32_t)type,
		.count = count,
		.eventfds_uptr = (uintptr_t)eventfds,
	};
	int ret;

	ret = gm_ioctl(pci->fd, GUESTMEM_PCI_SET_IRQS, &a);
	if (ret)
		return gm_fail_pci_ioctl(pci, ret, "cannot route its interrupts");
	return 0;
}

int gm_pci_unmask_intx(struct gm_pci_dev *pci)
{
	struct guestmem_pci_set_irqs a = {
		.size = sizeof(a), .flags = GUESTMEM_PCI_UNMASK_INTX,
	};
	int ret;

	ret = gm_ioctl(pci->fd, GUESTMEM_PCI_SET_IRQS, &a);
	if (ret)
		return gm_fail_pci_ioctl(pci, ret, "cannot unmask INTx");
	return 0;
}

int gm_pci_set_dma_mask(struct gm_pci_dev *pci, unsigned int bits)
{
	struct guestmem_pci_set_dma_mask a = { .size = sizeof(a), .bits = bits };
	int ret;

	ret = gm_ioctl(pci->fd, GUESTMEM_PCI_SET_DMA_MASK, &a);
	if (ret)
		return gm_fail_pci_ioctl(pci, ret, "cannot set its DMA mask");
	return 0;
}

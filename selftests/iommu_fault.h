/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the test VM's IOMMU reports a DMA it blocked, in the kernel log: VT-d
 * and virtio-iommu on x86, the SMMUv3 on arm64.  QEMU's AMD-Vi blocks the
 * DMA but logs nothing the guest prints, so there the tests check the
 * bytes alone.  A test declares iommu_fault_tag() to the runner (every line
 * of such a report contains it) and looks for the line iommu_fault_line()
 * describes.
 */
#ifndef GUESTMEM_IOMMU_FAULT_H
#define GUESTMEM_IOMMU_FAULT_H

#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum iommu_model { IOMMU_MODEL_NONE, IOMMU_MODEL_VTD, IOMMU_MODEL_AMD,
		   IOMMU_MODEL_VIRTIO, IOMMU_MODEL_SMMUV3 };

/*
 * virtio-iommu names its entry after its transport ("0000:00:04.0" for
 * virtio-pci); the entry's device is the virtio device ("virtio0").
 */
static inline bool iommu_is_virtio(const char *name)
{
	char path[300], link[300];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/iommu/%s/device", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	return !strncmp(base, "virtio", 6);
}

/* The IOMMU the kernel registered (/sys/class/iommu), if any. */
static inline enum iommu_model iommu_model(void)
{
	enum iommu_model m = IOMMU_MODEL_NONE;
	DIR *d = opendir("/sys/class/iommu");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (!strncmp(de->d_name, "dmar", 4))
			m = IOMMU_MODEL_VTD;
		else if (!strncmp(de->d_name, "ivhd", 4))
			m = IOMMU_MODEL_AMD;
		else if (!strncmp(de->d_name, "virtio", 6) || iommu_is_virtio(de->d_name))
			m = IOMMU_MODEL_VIRTIO;
		else if (strstr(de->d_name, "smmu"))
			m = IOMMU_MODEL_SMMUV3;
	}
	if (d)
		closedir(d);
	return m;
}

/* What every line of a fault report contains; NULL when none is printed. */
static inline const char *iommu_fault_tag(void)
{
	switch (iommu_model()) {
	case IOMMU_MODEL_VTD:
		return "DMAR";
	case IOMMU_MODEL_VIRTIO:
		return "virtio_iommu";
	case IOMMU_MODEL_SMMUV3:
		return "arm-smmu-v3";
	default:
		return NULL;
	}
}

/*
 * A line of the report of every fault (for a fault whose own line may be
 * lost, see the callers), or NULL.
 */
static inline const char *iommu_fault_any(void)
{
	switch (iommu_model()) {
	case IOMMU_MODEL_VTD:
		return "DMAR: DRHD: handling fault status";
	case IOMMU_MODEL_VIRTIO:
		return "page fault from EP";
	case IOMMU_MODEL_SMMUV3:
		return "event: F_TRANSLATION";
	default:
		return NULL;
	}
}

/*
 * The line that reports a DMA of device @bdf ("0000:00:03.0") to @addr:
 *  - VT-d reports the page: "Request device [00:03.0] fault addr 0x<page>"
 *    (7.x writes the domain too: "[0000:00:03.0]"; the line matches both);
 *  - virtio-iommu the address: "page fault from EP 24 at 0x<addr>";
 *  - the SMMUv3 the address: "... client: 0000:00:03.0 sid: 0x18 ssid: 0x0
 *    iova: 0x100000 ipa: 0x0".
 * Return: false when this IOMMU prints none (then @buf is "").
 */
static inline bool iommu_fault_line(char *buf, size_t size, const char *bdf,
				    uint64_t addr)
{
	buf[0] = '\0';
	switch (iommu_model()) {
	case IOMMU_MODEL_VTD:
		snprintf(buf, size, "%s] fault addr %#" PRIx64,
			 bdf + 5, addr & ~(uint64_t)0xfff);
		return true;
	case IOMMU_MODEL_VIRTIO:
		snprintf(buf, size, " at %#" PRIx64 " ", addr);
		return true;
	case IOMMU_MODEL_SMMUV3:
		snprintf(buf, size, "iova: %#" PRIx64 " ipa:", addr);
		return true;
	default:
		return false;
	}
}

#endif /* GUESTMEM_IOMMU_FAULT_H */

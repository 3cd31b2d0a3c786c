/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the test VM's IOMMU reports a DMA it blocked, in the kernel log: VT-d
 * on x86, the SMMUv3 on arm64.  The tests declare IOMMU_FAULT_TAG to the
 * runner (every line of such a report contains it) and look for the line
 * iommu_fault_line() describes.
 */
#ifndef GUESTMEM_IOMMU_FAULT_H
#define GUESTMEM_IOMMU_FAULT_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __aarch64__
#define IOMMU_FAULT_TAG		"arm-smmu-v3"
/* A fault whose own line may be lost (see the callers). */
#define IOMMU_FAULT_ANY		"event: F_TRANSLATION"

/*
 * "arm-smmu-v3 9050000.smmuv3: event: F_TRANSLATION client: 0000:00:03.0
 * sid: 0x18 ssid: 0x0 iova: 0x100000 ipa: 0x0": the address the device
 * used, to the byte.
 */
static inline void iommu_fault_line(char *buf, size_t size, const char *bdf,
				    uint64_t addr)
{
	(void)bdf;
	snprintf(buf, size, "iova: %#" PRIx64 " ipa:", addr);
}
#else
#define IOMMU_FAULT_TAG		"DMAR"
#define IOMMU_FAULT_ANY		"DMAR: DRHD: handling fault status"

/* "Request device [00:03.0] fault addr 0x<page>": VT-d reports pages. */
static inline void iommu_fault_line(char *buf, size_t size, const char *bdf,
				    uint64_t addr)
{
	snprintf(buf, size, "Request device [%s] fault addr %#" PRIx64,
		 bdf + 5, addr & ~(uint64_t)0xfff);
}
#endif

#endif /* GUESTMEM_IOMMU_FAULT_H */

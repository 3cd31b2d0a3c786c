// SPDX-License-Identifier: GPL-2.0
/*
 * edu_demo: a user-mode DMA driver on guestmem, end to end.
 *
 * It binds QEMU's edu device to guestmem's PCI driver (which owns its DMA
 * and switches on bus mastering), drives it from user space (examples/edu.c:
 * BAR0 mapped through sysfs) and keeps its DMA buffers in a guest memory
 * object over its own memory.  The object is attached to the
 * device, the buffer pages are locked (pinned, DMA-mapped), and the device
 * is given their IOVAs: bytes go RAM -> device -> RAM and are checked.
 * Each step is printed.  Run as root, with guestmem loaded and edu at
 * 0000:00:03.0 (the test VM: make demo).  Exit status 0 = the bytes came
 * back right.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <guestmem.h>

#include "edu.h"

#define BDF		"0000:00:03.0"
#define NPAGES		16
#define PAGE		GM_PAGE_SIZE
#define XFER		EDU_DMA_BUF_USABLE	/* 4095 bytes: the most edu moves at once */

static int step;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

#define STEP(...) do { say("\n[%d] ", ++step); say(__VA_ARGS__); say("\n"); } while (0)

static int fail(const char *what, int ret)
{
	const struct gm_error *e = gm_last_error();

	say("FAILED: %s: %s\n", what, strerror(-ret));
	if (e->errnum)
		say("        %s (%s)\n", e->message, e->cause);
	return 1;
}

/*
 * Physical address of @va (root reads PFNs from /proc/self/pagemap, one
 * entry per kernel page: 4 KiB, or 64 KiB on some arm64 kernels); 0 if
 * unknown.
 */
static uint64_t phys_of(const void *va)
{
	uint64_t entry = 0, kpage = (uint64_t)sysconf(_SC_PAGESIZE);
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &entry, 8, (uintptr_t)va / kpage * 8) != 8)
		entry = 0;
	close(fd);
	if (!(entry >> 63) || !(entry & ((1ULL << 55) - 1)))
		return 0;
	return (entry & ((1ULL << 55) - 1)) * kpage + (uintptr_t)va % kpage;
}

/* The test VM's IOMMU: emulated VT-d on x86, the virt board's SMMUv3 on arm64. */
#ifdef __aarch64__
#define IOMMU_NAME	"SMMUv3"
#else
#define IOMMU_NAME	"VT-d"
#endif

static const char *iommu_mode(void)
{
	static char type[32];
	FILE *f = fopen("/sys/bus/pci/devices/" BDF "/iommu_group/type", "re");

	if (!f)
		return "no IOMMU: the device sees physical addresses";
	if (!fgets(type, sizeof(type), f))
		type[0] = '\0';
	fclose(f);
	type[strcspn(type, "\n")] = '\0';
	if (!strcmp(type, "DMA") || !strcmp(type, "DMA-FQ"))
		return "IOMMU translating (" IOMMU_NAME "): IOVAs are the IOMMU's, not physical addresses";
	return "IOMMU in passthrough: IOVAs are physical addresses";
}

/* VmPin in kernel pages: a lock pins the kernel pages that hold its gpns. */
static long vmpin_pages(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / (sysconf(_SC_PAGESIZE) / 1024);
}

int main(void)
{
	/* Source page, destination page, and one between them: not neighbours. */
	static const uint64_t gpns[] = { 2, 9, 5 };
	static const uint64_t range_gpns[] = { 10, 11, 12, 13 };
	struct gm_locked_pages *lp = NULL;
	struct gm_locked_range *lr = NULL;
	struct gm_paged_range range;
	uint64_t iova[3], gpa;
	struct gm_segment seg;
	struct gm *gm = NULL;
	struct edu *edu;
	uint8_t *mem, *src, *dst;
	char desc[512], driver[64];
	size_t i, bad;
	int ret, rc = 1;

	say("edu_demo: a user-mode DMA driver whose buffers live in a guestmem object\n");

	STEP("bind %s to guestmem and open it", BDF);
	ret = gm_pci_bind(BDF, NULL, driver, sizeof(driver));
	if (ret)
		return fail("gm_pci_bind", ret);
	say("    driver_override: guestmem (was: %s); the driver enabled bus mastering\n",
	    driver[0] ? driver : "no driver");
	edu = edu_open(BDF);
	if (!edu) {
		say("FAILED: edu_open: %s\n", strerror(errno));
		return 1;
	}
	say("    BAR0 mapped through sysfs resource0; id register 0x%08x\n", edu_id(edu));

	STEP("guest memory: %u pages of this process's memory as one object", NPAGES);
	mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED) {
		say("FAILED: mmap: %s\n", strerror(errno));
		goto out_edu;
	}
	memset(mem, 0, NPAGES * PAGE);
	ret = gm_new("edu-demo", mem, NPAGES * PAGE, &gm);
	if (ret) {
		rc = fail("gm_new", ret);
		goto out_mem;
	}
	gm_format(gm, desc, sizeof(desc));
	say("    GPA 0x0-0x%x at VA %p\n    %s\n", NPAGES * PAGE, (void *)mem, desc);

	STEP("attach the object to %s", BDF);
	ret = gm_attach_device(gm, BDF);
	if (ret) {
		rc = fail("gm_attach_device", ret);
		goto out_gm;
	}
	say("    %s\n", iommu_mode());

	STEP("lock GPNs 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 " and ask for their IOVAs",
	     gpns[0], gpns[1], gpns[2]);
	ret = gm_lock_gpns(gm, false, gpns, 3, &lp);
	if (ret) {
		rc = fail("gm_lock_gpns", ret);
		goto out_gm;
	}
	ret = gm_iova_gpns(gm, gpns, 3, iova);
	if (ret) {
		rc = fail("gm_iova_gpns", ret);
		goto out_unlock;
	}
	say("    VmPin: %ld kernel pages (%ld KiB each) pinned in this process\n",
	    vmpin_pages(), sysconf(_SC_PAGESIZE) / 1024);
	say("    %-8s %-18s %-12s %-12s\n", "GPA", "VA", "IOVA", "physical");
	for (i = 0; i < 3; i++) {
		void *va = gm_locked_pages_page(lp, i);

		say("    0x%05" PRIx64 "  %-18p 0x%-10" PRIx64 " 0x%-10" PRIx64 "\n",
		    gpns[i] * PAGE, va, iova[i], phys_of(va));
	}
	src = gm_locked_pages_page(lp, 0);
	dst = gm_locked_pages_page(lp, 1);

	STEP("DMA RAM -> device: %u bytes from GPA 0x%" PRIx64 " (IOVA 0x%" PRIx64 ")",
	     XFER, gpns[0] * PAGE, iova[0]);
	for (i = 0; i < XFER; i++)
		src[i] = (i * 2654435761u) >> 24;
	snprintf((char *)src, 64, "hello from guest page 0x%" PRIx64, gpns[0]);
	ret = edu_dma_to_device(edu, iova[0], 0, XFER);
	if (ret) {
		say("FAILED: edu_dma_to_device: %s\n", strerror(-ret));
		goto out_unlock;
	}
	say("    done: the device buffer holds the page\n");

	STEP("DMA device -> RAM: %u bytes to GPA 0x%" PRIx64 " (IOVA 0x%" PRIx64 ")",
	     XFER, gpns[1] * PAGE, iova[1]);
	ret = edu_dma_from_device(edu, iova[1], 0, XFER);
	if (ret) {
		say("FAILED: edu_dma_from_device: %s\n", strerror(-ret));
		goto out_unlock;
	}
	for (bad = 0, i = 0; i < XFER; i++)
		bad += src[i] != dst[i];
	say("    GPA 0x%" PRIx64 " now reads \"%s\"\n", gpns[1] * PAGE, (char *)dst);
	say("    %u bytes moved, %zu differ\n", XFER, bad);
	if (bad)
		goto out_unlock;

	STEP("check through the object: read GPA 0x%" PRIx64 " with gm_read_at", gpns[1] * PAGE);
	{
		char check[64];

		ret = gm_read_at(gm, gpns[1] * PAGE, check, sizeof(check));
		if (ret || strncmp(check, (char *)src, sizeof(check))) {
			rc = ret ? fail("gm_read_at", ret) : 1;
			goto out_unlock;
		}
		say("    \"%s\"\n", check);
	}

	STEP("lock_range over GPNs 0xa-0xd: 4 pages as DMA segments");
	gm_paged_range_init(&range, 0, 4 * PAGE, range_gpns, 4);
	ret = gm_lock_range(gm, &range, &lr);
	if (ret) {
		rc = fail("gm_lock_range", ret);
		goto out_unlock;
	}
	for (i = 0; i < gm_locked_range_count(lr); i++) {
		gm_locked_range_segment(lr, i, &seg);
		gpa = 0xa * PAGE + (uint64_t)((uint8_t *)seg.va - (mem + 0xa * PAGE));
		say("    segment %zu: GPA 0x%05" PRIx64 ", %" PRIu64 " bytes, IOVA 0x%" PRIx64 "\n",
		    i, gpa, seg.len, seg.has_iova ? seg.iova : 0);
	}
	say("    physical pages:");
	for (i = 0; i < 4; i++)
		say(" 0x%" PRIx64, phys_of(mem + range_gpns[i] * PAGE));
	say("\n    (under an IOMMU: one segment, one IOVA run, whatever the physical pages;\n"
	    "     without one: a segment per physically contiguous run, IOVA = physical)\n");
	{
		struct gm_iova_run runs[4];
		size_t nr = 4;

		ret = gm_iova_runs(gm, 0xa, 4, runs, &nr);
		if (ret) {
			rc = fail("gm_iova_runs", ret);
			gm_locked_range_release(lr);
			goto out_unlock;
		}
		say("    gm_iova_runs over GPNs 0xa-0xd: %zu run(s)\n", nr);
		for (i = 0; i < nr; i++)
			say("      GPN 0x%" PRIx64 " + %" PRIu64 " pages at IOVA 0x%" PRIx64 "\n",
			    runs[i].gpn, runs[i].npages, runs[i].iova);
	}
	gm_locked_range_release(lr);

	STEP("unlock and close");
	gm_locked_pages_release(lp);
	lp = NULL;
	say("    VmPin: %ld kernel pages pinned\n", vmpin_pages());
	rc = 0;

out_unlock:
	gm_locked_pages_release(lp);
out_gm:
	gm_release(gm);
out_mem:
	munmap(mem, NPAGES * PAGE);
out_edu:
	edu_close(edu);
	say("\nedu_demo: %s\n", rc ? "FAILED" : "OK: the device moved the bytes through guestmem's IOVAs");
	return rc;
}

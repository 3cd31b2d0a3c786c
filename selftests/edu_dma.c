// SPDX-License-Identifier: GPL-2.0
/*
 * The edu user-mode driver (examples/edu.c) and the test VM's DMA path,
 * proven without guestmem.
 *
 * With no translating IOMMU (intel_iommu=off: dma-direct, or an identity
 * domain) the address a device puts on the bus is the physical address, which
 * root can read from /proc/self/pagemap.  So a RAM -> edu -> RAM round trip
 * through physical addresses must move the bytes.  With the IOMMU translating,
 * the same physical address is not mapped for the device: the DMA must be
 * blocked with an IOMMU fault (VT-d's DMAR, the SMMUv3's event), and memory
 * must stay untouched.
 *
 * mlock() keeps the test buffers resident; it does not stop the kernel from
 * migrating them (compaction may move mlocked pages), which is why a real
 * user-mode driver takes its IOVAs from pinned memory (guestmem) instead.  For
 * the second this test runs in an idle VM it is good enough.
 */

#include <sys/types.h>

#include "edu.h"
#include "guestmem_utils.h"
#include "iommu_fault.h"

#define FILL			0x5a	/* what untouched memory holds */
#define XFER_LEN		EDU_DMA_BUF_USABLE	/* 4095: the most edu takes */

/*
 * DMA between @buf and the device buffer at @dev_off, addressing @buf by its
 * physical address.  Neighbouring virtual pages are rarely neighbouring
 * physical pages, so this is one DMA per page the buffer touches.
 */
static int dma_by_phys(struct edu *edu, bool to_device, uint8_t *buf,
		       uint32_t dev_off, uint32_t len)
{
	uint64_t page = sysconf(_SC_PAGESIZE), pa;
	uint32_t chunk;
	int ret;

	for (; len; buf += chunk, dev_off += chunk, len -= chunk) {
		chunk = page - (uintptr_t)buf % page;
		if (chunk > len)
			chunk = len;
		ret = gm_test_virt_to_phys(buf, &pa);
		if (ret)
			return ret;
		ret = to_device ? edu_dma_to_device(edu, pa, dev_off, chunk) :
				  edu_dma_from_device(edu, pa, dev_off, chunk);
		if (ret)
			return ret;
	}
	return 0;
}

enum iommu_kind { IOMMU_NONE, IOMMU_IDENTITY, IOMMU_TRANSLATING, IOMMU_OTHER };

/* How the IOMMU treats the device: from its group's default domain type. */
static enum iommu_kind iommu_kind(const char *bdf)
{
	char path[128], type[32] = "";
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), GM_TEST_PCI_DEVICES "/%s/iommu_group", bdf);
	if (access(path, F_OK))
		return IOMMU_NONE;
	snprintf(path, sizeof(path), GM_TEST_PCI_DEVICES "/%s/iommu_group/type", bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, type, sizeof(type) - 1);
		close(fd);
	}
	if (n <= 0)
		return IOMMU_OTHER;
	type[strcspn(type, "\n")] = '\0';
	if (!strcmp(type, "identity"))
		return IOMMU_IDENTITY;
	if (!strcmp(type, "DMA") || !strcmp(type, "DMA-FQ"))
		return IOMMU_TRANSLATING;
	return IOMMU_OTHER;
}

static bool phys_is_iova(const char *bdf)
{
	enum iommu_kind kind = iommu_kind(bdf);

	return kind == IOMMU_NONE || kind == IOMMU_IDENTITY;
}

static uint8_t *locked_pages(size_t size)
{
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mlock(p, size)) {
		munmap(p, size);
		return NULL;
	}
	return p;
}

/* Inputs the driver refuses before it touches the device: no root needed. */
TEST(open_refuses_what_is_not_an_edu_device)
{
	EXPECT_EQ(NULL, edu_open("../../../etc"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, edu_open("0000:00:03.8"));	/* function > 7 */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, edu_open("0000:ff:1f.7"));	/* no such device */
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(NULL, edu_open("0000:00:00.0"));	/* the host bridge */
	EXPECT_EQ(ENODEV, errno);
}

/*
 * Two locked pages of source and two of destination, so that every transfer
 * can cross a page boundary.
 */
FIXTURE(edu) {
	struct edu *edu;
	size_t page;
	uint8_t *src;
	uint8_t *dst;
};

FIXTURE_SETUP(edu)
{
	size_t i;

	if (geteuid())
		SKIP(return, "needs root: binding, BAR0 and pagemap");
	if (gm_test_bind(GM_TEST_EDU) == -ENODEV) {
		if (access(GM_TEST_PCI_DEVICES "/" GM_TEST_EDU, F_OK))
			SKIP(return, "no edu device at " GM_TEST_EDU);
		SKIP(return, "edu is driven through guestmem's PCI driver, which is not loaded");
	}
	self->edu = edu_open(NULL);
	if (!self->edu && errno == ENODEV)
		SKIP(return, "no edu device (QEMU's -device edu)");
	ASSERT_NE(NULL, self->edu) TH_LOG("edu_open: %s", strerror(errno));

	self->page = sysconf(_SC_PAGESIZE);
	self->src = locked_pages(2 * self->page);
	self->dst = locked_pages(2 * self->page);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);
	/* No short period: a misplaced copy cannot match by chance. */
	for (i = 0; i < 2 * self->page; i++)
		self->src[i] = (i * 2654435761u) >> 24;
	memset(self->dst, FILL, 2 * self->page);
}

FIXTURE_TEARDOWN(edu)
{
	if (self->src)
		munmap(self->src, 2 * self->page);
	if (self->dst)
		munmap(self->dst, 2 * self->page);
	edu_close(self->edu);
}

/*
 * The 6.1 harness runs a test's body even after its FIXTURE_SETUP skipped,
 * so every body starts by returning when there is no device.
 */
TEST_F(edu, identifies_itself_and_is_alive)
{
	if (!self->edu)
		return;
	TH_LOG("edu at %s", edu_bdf(self->edu));
	EXPECT_EQ(0x010000edu, edu_id(self->edu));
	EXPECT_EQ(0, edu_check_alive(self->edu));
}

TEST_F(edu, computes_factorials)
{
	static const struct { uint32_t n, fact; } cases[] = {
		{ 0, 1 }, { 1, 1 }, { 5, 120 }, { 10, 3628800 },
		{ 12, 479001600 },
		{ 13, 1932053504 },	/* 6227020800 mod 2^32 */
	};
	uint32_t fact;
	size_t i;

	if (!self->edu)
		return;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		fact = 0;
		ASSERT_EQ(0, edu_factorial(self->edu, cases[i].n, &fact));
		EXPECT_EQ(cases[i].fact, fact) TH_LOG("%u!", cases[i].n);
	}
}

/* Refused up front, so none of these reaches the device. */
TEST_F(edu, refuses_dma_outside_the_device_buffer)
{
	struct edu *edu = self->edu;

	if (!self->edu)
		return;
	EXPECT_EQ(-EINVAL, edu_dma_to_device(edu, 0x1000, 0, 0));
	EXPECT_EQ(-EINVAL, edu_dma_from_device(edu, 0x1000, 0, 0));
	/* QEMU 7.2 would abort on these two: they end at byte 4096. */
	EXPECT_EQ(-EINVAL, edu_dma_to_device(edu, 0x1000, 0, 4096));
	EXPECT_EQ(-EINVAL, edu_dma_from_device(edu, 0x1000, 4095, 1));
	EXPECT_EQ(-EINVAL, edu_dma_to_device(edu, 0x1000, 1, 4095));
	EXPECT_EQ(-EINVAL, edu_dma_from_device(edu, 0x1000, 4096, 1));
	EXPECT_EQ(-EINVAL, edu_dma_to_device(edu, 0x1000, UINT32_MAX, 2));
	EXPECT_EQ(-EINVAL, edu_dma_from_device(edu, 0x1000, 0, UINT32_MAX));
	/* An IOVA range that wraps around. */
	EXPECT_EQ(-EINVAL, edu_dma_to_device(edu, UINT64_MAX - 15, 0, 32));
	/* The device is still idle and answering. */
	EXPECT_EQ(0, edu_check_alive(edu));
}

/*
 * 4095 bytes starting mid-page go RAM -> device -> RAM by physical address,
 * landing at a different offset in the destination, so that the two sides
 * split at different page boundaries (2048 + 2047 bytes out, 3096 + 999
 * back).  Everything around the landing zone stays untouched.
 */
TEST_F(edu, round_trip_by_physical_address)
{
	uint8_t *from = self->src + self->page / 2;
	uint8_t *to = self->dst + 1000;
	uint64_t pa[2];

	if (!self->edu)
		return;
	if (!phys_is_iova(edu_bdf(self->edu)))
		SKIP(return, "the IOMMU translates: physical addresses are not IOVAs");
	ASSERT_EQ(0, gm_test_virt_to_phys(self->src, &pa[0]));
	ASSERT_EQ(0, gm_test_virt_to_phys(self->src + self->page, &pa[1]));
	TH_LOG("source pages at 0x%llx and 0x%llx (%s)", (unsigned long long)pa[0],
	       (unsigned long long)pa[1],
	       pa[1] == pa[0] + self->page ? "contiguous" : "not contiguous");

	ASSERT_EQ(0, dma_by_phys(self->edu, true, from, 0, XFER_LEN));
	ASSERT_EQ(0, dma_by_phys(self->edu, false, to, 0, XFER_LEN));

	EXPECT_EQ(0, memcmp(from, to, XFER_LEN));
	EXPECT_TRUE(gm_test_all_bytes(self->dst, to - self->dst, FILL));
	EXPECT_TRUE(gm_test_all_bytes(to + XFER_LEN,
				  2 * self->page - 1000 - XFER_LEN, FILL));
}

/* dev_off addresses bytes inside the device buffer, in both directions. */
TEST_F(edu, device_offset_selects_the_bytes)
{
	if (!self->edu)
		return;
	if (!phys_is_iova(edu_bdf(self->edu)))
		SKIP(return, "the IOMMU translates: physical addresses are not IOVAs");

	/* src[0..100) to device bytes 3000..3100, src[100..200) to 10..110. */
	ASSERT_EQ(0, dma_by_phys(self->edu, true, self->src, 3000, 100));
	ASSERT_EQ(0, dma_by_phys(self->edu, true, self->src + 100, 10, 100));
	/* Both back, swapped, across the destination's page boundary. */
	ASSERT_EQ(0, dma_by_phys(self->edu, false,
				 self->dst + self->page - 50, 10, 100));
	ASSERT_EQ(0, dma_by_phys(self->edu, false,
				 self->dst + self->page + 50, 3000, 100));

	EXPECT_EQ(0, memcmp(self->dst + self->page - 50, self->src + 100, 100));
	EXPECT_EQ(0, memcmp(self->dst + self->page + 50, self->src, 100));
	EXPECT_TRUE(gm_test_all_bytes(self->dst, self->page - 50, FILL));
	EXPECT_TRUE(gm_test_all_bytes(self->dst + self->page + 150,
				  self->page - 150, FILL));
}

/*
 * With the IOMMU translating, a DMA to the destination's physical address
 * must be blocked: the device finishes its DMA, the kernel logs an IOMMU
 * write fault for the device at that address, and the destination keeps its
 * fill, whatever the device buffer holds.  Last in the file, because the
 * runner tolerates the IOMMU's messages from the declaration until the
 * program ends.
 */
TEST_F(edu, iommu_blocks_dma_by_physical_address)
{
	char want[96], msg[512];
	const char *tag = iommu_fault_tag();
	uint64_t pa;
	bool found;
	int kmsg;

	if (!self->edu)
		return;
	if (iommu_kind(edu_bdf(self->edu)) != IOMMU_TRANSLATING)
		SKIP(return, "no translating IOMMU in front of the device");
	ASSERT_EQ(0, gm_test_virt_to_phys(self->dst, &pa));
	kmsg = gm_test_kmsg_open_at_end();
	ASSERT_LE(0, kmsg);
	iommu_fault_line(want, sizeof(want), edu_bdf(self->edu), pa + 1000);

	if (tag)
		ASSERT_EQ(0, gm_test_kmsg_expect(tag));
	EXPECT_EQ(0, dma_by_phys(self->edu, false, self->dst + 1000, 0,
				 XFER_LEN));
	EXPECT_EQ(0u, edu_read32(self->edu, EDU_REG_DMA_CMD) & EDU_DMA_START);

	EXPECT_TRUE(gm_test_all_bytes(self->dst, 2 * self->page, FILL));
	/* QEMU's AMD-Vi logs nothing: the bytes are the proof there. */
	if (!tag) {
		close(kmsg);
		return;
	}
	found = gm_test_kmsg_wait_for(kmsg, want, msg, sizeof(msg), 2000);
	EXPECT_TRUE(found) TH_LOG("no kernel message \"%s\"", want);
	if (found)
		TH_LOG("kernel: %s", msg);
	close(kmsg);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem_ktest: a minimal kernel consumer of guestmem's in-kernel API,
 * driven by selftests/guestmem_ktest.c through /dev/guestmem_ktest.
 *
 * The selftest hands in an object fd; the module takes a reference with
 * guestmem_get_object(), then writes or checks a byte pattern with
 * guestmem_write()/guestmem_read(), or locks pages with kernel access and
 * writes through the kernel mapping, or asks for IOVAs - optionally from a
 * workqueue, where there is no user mm at all.  The selftest checks the
 * bytes with the user-space library.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include <linux/guestmem_kapi.h>
#include "guestmem_ktest.h"

#define GM_KTEST_MAX_LEN	SZ_1M

struct gm_ktest_work {
	struct work_struct work;
	struct guestmem *obj;
	struct gm_ktest_cmd cmd;
	int rc;
};

static void gm_ktest_fill(u8 *buf, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(seed + i);
}

static int gm_ktest_rw(struct guestmem *obj, struct gm_ktest_cmd *cmd,
		       bool check)
{
	u8 *buf, *want = NULL;
	int rc = -ENOMEM;

	buf = kvmalloc(cmd->len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (!check) {
		gm_ktest_fill(buf, cmd->len, cmd->seed);
		rc = guestmem_write(obj, cmd->gpa, buf, cmd->len);
		goto out_free;
	}
	want = kvmalloc(cmd->len, GFP_KERNEL);
	if (!want)
		goto out_free;
	gm_ktest_fill(want, cmd->len, cmd->seed);
	rc = guestmem_read(obj, cmd->gpa, buf, cmd->len);
	if (!rc && memcmp(buf, want, cmd->len))
		rc = -EBADMSG;
out_free:
	kvfree(want);
	kvfree(buf);
	return rc;
}

/* Lock the pages that hold [gpa, gpa + len), with kernel access. */
static struct guestmem_lock *gm_ktest_lock(struct guestmem *obj,
					   struct gm_ktest_cmd *cmd)
{
	u64 first = cmd->gpa >> 12, n, i;
	struct guestmem_lock *lock;
	u64 *gpns;

	n = ((cmd->gpa + cmd->len + 4095) >> 12) - first;
	gpns = kvmalloc_array(n, sizeof(*gpns), GFP_KERNEL);
	if (!gpns)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < n; i++)
		gpns[i] = first + i;
	lock = guestmem_lock_pages(obj, true, gpns, n);
	kvfree(gpns);
	return lock;
}

/*
 * The kernel mapping shows entry i at vaddr + i * 4096, in the page and at
 * the offset guestmem_lock_page() and guestmem_lock_offset() name (several
 * entries per page with kernel pages over 4 KiB); past the end: NULL.
 */
static int gm_ktest_check_pages(struct guestmem_lock *lock, u8 *vaddr)
{
	unsigned long i, n = guestmem_lock_count(lock);

	for (i = 0; i < n; i++)
		if (guestmem_lock_page(lock, i) !=
		    vmalloc_to_page(vaddr + i * 4096) ||
		    guestmem_lock_offset(lock, i) !=
		    offset_in_page(vaddr + i * 4096))
			return -EIO;
	return guestmem_lock_page(lock, n) ? -EIO : 0;
}

static int gm_ktest_lock_write(struct guestmem *obj,
			       struct gm_ktest_cmd *cmd)
{
	struct guestmem_lock *lock;
	u8 *vaddr;
	int rc;

	lock = gm_ktest_lock(obj, cmd);
	if (IS_ERR(lock))
		return PTR_ERR(lock);
	vaddr = guestmem_lock_vaddr(lock);
	rc = vaddr ? gm_ktest_check_pages(lock, vaddr) : -EINVAL;
	if (!rc)
		gm_ktest_fill(vaddr + (cmd->gpa & 4095), cmd->len, cmd->seed);
	cmd->out_value = guestmem_lock_count(lock);
	guestmem_unlock(lock);
	return rc;
}

static int gm_ktest_lock_iova(struct guestmem *obj,
			      struct gm_ktest_cmd *cmd)
{
	struct guestmem_lock *lock;
	int rc;

	lock = gm_ktest_lock(obj, cmd);
	if (IS_ERR(lock))
		return PTR_ERR(lock);
	rc = guestmem_gpa_to_iova(obj, cmd->gpa, &cmd->out_value);
	guestmem_unlock(lock);
	return rc;
}

/* A consumer that breaks its contract: the lock is left to the object. */
static int gm_ktest_lock_forget(struct guestmem *obj,
				struct gm_ktest_cmd *cmd)
{
	struct guestmem_lock *lock;

	lock = gm_ktest_lock(obj, cmd);
	if (IS_ERR(lock))
		return PTR_ERR(lock);
	cmd->out_value = guestmem_lock_count(lock);
	return 0;
}

static int gm_ktest_do(struct guestmem *obj, struct gm_ktest_cmd *cmd)
{
	switch (cmd->op) {
	case GM_KTEST_WRITE_PATTERN:
		return gm_ktest_rw(obj, cmd, false);
	case GM_KTEST_CHECK_PATTERN:
		return gm_ktest_rw(obj, cmd, true);
	case GM_KTEST_LOCK_WRITE:
		return gm_ktest_lock_write(obj, cmd);
	case GM_KTEST_IOVA:
		return guestmem_gpa_to_iova(obj, cmd->gpa, &cmd->out_value);
	case GM_KTEST_LOCK_IOVA:
		return gm_ktest_lock_iova(obj, cmd);
	case GM_KTEST_LOCK_FORGET:
		return gm_ktest_lock_forget(obj, cmd);
	default:
		return -EINVAL;
	}
}

static void gm_ktest_work_fn(struct work_struct *work)
{
	struct gm_ktest_work *w = container_of(work, struct gm_ktest_work,
					       work);

	w->rc = gm_ktest_do(w->obj, &w->cmd);
}

static long gm_ktest_ioctl(struct file *file, unsigned int op,
			   unsigned long arg)
{
	struct gm_ktest_work w = {};
	int rc;

	if (op != GM_KTEST_RUN)
		return -ENOTTY;
	if (copy_from_user(&w.cmd, (void __user *)arg, sizeof(w.cmd)))
		return -EFAULT;
	if ((w.cmd.flags & ~GM_KTEST_IN_WORKER) || !w.cmd.len ||
	    w.cmd.len > GM_KTEST_MAX_LEN)
		return -EINVAL;
	w.obj = guestmem_get_object(w.cmd.fd);
	if (IS_ERR(w.obj))
		return PTR_ERR(w.obj);
	if (w.cmd.flags & GM_KTEST_IN_WORKER) {
		INIT_WORK_ONSTACK(&w.work, gm_ktest_work_fn);
		queue_work(system_unbound_wq, &w.work);
		flush_work(&w.work);
		destroy_work_on_stack(&w.work);
		rc = w.rc;
	} else {
		rc = gm_ktest_do(w.obj, &w.cmd);
	}
	guestmem_put_object(w.obj);
	if (!rc && copy_to_user((void __user *)arg, &w.cmd, sizeof(w.cmd)))
		rc = -EFAULT;
	return rc;
}

static const struct file_operations gm_ktest_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gm_ktest_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice gm_ktest_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "guestmem_ktest",
	.fops = &gm_ktest_fops,
	.mode = 0600,
};

module_misc_device(gm_ktest_dev);

MODULE_DESCRIPTION("Test consumer of the guestmem in-kernel API");
GUESTMEM_IMPORT_NS();
MODULE_LICENSE("GPL");

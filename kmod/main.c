// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: guest memory objects for user-mode VMMs and DMA drivers.
 *
 * This file is the front door: the /dev/guestmem misc device, the object
 * and PCI file descriptors, the ioctl dispatch table shared by all three,
 * the module parameters, and init/exit.  Objects live in object.c, the
 * data path in access.c, locks in pin.c, device attach and IOVAs in dma.c,
 * the PCI driver and PCI fds in pci.c, the in-kernel API in kapi.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <net/genetlink.h>

#include <linux/guestmem_netlink.h>

#include "guestmem_private.h"

static int gm_limit_set(const char *arg, const struct kernel_param *kp)
{
	struct gm_limit *limit = kp->arg;
	unsigned long val;
	int rc;

	rc = kstrtoul(arg, 0, &val);
	if (rc)
		return rc;
	if (val > limit->max)
		return -EINVAL;
	WRITE_ONCE(limit->val, val);
	return 0;
}

static int gm_limit_get(char *buf, const struct kernel_param *kp)
{
	const struct gm_limit *limit = kp->arg;

	return sysfs_emit(buf, "%lu\n", gm_limit(*limit));
}

static const struct kernel_param_ops gm_limit_ops = {
	.set = gm_limit_set,
	.get = gm_limit_get,
};

/*
 * The ceilings keep every array a limit sizes below INT_MAX bytes, where
 * kvmalloc() warns and fails: 24-byte regions, an 8-byte page pointer per
 * 4 KiB allocated, 48-byte lock runs.
 */
struct gm_limit gm_max_regions = { .val = 1024, .max = 1UL << 20 };
module_param_cb(max_regions, &gm_limit_ops, &gm_max_regions, 0644);
MODULE_PARM_DESC(max_regions,
		 "Most backings in one multi-region object (default 1024)");

struct gm_limit gm_max_alloc_bytes = { .val = 1UL << 30, .max = 1UL << 39 };
module_param_cb(max_alloc_bytes, &gm_limit_ops, &gm_max_alloc_bytes, 0644);
MODULE_PARM_DESC(max_alloc_bytes,
		 "Largest GUESTMEM_CREATE_ALLOC object in bytes (default 1 GiB)");

struct gm_limit gm_max_name_len = { .val = 256, .max = 4096 };
module_param_cb(max_name_len, &gm_limit_ops, &gm_max_name_len, 0644);
MODULE_PARM_DESC(max_name_len, "Longest debug name in bytes (default 256)");

struct gm_limit gm_max_lock_pages = { .val = 1UL << 20, .max = 1UL << 24 };
module_param_cb(max_lock_pages, &gm_limit_ops, &gm_max_lock_pages, 0644);
MODULE_PARM_DESC(max_lock_pages,
		 "Most pages in one lock (default 1048576, 4 GiB)");

struct gm_limit gm_max_locks = { .val = 1UL << 16, .max = 1UL << 24 };
module_param_cb(max_locks, &gm_limit_ops, &gm_max_locks, 0644);
MODULE_PARM_DESC(max_locks, "Most locks of one object or view (default 65536)");

struct gm_limit gm_max_object_lock_pages = {
	.val = 1UL << 24, .max = 1UL << 32,
};
module_param_cb(max_object_lock_pages, &gm_limit_ops,
		&gm_max_object_lock_pages, 0644);
MODULE_PARM_DESC(max_object_lock_pages,
		 "Most pages in all the locks of one object or view (default 16777216, 64 GiB)");

/* Every ioctl struct, so that the kernel copy lives on the stack. */
union gm_ucmd_buffer {
	struct guestmem_create_user create_user;
	struct guestmem_create_multi create_multi;
	struct guestmem_create_alloc create_alloc;
	struct guestmem_create_empty create_empty;
	struct guestmem_create_file create_file;
	struct guestmem_rw rw;
	struct guestmem_fill fill;
	struct guestmem_cmpxchg cmpxchg;
	struct guestmem_probe_gpns probe;
	struct guestmem_range range;
	struct guestmem_subrange subrange;
	struct guestmem_info info;
	struct guestmem_lock_gpns lock_gpns;
	struct guestmem_unlock_gpns unlock_gpns;
	struct guestmem_iova iova;
	struct guestmem_attach_device attach_device;
	struct guestmem_iova_runs iova_runs;
	struct guestmem_open_pci open_pci;
	struct guestmem_pci_info pci_info;
	struct guestmem_pci_set_irqs pci_set_irqs;
	struct guestmem_pci_set_dma_mask pci_set_dma_mask;
};

/* The uapi sizes are ABI: a change here is a change of the ABI. */
static_assert(sizeof(struct guestmem_fault) == 32);
static_assert(sizeof(struct guestmem_create_user) == 48);
static_assert(sizeof(struct guestmem_backing) == 24);
static_assert(sizeof(struct guestmem_create_multi) == 72);
static_assert(sizeof(struct guestmem_create_alloc) == 32);
static_assert(sizeof(struct guestmem_create_empty) == 16);
static_assert(sizeof(struct guestmem_create_file) == 48);
static_assert(sizeof(struct guestmem_rw) == 64);
static_assert(sizeof(struct guestmem_fill) == 64);
static_assert(sizeof(struct guestmem_cmpxchg) == 88);
static_assert(sizeof(struct guestmem_probe_gpns) == 56);
static_assert(sizeof(struct guestmem_range) == 88);
static_assert(sizeof(struct guestmem_subrange) == 64);
static_assert(sizeof(struct guestmem_region_info) == 24);
static_assert(sizeof(struct guestmem_info) == 144);
static_assert(sizeof(struct guestmem_lock_gpns) == 72);
static_assert(sizeof(struct guestmem_unlock_gpns) == 16);
static_assert(sizeof(struct guestmem_iova) == 64);
static_assert(sizeof(struct guestmem_attach_device) == 24);
static_assert(sizeof(struct guestmem_iova_run) == 24);
static_assert(sizeof(struct guestmem_iova_runs) == 88);
static_assert(sizeof(struct guestmem_open_pci) == 32);
static_assert(sizeof(struct guestmem_pci_info) == 32);
static_assert(sizeof(struct guestmem_pci_set_irqs) == 24);
static_assert(sizeof(struct guestmem_pci_set_dma_mask) == 16);

/**
 * enum gm_respond - when main.c copies the struct back to the caller
 * @GM_RESPOND_NEVER: the handler does it (creators: before publishing the fd)
 * @GM_RESPOND_ON_ERROR: only on failure (creators with error details)
 * @GM_RESPOND_ALWAYS: on success and on failure (out_fault, EMSGSIZE sizes)
 */
enum gm_respond {
	GM_RESPOND_NEVER,
	GM_RESPOND_ON_ERROR,
	GM_RESPOND_ALWAYS,
};

/**
 * enum gm_fd_kind - the three kinds of guestmem fd
 * @GM_FD_DEV: /dev/guestmem
 * @GM_FD_OBJECT: an object fd
 * @GM_FD_PCI: a PCI fd
 */
enum gm_fd_kind {
	GM_FD_DEV,
	GM_FD_OBJECT,
	GM_FD_PCI,
};

/**
 * struct gm_ioctl_op - one row of the dispatch table
 * @size: the kernel's struct size
 * @min_size: the size of the struct's first version
 * @ioctl_num: the full ioctl number (0 for an unused nr)
 * @fd: the kind of fd the ioctl is issued on
 * @respond: when to copy the struct back
 * @execute: the handler
 */
struct gm_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	enum gm_fd_kind fd;
	enum gm_respond respond;
	int (*execute)(struct gm_ucmd *ucmd);
};

#define GM_OP(_name, _fn, _struct, _last, _fd, _respond)		\
	[GUESTMEM_CMD_##_name - GUESTMEM_CMD_BASE] = {			\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union gm_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.ioctl_num = GUESTMEM_##_name,				\
		.fd = _fd,						\
		.respond = _respond,					\
		.execute = _fn,						\
	}

static const struct gm_ioctl_op gm_ioctl_ops[] = {
	GM_OP(CREATE_USER, gm_ioctl_create_user,
	      struct guestmem_create_user, __reserved2, GM_FD_DEV,
	      GM_RESPOND_NEVER),
	GM_OP(CREATE_MULTI, gm_ioctl_create_multi,
	      struct guestmem_create_multi, __reserved, GM_FD_DEV,
	      GM_RESPOND_ON_ERROR),
	GM_OP(CREATE_ALLOC, gm_ioctl_create_alloc,
	      struct guestmem_create_alloc, __reserved, GM_FD_DEV,
	      GM_RESPOND_NEVER),
	GM_OP(CREATE_EMPTY, gm_ioctl_create_empty,
	      struct guestmem_create_empty, __reserved, GM_FD_DEV,
	      GM_RESPOND_NEVER),
	GM_OP(CREATE_FILE, gm_ioctl_create_file,
	      struct guestmem_create_file, __reserved, GM_FD_DEV,
	      GM_RESPOND_NEVER),
	GM_OP(READ, gm_ioctl_read, struct guestmem_rw, out_fault,
	      GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(WRITE, gm_ioctl_write, struct guestmem_rw, out_fault,
	      GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(FILL, gm_ioctl_fill, struct guestmem_fill, out_fault,
	      GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(READ_PLAIN, gm_ioctl_read_plain, struct guestmem_rw,
	      out_fault, GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(WRITE_PLAIN, gm_ioctl_write_plain, struct guestmem_rw,
	      out_fault, GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(COMPARE_EXCHANGE, gm_ioctl_cmpxchg,
	      struct guestmem_cmpxchg, out_fault, GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(PROBE_GPNS, gm_ioctl_probe_gpns,
	      struct guestmem_probe_gpns, out_fault, GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(RANGE_READ, gm_ioctl_range_read, struct guestmem_range,
	      out_fault, GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(RANGE_WRITE, gm_ioctl_range_write,
	      struct guestmem_range, out_fault, GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(RANGE_FILL, gm_ioctl_range_fill, struct guestmem_range,
	      out_fault, GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(SUBRANGE, gm_ioctl_subrange, struct guestmem_subrange,
	      out_fault, GM_FD_OBJECT, GM_RESPOND_ON_ERROR),
	GM_OP(INFO, gm_ioctl_info, struct guestmem_info,
	      out_mmap_offset, GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(LOCK_GPNS, gm_ioctl_lock_gpns, struct guestmem_lock_gpns,
	      out_fault, GM_FD_OBJECT, GM_RESPOND_ON_ERROR),
	GM_OP(UNLOCK_GPNS, gm_ioctl_unlock_gpns,
	      struct guestmem_unlock_gpns, __reserved, GM_FD_OBJECT,
	      GM_RESPOND_NEVER),
	GM_OP(IOVA, gm_ioctl_iova, struct guestmem_iova, out_fault, GM_FD_OBJECT,
	      GM_RESPOND_ALWAYS),
	GM_OP(ATTACH_DEVICE, gm_ioctl_attach_device,
	      struct guestmem_attach_device, __reserved, GM_FD_OBJECT,
	      GM_RESPOND_NEVER),
	GM_OP(IOVA_RUNS, gm_ioctl_iova_runs, struct guestmem_iova_runs,
	      out_fault, GM_FD_OBJECT, GM_RESPOND_ALWAYS),
	GM_OP(OPEN_PCI, gm_ioctl_open_pci, struct guestmem_open_pci,
	      __reserved2, GM_FD_DEV, GM_RESPOND_NEVER),
	GM_OP(PCI_INFO, gm_ioctl_pci_info, struct guestmem_pci_info,
	      out_dma_mask_bits, GM_FD_PCI, GM_RESPOND_ALWAYS),
	GM_OP(PCI_SET_IRQS, gm_ioctl_pci_set_irqs,
	      struct guestmem_pci_set_irqs, eventfds_uptr, GM_FD_PCI,
	      GM_RESPOND_NEVER),
	GM_OP(PCI_SET_DMA_MASK, gm_ioctl_pci_set_dma_mask,
	      struct guestmem_pci_set_dma_mask, __reserved, GM_FD_PCI,
	      GM_RESPOND_NEVER),
};

/*
 * The per-object counters netlink.c reports: one or two per-CPU adds a call,
 * nothing for calls that are not data or lock calls.
 */
static void gm_account(struct guestmem *obj, unsigned int cmd,
		       const union gm_ucmd_buffer *buf, int rc)
{
	struct gm_obj_stats __percpu *st = obj->stats;
	bool read;
	u64 len;

	switch (cmd) {
	case GUESTMEM_READ:
	case GUESTMEM_READ_PLAIN:
		read = true;
		len = buf->rw.len;
		break;
	case GUESTMEM_RANGE_READ:
		read = true;
		len = buf->range.len;
		break;
	case GUESTMEM_WRITE:
	case GUESTMEM_WRITE_PLAIN:
		read = false;
		len = buf->rw.len;
		break;
	case GUESTMEM_FILL:
		read = false;
		len = buf->fill.len;
		break;
	case GUESTMEM_RANGE_WRITE:
	case GUESTMEM_RANGE_FILL:
		read = false;
		len = buf->range.len;
		break;
	case GUESTMEM_LOCK_GPNS:
		this_cpu_inc(st->locks);
		if (rc)
			this_cpu_inc(st->lock_failures);
		return;
	case GUESTMEM_UNLOCK_GPNS:
		this_cpu_inc(st->unlocks);
		return;
	default:
		return;
	}
	if (read)
		this_cpu_inc(st->reads);
	else
		this_cpu_inc(st->writes);
	if (rc)
		this_cpu_inc(st->faults);
	else
		this_cpu_add(st->bytes, len);
}

/* @obj for an object fd, @gpci for a PCI fd, neither for the device. */
static long gm_dispatch(enum gm_fd_kind fd, struct guestmem *obj,
			struct gm_pci *gpci, unsigned int cmd,
			unsigned long arg)
{
	union gm_ucmd_buffer buf;
	const struct gm_ioctl_op *op;
	struct gm_ucmd ucmd = {
		.obj = obj,
		.gpci = gpci,
		.ubuffer = (void __user *)arg,
		.cmd = &buf,
	};
	unsigned int nr = _IOC_NR(cmd);
	int rc;

	if (_IOC_TYPE(cmd) != GUESTMEM_TYPE || nr < GUESTMEM_CMD_BASE ||
	    nr - GUESTMEM_CMD_BASE >= ARRAY_SIZE(gm_ioctl_ops))
		return -ENOTTY;
	op = &gm_ioctl_ops[nr - GUESTMEM_CMD_BASE];
	if (op->ioctl_num != cmd || op->fd != fd)
		return -ENOTTY;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	/* Bounds the zero check of a tail this kernel does not know. */
	if (ucmd.user_size > PAGE_SIZE)
		return -E2BIG;
	ucmd.ksize = op->size;
	rc = copy_struct_from_user(&buf, op->size, ucmd.ubuffer,
				   ucmd.user_size);
	if (rc)
		return rc;

	rc = op->execute(&ucmd);
	if (obj)
		gm_account(obj, cmd, &buf, rc);
	if (op->respond == GM_RESPOND_ALWAYS ||
	    (rc && op->respond == GM_RESPOND_ON_ERROR)) {
		int rc_respond = gm_ucmd_respond(&ucmd);

		if (!rc)
			rc = rc_respond;
	}
	return rc;
}

static long gm_obj_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	return gm_dispatch(GM_FD_OBJECT, file->private_data, NULL, cmd, arg);
}

static int gm_obj_fop_release(struct inode *inode, struct file *file)
{
	struct guestmem *obj = file->private_data;

	atomic_dec(&obj->nr_files);
	gm_obj_put(obj);
	return 0;
}

static int gm_obj_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	return gm_obj_mmap(file->private_data, vma);
}

static const struct file_operations gm_obj_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gm_obj_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = gm_obj_file_mmap,
	.release = gm_obj_fop_release,
	.llseek = noop_llseek,
};

/**
 * gm_obj_get_fd() - take a reference to the object behind an fd
 * @fd: an fd of the calling process
 *
 * Return: the object, or ERR_PTR(-EBADF) (not an fd) or ERR_PTR(-EINVAL)
 * (not a guestmem object fd).
 */
struct guestmem *gm_obj_get_fd(int fd)
{
	struct guestmem *obj = ERR_PTR(-EINVAL);
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op == &gm_obj_fops) {
		obj = file->private_data;
		kref_get(&obj->ref);
	}
	fput(file);
	return obj;
}

/**
 * gm_obj_publish() - give a fully built object an fd and tell the caller
 * @ucmd: the creating call; its struct is copied back with @out_fd set
 * @obj: the object; its reference passes to the fd (or is dropped on error)
 * @out_fd: the fd field inside @ucmd's struct
 *
 * Register (netlink.c), create, copy out, announce, then install: the fd
 * becomes visible to the process only once the caller has been told about
 * it, so nothing needs undoing after fd_install().
 *
 * Return: 0 or a negative errno.
 */
int gm_obj_publish(struct gm_ucmd *ucmd, struct guestmem *obj, u32 *out_fd)
{
	struct file *file;
	int fd, rc;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto out_put_obj;
	}
	rc = gm_registry_add(obj);
	if (rc)
		goto out_put_fd;
	file = anon_inode_getfile("[guestmem]", &gm_obj_fops, obj, O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto out_put_fd;
	}
	atomic_inc(&obj->nr_files);
	*out_fd = fd;
	rc = gm_ucmd_respond(ucmd);
	if (rc)
		goto out_fput;
	/* Before fd_install(): from then on another thread may close it. */
	obj->announced = true;
	gm_nl_notify(obj, GUESTMEM_CMD_OBJ_NEW);
	fd_install(fd, file);
	return 0;

out_fput:
	/* The file owns the object reference now: release drops it. */
	fput(file);
	put_unused_fd(fd);
	return rc;
out_put_fd:
	put_unused_fd(fd);
out_put_obj:
	gm_obj_put(obj);
	return rc;
}

static long gm_pci_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	return gm_dispatch(GM_FD_PCI, NULL, file->private_data, cmd, arg);
}

static int gm_pci_fop_release(struct inode *inode, struct file *file)
{
	gm_pci_release_fd(file->private_data);
	return 0;
}

static const struct file_operations gm_pci_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gm_pci_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = gm_pci_fop_release,
	.llseek = noop_llseek,
};

/**
 * gm_pci_publish() - give a device's binding a PCI fd and tell the caller
 * @ucmd: the opening call; its struct is copied back with @out_fd set
 * @gpci: the binding, referenced and marked open; both pass to the fd (or
 *	are undone by gm_pci_release_fd() on error)
 * @out_fd: the fd field inside @ucmd's struct
 *
 * Return: 0 or a negative errno.
 */
int gm_pci_publish(struct gm_ucmd *ucmd, struct gm_pci *gpci, u32 *out_fd)
{
	struct file *file;
	int fd, rc;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto out_release;
	}
	file = anon_inode_getfile("[guestmem-pci]", &gm_pci_fops, gpci, O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto out_put_fd;
	}
	*out_fd = fd;
	rc = gm_ucmd_respond(ucmd);
	if (rc) {
		/* The file's release undoes the open. */
		fput(file);
		put_unused_fd(fd);
		return rc;
	}
	fd_install(fd, file);
	return 0;

out_put_fd:
	put_unused_fd(fd);
out_release:
	gm_pci_release_fd(gpci);
	return rc;
}

static long gm_dev_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	return gm_dispatch(GM_FD_DEV, NULL, NULL, cmd, arg);
}

static const struct file_operations gm_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gm_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/*
 * A fixed minor from the range devices.txt reserves for local use
 * (243-254; no in-tree driver uses 248, and dynamic minors lie elsewhere:
 * 0-127 on 6.1, above 255 on later kernels), so that the module can carry
 * devname: and char-major- aliases: depmod lists /dev/guestmem in
 * modules.devname, systemd-tmpfiles creates the node at boot (kmod
 * static-nodes), and the first open() loads the module.
 */
#define GUESTMEM_MINOR 248

/*
 * root:root 0660 until udev applies the shipped rule (group "guestmem", see
 * Documentation/guestmem.rst), like /dev/kvm: who may pin memory is the
 * administrator's choice, and whatever a user pins or allocates is charged
 * to that user.
 */
static struct miscdevice gm_miscdev = {
	.minor = GUESTMEM_MINOR,
	.name = "guestmem",
	.fops = &gm_dev_fops,
	.mode = 0660,
};

static int __init gm_init(void)
{
	int rc;

	rc = gm_nl_init();
	if (rc)
		return rc;
	rc = gm_pci_register();
	if (rc)
		goto out_nl_exit;
	/* Last: from here on user space can create objects. */
	rc = misc_register(&gm_miscdev);
	if (rc)
		goto out_pci_unregister;
	return 0;

out_pci_unregister:
	gm_pci_unregister();
out_nl_exit:
	gm_nl_exit();
	return rc;
}

static void __exit gm_exit(void)
{
	misc_deregister(&gm_miscdev);
	gm_pci_unregister();
	gm_nl_exit();
}

module_init(gm_init);
module_exit(gm_exit);

MODULE_DESCRIPTION("Guest memory objects for user-mode VMMs and DMA drivers");
MODULE_AUTHOR("guestmem maintainers <maintainers@users.noreply.r-seed-035aa4f1.example>");
MODULE_LICENSE("GPL");
MODULE_VERSION(GUESTMEM_VERSION);
/* Opening /dev/guestmem, or resolving the netlink family, loads the module. */
MODULE_ALIAS_MISCDEV(GUESTMEM_MINOR);
MODULE_ALIAS("devname:guestmem");
MODULE_ALIAS_GENL_FAMILY(GUESTMEM_GENL_NAME);

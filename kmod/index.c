// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem gpn index: which lock holds a page.
 *
 * DOC: The gpn index
 *
 * Each object keeps its locks' runs (&struct gm_lock_run) in an interval
 * tree, @gpn_index, so that an IOVA query (dma.c) finds the lock holding a
 * page in O(log runs), and a lock costs one node per run of consecutive
 * gpns, not one entry per page: a 1 GiB lock of a contiguous range is one
 * node.  Runs of different locks, or of one lock that lists a gpn twice,
 * may overlap; the caller picks among them.  pin.c also uses the tree
 * type, on a temporary root, to find gpns a lock lists more than once.
 *
 * Locking: the index of an object (base or view) is guarded by
 * mem->lock_mutex; pin.c inserts a lock's runs when it publishes the lock and
 * removes them before it unpins.
 */
#include <linux/interval_tree_generic.h>

#include "guestmem_private.h"

#define GM_RUN_START(run)	((run)->start)
#define GM_RUN_LAST(run)	((run)->last)
INTERVAL_TREE_DEFINE(struct gm_lock_run, node, u64, subtree_last,
		     GM_RUN_START, GM_RUN_LAST, static, gm_run_tree)

/**
 * gm_run_insert() - add a run to an interval tree of runs
 * @run: the run
 * @root: the tree (an object's gpn index, or a caller's own root)
 */
void gm_run_insert(struct gm_lock_run *run, struct rb_root_cached *root)
{
	gm_run_tree_insert(run, root);
}

/**
 * gm_run_first() - the first run of a tree that meets [@start, @last]
 * @root: the tree
 * @start: first gpn
 * @last: last gpn
 *
 * Return: the run, or NULL.
 */
struct gm_lock_run *gm_run_first(struct rb_root_cached *root, u64 start,
				 u64 last)
{
	return gm_run_tree_iter_first(root, start, last);
}

/**
 * gm_index_insert() - index every run of a lock in its object's tree
 * @lock: a lock whose runs are not indexed
 *
 * Context: mem->lock_mutex is held.
 */
void gm_index_insert(struct guestmem_lock *lock)
{
	struct guestmem *obj = lock->obj;
	unsigned long r;

	lockdep_assert_held(&obj->mem->lock_mutex);
	for (r = 0; r < lock->nr_runs; r++)
		gm_run_insert(&lock->runs[r], &obj->gpn_index);
}

/**
 * gm_index_remove() - take a lock's runs out of its object's tree
 * @lock: a lock indexed by gm_index_insert()
 *
 * Context: mem->lock_mutex is held.
 */
void gm_index_remove(struct guestmem_lock *lock)
{
	struct guestmem *obj = lock->obj;
	unsigned long r;

	lockdep_assert_held(&obj->mem->lock_mutex);
	for (r = 0; r < lock->nr_runs; r++)
		gm_run_tree_remove(&lock->runs[r], &obj->gpn_index);
}

/**
 * gm_index_first() - the first run of @obj's locks that holds page @gpn
 * @obj: the object (its own locks)
 * @gpn: the page, in @obj's address space
 *
 * Context: mem->lock_mutex is held.
 * Return: the run, or NULL; gm_index_next() gives the next such run.
 */
struct gm_lock_run *gm_index_first(struct guestmem *obj, u64 gpn)
{
	lockdep_assert_held(&obj->mem->lock_mutex);
	return gm_run_tree_iter_first(&obj->gpn_index, gpn, gpn);
}

/**
 * gm_index_next() - the next run that holds page @gpn
 * @run: a run from gm_index_first() or gm_index_next()
 * @gpn: the same page
 *
 * Return: the run, or NULL.
 */
struct gm_lock_run *gm_index_next(struct gm_lock_run *run, u64 gpn)
{
	return gm_run_tree_iter_next(run, gpn, gpn);
}

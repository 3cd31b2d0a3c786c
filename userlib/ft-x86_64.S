/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault-tolerant memmove and memset for direct access (x86-64).
 *
 *	int gm_ft_copy(void *dst, const void *src, size_t len);
 *	int gm_ft_set(void *dst, int c, size_t len);
 *
 * Both return 0, or -1 when an access faulted: the library's signal
 * handler finds the faulting instruction inside [gm_ft_begin, gm_ft_fail)
 * (one gm_ft_fixup entry covers both routines) and resumes at gm_ft_fail.
 * That works because both are leaf routines that never touch the stack:
 * wherever they fault, %rsp still points at the return address, and they
 * use only call-clobbered registers.
 *
 * The shapes follow glibc's SSE2 memmove/memset, so that a copy costs what
 * memcpy costs: up to 128 bytes, loads of the head and the tail that may
 * overlap, all loads before any store (which makes them memmove-safe);
 * above, 128-byte blocks with the last (or, copying backwards, the first)
 * 128 bytes loaded before the loop and stored after it.  From 2 KiB on, on
 * a CPU with ERMS, rep movsb/stosb (gm_ft_erms, set by direct.c), which
 * is what glibc uses there too.
 * A fault may leave a prefix copied or set, as a failing memcpy would.
 */
#ifdef __x86_64__

#ifdef __CET__
#define ENTRY_BRANCH endbr64
#else
#define ENTRY_BRANCH
#endif

#define REP_THRESHOLD 2048

	.text

	.globl gm_ft_erms
	.hidden gm_ft_erms

	.p2align 4
	.globl gm_ft_copy
	.hidden gm_ft_copy
	.type gm_ft_copy, @function
gm_ft_begin:
gm_ft_copy:
	ENTRY_BRANCH
	cmp $16, %rdx
	jb .Lc_lt16
	cmp $32, %rdx
	ja .Lc_gt32
	movdqu (%rsi), %xmm0
	movdqu -16(%rsi,%rdx), %xmm1
	movdqu %xmm0, (%rdi)
	movdqu %xmm1, -16(%rdi,%rdx)
	xor %eax, %eax
	ret
.Lc_lt16:
	cmp $8, %rdx
	jb .Lc_lt8
	mov (%rsi), %rax
	mov -8(%rsi,%rdx), %rcx
	mov %rax, (%rdi)
	mov %rcx, -8(%rdi,%rdx)
	xor %eax, %eax
	ret
.Lc_lt8:
	cmp $4, %rdx
	jb .Lc_lt4
	mov (%rsi), %eax
	mov -4(%rsi,%rdx), %ecx
	mov %eax, (%rdi)
	mov %ecx, -4(%rdi,%rdx)
	xor %eax, %eax
	ret
.Lc_lt4:
	test %rdx, %rdx
	jz .Lc_done
	movzbl -1(%rsi,%rdx), %ecx
	cmp $1, %rdx
	je .Lc_1
	movzwl (%rsi), %eax
	mov %ax, (%rdi)
	mov %cl, -1(%rdi,%rdx)
	xor %eax, %eax
	ret
.Lc_1:
	mov %cl, (%rdi)
.Lc_done:
	xor %eax, %eax
	ret
.Lc_gt32:
	cmp $64, %rdx
	ja .Lc_gt64
	movdqu (%rsi), %xmm0
	movdqu 16(%rsi), %xmm1
	movdqu -32(%rsi,%rdx), %xmm2
	movdqu -16(%rsi,%rdx), %xmm3
	movdqu %xmm0, (%rdi)
	movdqu %xmm1, 16(%rdi)
	movdqu %xmm2, -32(%rdi,%rdx)
	movdqu %xmm3, -16(%rdi,%rdx)
	xor %eax, %eax
	ret
.Lc_gt64:
	cmp $128, %rdx
	ja .Lc_gt128
	movdqu (%rsi), %xmm0
	movdqu 16(%rsi), %xmm1
	movdqu 32(%rsi), %xmm2
	movdqu 48(%rsi), %xmm3
	movdqu -64(%rsi,%rdx), %xmm4
	movdqu -48(%rsi,%rdx), %xmm5
	movdqu -32(%rsi,%rdx), %xmm6
	movdqu -16(%rsi,%rdx), %xmm7
	movdqu %xmm0, (%rdi)
	movdqu %xmm1, 16(%rdi)
	movdqu %xmm2, 32(%rdi)
	movdqu %xmm3, 48(%rdi)
	movdqu %xmm4, -64(%rdi,%rdx)
	movdqu %xmm5, -48(%rdi,%rdx)
	movdqu %xmm6, -32(%rdi,%rdx)
	movdqu %xmm7, -16(%rdi,%rdx)
	xor %eax, %eax
	ret
.Lc_gt128:
	/* dst - src < len (unsigned): dst starts inside the source, copy backwards. */
	mov %rdi, %rax
	sub %rsi, %rax
	cmp %rdx, %rax
	jb .Lc_backward
	cmp $REP_THRESHOLD, %rdx
	jb .Lc_forward
	testb $1, gm_ft_erms(%rip)
	jz .Lc_forward
	mov %rdx, %rcx
	rep movsb
	xor %eax, %eax
	ret
.Lc_forward:
	movdqu -128(%rsi,%rdx), %xmm8
	movdqu -112(%rsi,%rdx), %xmm9
	movdqu -96(%rsi,%rdx), %xmm10
	movdqu -80(%rsi,%rdx), %xmm11
	movdqu -64(%rsi,%rdx), %xmm12
	movdqu -48(%rsi,%rdx), %xmm13
	movdqu -32(%rsi,%rdx), %xmm14
	movdqu -16(%rsi,%rdx), %xmm15
	lea -128(%rdx), %rcx
	xor %eax, %eax
1:	movdqu (%rsi,%rax), %xmm0
	movdqu 16(%rsi,%rax), %xmm1
	movdqu 32(%rsi,%rax), %xmm2
	movdqu 48(%rsi,%rax), %xmm3
	movdqu 64(%rsi,%rax), %xmm4
	movdqu 80(%rsi,%rax), %xmm5
	movdqu 96(%rsi,%rax), %xmm6
	movdqu 112(%rsi,%rax), %xmm7
	movdqu %xmm0, (%rdi,%rax)
	movdqu %xmm1, 16(%rdi,%rax)
	movdqu %xmm2, 32(%rdi,%rax)
	movdqu %xmm3, 48(%rdi,%rax)
	movdqu %xmm4, 64(%rdi,%rax)
	movdqu %xmm5, 80(%rdi,%rax)
	movdqu %xmm6, 96(%rdi,%rax)
	movdqu %xmm7, 112(%rdi,%rax)
	add $128, %rax
	cmp %rcx, %rax
	jb 1b
	movdqu %xmm8, -128(%rdi,%rdx)
	movdqu %xmm9, -112(%rdi,%rdx)
	movdqu %xmm10, -96(%rdi,%rdx)
	movdqu %xmm11, -80(%rdi,%rdx)
	movdqu %xmm12, -64(%rdi,%rdx)
	movdqu %xmm13, -48(%rdi,%rdx)
	movdqu %xmm14, -32(%rdi,%rdx)
	movdqu %xmm15, -16(%rdi,%rdx)
	xor %eax, %eax
	ret
.Lc_backward:
	movdqu (%rsi), %xmm8
	movdqu 16(%rsi), %xmm9
	movdqu 32(%rsi), %xmm10
	movdqu 48(%rsi), %xmm11
	movdqu 64(%rsi), %xmm12
	movdqu 80(%rsi), %xmm13
	movdqu 96(%rsi), %xmm14
	movdqu 112(%rsi), %xmm15
	mov %rdx, %rax
2:	sub $128, %rax
	movdqu (%rsi,%rax), %xmm0
	movdqu 16(%rsi,%rax), %xmm1
	movdqu 32(%rsi,%rax), %xmm2
	movdqu 48(%rsi,%rax), %xmm3
	movdqu 64(%rsi,%rax), %xmm4
	movdqu 80(%rsi,%rax), %xmm5
	movdqu 96(%rsi,%rax), %xmm6
	movdqu 112(%rsi,%rax), %xmm7
	movdqu %xmm0, (%rdi,%rax)
	movdqu %xmm1, 16(%rdi,%rax)
	movdqu %xmm2, 32(%rdi,%rax)
	movdqu %xmm3, 48(%rdi,%rax)
	movdqu %xmm4, 64(%rdi,%rax)
	movdqu %xmm5, 80(%rdi,%rax)
	movdqu %xmm6, 96(%rdi,%rax)
	movdqu %xmm7, 112(%rdi,%rax)
	cmp $128, %rax
	ja 2b
	movdqu %xmm8, (%rdi)
	movdqu %xmm9, 16(%rdi)
	movdqu %xmm10, 32(%rdi)
	movdqu %xmm11, 48(%rdi)
	movdqu %xmm12, 64(%rdi)
	movdqu %xmm13, 80(%rdi)
	movdqu %xmm14, 96(%rdi)
	movdqu %xmm15, 112(%rdi)
	xor %eax, %eax
	ret
	.size gm_ft_copy, . - gm_ft_copy

	.p2align 4
	.globl gm_ft_set
	.hidden gm_ft_set
	.type gm_ft_set, @function
gm_ft_set:
	ENTRY_BRANCH
	movzbl %sil, %eax
	movabs $0x0101010101010101, %rcx
	imul %rcx, %rax
	cmp $16, %rdx
	jb .Ls_lt16
	movq %rax, %xmm0
	punpcklqdq %xmm0, %xmm0
	cmp $32, %rdx
	ja .Ls_gt32
	movdqu %xmm0, (%rdi)
	movdqu %xmm0, -16(%rdi,%rdx)
	xor %eax, %eax
	ret
.Ls_lt16:
	cmp $8, %rdx
	jb .Ls_lt8
	mov %rax, (%rdi)
	mov %rax, -8(%rdi,%rdx)
	xor %eax, %eax
	ret
.Ls_lt8:
	cmp $4, %rdx
	jb .Ls_lt4
	mov %eax, (%rdi)
	mov %eax, -4(%rdi,%rdx)
	xor %eax, %eax
	ret
.Ls_lt4:
	test %rdx, %rdx
	jz .Ls_done
	mov %al, (%rdi)
	mov %al, -1(%rdi,%rdx)
	cmp $2, %rdx
	jbe .Ls_done
	mov %al, 1(%rdi)
.Ls_done:
	xor %eax, %eax
	ret
.Ls_gt32:
	cmp $64, %rdx
	ja .Ls_gt64
	movdqu %xmm0, (%rdi)
	movdqu %xmm0, 16(%rdi)
	movdqu %xmm0, -32(%rdi,%rdx)
	movdqu %xmm0, -16(%rdi,%rdx)
	xor %eax, %eax
	ret
.Ls_gt64:
	cmp $128, %rdx
	ja .Ls_gt128
	movdqu %xmm0, (%rdi)
	movdqu %xmm0, 16(%rdi)
	movdqu %xmm0, 32(%rdi)
	movdqu %xmm0, 48(%rdi)
	movdqu %xmm0, -64(%rdi,%rdx)
	movdqu %xmm0, -48(%rdi,%rdx)
	movdqu %xmm0, -32(%rdi,%rdx)
	movdqu %xmm0, -16(%rdi,%rdx)
	xor %eax, %eax
	ret
.Ls_gt128:
	cmp $REP_THRESHOLD, %rdx
	jb .Ls_loop_start
	testb $1, gm_ft_erms(%rip)
	jz .Ls_loop_start
	mov %rdx, %rcx
	rep stosb
	xor %eax, %eax
	ret
.Ls_loop_start:
	lea -128(%rdx), %rcx
	xor %eax, %eax
3:	movdqu %xmm0, (%rdi,%rax)
	movdqu %xmm0, 16(%rdi,%rax)
	movdqu %xmm0, 32(%rdi,%rax)
	movdqu %xmm0, 48(%rdi,%rax)
	movdqu %xmm0, 64(%rdi,%rax)
	movdqu %xmm0, 80(%rdi,%rax)
	movdqu %xmm0, 96(%rdi,%rax)
	movdqu %xmm0, 112(%rdi,%rax)
	add $128, %rax
	cmp %rcx, %rax
	jb 3b
	movdqu %xmm0, -128(%rdi,%rdx)
	movdqu %xmm0, -112(%rdi,%rdx)
	movdqu %xmm0, -96(%rdi,%rdx)
	movdqu %xmm0, -80(%rdi,%rdx)
	movdqu %xmm0, -64(%rdi,%rdx)
	movdqu %xmm0, -48(%rdi,%rdx)
	movdqu %xmm0, -32(%rdi,%rdx)
	movdqu %xmm0, -16(%rdi,%rdx)
	xor %eax, %eax
	ret
	.size gm_ft_set, . - gm_ft_set

	/* Where the handler resumes a faulting gm_ft_copy or gm_ft_set. */
gm_ft_fail:
	cld
	mov $-1, %eax
	ret

	.pushsection gm_ft_fixup, "aR"
	.balign 4
	.long gm_ft_begin - .
	.long gm_ft_fail - .
	.long gm_ft_fail - .
	.popsection

	.bss
gm_ft_erms:
	.byte 0

#endif /* __x86_64__ */

	.section .note.GNU-stack, "", @progbits

/* scripts/heap-peak's LD_PRELOAD malloc counter: live heap bytes (by malloc_usable_size)
 * and their peak, over glibc's own __libc_* allocator. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <errno.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
static _Atomic long long live, peak;
static void add(void *p) {
    if (!p) return;
    long long n = (long long)malloc_usable_size(p);
    long long now = atomic_fetch_add(&live, n) + n, old = atomic_load(&peak);
    while (now > old && !atomic_compare_exchange_weak(&peak, &old, now)) {}
}
static void sub(void *p) { if (p) atomic_fetch_sub(&live, (long long)malloc_usable_size(p)); }
void *malloc(size_t n) { void *p = __libc_malloc(n); add(p); return p; }
void *calloc(size_t a, size_t b) { void *p = __libc_calloc(a, b); add(p); return p; }
void free(void *p) { sub(p); __libc_free(p); }
void *realloc(void *q, size_t n) { sub(q); void *p = __libc_realloc(q, n); add(p ? p : (n ? q : NULL)); return p; }
void *memalign(size_t a, size_t n) { void *p = __libc_memalign(a, n); add(p); return p; }
void *aligned_alloc(size_t a, size_t n) { void *p = __libc_memalign(a, n); add(p); return p; }
int posix_memalign(void **out, size_t a, size_t n) { void *p = __libc_memalign(a, n); if (!p) return ENOMEM; add(p); *out = p; return 0; }
long long heap_live(void) { return atomic_load(&live); }
long long heap_peak(void) { return atomic_load(&peak); }
void heap_reset_peak(void) { atomic_store(&peak, atomic_load(&live)); }

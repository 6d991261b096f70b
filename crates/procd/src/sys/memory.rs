//! Allocator settings for a long-running daemon.

/// Keeps large buffers (the per-pipe read buffers, the child stacks used while spawning) out of the
/// malloc heap. glibc raises its mmap threshold each time a large mmapped block is freed, after which
/// such buffers come from the heap, are zeroed there (touching every page) and stay resident; a fixed
/// threshold keeps them as mappings whose untouched pages cost nothing. Call before threads start.
/// (glibc only: musl's allocator has no such tunable and never moves its threshold.)
pub fn fixed_mmap_threshold() {
    // SAFETY: mallopt only changes a malloc tunable; 128 KiB is a valid M_MMAP_THRESHOLD.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

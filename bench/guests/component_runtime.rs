//! What a no_std Component Model guest needs on wasm32, shared by the benchmark's component
//! guests (`echo_component`, `pull_component`): dlmalloc as the global allocator, a panic
//! handler that traps, and the Canonical ABI's `cabi_realloc`, so that a component imports only
//! what its world says.

#[global_allocator]
static HEAP: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The Canonical ABI's allocator export. std provides it on wasm32-wasip2; without std the
/// component provides it, as wit-bindgen's runtime does on other targets.
///
/// # Safety
///
/// Called by the component model: `old_ptr` is null with `old_len` 0, or a block of `old_len`
/// bytes it got from this function with this `align`; `align` is a power of two.
#[unsafe(no_mangle)]
unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    use alloc::alloc::{Layout, alloc, realloc};
    if old_len == 0 && new_len == 0 {
        // A zero-sized block: any non-null, aligned pointer.
        return align as *mut u8;
    }
    let ptr = if old_len == 0 {
        // SAFETY: `align` is a power of two (the caller's promise) and `new_len` is non-zero.
        unsafe { alloc(Layout::from_size_align_unchecked(new_len, align)) }
    } else {
        // SAFETY: `old_ptr` is a block of `old_len` bytes with this alignment (the caller's
        // promise); the component model never shrinks a block to zero.
        unsafe {
            realloc(
                old_ptr,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        }
    };
    if ptr.is_null() {
        core::arch::wasm32::unreachable();
    }
    ptr
}

//! The guest's global allocator on wasm32: one back end, chosen here by cargo feature.
//!
//! Each back end is a module with the same shape: a `Backend` type and a `const fn new()`. When
//! several features are on (features unify across a workspace), the first in this list wins:
//! `talc`, `dlmalloc`, `lol_alloc`, `wee_alloc`. With none, the guest brings its own
//! `#[global_allocator]`. Natively nothing is installed: the host's allocator serves the ABI.

#[cfg(all(
    target_arch = "wasm32",
    target_feature = "atomics",
    any(
        feature = "talc",
        feature = "dlmalloc",
        feature = "lol_alloc",
        feature = "wee_alloc"
    )
))]
compile_error!("guestmem's allocator back ends assume single-threaded wasm32 (no `atomics`)");

cfg_if::cfg_if! {
    if #[cfg(not(target_arch = "wasm32"))] {
        // Native builds use the host program's allocator.
    } else if #[cfg(feature = "talc")] {
        mod talc;
        use self::talc as backend;
    } else if #[cfg(feature = "dlmalloc")] {
        mod dlmalloc;
        use self::dlmalloc as backend;
    } else if #[cfg(feature = "lol_alloc")] {
        mod lol_alloc;
        use self::lol_alloc as backend;
    } else if #[cfg(feature = "wee_alloc")] {
        mod wee_alloc;
        use self::wee_alloc as backend;
    }
}

cfg_if::cfg_if! {
    if #[cfg(all(
        target_arch = "wasm32",
        any(
            feature = "talc",
            feature = "dlmalloc",
            feature = "lol_alloc",
            feature = "wee_alloc"
        )
    ))] {
        use crate::stats::Counting;

        // `Counting` only forwards without the `stats` feature, so one static serves both.
        #[cfg_attr(not(feature = "std"), global_allocator)]
        pub(crate) static HEAP: Counting<backend::Backend> = Counting::new(backend::new());

        /// With `std`, guest code allocates through [`ReportingHeap`]: std aborts on a failed
        /// allocation without a panic, so the reason is recorded here first. The ABI's own
        /// `alloc` uses `HEAP`, since it returns 0 without a reason.
        #[cfg(feature = "std")]
        #[global_allocator]
        static REPORTING: ReportingHeap = ReportingHeap;

        /// Forwards to `HEAP` and records why an allocation failed.
        #[cfg(feature = "std")]
        struct ReportingHeap;

        #[cfg(feature = "std")]
        impl ReportingHeap {
            #[cold]
            fn failed(size: usize) {
                crate::error::record_formatted(format_args!(
                    "guest aborted: memory allocation of {size} bytes failed"
                ));
            }
        }

        // SAFETY: every call is forwarded to `HEAP` with the caller's arguments, so its
        // guarantees are this one's; recording a reason touches no memory the caller owns.
        #[cfg(feature = "std")]
        unsafe impl core::alloc::GlobalAlloc for ReportingHeap {
            unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
                // SAFETY: the caller's promise, passed on.
                let ptr = unsafe { core::alloc::GlobalAlloc::alloc(&HEAP, layout) };
                if ptr.is_null() {
                    Self::failed(layout.size());
                }
                ptr
            }

            unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
                // SAFETY: the caller's promise, passed on.
                unsafe { core::alloc::GlobalAlloc::dealloc(&HEAP, ptr, layout) }
            }

            unsafe fn realloc(
                &self,
                ptr: *mut u8,
                layout: core::alloc::Layout,
                new_size: usize,
            ) -> *mut u8 {
                // SAFETY: the caller's promise, passed on.
                let moved = unsafe { core::alloc::GlobalAlloc::realloc(&HEAP, ptr, layout, new_size) };
                if moved.is_null() {
                    Self::failed(new_size);
                }
                moved
            }
        }

        /// What the ABI allocates its blocks with: the installed allocator, called directly rather
        /// than through `alloc::alloc`'s shims, which cost every round trip a few calls
        /// (docs/BENCHMARKS.md).
        pub(crate) use self::HEAP as GLOBAL;
    } else {
        /// What the ABI allocates its blocks with: the global allocator, whichever it is (the
        /// guest's own, or natively the host program's), through `alloc::alloc`.
        pub(crate) static GLOBAL: ViaAlloc = ViaAlloc;

        /// Forwards to `alloc::alloc`, which calls the `#[global_allocator]`.
        pub(crate) struct ViaAlloc;

        // SAFETY: every call is forwarded to `alloc::alloc` with the caller's arguments, so the
        // global allocator's guarantees are this one's.
        unsafe impl core::alloc::GlobalAlloc for ViaAlloc {
            #[inline(always)]
            unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
                // SAFETY: the caller's promise, passed on.
                unsafe { alloc::alloc::alloc(layout) }
            }

            #[inline(always)]
            unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
                // SAFETY: the caller's promise, passed on.
                unsafe { alloc::alloc::dealloc(ptr, layout) }
            }

            #[inline(always)]
            unsafe fn realloc(
                &self,
                ptr: *mut u8,
                layout: core::alloc::Layout,
                new_size: usize,
            ) -> *mut u8 {
                // SAFETY: the caller's promise, passed on.
                unsafe { alloc::alloc::realloc(ptr, layout, new_size) }
            }
        }
    }
}

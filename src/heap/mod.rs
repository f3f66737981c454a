//! The guest's global allocator on wasm32: one back end, chosen here by cargo feature.
//!
//! Each back end is a module with the same shape: a `Backend` type and a `const fn new()`. When
//! several features are on (features unify across a workspace), the first in this list wins:
//! `talc`, `dlmalloc`, `lol_alloc`, `wee_alloc`. With none, the guest brings its own
//! `#[global_allocator]`. Natively nothing is installed: the host's allocator serves the ABI.

#[cfg(target_arch = "wasm32")]
use crate::stats::Counting;

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

// `Counting` only forwards without the `stats` feature, so one static serves both.
#[cfg(all(
    target_arch = "wasm32",
    any(
        feature = "talc",
        feature = "dlmalloc",
        feature = "lol_alloc",
        feature = "wee_alloc"
    )
))]
#[global_allocator]
static HEAP: Counting<backend::Backend> = Counting::new(backend::new());

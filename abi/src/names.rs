//! The ABI's export names ("Exports" and "Export names per target" in docs/ABI.md).

use alloc::borrow::Cow;
use alloc::format;

/// Exports every guest has: the memory and the ABI's functions.
pub const REQUIRED: [&str; 7] = [
    "memory",
    "alloc",
    "dealloc",
    "free",
    "realloc",
    "last_error",
    "abi_version",
];

/// Exports a guest built with guestmem's `stats` feature adds.
pub const STATS: [&str; 2] = ["live_blocks", "heap_bytes"];

/// The prefix of an ABI export whose plain name the target reserves (`free` and `realloc` on
/// wasm32-wasip1, where wasi-libc defines them).
pub const PREFIX: &str = "guestmem_";

/// The names under which a host looks for the ABI export `name`, in order: `guestmem_NAME`
/// first, then `NAME`.
#[must_use]
pub fn candidates(name: &str) -> [Cow<'_, str>; 2] {
    [Cow::Owned(format!("{PREFIX}{name}")), Cow::Borrowed(name)]
}

/// The ABI export that `export` is, whether or not it carries the prefix; `None` for the
/// author's own exports.
#[must_use]
pub fn abi_export(export: &str) -> Option<&'static str> {
    let plain = export.strip_prefix(PREFIX).unwrap_or(export);
    REQUIRED
        .iter()
        .chain(&STATS)
        .find(|&&name| name == plain && name != "memory")
        .copied()
}

#[cfg(test)]
mod tests {
    use super::{abi_export, candidates};

    #[test]
    fn the_prefixed_name_comes_first() {
        assert_eq!(candidates("free"), ["guestmem_free", "free"]);
    }

    #[test]
    fn abi_exports_are_known_with_and_without_the_prefix() {
        assert_eq!(abi_export("guestmem_realloc"), Some("realloc"));
        assert_eq!(abi_export("live_blocks"), Some("live_blocks"));
        assert_eq!(abi_export("upper"), None);
        assert_eq!(abi_export("guestmem_memory"), None);
    }
}

//! wee_alloc, the legacy choice: unmaintained (RUSTSEC-2022-0054), and it leaks when large blocks
//! are freed in allocation order (wee_alloc issue 106). Kept for users migrating from it.

pub(super) type Backend = wee_alloc::WeeAlloc<'static>;

pub(super) const fn new() -> Backend {
    wee_alloc::WeeAlloc::INIT
}

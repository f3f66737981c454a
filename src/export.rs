//! [`export!`](crate::export): ordinary Rust functions become ABI exports.

/// Turns ordinary functions into ABI exports, so a guest author writes no `unsafe`.
///
/// Each argument is an [`Input`](crate::Input) (`&[u8]` or `&str`) and becomes a `(ptr, len)` pair
/// of ABI arguments; the return type is an [`Output`](crate::Output): `Vec<u8>`, `String`,
/// `&[u8]`, `&str`, a [`ResultBlock`](crate::ResultBlock), an integer, or a `Result` of one of
/// these with an error that implements `Display`. A `&str` or `String` error is copied into the
/// `last_error` message as it is; any other error is written with its `Display` implementation,
/// which brings `core::fmt` into the module (about 2 KB: `array_sum` is 4,424 bytes with a `&str`
/// error, 6,701 when it went through `Display`). A function that returns a value borrowed from
/// its arguments names the lifetime: `fn echo<'a>(bytes: &'a [u8]) -> &'a [u8]`. An argument that is not valid (invalid UTF-8, out
/// of memory's bounds) makes the export return its failure value with a `last_error` message
/// naming the argument; it never traps.
///
/// On wasm32 each function is exported under its own name; natively it is a plain
/// `unsafe extern "C-unwind" fn` with the same arguments, for native hosts and tests.
///
/// # Examples
///
/// ```
/// guestmem::export! {
///     /// Shouts `text` back.
///     fn shout(text: &str) -> String {
///         text.to_uppercase()
///     }
///
///     /// Adds up the bytes; fails rather than wraps.
///     fn total(bytes: &[u8]) -> Result<u32, &'static str> {
///         bytes.iter().try_fold(0u32, |sum, &b| sum.checked_add(u32::from(b))).ok_or("overflow")
///     }
/// }
///
/// let input = "straße";
/// // SAFETY: `input` is live for the call; the result is freed once below.
/// let result = unsafe { shout(input.as_ptr(), input.len()) };
/// // SAFETY: a result block: a 4-byte length, then the bytes.
/// let bytes = unsafe { core::slice::from_raw_parts(result, 4 + 7) };
/// assert_eq!(&bytes[4..], "STRASSE".as_bytes());
/// // SAFETY: a result block, freed once.
/// unsafe { guestmem::abi::free(result) };
///
/// // SAFETY: the slice is live for the call.
/// assert_eq!(unsafe { total([1u8, 2, 3].as_ptr(), 3) }, 6);
/// ```
///
/// The host frees its inputs after the call, so a function cannot ask to keep them:
///
/// ```compile_fail
/// guestmem::export! {
///     fn keep(bytes: &'static [u8]) -> u32 {
///         bytes.len() as u32
///     }
/// }
/// ```
#[macro_export]
macro_rules! export {
    ($(
        $(#[$attr:meta])*
        $vis:vis fn $name:ident $(<$($life:lifetime),+>)?
            ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty $body:block
    )*) => {$(
        $crate::__export_fn! {
            @munch __scope [$(#[$attr])*] [$vis] $name [$(<$($life),+>)?] [$($arg: $ty),*] [$ret] $body;
            [] [] [] $($arg: $ty,)*
        }
    )*};
}

/// One export at a time: each argument in turn gets a fresh `ptr`/`len` pair (macro hygiene keeps
/// the pairs apart), then the function is written out.
///
/// Every argument borrows a local, `$scope`, rather than taking the lifetime its type names: the
/// host frees its inputs after the call, so a function that asks for `&'static [u8]` (and could
/// keep it) must not compile.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_fn {
    (@munch $scope:ident $attrs:tt $vis:tt $name:ident $generics:tt $args:tt [$ret:ty] $body:block;
        [$($params:tt)*] [$($binds:tt)*] [$($checks:tt)*] $arg:ident : $ty:ty, $($rest:tt)*) => {
        $crate::__export_fn! {
            @munch $scope $attrs $vis $name $generics $args [$ret] $body;
            [$($params)* ptr: *const u8, len: usize,]
            [$($binds)*
                // SAFETY: the host passes `len` initialised bytes at `ptr`, inside a block it
                // allocated and keeps live and unchanged for the call, or gives up with it for an
                // owned argument (docs/ABI.md, "Ownership"); a borrowed value borrows `$scope`,
                // so it cannot outlive the call.
                let $arg = unsafe { $crate::__input(&$scope, ptr, len) };
            ]
            [$($checks)*
                let $arg = match $arg {
                    Ok(value) => value,
                    Err(error) => {
                        error.record(stringify!($arg));
                        return <$ret as $crate::Output>::failure();
                    }
                };
            ]
            $($rest)*
        }
    };
    (@munch $scope:ident [$($attr:tt)*] [$vis:vis] $name:ident [$($generics:tt)*]
        [$($arg:ident : $ty:ty),*] [$ret:ty] $body:block;
        [$($params:tt)*] [$($binds:tt)*] [$($checks:tt)*]) => {
        $($attr)*
        ///
        /// # Safety
        ///
        /// Each `(ptr, len)` pair is `len` initialised bytes inside a block the host allocated,
        /// live and unchanged for the call; for an `Owned` argument, `ptr - 4` is the start of a
        /// block of `len + 4` bytes that the host gives up with the call (docs/ABI.md,
        /// "Ownership", "Owned arguments").
        #[cfg_attr(target_arch = "wasm32", unsafe(no_mangle))]
        $vis unsafe extern "C-unwind" fn $name $($generics)* ($($params)*) -> <$ret as $crate::Output>::Abi {
            fn body $($generics)* ($($arg: $ty),*) -> $ret $body
            $crate::__enter();
            let $scope = ();
            // Every argument is read before any is checked: an owned argument after a bad one
            // is then dropped, and so freed, by the early return, rather than leaked.
            $($binds)*
            $($checks)*
            #[allow(unused_imports, reason = "one of the two is used, by the return type")]
            use $crate::__dispatch::{ViaOutput as _, ViaText as _};
            let returned = body($($arg),*);
            (&returned).__guestmem_path().into_abi(returned)
        }
        $crate::__describe!(EXPORT, "", $name, [$($generics)*] [$($arg: $ty),*] [$ret]);
    };
}

/// Reads one argument for [`export!`], borrowing `scope` so that the value cannot outlive the call.
///
/// # Errors
///
/// As [`Input::from_abi`](crate::Input::from_abi).
///
/// # Safety
///
/// As [`Input::from_abi`](crate::Input::from_abi), for as long as `scope` is borrowed.
#[doc(hidden)]
pub unsafe fn __input<'s, T: crate::Input<'s>>(
    _scope: &'s (),
    ptr: *const u8,
    len: usize,
) -> Result<T, crate::InputError> {
    // SAFETY: the caller's promise, passed on.
    unsafe { T::from_abi(ptr, len) }
}

/// How [`export!`] hands a function's return value over: errors that are text (`&str`, `String`)
/// are copied into the error slot as they are; every other value goes through [`Output`]
/// (`Display` for errors), which brings `core::fmt` into the module (about 2 KB).
///
/// Chosen by method resolution at the export, where the return type is known: a `Result` with a
/// text error has the method by value (`ViaText`), anything else only through a reference
/// (`ViaOutput`), which method resolution tries second.
///
/// [`Output`]: crate::Output
#[doc(hidden)]
pub mod dispatch {
    use alloc::string::String;

    use crate::{Output, error};

    /// The path for a `Result` whose error is text.
    pub struct Text;
    /// The path for every other return value.
    pub struct Other;

    /// Picks [`Text`]: implemented for the `Result`s that take it.
    pub trait ViaText {
        /// The path to take.
        fn __guestmem_path(&self) -> Text {
            Text
        }
    }

    impl<T: Output> ViaText for Result<T, &str> {}
    impl<T: Output> ViaText for Result<T, String> {}

    /// Picks [`Other`]: implemented for references, so that [`ViaText`] wins where it applies.
    pub trait ViaOutput {
        /// The path to take.
        fn __guestmem_path(&self) -> Other {
            Other
        }
    }

    impl<R: Output> ViaOutput for &R {}

    impl Text {
        /// Converts `value`; an error's text is recorded for `last_error` by copying it.
        pub fn into_abi<T: Output, E: AsRef<str>>(self, value: Result<T, E>) -> T::Abi {
            match value {
                Ok(value) => value.into_abi(),
                Err(text) => {
                    error::record(|message| {
                        message.push(text.as_ref());
                    });
                    T::failure()
                }
            }
        }
    }

    impl Other {
        /// Converts `value` through its [`Output`] implementation.
        pub fn into_abi<R: Output>(self, value: R) -> R::Abi {
            value.into_abi()
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::String;

    use super::dispatch::{Other, Text, ViaOutput as _, ViaText as _};

    /// The paths are checked by type: each `let` names the path its value must take, and the
    /// test does not compile if method resolution picks the other.
    #[test]
    #[expect(
        clippy::needless_borrow,
        reason = "the borrows are what `export!` writes: the path depends on them"
    )]
    fn text_errors_take_the_text_path_and_everything_else_the_output_path() {
        let text: Result<u32, &str> = Err("text");
        let _: Text = (&text).__guestmem_path();
        let owned: Result<String, String> = Err(String::new());
        let _: Text = (&owned).__guestmem_path();
        let formatted: Result<u32, core::fmt::Error> = Err(core::fmt::Error);
        let _: Other = (&formatted).__guestmem_path();
        let plain: u32 = 5;
        let _: Other = (&plain).__guestmem_path();
    }
}

//! The module's description of itself: one entry per function declared with
//! [`export!`](crate::export) or [`import!`](crate::import), written at compile time into the
//! custom section `guestmem.interface` (docs/ABI.md, "Interface section"). No code runs for it;
//! a module without the macros has no section.

use alloc::string::String;
use alloc::vec::Vec;

use crate::ResultBlock;

/// The custom section's name.
pub const SECTION: &str = "guestmem.interface";

/// The version byte every entry starts with.
pub const VERSION: u8 = 1;

/// An entry's direction byte.
pub mod direction {
    /// A function the guest exports.
    pub const EXPORT: u8 = 0;
    /// A host function the guest imports.
    pub const IMPORT: u8 = 1;
}

/// The kind byte of each argument and result type (docs/ABI.md, "Interface section").
pub mod kind {
    /// No value: a result of `()`.
    pub const NONE: u8 = 0;
    /// Bytes: `&[u8]`, `Vec<u8>`, `ResultBlock`.
    pub const BYTES: u8 = 1;
    /// UTF-8 text: `&str`, `String`.
    pub const STRING: u8 = 2;
    /// `u8`.
    pub const U8: u8 = 3;
    /// `u16`.
    pub const U16: u8 = 4;
    /// `u32`.
    pub const U32: u8 = 5;
    /// `u64`.
    pub const U64: u8 = 6;
    /// `i8`.
    pub const I8: u8 = 7;
    /// `i16`.
    pub const I16: u8 = 8;
    /// `i32`.
    pub const I32: u8 = 9;
    /// `i64`.
    pub const I64: u8 = 10;
    /// `f32`.
    pub const F32: u8 = 11;
    /// `f64`.
    pub const F64: u8 = 12;
    /// A typed value as JSON text.
    pub const JSON: u8 = 16;
    /// A typed value in postcard's binary form.
    pub const POSTCARD: u8 = 17;
    /// Added to an argument's kind when the guest takes its block ([`crate::Owned`]).
    pub const OWNED: u8 = 0x80;
}

/// The kind of a type that crosses the ABI, for the interface section.
pub trait Describe {
    /// Its kind byte ([`kind`]).
    const KIND: u8;
    /// Whether it is a `Result`: a failure is possible.
    const FALLIBLE: bool = false;
}

macro_rules! describe {
    ($($kind:ident: $($ty:ty),*;)*) => {$($(
        impl Describe for $ty {
            const KIND: u8 = kind::$kind;
        }
    )*)*};
}

describe! {
    NONE: ();
    BYTES: Vec<u8>, ResultBlock;
    STRING: String;
    U8: u8;
    U16: u16;
    U32: u32;
    U64: u64;
    I8: i8;
    I16: i16;
    I32: i32;
    I64: i64;
    F32: f32;
    F64: f64;
}

impl Describe for &[u8] {
    const KIND: u8 = kind::BYTES;
}

impl Describe for &str {
    const KIND: u8 = kind::STRING;
}

impl Describe for crate::Owned {
    const KIND: u8 = kind::BYTES | kind::OWNED;
}

impl<T: Describe, E> Describe for Result<T, E> {
    const KIND: u8 = T::KIND;
    const FALLIBLE: bool = true;
}

#[cfg(feature = "json")]
impl<T> Describe for crate::Json<T> {
    const KIND: u8 = kind::JSON;
}

#[cfg(feature = "postcard")]
impl<T> Describe for crate::Postcard<T> {
    const KIND: u8 = kind::POSTCARD;
}

/// The length of an entry for a function `name` of import module `module` (empty for exports)
/// with arguments named `args`.
#[must_use]
pub const fn entry_len(module: &str, name: &str, args: &[&str]) -> usize {
    // version, direction, module (length + bytes), name (length + bytes), argument count, each
    // argument's name (length + bytes) and kind, result kind, flags.
    let mut len = 1 + 1 + 1 + module.len() + 1 + name.len() + 1 + 1 + 1;
    let mut index = 0;
    while index < args.len() {
        len += 1 + args[index].len() + 1;
        index += 1;
    }
    len
}

/// One entry, as docs/ABI.md lays it out; `N` is [`entry_len`]. A name, a module name or an
/// argument list longer than 255 fails to compile.
#[must_use]
pub const fn entry<const N: usize>(
    direction: u8,
    module: &str,
    name: &str,
    args: &[&str],
    kinds: &[u8],
    result: u8,
    fallible: bool,
) -> [u8; N] {
    assert!(N == entry_len(module, name, args), "entry length");
    assert!(
        args.len() == kinds.len() && args.len() <= 255,
        "one kind per argument"
    );
    let mut out = [0_u8; N];
    out[0] = VERSION;
    out[1] = direction;
    let mut at = put_bytes(&mut out, 2, module.as_bytes());
    at = put_bytes(&mut out, at, name.as_bytes());
    out[at] = args.len() as u8;
    at += 1;
    let mut index = 0;
    while index < args.len() {
        at = put_bytes(&mut out, at, args[index].as_bytes());
        out[at] = kinds[index];
        at += 1;
        index += 1;
    }
    out[at] = result;
    out[at + 1] = if fallible { 1 } else { 0 };
    out
}

/// Writes `bytes` at `at` behind their length byte; returns where the next field starts.
const fn put_bytes<const N: usize>(out: &mut [u8; N], at: usize, bytes: &[u8]) -> usize {
    assert!(bytes.len() <= 255, "names are at most 255 bytes");
    out[at] = bytes.len() as u8;
    let mut index = 0;
    while index < bytes.len() {
        out[at + 1 + index] = bytes[index];
        index += 1;
    }
    at + 1 + bytes.len()
}

/// Writes the interface entry of one function into the custom section (wasm32 only).
#[doc(hidden)]
#[macro_export]
macro_rules! __describe {
    ($direction:ident, $module:expr, $name:ident, [$($generics:tt)*] [$($arg:ident : $ty:ty),*]
        [$ret:ty]) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            const ARGS: &[&str] = &[$(::core::stringify!($arg)),*];
            const COUNT: usize = ARGS.len();
            const fn kinds $($generics)* () -> [u8; COUNT] {
                [$(<$ty as $crate::interface::Describe>::KIND),*]
            }
            const fn result $($generics)* () -> (u8, bool) {
                (
                    <$ret as $crate::interface::Describe>::KIND,
                    <$ret as $crate::interface::Describe>::FALLIBLE,
                )
            }
            const KINDS: [u8; COUNT] = kinds();
            const RESULT: (u8, bool) = result();
            const NAME: &str = ::core::stringify!($name);
            const LEN: usize = $crate::interface::entry_len($module, NAME, ARGS);
            #[used]
            #[unsafe(link_section = "guestmem.interface")]
            static ENTRY: [u8; LEN] = $crate::interface::entry::<LEN>(
                $crate::interface::direction::$direction,
                $module,
                NAME,
                ARGS,
                &KINDS,
                RESULT.0,
                RESULT.1,
            );
        };
    };
}

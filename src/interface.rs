//! The module's description of itself: one entry per function declared with
//! [`export!`](crate::export) or [`import!`](crate::import), written at compile time into the
//! custom section `guestmem.interface` (docs/ABI.md, "Interface section"). No code runs for it;
//! a module without the macros has no section.

use alloc::string::String;
use alloc::vec::Vec;

use crate::ResultBlock;

pub use guestmem_abi::interface::{SECTION, VERSION, direction, entry, entry_len};
pub use guestmem_abi::kind::{Kind, OWNED};

/// The kind of a type that crosses the ABI, for the interface section.
pub trait Describe {
    /// Its kind byte ([`Kind::byte`], with [`OWNED`] for an owned argument).
    const KIND: u8;
    /// Whether it is a `Result`: a failure is possible.
    const FALLIBLE: bool = false;
}

macro_rules! describe {
    ($($kind:ident: $($ty:ty),*;)*) => {$($(
        impl Describe for $ty {
            const KIND: u8 = Kind::$kind.byte();
        }
    )*)*};
}

describe! {
    None: ();
    Bytes: Vec<u8>, ResultBlock;
    String: String;
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
    const KIND: u8 = Kind::Bytes.byte();
}

impl Describe for &str {
    const KIND: u8 = Kind::String.byte();
}

impl Describe for crate::Owned {
    const KIND: u8 = Kind::Bytes.byte() | OWNED;
}

impl<T: Describe, E> Describe for Result<T, E> {
    const KIND: u8 = T::KIND;
    const FALLIBLE: bool = true;
}

#[cfg(feature = "json")]
impl<T> Describe for crate::Json<T> {
    const KIND: u8 = Kind::Json.byte();
}

#[cfg(feature = "postcard")]
impl<T> Describe for crate::Postcard<T> {
    const KIND: u8 = Kind::Postcard.byte();
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

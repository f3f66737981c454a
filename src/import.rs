//! [`import!`](crate::import): host functions, called from the guest with ordinary Rust
//! signatures (docs/ABI.md, "Host functions").

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{self, Message};
use crate::result::{HostBlockProblem, ResultBlock};
#[allow(
    unused_imports,
    reason = "used by the typed values, behind their features"
)]
use crate::typed::Typed;

/// Declares host functions and writes safe wrappers for them, so a guest author writes no
/// `unsafe`.
///
/// Each function is imported from the module named by `module = "...";` (`env` when there is
/// none) under its own name. Arguments are `&[u8]`, `&str` (each a `(ptr, len)` pair), `u32`,
/// `i32`, `u64` or `i64`; the result is nothing, one of those integers, `Vec<u8>`, `String`, a
/// [`ResultBlock`] (the host's block itself, freed when dropped), or `Result<T, String>` of one
/// of these for a host function that can fail.
///
/// The wrapper frees every block the host returns, and checks it before reading a byte of it: a
/// result that is not a live block of the guest's heap, whose length runs past the block, or a
/// `String` that is not UTF-8, is an `Err` naming the host function (for a function that cannot
/// fail, a trap with that reason). A failure the host reports is an `Err` with its message, read
/// through the import `guestmem.last_error`.
///
/// On wasm32 these are wasm imports. Natively they call the functions registered with
/// [`native::register`](crate::native::register) on the calling thread, so the import paths run
/// under `cargo test`, Miri and Valgrind too.
///
/// # Examples
///
/// ```
/// guestmem::import! {
///     /// The greeting of the day; the host may have none.
///     fn salutation() -> Result<String, String>;
///     /// Writes a line to the host's log.
///     fn log(line: &str);
/// }
///
/// fn greet(name: &str) -> Result<String, String> {
///     let text = salutation()? + ", " + name + "!";
///     log(&text);
///     Ok(text)
/// }
/// # use guestmem::native;
/// # unsafe { native::register("env", "salutation", |_| native::result(b"Hello")) };
/// # unsafe { native::register("env", "log", |_| 0) };
/// # assert_eq!(greet("Ada").as_deref(), Ok("Hello, Ada!"));
/// # unsafe { native::register("env", "salutation", |_| native::fail("closed today")) };
/// # assert_eq!(greet("Ada"), Err("closed today".into()));
/// ```
#[macro_export]
macro_rules! import {
    (module = $module:literal; $($fns:tt)*) => {
        $crate::__import_fns! { $module; $($fns)* }
    };
    ($($fns:tt)*) => {
        $crate::__import_fns! { "env"; $($fns)* }
    };
}

/// Each declaration of [`import!`] in turn.
#[doc(hidden)]
#[macro_export]
macro_rules! __import_fns {
    ($module:literal; $(
        $(#[$attr:meta])*
        $vis:vis fn $name:ident ($($args:tt)*) $(-> $ret:ty)?;
    )*) => {$(
        $crate::__import_fn! {
            @munch $module [$(#[$attr])*] [$vis] $name [$($ret)?] [] [] [] [] [] $($args)*
        }
    )*};
}

/// One import at a time: each argument in turn becomes the wrapper's parameter, the wasm
/// import's parameters (two for bytes), the values passed to it, and the native call's `u64`s.
#[doc(hidden)]
#[macro_export]
macro_rules! __import_fn {
    // `&str` and `&[u8]`: a (ptr, len) pair of the caller's slice.
    (@munch $module:literal $attrs:tt $vis:tt $name:ident $ret:tt
        [$($params:tt)*] [$($raw:tt)*] [$($pass:tt)*] [$($native:tt)*] $prelude:tt
        $arg:ident : & $slice:tt $(, $($rest:tt)*)?) => {
        $crate::__import_fn! {
            @munch $module $attrs $vis $name $ret
            [$($params)* $arg: &$slice,]
            [$($raw)* _: usize, _: usize,]
            [$($pass)*
                $crate::__import_bytes($arg).as_ptr() as usize,
                $crate::__import_bytes($arg).len(),
            ]
            [$($native)*
                $crate::__import_bytes($arg).as_ptr() as usize as u64,
                $crate::__import_bytes($arg).len() as u64,
            ]
            $prelude
            $($($rest)*)?
        }
    };
    (@munch $module:literal $attrs:tt $vis:tt $name:ident $ret:tt
        [$($params:tt)*] [$($raw:tt)*] [$($pass:tt)*] [$($native:tt)*] $prelude:tt
        $arg:ident : $int:ident $(, $($rest:tt)*)?) => {
        $crate::__import_fn! {
            @munch $module $attrs $vis $name $ret
            [$($params)* $arg: $int,]
            [$($raw)* _: $int,]
            [$($pass)* $crate::__ImportInt::pass($arg),]
            [$($native)* $crate::__ImportInt::into_native($arg),]
            $prelude
            $($($rest)*)?
        }
    };
    // A typed value (`Json<T>`, `Postcard<T>`): encoded first, then passed as bytes.
    (@munch $module:literal $attrs:tt $vis:tt $name:ident $ret:tt
        [$($params:tt)*] [$($raw:tt)*] [$($pass:tt)*] [$($native:tt)*] [$($prelude:tt)*]
        $arg:ident : $ty:ty $(, $($rest:tt)*)?) => {
        $crate::__import_fn! {
            @munch $module $attrs $vis $name $ret
            [$($params)* $arg: $ty,]
            [$($raw)* _: usize, _: usize,]
            [$($pass)* encoded.as_ptr() as usize, encoded.len(),]
            [$($native)* encoded.as_ptr() as usize as u64, encoded.len() as u64,]
            [$($prelude)*
                let encoded = $crate::__encode_argument(
                    &$arg,
                    ::core::stringify!($arg),
                    ::core::concat!($module, ".", ::core::stringify!($name)),
                );
            ]
            $($($rest)*)?
        }
    };
    (@munch $module:literal $attrs:tt $vis:tt $name:ident []
        $params:tt $raw:tt $pass:tt $native:tt $prelude:tt) => {
        $crate::__import_fn! {
            @munch $module $attrs $vis $name [()] $params $raw $pass $native $prelude
        }
    };
    (@munch $module:literal [$($attr:tt)*] [$vis:vis] $name:ident [$ret:ty]
        [$($param:ident : $ty:ty,)*] [$($raw:tt)*] [$($pass:tt)*] [$($native:tt)*]
        [$($prelude:tt)*]) => {
        $crate::__describe!(IMPORT, $module, $name, [] [$($param: $ty),*] [$ret]);
        $($attr)*
        $vis fn $name($($param: $ty),*) -> $ret {
            $($prelude)*
            #[cfg(target_arch = "wasm32")]
            let raw = {
                #[link(wasm_import_module = $module)]
                unsafe extern "C" {
                    #[link_name = ::core::stringify!($name)]
                    fn raw($($raw)*) -> <$ret as $crate::FromHost>::Abi;
                }
                // SAFETY: the import has the wasm signature docs/ABI.md gives these Rust types
                // ("Host functions"); its (ptr, len) pairs are slices borrowed for the call.
                unsafe { raw($($pass)*) }
            };
            #[cfg(not(target_arch = "wasm32"))]
            let raw = <$ret as $crate::FromHost>::from_native(
                $crate::native::call($module, ::core::stringify!($name), &[$($native)*]),
            );
            <$ret as $crate::FromHost>::from_host(
                raw,
                &$crate::HostFunction { module: $module, name: ::core::stringify!($name) },
            )
        }
    };
}

/// The host function an [`import!`] wrapper calls, for its messages.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct HostFunction {
    /// The wasm import module.
    pub module: &'static str,
    /// The function's name.
    pub name: &'static str,
}

impl HostFunction {
    fn write(&self, message: &mut Message) {
        message
            .push("host function `")
            .push(self.module)
            .push(".")
            .push(self.name)
            .push("`");
    }
}

/// The bytes of a `&str` or `&[u8]` argument of a host function; other slices do not compile.
#[doc(hidden)]
pub fn import_bytes<T: AsRef<[u8]> + ?Sized>(value: &T) -> &[u8] {
    value.as_ref()
}

/// An integer argument of a host function: passed as it is, natively as a `u64`. Only `u32`,
/// `i32`, `u64` and `i64` implement it, so any other type is a compile error on every target.
#[doc(hidden)]
pub trait ImportInt: Copy {
    /// The value as the wasm import takes it.
    fn pass(self) -> Self {
        self
    }
    /// The value as the native host receives it: `i32` and `u32` zero-extended.
    fn into_native(self) -> u64;
}

impl ImportInt for u32 {
    fn into_native(self) -> u64 {
        u64::from(self)
    }
}

impl ImportInt for i32 {
    fn into_native(self) -> u64 {
        u64::from(self.cast_unsigned())
    }
}

impl ImportInt for u64 {
    fn into_native(self) -> u64 {
        self
    }
}

impl ImportInt for i64 {
    fn into_native(self) -> u64 {
        self.cast_unsigned()
    }
}

/// A result type of an [`import!`] function: what the wasm import returns, and how the
/// wrapper turns it into the Rust value.
pub trait FromHost: Sized {
    /// What the wasm import returns.
    #[doc(hidden)]
    type Abi: Copy;
    /// The Rust value, or a trap (or an `Err` for `Result`s) when the host's answer is not one.
    #[doc(hidden)]
    fn from_host(raw: Self::Abi, function: &HostFunction) -> Self;
    /// The native host's `u64` as the wasm import would have returned it.
    #[doc(hidden)]
    fn from_native(raw: u64) -> Self::Abi;
}

/// Why a host's answer is not a value of the declared type.
enum Problem {
    /// `0` where a result block was due, and no message.
    NoBlock,
    /// The block was refused.
    Block(HostBlockProblem),
    /// A `String` result that is not UTF-8.
    NotUtf8 { valid_up_to: usize },
    /// A typed value that does not decode.
    #[cfg_attr(
        not(any(feature = "json", feature = "postcard")),
        allow(dead_code, reason = "the formats are features")
    )]
    Decode {
        format: &'static str,
        message: String,
    },
}

impl Problem {
    fn write(&self, function: &HostFunction, message: &mut Message) {
        function.write(message);
        match *self {
            Self::NoBlock => message.push(" returned 0 and no error message"),
            Self::Block(HostBlockProblem::NotABlock) => {
                message.push(" returned a pointer that is not a live block")
            }
            Self::Block(HostBlockProblem::Short) => {
                message.push(" returned a block too short for a length prefix")
            }
            Self::Block(HostBlockProblem::PastTheEnd { len, room }) => message
                .push(" returned a result of ")
                .push_dec(len)
                .push(" bytes in a block with room for ")
                .push_dec(room)
                .push(" (a result block is its length plus 4)"),
            Self::NotUtf8 { valid_up_to } => message
                .push(" returned text that is not UTF-8 (invalid byte at offset ")
                .push_dec(valid_up_to)
                .push(")"),
            Self::Decode {
                format,
                message: ref text,
            } => message
                .push(" returned a result that is not valid ")
                .push(format)
                .push(": ")
                .push(text),
        };
    }

    /// The message, for an `Err`.
    fn text(&self, function: &HostFunction) -> String {
        let mut message = Message::EMPTY;
        self.write(function, &mut message);
        String::from(message.as_str())
    }

    fn trap(&self, function: &HostFunction) -> ! {
        error::record_and_trap(|message| self.write(function, message))
    }
}

/// A value of a host function's answer, before failure is handled.
trait HostValue: Sized {
    type Abi: Copy;
    /// Whether `raw` is `0`, the failure value.
    fn is_zero(raw: Self::Abi) -> bool;
    /// Whether `0` with no message pending is a failure (a result block) or an answer.
    const ZERO_IS_AN_ANSWER: bool;
    fn decode(raw: Self::Abi) -> Result<Self, Problem>;
    fn raw_from_native(raw: u64) -> Self::Abi;
}

macro_rules! host_int {
    ($($ty:ty),*) => {$(
        impl HostValue for $ty {
            type Abi = $ty;
            fn is_zero(raw: $ty) -> bool {
                raw == 0
            }
            const ZERO_IS_AN_ANSWER: bool = true;
            fn decode(raw: $ty) -> Result<$ty, Problem> {
                Ok(raw)
            }
            fn raw_from_native(raw: u64) -> $ty {
                raw as $ty
            }
        }
    )*};
}

host_int!(u32, i32, u64, i64);

impl HostValue for ResultBlock {
    type Abi = usize;
    fn is_zero(raw: usize) -> bool {
        raw == 0
    }
    const ZERO_IS_AN_ANSWER: bool = false;
    fn decode(raw: usize) -> Result<Self, Problem> {
        if raw == 0 {
            return Err(Problem::NoBlock);
        }
        let ptr = core::ptr::with_exposed_provenance_mut::<u8>(raw);
        // SAFETY: non-null. On wasm32 any address is checked; natively the host is a native
        // one (`crate::native`), which returns blocks of this heap (`native::result`).
        unsafe { ResultBlock::from_host(ptr) }.map_err(Problem::Block)
    }
    fn raw_from_native(raw: u64) -> usize {
        raw as usize
    }
}

impl HostValue for Vec<u8> {
    type Abi = usize;
    fn is_zero(raw: usize) -> bool {
        raw == 0
    }
    const ZERO_IS_AN_ANSWER: bool = false;
    fn decode(raw: usize) -> Result<Self, Problem> {
        ResultBlock::decode(raw).map(|block| block.to_vec())
    }
    fn raw_from_native(raw: u64) -> usize {
        ResultBlock::raw_from_native(raw)
    }
}

impl HostValue for String {
    type Abi = usize;
    fn is_zero(raw: usize) -> bool {
        raw == 0
    }
    const ZERO_IS_AN_ANSWER: bool = false;
    fn decode(raw: usize) -> Result<Self, Problem> {
        let block = ResultBlock::decode(raw)?;
        match core::str::from_utf8(&block) {
            Ok(text) => Ok(String::from(text)),
            Err(error) => Err(Problem::NotUtf8 {
                valid_up_to: error.valid_up_to(),
            }),
        }
    }
    fn raw_from_native(raw: u64) -> usize {
        ResultBlock::raw_from_native(raw)
    }
}

/// `()` from a fallible host function: `1` on success, `0` on failure.
struct Done;

impl HostValue for Done {
    type Abi = u32;
    fn is_zero(raw: u32) -> bool {
        raw == 0
    }
    const ZERO_IS_AN_ANSWER: bool = false;
    fn decode(_: u32) -> Result<Self, Problem> {
        Ok(Self)
    }
    fn raw_from_native(raw: u64) -> u32 {
        raw as u32
    }
}

impl FromHost for () {
    type Abi = ();
    fn from_host((): (), _: &HostFunction) {}
    fn from_native(_: u64) {}
}

macro_rules! from_host {
    ($($ty:ty => $abi:ty),*) => {$(
        impl FromHost for $ty {
            type Abi = $abi;
            fn from_host(raw: Self::Abi, function: &HostFunction) -> Self {
                <$ty as HostValue>::decode(raw).unwrap_or_else(|problem| problem.trap(function))
            }
            fn from_native(raw: u64) -> Self::Abi {
                <$ty as HostValue>::raw_from_native(raw)
            }
        }

        impl FromHost for Result<$ty, String> {
            type Abi = $abi;
            fn from_host(raw: Self::Abi, function: &HostFunction) -> Self {
                fallible(raw, function)
            }
            fn from_native(raw: u64) -> Self::Abi {
                <$ty as HostValue>::raw_from_native(raw)
            }
        }
    )*};
}

from_host!(
    u32 => u32,
    i32 => i32,
    u64 => u64,
    i64 => i64,
    Vec<u8> => usize,
    String => usize,
    ResultBlock => usize
);

/// Typed values: the block's bytes decoded.
macro_rules! from_host_typed {
    ($feature:literal, $wrapper:ident) => {
        #[cfg(feature = $feature)]
        impl<T: serde::Serialize + serde::de::DeserializeOwned> HostValue for crate::$wrapper<T> {
            type Abi = usize;
            fn is_zero(raw: usize) -> bool {
                raw == 0
            }
            const ZERO_IS_AN_ANSWER: bool = false;
            fn decode(raw: usize) -> Result<Self, Problem> {
                let block = ResultBlock::decode(raw)?;
                <Self as Typed>::decode(&block).map_err(|message| Problem::Decode {
                    format: <Self as Typed>::FORMAT,
                    message,
                })
            }
            fn raw_from_native(raw: u64) -> usize {
                ResultBlock::raw_from_native(raw)
            }
        }

        #[cfg(feature = $feature)]
        impl<T: serde::Serialize + serde::de::DeserializeOwned> FromHost for crate::$wrapper<T> {
            type Abi = usize;
            fn from_host(raw: usize, function: &HostFunction) -> Self {
                <Self as HostValue>::decode(raw).unwrap_or_else(|problem| problem.trap(function))
            }
            fn from_native(raw: u64) -> usize {
                ResultBlock::raw_from_native(raw)
            }
        }

        #[cfg(feature = $feature)]
        impl<T: serde::Serialize + serde::de::DeserializeOwned> FromHost
            for Result<crate::$wrapper<T>, String>
        {
            type Abi = usize;
            fn from_host(raw: usize, function: &HostFunction) -> Self {
                fallible(raw, function)
            }
            fn from_native(raw: u64) -> usize {
                ResultBlock::raw_from_native(raw)
            }
        }
    };
}

from_host_typed!("json", Json);
from_host_typed!("postcard", Postcard);

impl FromHost for Result<(), String> {
    type Abi = u32;
    fn from_host(raw: u32, function: &HostFunction) -> Self {
        fallible::<Done>(raw, function).map(|Done| ())
    }
    fn from_native(raw: u64) -> u32 {
        Done::raw_from_native(raw)
    }
}

/// A fallible host function's answer: `0` with a message pending is its failure.
fn fallible<T: HostValue>(raw: T::Abi, function: &HostFunction) -> Result<T, String> {
    if T::is_zero(raw) {
        if let Some(message) = host_error() {
            return Err(message);
        }
        if !T::ZERO_IS_AN_ANSWER {
            return Err(Problem::NoBlock.text(function));
        }
    }
    T::decode(raw).map_err(|problem| problem.text(function))
}

/// Takes the host's pending message through `guestmem.last_error`.
fn host_error() -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    let raw = {
        #[link(wasm_import_module = "guestmem")]
        unsafe extern "C" {
            #[link_name = "last_error"]
            fn raw() -> usize;
        }
        // SAFETY: `() -> i32`, as docs/ABI.md gives it ("Host functions", "Failure").
        unsafe { raw() }
    };
    #[cfg(not(target_arch = "wasm32"))]
    let raw = crate::native::take_error();
    if raw == 0 {
        return None;
    }
    const FUNCTION: HostFunction = HostFunction {
        module: "guestmem",
        name: "last_error",
    };
    Some(String::decode(raw).unwrap_or_else(|problem| problem.text(&FUNCTION)))
}

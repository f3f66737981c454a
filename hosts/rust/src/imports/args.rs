//! A host function's arguments, read from the raw wasm values and, for bytes, from guest memory
//! in place.

use wasmtime::{ValRaw, ValType};

/// The kind of a `&[u8]` argument: a `(ptr: i32, len: i32)` pair.
pub struct Bytes;
/// The kind of a `&str` argument: a `(ptr: i32, len: i32)` pair holding UTF-8.
pub struct Str;

/// An argument kind of a host function.
pub trait HostArg {
    /// The value the closure receives, borrowed from guest memory for bytes.
    type Value<'a>;
    /// The value an async host function receives: owned, since its future outlives the view of
    /// guest memory (`Vec<u8>`, `String`, the integer itself).
    type Owned: Send + 'static;
    /// Its wasm parameters.
    const PARAMS: &'static [ValType];
    /// Reads it from the front of `params`, advancing past it.
    ///
    /// # Errors
    ///
    /// What is wrong with the guest's argument: a range outside memory, text that is not UTF-8.
    #[doc(hidden)]
    fn read<'a>(memory: &'a [u8], params: &mut &[ValRaw]) -> Result<Self::Value<'a>, String>;
    /// Its owned form.
    #[doc(hidden)]
    fn to_owned(value: Self::Value<'_>) -> Self::Owned;
}

/// The next raw value. Its type is the one the function was registered with ([`HostArg::PARAMS`]),
/// which wasmtime checked against the guest's import when it linked the module.
fn next(params: &mut &[ValRaw]) -> Result<ValRaw, String> {
    let (first, rest) = params
        .split_first()
        .ok_or_else(|| "missing wasm parameter".to_owned())?;
    *params = rest;
    Ok(*first)
}

fn next_u32(params: &mut &[ValRaw]) -> Result<u32, String> {
    next(params).map(|value| value.get_u32())
}

fn next_u64(params: &mut &[ValRaw]) -> Result<u64, String> {
    next(params).map(|value| value.get_u64())
}

impl HostArg for Bytes {
    type Value<'a> = &'a [u8];
    type Owned = Vec<u8>;
    const PARAMS: &'static [ValType] = &[ValType::I32, ValType::I32];

    fn read<'a>(memory: &'a [u8], params: &mut &[ValRaw]) -> Result<&'a [u8], String> {
        let ptr = next_u32(params)?;
        let len = next_u32(params)?;
        if len == 0 {
            return Ok(&[]);
        }
        usize::try_from(ptr)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(start, len)| memory.get(start..start.checked_add(len)?))
            .ok_or_else(|| {
                format!(
                    "{len} bytes at {ptr:#x} are outside linear memory ({} bytes)",
                    memory.len()
                )
            })
    }

    fn to_owned(value: &[u8]) -> Vec<u8> {
        value.to_vec()
    }
}

impl HostArg for Str {
    type Value<'a> = &'a str;
    type Owned = String;
    const PARAMS: &'static [ValType] = Bytes::PARAMS;

    fn read<'a>(memory: &'a [u8], params: &mut &[ValRaw]) -> Result<&'a str, String> {
        let bytes = Bytes::read(memory, params)?;
        std::str::from_utf8(bytes).map_err(|error| format!("not UTF-8: {error}"))
    }

    fn to_owned(value: &str) -> String {
        value.to_owned()
    }
}

macro_rules! int_arg {
    ($($ty:ty: $val:ident, $next:ident, $cast:ident;)*) => {$(
        impl HostArg for $ty {
            type Value<'a> = $ty;
            const PARAMS: &'static [ValType] = &[ValType::$val];

            type Owned = $ty;

            fn read(_: &[u8], params: &mut &[ValRaw]) -> Result<$ty, String> {
                $next(params).map(|value| value.$cast())
            }

            fn to_owned(value: $ty) -> $ty {
                value
            }
        }
    )*};
}

trait Same {
    fn same(self) -> Self;
}

impl<T> Same for T {
    fn same(self) -> Self {
        self
    }
}

int_arg! {
    u32: I32, next_u32, same;
    i32: I32, next_u32, cast_signed;
    u64: I64, next_u64, same;
    i64: I64, next_u64, cast_signed;
}

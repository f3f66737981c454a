//! A host function's arguments, read from the wasm values and, for bytes, from guest memory in
//! place.

use wasmtime::{Val, ValType};

/// The kind of a `&[u8]` argument: a `(ptr: i32, len: i32)` pair.
pub struct Bytes;
/// The kind of a `&str` argument: a `(ptr: i32, len: i32)` pair holding UTF-8.
pub struct Str;

/// An argument kind of a host function.
pub trait HostArg {
    /// The value the closure receives, borrowed from guest memory for bytes.
    type Value<'a>;
    /// Its wasm parameters.
    const PARAMS: &'static [ValType];
    /// Reads it from the front of `params`, advancing past it.
    ///
    /// # Errors
    ///
    /// What is wrong with the guest's argument: a range outside memory, text that is not UTF-8.
    #[doc(hidden)]
    fn read<'a>(memory: &'a [u8], params: &mut &[Val]) -> Result<Self::Value<'a>, String>;
}

fn next(params: &mut &[Val]) -> Result<Val, String> {
    let (first, rest) = params
        .split_first()
        .ok_or_else(|| "missing wasm parameter".to_owned())?;
    *params = rest;
    Ok(*first)
}

fn next_u32(params: &mut &[Val]) -> Result<u32, String> {
    next(params)?
        .i32()
        .map(i32::cast_unsigned)
        .ok_or_else(|| "not an i32".to_owned())
}

fn next_u64(params: &mut &[Val]) -> Result<u64, String> {
    next(params)?
        .i64()
        .map(i64::cast_unsigned)
        .ok_or_else(|| "not an i64".to_owned())
}

impl HostArg for Bytes {
    type Value<'a> = &'a [u8];
    const PARAMS: &'static [ValType] = &[ValType::I32, ValType::I32];

    fn read<'a>(memory: &'a [u8], params: &mut &[Val]) -> Result<&'a [u8], String> {
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
}

impl HostArg for Str {
    type Value<'a> = &'a str;
    const PARAMS: &'static [ValType] = Bytes::PARAMS;

    fn read<'a>(memory: &'a [u8], params: &mut &[Val]) -> Result<&'a str, String> {
        let bytes = Bytes::read(memory, params)?;
        std::str::from_utf8(bytes).map_err(|error| format!("not UTF-8: {error}"))
    }
}

macro_rules! int_arg {
    ($($ty:ty: $val:ident, $next:ident, $cast:ident;)*) => {$(
        impl HostArg for $ty {
            type Value<'a> = $ty;
            const PARAMS: &'static [ValType] = &[ValType::$val];

            fn read(_: &[u8], params: &mut &[Val]) -> Result<$ty, String> {
                $next(params).map(|value| value.$cast())
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

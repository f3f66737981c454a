//! The kind of each argument and result type ("Interface section" in docs/ABI.md): its byte in
//! the section, its name in `describe`, and the wasm values it travels as.

use core::fmt;

/// The bit of an argument's kind byte that marks it owned: the guest takes its block.
pub const OWNED: u8 = 0x80;

/// The kind of an argument or a result. The discriminant is the kind's byte in the section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// No value (a result of `()`).
    None = 0,
    /// Bytes.
    Bytes = 1,
    /// UTF-8 text.
    String = 2,
    /// `u8`.
    U8 = 3,
    /// `u16`.
    U16 = 4,
    /// `u32`.
    U32 = 5,
    /// `u64`.
    U64 = 6,
    /// `i8`.
    I8 = 7,
    /// `i16`.
    I16 = 8,
    /// `i32`.
    I32 = 9,
    /// `i64`.
    I64 = 10,
    /// `f32`.
    F32 = 11,
    /// `f64`.
    F64 = 12,
    /// A typed value as JSON text.
    Json = 16,
    /// A typed value in postcard's binary form.
    Postcard = 17,
}

/// Every kind, in byte order.
pub const ALL: [Kind; 15] = [
    Kind::None,
    Kind::Bytes,
    Kind::String,
    Kind::U8,
    Kind::U16,
    Kind::U32,
    Kind::U64,
    Kind::I8,
    Kind::I16,
    Kind::I32,
    Kind::I64,
    Kind::F32,
    Kind::F64,
    Kind::Json,
    Kind::Postcard,
];

/// A WebAssembly value type, as the ABI's functions take and return them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

impl Kind {
    /// The kind whose byte is `byte` (without the [`OWNED`] bit), if there is one.
    #[must_use]
    pub const fn from_byte(byte: u8) -> Option<Self> {
        let mut index = 0;
        while index < ALL.len() {
            if ALL[index] as u8 == byte {
                return Some(ALL[index]);
            }
            index += 1;
        }
        None
    }

    /// Its byte in the section.
    #[must_use]
    pub const fn byte(self) -> u8 {
        self as u8
    }

    /// Its name in docs/ABI.md and in `describe`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Bytes => "bytes",
            Self::String => "string",
            Self::U8 => "u8",
            Self::U16 => "u16",
            Self::U32 => "u32",
            Self::U64 => "u64",
            Self::I8 => "i8",
            Self::I16 => "i16",
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::Json => "json",
            Self::Postcard => "postcard",
        }
    }

    /// Whether it travels as bytes: a `(ptr, len)` pair as an argument, a result block as a
    /// result.
    #[must_use]
    pub const fn is_bytes(self) -> bool {
        matches!(
            self,
            Self::Bytes | Self::String | Self::Json | Self::Postcard
        )
    }

    /// The wasm value a single value of this kind travels as: a result block's pointer for the
    /// byte kinds, nothing for [`Kind::None`].
    #[must_use]
    pub const fn value_type(self) -> Option<ValueType> {
        match self {
            Self::None => None,
            Self::U64 | Self::I64 => Some(ValueType::I64),
            Self::F32 => Some(ValueType::F32),
            Self::F64 => Some(ValueType::F64),
            _ => Some(ValueType::I32),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(self.name())
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{ALL, Kind, OWNED};

    #[test]
    fn every_byte_reads_back_as_its_kind() {
        for kind in ALL {
            assert_eq!(Kind::from_byte(kind.byte()), Some(kind));
        }
        let known = ALL.map(Kind::byte);
        for byte in 0..=u8::MAX {
            assert_eq!(
                Kind::from_byte(byte).is_some(),
                known.contains(&byte),
                "{byte}"
            );
        }
        assert_eq!(Kind::from_byte(Kind::Bytes.byte() | OWNED), None);
    }
}

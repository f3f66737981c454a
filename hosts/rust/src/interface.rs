//! A module's description of itself: the `guestmem.interface` custom section that guestmem's
//! `export!` and `import!` write ("Interface section" in guestmem's `docs/ABI.md`).

use std::fmt;

use crate::Error;

/// The custom section's name.
pub const SECTION: &str = "guestmem.interface";

/// The bit of an argument's kind byte that marks it owned.
const OWNED: u8 = 0x80;

/// The kind of an argument or a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No value (a result of `()`).
    None,
    /// Bytes.
    Bytes,
    /// UTF-8 text.
    String,
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// A typed value as JSON text.
    Json,
    /// A typed value in postcard's binary form.
    Postcard,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0 => Self::None,
            1 => Self::Bytes,
            2 => Self::String,
            3 => Self::U8,
            4 => Self::U16,
            5 => Self::U32,
            6 => Self::U64,
            7 => Self::I8,
            8 => Self::I16,
            9 => Self::I32,
            10 => Self::I64,
            11 => Self::F32,
            12 => Self::F64,
            16 => Self::Json,
            17 => Self::Postcard,
            _ => return None,
        })
    }

    /// Its name in the section's documentation and in `describe`.
    #[must_use]
    pub fn name(self) -> &'static str {
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

    /// Whether it travels as a `(ptr, len)` pair (an argument) or a result block (a result).
    #[must_use]
    pub fn is_bytes(self) -> bool {
        matches!(
            self,
            Self::Bytes | Self::String | Self::Json | Self::Postcard
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(self.name())
    }
}

/// One argument of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argument {
    /// Its name in the guest's source.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Whether the guest takes its block (guestmem's `Owned`): the host allocates it with 4
    /// bytes of room in front and does not free it.
    pub owned: bool,
}

impl fmt::Display for Argument {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let owned = if self.owned { "owned " } else { "" };
        write!(out, "{}: {owned}{}", self.name, self.kind)
    }
}

/// One function of the interface: an export of the guest, or a host function it imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The import module (`env`, ...), or `None` for an export.
    pub module: Option<String>,
    /// Its name.
    pub name: String,
    /// Its arguments, in order.
    pub args: Vec<Argument>,
    /// Its result's kind.
    pub result: Kind,
    /// Whether it can fail (`Result` in Rust): `0` and a message.
    pub fallible: bool,
}

impl fmt::Display for Function {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.module {
            Some(module) => write!(out, "import {module}.{}(", self.name)?,
            None => write!(out, "export {}(", self.name)?,
        }
        for (index, arg) in self.args.iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            write!(out, "{separator}{arg}")?;
        }
        write!(out, ") -> {}", self.result)?;
        if self.fallible {
            out.write_str(", fallible")?;
        }
        Ok(())
    }
}

/// What a module says it exports and imports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    /// The functions it exports, in section order.
    pub exports: Vec<Function>,
    /// The host functions it imports, in section order.
    pub imports: Vec<Function>,
}

impl Interface {
    /// Reads the interface of the module `wasm` (its binary form), or `None` when it has no
    /// `guestmem.interface` section (a guest built without guestmem's macros).
    ///
    /// # Errors
    ///
    /// [`Error::Interface`] if the module's sections or the interface entries are malformed.
    pub fn read(wasm: &[u8]) -> Result<Option<Self>, Error> {
        let mut section = Vec::new();
        let mut found = false;
        for custom in custom_sections(wasm)? {
            let (name, contents) = custom?;
            if name == SECTION {
                found = true;
                section.extend_from_slice(contents);
            }
        }
        if !found {
            return Ok(None);
        }
        Self::parse(&section).map(Some)
    }

    /// Parses the contents of the section: entries one after the other.
    ///
    /// # Errors
    ///
    /// [`Error::Interface`] if an entry is cut short, has another version, or an unknown kind.
    pub fn parse(mut bytes: &[u8]) -> Result<Self, Error> {
        let mut interface = Self::default();
        while !bytes.is_empty() {
            let function = entry(&mut bytes)?;
            if function.module.is_some() {
                interface.imports.push(function);
            } else {
                interface.exports.push(function);
            }
        }
        Ok(interface)
    }

    /// The export `name`, if the interface has it.
    #[must_use]
    pub fn export(&self, name: &str) -> Option<&Function> {
        self.exports.iter().find(|function| function.name == name)
    }
}

/// The wasm parameter and result types that `function`'s kinds make.
pub(crate) fn wasm_type(function: &Function) -> (Vec<wasmtime::ValType>, Vec<wasmtime::ValType>) {
    use wasmtime::ValType;
    let value = |kind: Kind| match kind {
        Kind::None => None,
        Kind::U64 | Kind::I64 => Some(ValType::I64),
        Kind::F32 => Some(ValType::F32),
        Kind::F64 => Some(ValType::F64),
        _ => Some(ValType::I32),
    };
    let params = function
        .args
        .iter()
        .flat_map(|arg| match arg.kind {
            kind if kind.is_bytes() => vec![ValType::I32, ValType::I32],
            kind => value(kind).into_iter().collect(),
        })
        .collect();
    // A fallible import with no result returns an i32; exports never describe that case.
    let result = match (function.result, function.fallible, &function.module) {
        (Kind::None, true, Some(_)) => Some(ValType::I32),
        (kind, _, _) => value(kind),
    };
    (params, result.into_iter().collect())
}

fn malformed(message: impl Into<String>) -> Error {
    Error::Interface(message.into())
}

fn take<'a>(bytes: &mut &'a [u8], len: usize) -> Result<&'a [u8], Error> {
    if bytes.len() < len {
        return Err(malformed("an entry is cut short"));
    }
    let (taken, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok(taken)
}

fn byte(bytes: &mut &[u8]) -> Result<u8, Error> {
    Ok(take(bytes, 1)?[0])
}

fn text(bytes: &mut &[u8]) -> Result<String, Error> {
    let len = byte(bytes)?;
    String::from_utf8(take(bytes, len.into())?.to_vec())
        .map_err(|_| malformed("a name is not UTF-8"))
}

fn kind(byte: u8) -> Result<Kind, Error> {
    Kind::from_byte(byte).ok_or_else(|| malformed(format!("unknown kind {byte}")))
}

fn entry(bytes: &mut &[u8]) -> Result<Function, Error> {
    let version = byte(bytes)?;
    if version != 1 {
        return Err(malformed(format!(
            "entry version {version}; this host reads version 1"
        )));
    }
    let direction = byte(bytes)?;
    let module = text(bytes)?;
    let name = text(bytes)?;
    let count = byte(bytes)?;
    let args = (0..count)
        .map(|_| {
            let name = text(bytes)?;
            let byte = byte(bytes)?;
            let (kind, owned) = (kind(byte & !OWNED)?, byte & OWNED != 0);
            if kind == Kind::None || (owned && kind != Kind::Bytes) {
                return Err(malformed(format!(
                    "argument `{name}` cannot be of kind {byte:#x}"
                )));
            }
            Ok(Argument { name, kind, owned })
        })
        .collect::<Result<_, Error>>()?;
    let result = kind(byte(bytes)?)?;
    let flags = byte(bytes)?;
    let module = match direction {
        0 => None,
        1 => Some(module),
        other => return Err(malformed(format!("unknown direction {other}"))),
    };
    Ok(Function {
        module,
        name,
        args,
        result,
        fallible: flags & 1 == 1,
    })
}

/// The custom sections of a module in binary form, as `(name, contents)`.
fn custom_sections(
    wasm: &[u8],
) -> Result<impl Iterator<Item = Result<(&str, &[u8]), Error>>, Error> {
    let not_wasm = || malformed("not a WebAssembly module in binary form");
    let mut rest = wasm.strip_prefix(b"\0asm\x01\0\0\0").ok_or_else(not_wasm)?;
    Ok(std::iter::from_fn(move || {
        loop {
            let (&id, after) = rest.split_first()?;
            rest = after;
            let outcome = leb128(&mut rest).and_then(|len| take(&mut rest, len));
            let contents = match outcome {
                Ok(contents) => contents,
                Err(error) => {
                    rest = &[];
                    return Some(Err(error));
                }
            };
            if id != 0 {
                continue;
            }
            let mut contents = contents;
            let named = leb128(&mut contents)
                .and_then(|len| take(&mut contents, len))
                .and_then(|name| {
                    std::str::from_utf8(name).map_err(|_| malformed("a section name is not UTF-8"))
                });
            return Some(named.map(|name| (name, contents)));
        }
    }))
}

/// An unsigned LEB128 number of at most 32 bits, as section lengths are.
fn leb128(bytes: &mut &[u8]) -> Result<usize, Error> {
    let mut value = 0_u64;
    for shift in (0..35).step_by(7) {
        let byte = byte(bytes)?;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return usize::try_from(value).map_err(|_| malformed("a length is too large"));
        }
    }
    Err(malformed("a length is longer than 5 bytes"))
}

#[cfg(test)]
mod tests {
    use super::{Argument, Function, Interface, Kind};

    /// `upper`'s section as guestmem writes it, in a module of its own.
    const UPPER: &[u8] = b"\x01\x00\x00\x05upper\x01\x04text\x02\x02\x00";

    fn module_with(section: &[u8]) -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let name = b"guestmem.interface";
        let len = 1 + name.len() + section.len();
        wasm.push(0);
        wasm.push(u8::try_from(len).expect("short"));
        wasm.push(u8::try_from(name.len()).expect("short"));
        wasm.extend_from_slice(name);
        wasm.extend_from_slice(section);
        wasm
    }

    #[test]
    fn an_entry_reads_back_as_written() {
        let interface = Interface::read(&module_with(UPPER))
            .expect("valid")
            .expect("a section");
        let upper = Function {
            module: None,
            name: "upper".into(),
            args: vec![Argument {
                name: "text".into(),
                kind: Kind::String,
                owned: false,
            }],
            result: Kind::String,
            fallible: false,
        };
        assert_eq!(interface.exports, [upper]);
        assert_eq!(
            interface.exports[0].to_string(),
            "export upper(text: string) -> string"
        );
    }

    #[test]
    fn no_section_is_none_and_every_cut_is_an_error() {
        assert_eq!(Interface::read(b"\0asm\x01\0\0\0").expect("valid"), None);
        for len in 0..UPPER.len() {
            assert!(
                Interface::parse(&UPPER[..len]).is_err() || len == 0,
                "cut at {len}"
            );
        }
        assert!(
            Interface::parse(b"\x02\x00\x00\x00\x00\x00\x00").is_err(),
            "version 2"
        );
        assert!(
            Interface::parse(b"\x01\x00\x00\x00\x01\x00\x63\x00\x00").is_err(),
            "kind 99"
        );
        assert!(Interface::read(b"not wasm").is_err());
    }
}

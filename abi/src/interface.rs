//! The `guestmem.interface` custom section: what a module says it exports and imports, one
//! entry per function declared with guestmem's `export!` or `import!` ("Interface section" in
//! docs/ABI.md). [`entry`] writes an entry at compile time; [`Interface::parse`] and
//! [`Interface::read`] read them back, trusting nothing.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::kind::{Kind, OWNED, ValueType};

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

/// A malformed module or section: what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceError(String);

impl InterfaceError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// What is wrong, as [`fmt::Display`] prints it.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InterfaceError {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str(&self.0)
    }
}

impl core::error::Error for InterfaceError {}

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

impl Function {
    /// The wasm parameter and result types its kinds make: a `(ptr, len)` pair for each byte
    /// argument, one value for each other, and an `i32` result for a fallible import with no
    /// result (its 0 or 1 says whether it failed).
    #[must_use]
    pub fn wasm_signature(&self) -> (Vec<ValueType>, Option<ValueType>) {
        let params = self
            .args
            .iter()
            .flat_map(|arg| {
                let pair = arg.kind.is_bytes();
                let first = if pair {
                    Some(ValueType::I32)
                } else {
                    arg.kind.value_type()
                };
                first.into_iter().chain(pair.then_some(ValueType::I32))
            })
            .collect();
        let result = match (self.result, self.fallible, &self.module) {
            (Kind::None, true, Some(_)) => Some(ValueType::I32),
            (kind, _, _) => kind.value_type(),
        };
        (params, result)
    }
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
    /// `guestmem.interface` section (a guest built without guestmem's macros). Several sections
    /// of that name are read as one, in order.
    ///
    /// # Errors
    ///
    /// [`InterfaceError`] if the module's sections or the interface entries are malformed.
    pub fn read(wasm: &[u8]) -> Result<Option<Self>, InterfaceError> {
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
    /// [`InterfaceError`] if an entry is cut short, has another version, or an unknown kind.
    pub fn parse(mut bytes: &[u8]) -> Result<Self, InterfaceError> {
        let mut interface = Self::default();
        while !bytes.is_empty() {
            let function = read_entry(&mut bytes)?;
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

    /// The import `name` of module `module`, if the interface has it.
    #[must_use]
    pub fn import(&self, module: &str, name: &str) -> Option<&Function> {
        self.imports
            .iter()
            .find(|function| function.module.as_deref() == Some(module) && function.name == name)
    }

    /// The import modules, each once, in the order of its first import: a module's functions
    /// need not be adjacent in the section.
    #[must_use]
    pub fn import_modules(&self) -> Vec<&str> {
        let mut modules: Vec<&str> = Vec::new();
        for module in self
            .imports
            .iter()
            .filter_map(|function| function.module.as_deref())
        {
            if !modules.contains(&module) {
                modules.push(module);
            }
        }
        modules
    }
}

impl fmt::Display for Interface {
    /// What `describe` prints: one line per function, the exports first.
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        for function in self.exports.iter().chain(&self.imports) {
            writeln!(out, "{function}")?;
        }
        Ok(())
    }
}

fn take<'a>(bytes: &mut &'a [u8], len: usize) -> Result<&'a [u8], InterfaceError> {
    if bytes.len() < len {
        return Err(InterfaceError::new("an entry is cut short"));
    }
    let (taken, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok(taken)
}

fn byte(bytes: &mut &[u8]) -> Result<u8, InterfaceError> {
    Ok(take(bytes, 1)?[0])
}

fn text(bytes: &mut &[u8]) -> Result<String, InterfaceError> {
    let len = byte(bytes)?;
    let raw = take(bytes, len.into())?;
    core::str::from_utf8(raw)
        .map(ToString::to_string)
        .map_err(|_| InterfaceError::new("a name is not UTF-8"))
}

fn kind(byte: u8) -> Result<Kind, InterfaceError> {
    Kind::from_byte(byte).ok_or_else(|| InterfaceError::new(format!("unknown kind {byte}")))
}

fn read_entry(bytes: &mut &[u8]) -> Result<Function, InterfaceError> {
    let version = byte(bytes)?;
    if version != VERSION {
        return Err(InterfaceError::new(format!(
            "entry version {version}; this reader reads version {VERSION}"
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
                return Err(InterfaceError::new(format!(
                    "argument `{name}` cannot be of kind {byte:#x}"
                )));
            }
            Ok(Argument { name, kind, owned })
        })
        .collect::<Result<_, _>>()?;
    let result = kind(byte(bytes)?)?;
    let flags = byte(bytes)?;
    let module = match direction {
        direction::EXPORT => None,
        direction::IMPORT => Some(module),
        other => {
            return Err(InterfaceError::new(format!("unknown direction {other}")));
        }
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
) -> Result<impl Iterator<Item = Result<(&str, &[u8]), InterfaceError>>, InterfaceError> {
    let mut rest = wasm
        .strip_prefix(b"\0asm\x01\0\0\0")
        .ok_or_else(|| InterfaceError::new("not a WebAssembly module in binary form"))?;
    Ok(core::iter::from_fn(move || {
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
                    core::str::from_utf8(name)
                        .map_err(|_| InterfaceError::new("a section name is not UTF-8"))
                });
            return Some(named.map(|name| (name, contents)));
        }
    }))
}

/// An unsigned LEB128 number of at most 32 bits, as section lengths are.
fn leb128(bytes: &mut &[u8]) -> Result<usize, InterfaceError> {
    let mut value = 0_u64;
    for shift in (0..35).step_by(7) {
        let byte = byte(bytes)?;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return usize::try_from(value)
                .map_err(|_| InterfaceError::new("a length is too large"));
        }
    }
    Err(InterfaceError::new("a length is longer than 5 bytes"))
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

/// One entry, as docs/ABI.md lays it out; `N` is [`entry_len`]. Evaluated at compile time by
/// guestmem's macros, so a name, a module name or an argument list longer than 255 fails to
/// compile.
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

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec;

    use super::{Argument, Function, Interface, direction, entry, entry_len};
    use crate::kind::{Kind, ValueType};

    #[test]
    fn what_entry_writes_parse_reads_back() {
        const ARGS: &[&str] = &["data", "count"];
        const LEN: usize = entry_len("env", "store", ARGS);
        const ENTRY: [u8; LEN] = entry::<LEN>(
            direction::IMPORT,
            "env",
            "store",
            ARGS,
            &[Kind::Bytes.byte() | crate::kind::OWNED, Kind::U64.byte()],
            Kind::None.byte(),
            true,
        );
        let interface = Interface::parse(&ENTRY).expect("valid");
        let store = Function {
            module: Some("env".into()),
            name: "store".into(),
            args: vec![
                Argument {
                    name: "data".into(),
                    kind: Kind::Bytes,
                    owned: true,
                },
                Argument {
                    name: "count".into(),
                    kind: Kind::U64,
                    owned: false,
                },
            ],
            result: Kind::None,
            fallible: true,
        };
        assert_eq!(interface.imports, [store]);
        assert_eq!(
            interface.to_string(),
            "import env.store(data: owned bytes, count: u64) -> none, fallible\n"
        );
        assert_eq!(
            interface.imports[0].wasm_signature(),
            (
                vec![ValueType::I32, ValueType::I32, ValueType::I64],
                Some(ValueType::I32)
            )
        );
    }

    #[test]
    fn sections_that_are_not_modules_are_refused() {
        assert_eq!(Interface::read(b"\0asm\x01\0\0\0"), Ok(None));
        assert!(Interface::read(b"not wasm").is_err());
        // A section whose length runs past the end of the module.
        assert!(Interface::read(b"\0asm\x01\0\0\0\x00\x10\x01a").is_err());
        // A length of six LEB128 bytes.
        assert!(Interface::read(b"\0asm\x01\0\0\0\x00\x80\x80\x80\x80\x80\x00").is_err());
    }
}

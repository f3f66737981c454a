//! Typed values: a struct in and a struct out, as JSON (`measure`) and in postcard's binary form
//! (`measure_compact`), the same function behind both.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p shapes` (features `json` and
//! `postcard`, both on by default, each bring one export and its format's code)
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;

use serde::{Deserialize, Serialize};

// Linked also when neither format is on: the build without them is the baseline of the sizes.
use guestmem as _;

/// A named rectangle, as the host sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rect {
    /// Its name.
    pub name: String,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// What the guest answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measured {
    /// The rectangle's name.
    pub name: String,
    /// Width times height.
    pub area: u64,
    /// Whether it is a square.
    pub square: bool,
}

/// Measures `rect`; a rectangle without area is an error.
#[cfg(any(feature = "json", feature = "postcard"))]
fn measured(rect: Rect) -> Result<Measured, String> {
    if rect.width == 0 || rect.height == 0 {
        let mut message = String::from("`");
        message.push_str(&rect.name);
        message.push_str("` has no area");
        return Err(message);
    }
    Ok(Measured {
        area: u64::from(rect.width) * u64::from(rect.height),
        square: rect.width == rect.height,
        name: rect.name,
    })
}

#[cfg(feature = "json")]
guestmem::export! {
    /// `measure({"name": "a", "width": 2, "height": 3})` is `{"name":"a","area":6,"square":false}`.
    pub fn measure(rect: guestmem::Json<Rect>) -> Result<guestmem::Json<Measured>, String> {
        measured(rect.0).map(guestmem::Json)
    }
}

#[cfg(feature = "postcard")]
guestmem::export! {
    /// `measure`, in postcard's binary form.
    pub fn measure_compact(
        rect: guestmem::Postcard<Rect>,
    ) -> Result<guestmem::Postcard<Measured>, String> {
        measured(rect.0).map(guestmem::Postcard)
    }
}

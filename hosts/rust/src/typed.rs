//! Typed values on the host's side: the formats of guestmem's `Json<T>` and `Postcard<T>`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Guest, GuestFunc, Kind};

/// Encodes `value` as JSON, for an export's `Json<T>` argument.
///
/// # Errors
///
/// [`Error::Typed`] if the value does not encode (a map with non-string keys, for example).
#[cfg(feature = "json")]
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|error| encode_error("JSON", &error))
}

/// Encodes `value` in postcard's binary form, for an export's `Postcard<T>` argument.
///
/// # Errors
///
/// [`Error::Typed`] if the value does not encode.
#[cfg(feature = "postcard")]
pub fn to_postcard<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    postcard::to_allocvec(value).map_err(|error| encode_error("postcard", &error))
}

fn encode_error(format: &'static str, error: &dyn std::fmt::Display) -> Error {
    Error::Typed {
        function: "encode".to_owned(),
        format,
        message: error.to_string(),
    }
}

impl GuestFunc {
    /// Calls it and decodes its `Json<T>` result, read in place.
    ///
    /// # Errors
    ///
    /// [`Error::Call`] if the module's interface gives another result, [`Error::Typed`] if the
    /// result does not decode, or what [`GuestFunc::call_view`] returns.
    #[cfg(feature = "json")]
    pub fn call_json<T, I: AsRef<[u8]>, R: DeserializeOwned>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<R, Error> {
        self.expect_result(&[Kind::Json], "call_json")?;
        let decoded = self.call_view(guest, inputs, |bytes| serde_json::from_slice(bytes))?;
        decoded.map_err(|error| self.decode_error("JSON", &error))
    }

    /// Calls it and decodes its `Postcard<T>` result, read in place.
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_json`].
    #[cfg(feature = "postcard")]
    pub fn call_postcard<T, I: AsRef<[u8]>, R: DeserializeOwned>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<R, Error> {
        self.expect_result(&[Kind::Postcard], "call_postcard")?;
        let decoded = self.call_view(guest, inputs, |bytes| postcard::from_bytes(bytes))?;
        decoded.map_err(|error| self.decode_error("postcard", &error))
    }

    fn decode_error(&self, format: &'static str, error: &dyn std::fmt::Display) -> Error {
        Error::Typed {
            function: self.name().to_owned(),
            format,
            message: error.to_string(),
        }
    }
}

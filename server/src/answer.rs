//! A request body made into an export's inputs, as its interface section says, and the export's
//! result made into a response body.

use guestmem_host::{Error, Function, Guest, Kind};

use crate::error::ApiError;

/// A call's answer: its body and the body's content type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// `Content-Type` of the body.
    pub content_type: &'static str,
    /// The body; empty for an export with no result.
    pub body: Vec<u8>,
}

/// Integer results, which the server answers as JSON numbers.
const UNSIGNED: &[Kind] = &[Kind::U8, Kind::U16, Kind::U32];
const SIGNED: &[Kind] = &[Kind::I8, Kind::I16, Kind::I32];

/// Refuses, before anything runs, an export the server cannot pass inputs to or read a result
/// of: arguments other than bytes, text, JSON or postcard (the body is bytes), and 64-bit or
/// floating-point results.
pub fn check_served(function: &Function) -> Result<(), ApiError> {
    if let Some(arg) = function.args.iter().find(|arg| !arg.kind.is_bytes()) {
        return Err(ApiError::not_served(format!(
            "{function}: the server passes bytes, text, JSON and postcard arguments only, not {} ({})",
            arg.kind, arg.name
        )));
    }
    let result = function.result;
    let served = result.is_bytes()
        || UNSIGNED.contains(&result)
        || SIGNED.contains(&result)
        || (result == Kind::None && !function.fallible);
    if !served {
        return Err(ApiError::not_served(format!(
            "{function}: the server does not read {result} results{}",
            if result == Kind::None {
                " that can fail"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// The inputs of `function` from a request body. One argument takes the body as it is (text
/// must be UTF-8, JSON must parse); none takes an empty body; several take a JSON array with
/// one item each: a string for text, any value for JSON, an array of byte values for bytes and
/// postcard.
pub fn inputs(function: &Function, body: &[u8]) -> Result<Vec<Vec<u8>>, ApiError> {
    match function.args.as_slice() {
        [] if body.is_empty() => Ok(Vec::new()),
        [] => Err(ApiError::input(format!(
            "{} takes no argument, and the body has {} bytes",
            function.name,
            body.len()
        ))),
        [arg] => {
            match arg.kind {
                Kind::String => {
                    if let Err(error) = std::str::from_utf8(body) {
                        return Err(ApiError::input(format!(
                            "argument {} is text, and the body is not UTF-8 after byte {}",
                            arg.name,
                            error.valid_up_to()
                        )));
                    }
                }
                Kind::Json => {
                    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                        return Err(ApiError::input(format!(
                            "argument {} is JSON, and the body is not: {error}",
                            arg.name
                        )));
                    }
                }
                _ => {}
            }
            Ok(vec![body.to_vec()])
        }
        args => {
            let items: Vec<serde_json::Value> = serde_json::from_slice(body).map_err(|error| {
                ApiError::input(format!(
                    "{} takes {} arguments: the body is a JSON array of them, and it is not: {error}",
                    function.name,
                    args.len()
                ))
            })?;
            if items.len() != args.len() {
                return Err(ApiError::input(format!(
                    "{} takes {} arguments, and the body's array has {}",
                    function.name,
                    args.len(),
                    items.len()
                )));
            }
            args.iter()
                .zip(items)
                .map(|(arg, item)| {
                    let wrong = |what: &str| {
                        ApiError::input(format!("argument {} is {}: {what}", arg.name, arg.kind))
                    };
                    match arg.kind {
                        Kind::String => match item {
                            serde_json::Value::String(text) => Ok(text.into_bytes()),
                            _ => Err(wrong("give a JSON string")),
                        },
                        Kind::Json => {
                            serde_json::to_vec(&item).map_err(|error| wrong(&error.to_string()))
                        }
                        _ => serde_json::from_value::<Vec<u8>>(item)
                            .map_err(|_| wrong("give an array of byte values (0 to 255)")),
                    }
                })
                .collect()
        }
    }
}

/// Calls `function` with `inputs` and reads its result as its kind says.
pub fn call<T>(
    guest: &mut Guest<T>,
    function: &Function,
    inputs: &[Vec<u8>],
) -> Result<Answer, Error> {
    let inputs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let name = function.name.as_str();
    let result = function.result;
    let (content_type, body) = match result {
        Kind::String => (
            "text/plain; charset=utf-8",
            guest.call_string(name, &inputs)?.into_bytes(),
        ),
        Kind::Json => (
            "application/json",
            guest.call_string(name, &inputs)?.into_bytes(),
        ),
        Kind::None => {
            guest.call_with_inputs(name, &inputs)?;
            ("text/plain; charset=utf-8", Vec::new())
        }
        kind if SIGNED.contains(&kind) => {
            // An i32 the guest returned, its bits as the ABI carries them.
            let value = guest.call_u32(name, &inputs)?.cast_signed();
            ("application/json", value.to_string().into_bytes())
        }
        kind if UNSIGNED.contains(&kind) => (
            "application/json",
            guest.call_u32(name, &inputs)?.to_string().into_bytes(),
        ),
        _ => ("application/octet-stream", guest.call_bytes(name, &inputs)?),
    };
    Ok(Answer { content_type, body })
}

/// The native plugin's `upper`: what the wasm `upper` computes, in Rust.
pub fn native_upper(text: &[u8]) -> Answer {
    Answer {
        content_type: "text/plain; charset=utf-8",
        body: String::from_utf8_lossy(text).to_uppercase().into_bytes(),
    }
}

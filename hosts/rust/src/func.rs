//! A guest export looked up once and called typed: the fast path of every call.

use wasmtime::{AsContextMut, Func, Instance, TypedFunc, Val, ValType};

use crate::{Error, Function, Guest, Kind, ResultProblem};

/// Results that are result blocks.
const BLOCKS: &[Kind] = &[Kind::Bytes, Kind::String, Kind::Json, Kind::Postcard];

/// Results that are integers an `i32` holds.
const INTEGERS: &[Kind] = &[
    Kind::U8,
    Kind::U16,
    Kind::U32,
    Kind::I8,
    Kind::I16,
    Kind::I32,
];

/// The most byte inputs a [`GuestFunc`] takes.
pub const MAX_INPUTS: usize = 8;

/// A guest export taking byte inputs as `(ptr, len)` pairs and returning an `i32` (a result
/// block, or an integer), looked up once with [`Guest::func`].
///
/// Inputs are anything that is bytes (`&[u8]`, `&str`, `Vec<u8>`, `String`); the call copies
/// them in, calls the export through a typed wasmtime function, and frees what it allocated.
#[derive(Clone)]
pub struct GuestFunc {
    name: String,
    guest: u64,
    inputs: usize,
    call: Call,
    /// What the module's interface section says of it, when it has one.
    signature: Option<Function>,
}

/// The export, typed for the common arities.
#[derive(Clone)]
enum Call {
    None(TypedFunc<(), u32>),
    One(TypedFunc<(u32, u32), u32>),
    Two(TypedFunc<(u32, u32, u32, u32), u32>),
    Three(TypedFunc<(u32, u32, u32, u32, u32, u32), u32>),
    Any(Func),
}

impl GuestFunc {
    pub(crate) fn new(
        instance: &Instance,
        mut store: impl AsContextMut,
        guest: u64,
        name: &str,
        signature: Option<Function>,
    ) -> Result<Self, Error> {
        let export_error = |message: String| Error::Export {
            name: name.to_owned(),
            message,
        };
        let func = instance
            .get_func(&mut store, name)
            .ok_or_else(|| export_error("missing".to_owned()))?;
        let ty = func.ty(&store);
        let params = ty.params().len();
        let all_i32 = ty
            .params()
            .chain(ty.results())
            .all(|ty| matches!(ty, ValType::I32));
        if !all_i32 || params % 2 != 0 || params > 2 * MAX_INPUTS || ty.results().len() != 1 {
            return Err(export_error(format!(
                "is `{ty}`: a guest function takes up to {MAX_INPUTS} (ptr: i32, len: i32) pairs \
                 and returns an i32"
            )));
        }
        let typed_error = |error: wasmtime::Error| export_error(format!("{error:#}"));
        let call = match params / 2 {
            0 => Call::None(func.typed(&store).map_err(typed_error)?),
            1 => Call::One(func.typed(&store).map_err(typed_error)?),
            2 => Call::Two(func.typed(&store).map_err(typed_error)?),
            3 => Call::Three(func.typed(&store).map_err(typed_error)?),
            _ => Call::Any(func),
        };
        Ok(Self {
            name: name.to_owned(),
            guest,
            inputs: params / 2,
            call,
            signature,
        })
    }

    /// What the module's interface section says of it, if the guest has one
    /// ([`Guest::set_interface`]).
    #[must_use]
    pub fn signature(&self) -> Option<&Function> {
        self.signature.as_ref()
    }

    /// Refuses a call `method` whose result is not one of `kinds`, when the interface says what
    /// the result is.
    pub(crate) fn expect_result(&self, kinds: &[Kind], method: &str) -> Result<(), Error> {
        match &self.signature {
            Some(signature) if !kinds.contains(&signature.result) => Err(Error::Call {
                function: self.name.clone(),
                message: format!(
                    "returns {} (its interface says), which `{method}` does not read",
                    signature.result
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The inputs the guest owns, by the interface: bit `i` for input `i`.
    fn owned_inputs(&self) -> u16 {
        self.signature.as_ref().map_or(0, |signature| {
            signature
                .args
                .iter()
                .enumerate()
                .filter(|(_, arg)| arg.owned)
                .fold(0, |mask, (index, _)| {
                    // At most MAX_INPUTS (8) inputs reach a call: a longer list does not shift out.
                    mask | u32::try_from(index)
                        .ok()
                        .and_then(|index| 1_u16.checked_shl(index))
                        .unwrap_or(0)
                })
        })
    }

    /// Refuses inputs the interface says the export cannot take: text that is not UTF-8.
    fn check_inputs<I: AsRef<[u8]>>(&self, inputs: &[I]) -> Result<(), Error> {
        let Some(signature) = &self.signature else {
            return Ok(());
        };
        for (input, arg) in inputs.iter().zip(&signature.args) {
            let (name, kind) = (&arg.name, arg.kind);
            if matches!(kind, Kind::String | Kind::Json)
                && let Err(error) = std::str::from_utf8(input.as_ref())
            {
                return Err(Error::Call {
                    function: self.name.clone(),
                    message: format!("argument `{name}` ({kind}) is not UTF-8: {error}"),
                });
            }
        }
        Ok(())
    }

    /// The export's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many byte inputs it takes.
    #[must_use]
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Calls it and returns the result block's bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Guest`] if it returned `0`, with `last_error`'s message; [`Error::BadResult`] if
    /// the block cannot be trusted; or what [`GuestFunc::call_raw`] returns.
    pub fn call_bytes<T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<Vec<u8>, Error> {
        self.expect_result(BLOCKS, "call_bytes")?;
        self.call_with(guest, inputs, <[u8]>::to_vec)
    }

    /// Calls it and returns the result block's text.
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_bytes`], and [`ResultProblem::NotUtf8`] if the result is not UTF-8.
    pub fn call_string<T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<String, Error> {
        self.expect_result(&[Kind::String, Kind::Json], "call_string")?;
        self.call_with(guest, inputs, |bytes| {
            std::str::from_utf8(bytes).map(str::to_owned)
        })?
        .map_err(|_| Error::BadResult {
            function: self.name.clone(),
            problem: ResultProblem::NotUtf8,
        })
    }

    /// Calls it and lends the result's bytes to `read` where they lie in guest memory, without a
    /// copy; the block is freed when `read` returns.
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_bytes`].
    pub fn call_with<T, I: AsRef<[u8]>, R>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        let ptr = self.call_raw(guest, inputs)?;
        guest.take_result_with(&self.name, ptr, read)
    }

    /// Calls it and returns the result's bytes where they lie in guest memory, without a copy.
    /// The block stays allocated until the next call into this instance, which frees it first;
    /// the slice borrows the guest, so it cannot outlive that call.
    ///
    /// # Errors
    ///
    /// As [`GuestFunc::call_bytes`].
    pub fn call_borrowed<'g, T, I: AsRef<[u8]>>(
        &self,
        guest: &'g mut Guest<T>,
        inputs: &[I],
    ) -> Result<&'g [u8], Error> {
        let ptr = self.call_raw(guest, inputs)?;
        guest.lend_result(&self.name, ptr)
    }

    /// Calls a function that returns an integer. `0` is an answer unless the call left an error
    /// pending: then it is [`Error::Guest`]. An error pending from an earlier call is cleared
    /// first, so it is never reported as this call's.
    ///
    /// # Errors
    ///
    /// [`Error::Guest`], or what [`GuestFunc::call_raw`] returns.
    pub fn call_u32<T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<u32, Error> {
        self.check(guest, inputs.len())?;
        self.expect_result(INTEGERS, "call_u32")?;
        guest.clear_pending_error()?;
        let value = self.call_raw(guest, inputs)?;
        if value == 0
            && let Some(message) = guest.last_error()?
        {
            return Err(Error::Guest {
                function: self.name.clone(),
                message,
            });
        }
        Ok(value)
    }

    /// Calls it and returns its raw `i32` result: a result block's pointer is the caller's to
    /// take ([`Guest::take_result`]). The inputs are freed (or kept for the next call) after the
    /// call returns; after a trap they are left to the instance, which is to be dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Arity`] for the wrong number of inputs, [`Error::WrongInstance`] for another
    /// instance's guest, [`Error::InputTooLong`], [`Error::AllocFailed`], [`Error::Trap`].
    pub fn call_raw<T, I: AsRef<[u8]>>(
        &self,
        guest: &mut Guest<T>,
        inputs: &[I],
    ) -> Result<u32, Error> {
        self.check(guest, inputs.len())?;
        self.check_inputs(inputs)?;
        guest.return_lent()?;
        let mut args = [0_u32; 2 * MAX_INPUTS];
        let args = &mut args[..inputs.len() * 2];
        let owned = self.owned_inputs();
        let placed = guest.place_inputs(&self.name, inputs, owned, args)?;
        let outcome = self.invoke(guest, args);
        if matches!(&outcome, Err(error) if error.is_trap()) {
            return outcome;
        }
        guest.release_inputs(placed, args, owned)?;
        outcome
    }

    fn check<T>(&self, guest: &Guest<T>, inputs: usize) -> Result<(), Error> {
        if guest.id() != self.guest {
            return Err(Error::WrongInstance {
                function: self.name.clone(),
            });
        }
        if inputs != self.inputs {
            return Err(Error::Arity {
                function: self.name.clone(),
                expected: self.inputs,
                given: inputs,
            });
        }
        Ok(())
    }

    fn invoke<T>(&self, guest: &mut Guest<T>, args: &[u32]) -> Result<u32, Error> {
        let store = guest.store_mut();
        let outcome = match (&self.call, args) {
            (Call::None(func), []) => func.call(store, ()),
            (Call::One(func), &[a, b]) => func.call(store, (a, b)),
            (Call::Two(func), &[a, b, c, d]) => func.call(store, (a, b, c, d)),
            (Call::Three(func), &[a, b, c, d, e, f]) => func.call(store, (a, b, c, d, e, f)),
            (Call::Any(func), args) => {
                let params: Vec<Val> = args
                    .iter()
                    .map(|&arg| Val::I32(arg.cast_signed()))
                    .collect();
                let mut results = [Val::I32(0)];
                func.call(&mut *store, &params, &mut results)
                    .map(|()| results[0].i32().unwrap_or(0).cast_unsigned())
            }
            // `check` matched the arity with the export's type: not reached.
            _ => {
                return Err(Error::Arity {
                    function: self.name.clone(),
                    expected: self.inputs,
                    given: args.len() / 2,
                });
            }
        };
        let value = guest.settle(&self.name, outcome)?;
        if value == 0 {
            guest.set_error_pending();
        }
        Ok(value)
    }
}

//! A guest export looked up once and typed: what every call goes through. The calls themselves
//! are in `call.rs`.

use wasmtime::{AsContextMut, Func, Instance, Store, TypedFunc, Val, ValType};

use crate::drive::Drive;

use crate::{Error, Function, Kind};

/// The most byte inputs a [`GuestFunc`] takes.
pub const MAX_INPUTS: usize = 8;

/// A guest export taking byte inputs as `(ptr, len)` pairs and returning an `i32` (a result
/// block, or an integer), looked up once with [`Guest::func`](crate::Guest::func).
///
/// Inputs are anything that is bytes (`&[u8]`, `&str`, `Vec<u8>`, `String`); the call copies
/// them in, calls the export through a typed wasmtime function, and frees what it allocated.
#[derive(Clone)]
pub struct GuestFunc {
    pub(crate) name: String,
    pub(crate) guest: u64,
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
    /// ([`Guest::set_interface`](crate::Guest::set_interface)).
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
    pub(crate) fn owned_inputs(&self) -> u16 {
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
    pub(crate) fn check_inputs<I: AsRef<[u8]>>(&self, inputs: &[I]) -> Result<(), Error> {
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

    /// Calls the export with `args` in `store`: the raw outcome, for the caller to settle;
    /// `None` if the arity does not match the export's type.
    #[inline]
    pub(crate) async fn call_by<D: Drive<T>, T>(
        &self,
        store: &mut Store<T>,
        args: &[u32],
    ) -> Option<wasmtime::Result<u32>> {
        Some(match (&self.call, args) {
            (Call::None(func), []) => D::call(func, store, ()).await,
            (Call::One(func), &[a, b]) => D::call(func, store, (a, b)).await,
            (Call::Two(func), &[a, b, c, d]) => D::call(func, store, (a, b, c, d)).await,
            (Call::Three(func), &[a, b, c, d, e, f]) => {
                D::call(func, store, (a, b, c, d, e, f)).await
            }
            (Call::Any(func), args) => {
                let params: Vec<Val> = args
                    .iter()
                    .map(|&arg| Val::I32(arg.cast_signed()))
                    .collect();
                let mut results = [Val::I32(0)];
                D::call_dyn(func, store, &params, &mut results)
                    .await
                    .map(|()| results[0].i32().unwrap_or(0).cast_unsigned())
            }
            _ => return None,
        })
    }
}

//! The host's error type: every way a call into a guest can fail.

use crate::ResultProblem;

/// An error from instantiating a guest or from a call into it.
///
/// A guest function that returns `0` becomes [`Error::Guest`] with the message that
/// `last_error` held; a trap becomes [`Error::Trap`] with the reason the guest recorded; a
/// result block the host cannot trust becomes [`Error::BadResult`]. None of them leaves the
/// host in a bad state: the caller decides whether to keep the instance.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The guest function returned `0` and reported why through `last_error`.
    #[error("`{function}` failed: {message}")]
    Guest {
        /// The export that failed.
        function: String,
        /// The message `last_error` returned, or a note saying why there is none.
        message: String,
    },
    /// The call trapped.
    #[error("`{function}` trapped ({trap}): {}", reason.as_deref().unwrap_or("no reason recorded"))]
    Trap {
        /// The export that trapped.
        function: String,
        /// What wasmtime saw.
        trap: wasmtime::Trap,
        /// The reason the guest recorded before trapping, read back through `last_error`.
        reason: Option<String>,
    },
    /// A host function the guest called failed where it cannot report a failure: it panicked,
    /// the guest passed it an argument that is not one (bytes outside memory, text that is not
    /// UTF-8), or the guest's `alloc` failed for a result it cannot fail. The guest call trapped:
    /// drop the instance, as after [`Error::Trap`].
    #[error("`{function}` trapped in host function `{host_function}`: {message}")]
    HostFunction {
        /// The export the host called.
        function: String,
        /// The host function, `module.name`.
        host_function: String,
        /// What went wrong.
        message: String,
    },
    /// The guest returned a pointer that is not a readable result block.
    #[error("`{function}` returned a bad result block: {problem}")]
    BadResult {
        /// The export whose result was rejected.
        function: String,
        /// What is wrong with it.
        problem: ResultProblem,
    },
    /// `alloc` returned `0` for an input the host wanted to pass to `function`.
    #[error("`{function}`: alloc({len}) for its input returned 0")]
    AllocFailed {
        /// The export the input was for (`alloc` when the host was asked for a block directly).
        function: String,
        /// The length asked for.
        len: u32,
    },
    /// A host access to linear memory would fall outside it.
    #[error("{len} bytes at {ptr:#x} are outside linear memory ({memory} bytes)")]
    OutOfBounds {
        /// Start of the access.
        ptr: u32,
        /// Its length.
        len: u64,
        /// The size of linear memory at the time.
        memory: usize,
    },
    /// An input longer than a u32 length can describe.
    #[error("an input of {len} bytes does not fit the ABI's u32 lengths")]
    InputTooLong {
        /// Its length.
        len: usize,
    },
    /// The module lacks an export the host needs, or it has the wrong type.
    #[error("export `{name}`: {message}")]
    Export {
        /// The export's name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// The module's `abi_version()` is not the version this host speaks.
    #[error("the guest speaks ABI version {found}; this host speaks version {expected}")]
    AbiVersion {
        /// What the guest's `abi_version()` returned.
        found: u32,
        /// [`crate::ABI_VERSION`].
        expected: u32,
    },
    /// A call passed another number of inputs than the export takes.
    #[error("`{function}` takes {expected} inputs, not {given}")]
    Arity {
        /// The export.
        function: String,
        /// How many `(ptr, len)` pairs it takes.
        expected: usize,
        /// How many inputs the call passed.
        given: usize,
    },
    /// A [`crate::GuestFunc`] was used with another instance than the one it was looked up in.
    #[error("`{function}` was looked up in another instance")]
    WrongInstance {
        /// The export.
        function: String,
    },
    /// The module's `guestmem.interface` section is malformed, or does not match the module.
    #[error("interface section: {0}")]
    Interface(String),
    /// A call that does not match what the module's interface says of the export: refused
    /// before the guest runs.
    #[error("`{function}`: {message}")]
    Call {
        /// The export.
        function: String,
        /// What does not match.
        message: String,
    },
    /// A typed value could not be encoded for, or decoded from, the guest.
    #[error("`{function}`: {format}: {message}")]
    Typed {
        /// The export (or `encode` for an input encoded before any call).
        function: String,
        /// `JSON` or `postcard`.
        format: &'static str,
        /// The encoder's or decoder's message.
        message: String,
    },
    /// A call ran past its deadline and was interrupted: a trap, after which the instance is
    /// dropped. [`crate::pool`] turns the epoch interrupt of a pooled call into it.
    #[error("`{function}` ran past its deadline of {deadline:?}")]
    Timeout {
        /// The export that was running.
        function: String,
        /// The deadline it was given.
        deadline: std::time::Duration,
    },
    /// An earlier call on this instance never finished: its future (an `_async` call) was
    /// dropped while the guest ran. The instance stopped in the middle of that call, holding
    /// whatever it had allocated, and refuses every later call: drop it, as after
    /// [`Error::Trap`] (a pool recycles it).
    #[error(
        "`{function}`: an earlier call on this instance was abandoned half way; drop the instance"
    )]
    Abandoned {
        /// The export or ABI function this call was for.
        function: String,
    },
    /// Any other wasmtime error (compilation, instantiation, a failed host call).
    #[error("wasmtime: {0:#}")]
    Wasmtime(wasmtime::Error),
}

impl From<wasmtime::Error> for Error {
    fn from(error: wasmtime::Error) -> Self {
        Self::Wasmtime(error)
    }
}

impl Error {
    /// A trap in `alloc` or `free` while the inputs of `export` were placed is a trap of the call
    /// the user made: it names that export (an epoch deadline, say, that struck in `alloc`). The
    /// reason stays the one the guest recorded, as [`Error::Trap`] promises.
    pub(crate) fn while_placing_inputs_of(self, export: &str) -> Self {
        match self {
            Self::Trap { trap, reason, .. } => Self::Trap {
                function: export.to_owned(),
                trap,
                reason,
            },
            other => other,
        }
    }

    /// The recorded reason if this is a trap, `None` otherwise.
    #[must_use]
    pub fn trap_reason(&self) -> Option<&str> {
        match self {
            Self::Trap { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }

    /// Returns `true` if this error is a trap: of the guest, or of a host function it called.
    #[must_use]
    pub fn is_trap(&self) -> bool {
        matches!(
            self,
            Self::Trap { .. } | Self::HostFunction { .. } | Self::Abandoned { .. }
        )
    }
}

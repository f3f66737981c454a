//! The harness's checks, each written once and run by both the `harness` binary and
//! `cargo test -p harness`.
//!
//! Every check takes a [`Context`] and returns report rows; a row fails when one of its
//! expectations does not hold, and an unexpected error fails it too.

pub mod above_2gib;
pub mod allocators;
pub mod common;
pub mod conformance;
pub mod examples;
pub mod faults;
pub mod growth;
pub mod hostile;
pub mod imports;
pub mod interface;
pub mod leaks;
pub mod native;
pub mod owned;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use wasmtime::Engine;

use crate::HostError;
use crate::engine::new_engine;
use crate::guest::GuestModule;
use crate::guests::GuestDir;
use crate::precompiled;
use crate::report::Row;
use crate::valgrind::running_on_valgrind;

/// What every check needs: the engine, the built guests, and how hard to push.
pub struct Context {
    /// The engine guests are compiled with.
    pub engine: Engine,
    /// Where the built guests are.
    pub guests: GuestDir,
    /// Iteration counts and sizes.
    pub scale: Scale,
    /// Modules compiled so far, by file: compiling is the slow part under Valgrind.
    compiled: Mutex<HashMap<PathBuf, GuestModule>>,
}

impl Context {
    /// A context for the guests in `guests`, scaled down under Valgrind.
    ///
    /// # Errors
    ///
    /// [`HostError::Wasmtime`] if the engine cannot be created.
    pub fn new(guests: GuestDir) -> Result<Self, HostError> {
        Ok(Self {
            engine: new_engine()?,
            guests,
            scale: Scale::detect(),
            compiled: Mutex::new(HashMap::new()),
        })
    }

    /// Example guest `name`, compiled once.
    ///
    /// # Errors
    ///
    /// See [`GuestModule::from_file`].
    pub fn example(&self, name: &str) -> Result<GuestModule, HostError> {
        self.compiled(self.guests.example_path(name))
    }

    /// `echo` built with `allocator`, compiled once.
    ///
    /// # Errors
    ///
    /// See [`GuestModule::from_file`].
    pub fn echo(&self, allocator: &str) -> Result<GuestModule, HostError> {
        self.compiled(self.guests.echo_path(allocator))
    }

    /// Module `name` from `source` (binary or text), compiled once.
    ///
    /// # Errors
    ///
    /// See [`GuestModule::from_bytes`].
    pub fn inline(&self, name: &str, source: &[u8]) -> Result<GuestModule, HostError> {
        self.cached(
            PathBuf::from(format!("inline:{name}")),
            |valgrind| match valgrind
                .then(|| precompiled::load(&self.engine, &self.guests, name, source))
                .flatten()
            {
                Some(module) => Ok(GuestModule::from_module(Path::new(name), module)),
                None => GuestModule::from_bytes(&self.engine, name, source),
            },
        )
    }

    fn compiled(&self, path: PathBuf) -> Result<GuestModule, HostError> {
        self.cached(path.clone(), |valgrind| {
            match valgrind
                .then(|| precompiled::load_file(&self.engine, &self.guests, &path))
                .flatten()
            {
                Some(module) => Ok(GuestModule::from_module(&path, module)),
                None => GuestModule::from_file(&self.engine, &path),
            }
        })
    }

    /// The module cached under `key`, or the one `compile` makes (told whether Valgrind runs, where
    /// modules compiled ahead of time are loaded instead), cached.
    fn cached(
        &self,
        key: PathBuf,
        compile: impl FnOnce(bool) -> Result<GuestModule, HostError>,
    ) -> Result<GuestModule, HostError> {
        let mut compiled = self
            .compiled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(module) = compiled.get(&key) {
            return Ok(module.clone());
        }
        let module = compile(self.scale.valgrind)?;
        compiled.insert(key, module.clone());
        Ok(module)
    }
}

/// Iteration counts and sizes: full scale, or smaller under Valgrind, where every
/// instruction of wasmtime and of the JIT-compiled guest is interpreted.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Running under Valgrind.
    pub valgrind: bool,
}

impl Scale {
    /// Full scale, or reduced if the process runs under Valgrind.
    #[must_use]
    pub fn detect() -> Self {
        Self {
            valgrind: running_on_valgrind(),
        }
    }

    /// Round trips per guest in the leak check (full scale: 100,000).
    #[must_use]
    pub fn leak_round_trips(self) -> u32 {
        if self.valgrind { 2_000 } else { 100_000 }
    }

    /// Size of the inputs and results of the growth check (full scale: 64 MiB).
    #[must_use]
    pub fn growth_bytes(self) -> usize {
        if self.valgrind { 8 << 20 } else { 64 << 20 }
    }

    /// Rounds of the allocator check (full scale: 1,000).
    #[must_use]
    pub fn allocator_rounds(self) -> u32 {
        if self.valgrind { 100 } else { 1_000 }
    }

    /// Round trips through the natively linked guest code.
    #[must_use]
    pub fn native_round_trips(self) -> u32 {
        if self.valgrind { 500 } else { 3_000 }
    }
}

/// Runs every check through wasmtime, the contract first, then the native one, calling
/// `progress` with each row as soon as it is known.
pub fn run_all(context: &Context, progress: impl FnMut(&Row)) -> Vec<Row> {
    run_only(context, None, &[], progress)
}

/// A check: its name and what runs it.
type Check = (&'static str, fn(&Context) -> Vec<Row>);

/// Every check, in the order they run.
const CHECKS: [Check; 12] = [
    ("conformance", conformance::check_all),
    ("examples", |context| vec![examples::check(context)]),
    ("faults", faults::check_all),
    ("imports", imports::check_all),
    ("interface", interface::check_all),
    ("owned", |context| vec![owned::check(context)]),
    ("leaks", leaks::check),
    ("growth", |context| vec![growth::check(context)]),
    ("above-2gib", above_2gib::check_all),
    ("hostile", |context| vec![hostile::check(context)]),
    ("allocators", allocators::check),
    ("native", |context| vec![native::check(context.scale)]),
];

/// The names of the checks, for `--only`.
#[must_use]
pub fn names() -> Vec<&'static str> {
    CHECKS.iter().map(|(name, _)| *name).collect()
}

/// Runs the check named `only` (every check if `None`) but those in `skip`, calling `progress`
/// after each row.
#[must_use]
pub fn run_only(
    context: &Context,
    only: Option<&str>,
    skip: &[String],
    mut progress: impl FnMut(&Row),
) -> Vec<Row> {
    let mut rows = Vec::new();
    for (name, check) in CHECKS {
        if only.is_some_and(|only| only != name) || skip.iter().any(|skipped| skipped == name) {
            continue;
        }
        for row in check(context) {
            progress(&row);
            rows.push(row);
        }
    }
    rows
}

/// A call every example guest answers, for checks that need "some guest function".
#[derive(Debug, Clone)]
pub struct SampleCall {
    /// The export.
    pub function: &'static str,
    /// Its inputs, each passed as `(ptr, len)`.
    pub inputs: Vec<Vec<u8>>,
    /// What it must return.
    pub expected: Expected,
}

/// What a [`SampleCall`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A result block with these bytes.
    Bytes(Vec<u8>),
    /// An integer.
    Integer(u32),
}

/// The sample call of the guest built from example `name`, if it exports one.
#[must_use]
pub fn sample_call(exports: impl Fn(&str) -> bool) -> Option<SampleCall> {
    let call = |function, inputs: &[&[u8]], expected| SampleCall {
        function,
        inputs: inputs.iter().map(|input| input.to_vec()).collect(),
        expected,
    };
    if exports("echo") {
        Some(call(
            "echo",
            &[b"guestmem"],
            Expected::Bytes(b"guestmem".to_vec()),
        ))
    } else if exports("upper") {
        Some(call(
            "upper",
            &[b"guestmem"],
            Expected::Bytes(b"GUESTMEM".to_vec()),
        ))
    } else if exports("replace") {
        Some(call(
            "replace",
            &[b"a-b-c", b"-", b"+"],
            Expected::Bytes(b"a+b+c".to_vec()),
        ))
    } else if exports("array_sum") {
        Some(call(
            "array_sum",
            &[&[1, 2, 3, 250]],
            Expected::Integer(256),
        ))
    } else if exports("word_count") {
        Some(call(
            "word_count",
            &[b"b a b"],
            Expected::Bytes(b"a: 1\nb: 2\n".to_vec()),
        ))
    } else if exports("greet") {
        // The greeting is the WASI environment the harness gives every guest.
        let greeting = format!("{}, guestmem!", crate::guest::WASI_ENV[0].1);
        Some(call(
            "greet",
            &[b"guestmem"],
            Expected::Bytes(greeting.into_bytes()),
        ))
    } else {
        None
    }
}

//! What plugins can call: the host functions of module `env`, and the store data through which
//! they know which plugin and which request called them.

use guestmem_host::{Error, GuestmemCtx, GuestmemView, HostFunctions};
use wasmtime::Linker;

/// The request a call serves, as its host functions see it.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The request's id: the `x-request-id` header the client sent, or one the server made.
    pub id: String,
    /// The `x-salutation` header, for `env.salutation`.
    pub salutation: Option<String>,
}

/// The data of one instance's store: guestmem's state, the plugin's name, and the request being
/// served (set for the length of a call).
#[derive(Debug)]
pub struct Session {
    guestmem: GuestmemCtx,
    plugin: String,
    pub(crate) request: Option<Request>,
}

impl Session {
    pub(crate) fn new(plugin: &str) -> Self {
        Self {
            guestmem: GuestmemCtx::default(),
            plugin: plugin.to_owned(),
            request: None,
        }
    }

    fn request_id(&self) -> &str {
        self.request.as_ref().map_or("-", |request| &request.id)
    }
}

impl GuestmemView for Session {
    fn guestmem(&mut self) -> &mut GuestmemCtx {
        &mut self.guestmem
    }
}

/// Defines the host functions on `linker`:
///
/// - `env.log(line: string)`: the line goes to the server's log (`tracing`, target
///   `plugin`), with the plugin's name and the request's id.
/// - `env.request_id() -> string`: the id of the request being served.
/// - `env.salutation() -> string, fallible`: the request's `x-salutation` header; fails with a
///   message when the request has none.
pub fn define(linker: &mut Linker<Session>) -> Result<HostFunctions<'_, Session>, Error> {
    let mut host = HostFunctions::new(linker)?;
    host.func("env", "log", |session: &mut Session, line: &str| {
        tracing::info!(target: "plugin", plugin = %session.plugin, request = %session.request_id(), "{line}");
    })?
    .func("env", "request_id", |session: &mut Session| {
        session.request_id().to_owned()
    })?
    .func("env", "salutation", |session: &mut Session| {
        session
            .request
            .as_ref()
            .and_then(|request| request.salutation.clone())
            .ok_or("the request has no x-salutation header")
    })?;
    Ok(host)
}

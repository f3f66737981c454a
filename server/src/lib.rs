//! guestmem's reference plugin server: every guestmem module of a directory served over HTTP.
//!
//! `POST /plugins/{plugin}/{export}` calls an export with the request body as its input, through
//! a [`Pool`](guestmem_host::pool::Pool) of the plugin's instances, with a deadline and a memory
//! high-water mark; `GET /plugins` lists the plugins and their interfaces; `GET /metrics` gives
//! the pools' metrics in the Prometheus text format. server/README.md has the routes, the
//! statuses and the load test.

mod answer;
mod config;
mod error;
mod host;
mod metrics;
mod plugins;
mod routes;

pub use config::{Config, USAGE};
pub use error::ApiError;
pub use plugins::{Backend, Plugins, Refused, Served};
pub use routes::router;

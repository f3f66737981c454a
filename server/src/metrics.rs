//! `GET /metrics`: the pools' own metrics ([`PoolMetrics`]), read at each scrape, and the
//! requests answered by plugin, export and status, in the Prometheus (OpenMetrics) text format.

use std::fmt;
use std::sync::Arc;

use guestmem_host::pool::PoolMetrics;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::plugins::{Backend, Plugins};

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type RequestLabels = [(&'static str, String); 3];

/// The server's registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
}

impl Metrics {
    pub fn new(plugins: Arc<Plugins>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "guestmem_server_requests",
            "Requests answered, by plugin, export and status (plugin and export are - when unknown)",
            requests.clone(),
        );
        registry.register_collector(Box::new(Pools(plugins)));
        Self { registry, requests }
    }

    /// Counts one answered request.
    pub fn count(&self, plugin: &str, export: &str, status: u16) {
        self.requests
            .get_or_create(&[
                ("plugin", plugin.to_owned()),
                ("export", export.to_owned()),
                ("status", status.to_string()),
            ])
            .inc();
    }

    /// Every metric, as text.
    pub fn render(&self) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Reads every pool's [`PoolMetrics`] when scraped.
struct Pools(Arc<Plugins>);

impl fmt::Debug for Pools {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        out.write_str("Pools")
    }
}

/// One family of per-pool numbers: its name, help, type and how to read it.
struct PoolFamily {
    name: &'static str,
    help: &'static str,
    counter: bool,
    read: fn(&PoolMetrics) -> f64,
}

const POOL_FAMILIES: &[PoolFamily] = &[
    PoolFamily {
        name: "guestmem_pool_instances_live",
        help: "Instances alive: idle, checked out or being made",
        counter: false,
        read: |m| m.live as f64,
    },
    PoolFamily {
        name: "guestmem_pool_instances_idle",
        help: "Instances waiting in the pool",
        counter: false,
        read: |m| m.idle as f64,
    },
    PoolFamily {
        name: "guestmem_pool_instances_max",
        help: "The most instances the pool makes",
        counter: false,
        read: |m| m.max_instances as f64,
    },
    PoolFamily {
        name: "guestmem_pool_instances_created",
        help: "Instances made, the first ones and every replacement",
        counter: true,
        read: |m| m.created as f64,
    },
    PoolFamily {
        name: "guestmem_pool_checkouts",
        help: "Checkouts that got an instance",
        counter: true,
        read: |m| m.checkouts as f64,
    },
    PoolFamily {
        name: "guestmem_pool_waits",
        help: "Checkouts that found every instance busy and waited",
        counter: true,
        read: |m| m.waits as f64,
    },
    PoolFamily {
        name: "guestmem_pool_wait_seconds",
        help: "The time checkouts waited, in all",
        counter: true,
        read: |m| m.wait_time.as_secs_f64(),
    },
    PoolFamily {
        name: "guestmem_pool_busy",
        help: "Checkouts that waited in vain (503)",
        counter: true,
        read: |m| m.busy as f64,
    },
    PoolFamily {
        name: "guestmem_pool_calls",
        help: "Calls made",
        counter: true,
        read: |m| m.calls as f64,
    },
    PoolFamily {
        name: "guestmem_pool_traps",
        help: "Calls that trapped",
        counter: true,
        read: |m| m.traps as f64,
    },
    PoolFamily {
        name: "guestmem_pool_timeouts",
        help: "Calls that ran past their deadline",
        counter: true,
        read: |m| m.timeouts as f64,
    },
];

impl Collector for Pools {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let pools: Vec<(&str, PoolMetrics)> = self
            .0
            .served()
            .filter_map(|served| match &served.backend {
                Backend::Wasm(pool) => Some((served.name.as_str(), pool.metrics())),
                Backend::Native => None,
            })
            .collect();
        for family in POOL_FAMILIES {
            let kind = if family.counter {
                MetricType::Counter
            } else {
                MetricType::Gauge
            };
            let mut descriptor = encoder.encode_descriptor(family.name, family.help, None, kind)?;
            for (plugin, metrics) in &pools {
                let value = (family.read)(metrics);
                let labels = [("plugin", *plugin)];
                let metric = descriptor.encode_family(&labels)?;
                if family.counter {
                    ConstCounter::new(value).encode(metric)?;
                } else {
                    ConstGauge::new(value).encode(metric)?;
                }
            }
        }
        let mut recycles = encoder.encode_descriptor(
            "guestmem_pool_recycles",
            "Instances recycled, by cause",
            None,
            MetricType::Counter,
        )?;
        for (plugin, metrics) in &pools {
            let by_cause = metrics.recycles;
            for (cause, count) in [
                ("trap", by_cause.trap),
                ("timeout", by_cause.timeout),
                ("memory", by_cause.memory),
                ("calls", by_cause.calls),
                ("demand", by_cause.demand),
            ] {
                let labels = [("plugin", *plugin), ("cause", cause)];
                ConstCounter::new(count).encode(recycles.encode_family(&labels)?)?;
            }
        }
        for (name, help, peak) in [
            (
                "guestmem_instance_memory_pages",
                "An instance's linear memory after its last call, in 64 KiB pages",
                false,
            ),
            (
                "guestmem_instance_peak_memory_pages",
                "The most linear memory an instance had after a call, in 64 KiB pages",
                true,
            ),
        ] {
            let mut descriptor = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (plugin, metrics) in &pools {
                for instance in &metrics.instances {
                    let id = instance.id.to_string();
                    let labels = [("plugin", *plugin), ("instance", id.as_str())];
                    let pages = if peak {
                        instance.peak_memory_pages
                    } else {
                        instance.memory_pages
                    };
                    ConstGauge::new(i64::try_from(pages).unwrap_or(i64::MAX))
                        .encode(descriptor.encode_family(&labels)?)?;
                }
            }
        }
        Ok(())
    }
}

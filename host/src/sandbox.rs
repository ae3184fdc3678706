//! The multi-tenant sandbox: one engine, the component compiled once, a store and an
//! instance per tenant, a memory cap and a deadline per call.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};

use crate::bindings::{self, Dataset, Options, TiEcs, TiEcsPre};

/// Default cap on one tenant's linear memory: 256 MiB (a 10 MB MISP page needs well
/// under 100 MiB; the component's own `max_input_bytes` default is 256 MiB, so lower it
/// with this cap when tenants are untrusted).
pub const DEFAULT_MEMORY_BYTES: usize = 256 << 20;

/// Default wall-clock deadline of one call: 10 s (a transform takes microseconds per
/// record; only a runaway guest comes near it).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// Default period of the epoch ticker, the resolution of deadlines: 10 ms.
pub const DEFAULT_EPOCH_TICK: Duration = Duration::from_millis(10);

/// Default number of tenants a sandbox keeps (each holds a store and its memory).
pub const DEFAULT_MAX_TENANTS: usize = 256;

/// Most table elements a tenant's instance may have (the component needs a handful).
const MAX_TABLE_ELEMENTS: usize = 10_000;

/// Limits of one tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantLimits {
    /// Cap on the instance's linear memory, in bytes ([`DEFAULT_MEMORY_BYTES`]). Besides
    /// what a call holds, the guest keeps up to 7 MiB of chunks for its allocation arena
    /// (taken only by calls that allocate that much; `src/bindings/arena.rs`).
    pub memory_bytes: usize,
    /// Wall-clock deadline of one call ([`DEFAULT_DEADLINE`]), rounded up to whole epoch
    /// ticks.
    pub deadline: Duration,
}

impl Default for TenantLimits {
    fn default() -> Self {
        TenantLimits {
            memory_bytes: DEFAULT_MEMORY_BYTES,
            deadline: DEFAULT_DEADLINE,
        }
    }
}

/// Configuration of one tenant.
#[derive(Clone, Debug, Default)]
pub struct TenantConfig {
    /// Its limits.
    pub limits: TenantLimits,
    /// Its options, in the core's JSON options form (`{"now": …, "identity": true, …}`),
    /// used by [`Sandbox::transform`] and [`Sandbox::transform_batch`]. `None`: the tenant
    /// calls the `_with` forms, which take options per call.
    pub options: Option<String>,
}

/// Configuration of a [`Sandbox`].
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Limits of tenants not configured with [`Sandbox::configure_tenant`].
    pub default_limits: TenantLimits,
    /// Period of the epoch ticker ([`DEFAULT_EPOCH_TICK`]).
    pub epoch_tick: Duration,
    /// Most tenants kept at once ([`DEFAULT_MAX_TENANTS`]); a call for one more is
    /// [`Error::TooManyTenants`].
    pub max_tenants: usize,
    /// Whether wasmtime writes `/tmp/perf-<pid>.map`, so that `perf record` names the
    /// guest's compiled functions (off: profiling only).
    pub perf_map: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            default_limits: TenantLimits::default(),
            epoch_tick: DEFAULT_EPOCH_TICK,
            max_tenants: DEFAULT_MAX_TENANTS,
            perf_map: false,
        }
    }
}

/// What went wrong in a call, and for which tenant. A bad *record* is never an error:
/// the component turns it into an error document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The call ran past the tenant's deadline and was stopped.
    Deadline { tenant: String, deadline: Duration },
    /// The guest tried to grow its memory past the tenant's cap.
    MemoryLimit {
        tenant: String,
        limit: usize,
        requested: usize,
    },
    /// The guest trapped (`unreachable`, stack overflow, out-of-bounds access, …).
    Trap { tenant: String, message: String },
    /// The options cannot be used; the message names the option and its value.
    InvalidOptions { tenant: String, message: String },
    /// The tenant has no options of its own ([`TenantConfig::options`]) and the call
    /// gave none.
    NoOptions { tenant: String },
    /// The sandbox already keeps [`SandboxConfig::max_tenants`] tenants.
    TooManyTenants { tenant: String, max: usize },
    /// The component cannot be compiled or instantiated.
    Component { tenant: String, message: String },
}

impl Error {
    /// The tenant the error belongs to (empty for [`Sandbox::new`]'s errors).
    pub fn tenant(&self) -> &str {
        match self {
            Error::Deadline { tenant, .. }
            | Error::MemoryLimit { tenant, .. }
            | Error::Trap { tenant, .. }
            | Error::InvalidOptions { tenant, .. }
            | Error::NoOptions { tenant }
            | Error::TooManyTenants { tenant, .. }
            | Error::Component { tenant, .. } => tenant,
        }
    }

    /// Whether the guest was stopped (deadline, memory, trap): the tenant's instance was
    /// dropped and the next call gets a fresh one.
    pub fn is_guest_failure(&self) -> bool {
        matches!(
            self,
            Error::Deadline { .. } | Error::MemoryLimit { .. } | Error::Trap { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Deadline { tenant, deadline } => write!(
                f,
                "tenant `{tenant}`: the call ran past its deadline of {} ms and was stopped",
                deadline.as_millis()
            ),
            Error::MemoryLimit {
                tenant,
                limit,
                requested,
            } => write!(
                f,
                "tenant `{tenant}`: the guest asked for {requested} bytes of memory, over the tenant's limit of {limit} bytes"
            ),
            Error::Trap { tenant, message } => {
                write!(f, "tenant `{tenant}`: the guest trapped: {message}")
            }
            Error::InvalidOptions { tenant, message } => {
                write!(f, "tenant `{tenant}`: {message}")
            }
            Error::NoOptions { tenant } => write!(
                f,
                "tenant `{tenant}`: no options configured for the tenant and none given"
            ),
            Error::TooManyTenants { tenant, max } => write!(
                f,
                "tenant `{tenant}`: the sandbox already keeps its maximum of {max} tenants"
            ),
            Error::Component { tenant, message } if tenant.is_empty() => {
                write!(f, "cannot load the component: {message}")
            }
            Error::Component { tenant, message } => {
                write!(
                    f,
                    "tenant `{tenant}`: cannot instantiate the component: {message}"
                )
            }
        }
    }
}

impl std::error::Error for Error {}

/// The sandbox: an engine, the component compiled once, tenants with their instances.
/// Every call runs in a session of the component (`open-session`), kept per tenant and
/// data set while the options stay the same. `Sync`: share it between threads
/// (`Arc<Sandbox>`).
pub struct Sandbox {
    engine: Engine,
    component: Component,
    pre: TiEcsPre<TenantState>,
    config: SandboxConfig,
    tenants: Mutex<HashMap<String, Arc<Mutex<Tenant>>>>,
    ticker: Arc<AtomicBool>,
}

/// One tenant: its configuration and, once it has called, its live instance.
struct Tenant {
    limits: TenantLimits,
    options: Option<Options>,
    live: Option<Live>,
}

/// A store and the component instantiated in it.
struct Live {
    store: Store<TenantState>,
    bindings: TiEcs,
    /// Per data set, the session of the options last used with it: a call with the same
    /// options reuses it (the component reads a session's options once, not per call).
    /// Sessions go with the instance.
    sessions: Vec<(Dataset, Options, ResourceAny)>,
}

impl Live {
    /// The session of `dataset` with `options`: the one kept when its options are these,
    /// otherwise a new one (the one it replaces is dropped). `Ok(Err(..))`: the
    /// component refused the options.
    fn session(
        &mut self,
        dataset: Dataset,
        options: &Options,
    ) -> wasmtime::Result<Result<ResourceAny, bindings::Error>> {
        let kept = self.sessions.iter().position(|(d, _, _)| *d == dataset);
        if let Some(i) = kept {
            let (_, kept_options, session) = &self.sessions[i];
            if kept_options == options {
                return Ok(Ok(*session));
            }
            let (_, _, old) = self.sessions.swap_remove(i);
            old.resource_drop(&mut self.store)?;
        }
        let opened = self.bindings.ti_ecs_transformer().call_open_session(
            &mut self.store,
            dataset,
            options,
        )?;
        if let Ok(session) = opened {
            self.sessions.push((dataset, options.clone(), session));
        }
        Ok(opened)
    }
}

/// The store's data: the memory cap, which also records a refused growth.
struct TenantState {
    limit: usize,
    refused: Option<usize>,
}

impl ResourceLimiter for TenantState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.refused = Some(desired);
            // A trap rather than a failed `memory.grow`: the guest stops at once instead
            // of running its out-of-memory path.
            return Err(wasmtime::Error::msg("memory limit reached"));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

impl Sandbox {
    /// A sandbox over the embedded ti-ecs component ([`crate::COMPONENT`]).
    pub fn new(config: SandboxConfig) -> Result<Sandbox, Error> {
        Sandbox::with_component(crate::COMPONENT, config)
    }

    /// A sandbox over another component of the same world (binary or text form), e.g. a
    /// newer build or a test guest.
    pub fn with_component(bytes: &[u8], config: SandboxConfig) -> Result<Sandbox, Error> {
        let load = |e: wasmtime::Error| Error::Component {
            tenant: String::new(),
            message: format!("{e:#}"),
        };
        let mut wasm = Config::new();
        wasm.epoch_interruption(true);
        if config.perf_map {
            wasm.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&wasm).map_err(load)?;
        let component = Component::new(&engine, bytes).map_err(load)?;
        // The component imports nothing: an empty linker.
        let linker = Linker::<TenantState>::new(&engine);
        let pre = linker
            .instantiate_pre(&component)
            .and_then(TiEcsPre::new)
            .map_err(load)?;
        let ticker = Arc::new(AtomicBool::new(true));
        spawn_ticker(&engine, config.epoch_tick, Arc::clone(&ticker));
        Ok(Sandbox {
            engine,
            component,
            pre,
            config,
            tenants: Mutex::new(HashMap::new()),
            ticker,
        })
    }

    /// The component's imports, by name (none for ti-ecs).
    pub fn imports(&self) -> Vec<String> {
        bindings::import_names(&self.engine, &self.component)
    }

    /// The component's exports, by name.
    pub fn exports(&self) -> Vec<String> {
        bindings::export_names(&self.engine, &self.component)
    }

    /// Sets a tenant's limits and options, replacing its instance (if any). The options'
    /// form is checked here; their values on the first call.
    pub fn configure_tenant(&self, tenant: &str, config: TenantConfig) -> Result<(), Error> {
        let options = match &config.options {
            Some(text) => Some(bindings::options_from_json(text).map_err(|message| {
                Error::InvalidOptions {
                    tenant: tenant.to_string(),
                    message,
                }
            })?),
            None => None,
        };
        let slot = self.tenant(tenant, Some(config.limits))?;
        let mut t = lock(&slot);
        t.limits = config.limits;
        t.options = options;
        t.live = None;
        Ok(())
    }

    /// The limits a tenant has (its own, or the defaults).
    pub fn tenant_limits(&self, tenant: &str) -> TenantLimits {
        lock(&self.tenants)
            .get(tenant)
            .map_or(self.config.default_limits, |t| lock(t).limits)
    }

    /// Number of tenants kept.
    pub fn tenant_count(&self) -> usize {
        lock(&self.tenants).len()
    }

    /// Forgets a tenant and drops its instance.
    pub fn remove_tenant(&self, tenant: &str) {
        lock(&self.tenants).remove(tenant);
    }

    /// `transform` with the tenant's own options.
    pub fn transform(
        &self,
        tenant: &str,
        dataset: Dataset,
        record: &str,
    ) -> Result<Vec<String>, Error> {
        self.call(tenant, dataset, None, |live, s| {
            live.bindings
                .ti_ecs_transformer()
                .session()
                .call_transform(&mut live.store, s, record)
        })
    }

    /// `transform` with options for this call.
    pub fn transform_with(
        &self,
        tenant: &str,
        dataset: Dataset,
        record: &str,
        options: &Options,
    ) -> Result<Vec<String>, Error> {
        self.call(tenant, dataset, Some(options), |live, s| {
            live.bindings
                .ti_ecs_transformer()
                .session()
                .call_transform(&mut live.store, s, record)
        })
    }

    /// `transform-batch` with the tenant's own options. The deadline covers the whole
    /// batch.
    pub fn transform_batch(
        &self,
        tenant: &str,
        dataset: Dataset,
        records: &[String],
    ) -> Result<Vec<Vec<String>>, Error> {
        self.call(tenant, dataset, None, |live, s| {
            live.bindings
                .ti_ecs_transformer()
                .session()
                .call_transform_batch(&mut live.store, s, records)
        })
    }

    /// `transform-batch` with options for this call. The deadline covers the whole batch.
    pub fn transform_batch_with(
        &self,
        tenant: &str,
        dataset: Dataset,
        records: &[String],
        options: &Options,
    ) -> Result<Vec<Vec<String>>, Error> {
        self.call(tenant, dataset, Some(options), |live, s| {
            live.bindings
                .ti_ecs_transformer()
                .session()
                .call_transform_batch(&mut live.store, s, records)
        })
    }

    /// The tenant's slot, created with `limits` (or the defaults) when new.
    fn tenant(
        &self,
        tenant: &str,
        limits: Option<TenantLimits>,
    ) -> Result<Arc<Mutex<Tenant>>, Error> {
        let mut tenants = lock(&self.tenants);
        if let Some(t) = tenants.get(tenant) {
            return Ok(Arc::clone(t));
        }
        if tenants.len() >= self.config.max_tenants {
            return Err(Error::TooManyTenants {
                tenant: tenant.to_string(),
                max: self.config.max_tenants,
            });
        }
        let slot = Arc::new(Mutex::new(Tenant {
            limits: limits.unwrap_or(self.config.default_limits),
            options: None,
            live: None,
        }));
        tenants.insert(tenant.to_string(), Arc::clone(&slot));
        Ok(slot)
    }

    /// Runs one guest call for a tenant in the session of `dataset` and the options
    /// (the call's, else the tenant's): instantiates and opens the session when needed,
    /// arms the deadline (which covers opening the session too), classifies a failure
    /// and drops a failed instance.
    fn call<T>(
        &self,
        tenant: &str,
        dataset: Dataset,
        options: Option<&Options>,
        f: impl FnOnce(&mut Live, ResourceAny) -> wasmtime::Result<T>,
    ) -> Result<T, Error> {
        let slot = self.tenant(tenant, None)?;
        let mut guard = lock(&slot);
        let t = &mut *guard;
        let options = match (options, &t.options) {
            (Some(o), _) | (None, Some(o)) => o,
            (None, None) => {
                return Err(Error::NoOptions {
                    tenant: tenant.to_string(),
                });
            }
        };
        let live = match &mut t.live {
            Some(live) => live,
            empty => empty.insert(self.instantiate(tenant, t.limits)?),
        };
        live.store.data_mut().refused = None;
        live.store
            .set_epoch_deadline(ticks(t.limits.deadline, self.config.epoch_tick));
        let result = match live.session(dataset, options) {
            Ok(Ok(session)) => f(live, session).map(Ok),
            Ok(Err(refused)) => Ok(Err(refused)),
            Err(e) => Err(e),
        };
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(bindings::Error::InvalidOptions(message))) => Err(Error::InvalidOptions {
                tenant: tenant.to_string(),
                message,
            }),
            Err(e) => {
                let refused = live.store.data().refused;
                // A trapped instance may be in any state: never call it again.
                t.live = None;
                Err(classify(tenant, &t.limits, refused, &e))
            }
        }
    }

    /// A fresh store (with the tenant's memory cap) and instance.
    fn instantiate(&self, tenant: &str, limits: TenantLimits) -> Result<Live, Error> {
        let mut store = Store::new(
            &self.engine,
            TenantState {
                limit: limits.memory_bytes,
                refused: None,
            },
        );
        store.limiter(|s| s);
        // Instantiation runs no guest code worth a deadline, but the epoch check is armed
        // anyway: a deadline of zero ticks would trap at once.
        store.set_epoch_deadline(ticks(limits.deadline, self.config.epoch_tick));
        let bindings = self.pre.instantiate(&mut store).map_err(|e| {
            match classify(tenant, &limits, store.data().refused, &e) {
                e @ Error::MemoryLimit { .. } => e,
                _ => Error::Component {
                    tenant: tenant.to_string(),
                    message: format!("{e:#}"),
                },
            }
        })?;
        Ok(Live {
            store,
            bindings,
            sessions: Vec::new(),
        })
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.ticker.store(false, Ordering::Relaxed);
    }
}

/// What a failed call was: memory cap, deadline or another trap.
fn classify(
    tenant: &str,
    limits: &TenantLimits,
    refused: Option<usize>,
    e: &wasmtime::Error,
) -> Error {
    let tenant = tenant.to_string();
    if let Some(requested) = refused {
        return Error::MemoryLimit {
            tenant,
            limit: limits.memory_bytes,
            requested,
        };
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Error::Deadline {
            tenant,
            deadline: limits.deadline,
        },
        Some(trap) => Error::Trap {
            tenant,
            message: trap
                .to_string()
                .trim_start_matches("wasm trap: ")
                .to_string(),
        },
        None => Error::Trap {
            tenant,
            message: e.root_cause().to_string(),
        },
    }
}

/// Epoch ticks covering `deadline` (at least one).
fn ticks(deadline: Duration, tick: Duration) -> u64 {
    let tick = tick.as_nanos().max(1);
    u64::try_from(deadline.as_nanos().div_ceil(tick))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The epoch ticker: increments the engine's epoch every `tick` while `running`.
fn spawn_ticker(engine: &Engine, tick: Duration, running: Arc<AtomicBool>) {
    let engine = engine.weak();
    std::thread::spawn(move || {
        while running.load(Ordering::Relaxed) {
            std::thread::sleep(tick);
            match engine.upgrade() {
                Some(e) => e.increment_epoch(),
                None => break,
            }
        }
    });
}

/// Locks a mutex; a panic in another holder (none is expected) does not poison the host.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_up_and_never_zero() {
        let tick = Duration::from_millis(10);
        assert_eq!(ticks(Duration::from_millis(200), tick), 20);
        assert_eq!(ticks(Duration::from_millis(201), tick), 21);
        assert_eq!(ticks(Duration::ZERO, tick), 1);
        assert_eq!(ticks(Duration::from_secs(1), Duration::ZERO), 1_000_000_000);
    }

    #[test]
    fn errors_name_the_tenant() {
        let e = Error::Deadline {
            tenant: "acme".into(),
            deadline: Duration::from_millis(250),
        };
        assert_eq!(
            e.to_string(),
            "tenant `acme`: the call ran past its deadline of 250 ms and was stopped"
        );
        assert_eq!(e.tenant(), "acme");
        assert!(e.is_guest_failure());
        let e = Error::NoOptions { tenant: "b".into() };
        assert!(!e.is_guest_failure());
    }

    #[test]
    fn the_component_imports_nothing() {
        let s = Sandbox::new(SandboxConfig::default()).unwrap();
        assert_eq!(s.imports(), Vec::<String>::new());
        assert_eq!(s.exports(), ["ti:ecs/transformer@0.1.0"]);
    }
}

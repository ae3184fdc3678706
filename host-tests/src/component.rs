//! The `ti:ecs` component in wasmtime, with no WASI and no host functions linked.

use std::sync::OnceLock;

use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Engine, ResourceLimiter, Store};

// The one `bindgen!` and options converter of the workspace live in ti-ecs-host.
pub use ti_ecs_host::bindings::options_from_json;
pub use ti_ecs_host::bindings::{Dataset, Error, Limits, Options, SeverityScale, TiEcs, TiEcsPre};

/// The compiled component and an empty linker: it imports nothing, so nothing is linked.
pub struct Host {
    engine: Engine,
    component: Component,
    pre: TiEcsPre<Memory>,
}

impl Host {
    /// Compiles the component built by `build.rs`.
    pub fn load() -> wasmtime::Result<Host> {
        Host::load_with(false)
    }

    /// [`Host::load`]; with `perf_map`, wasmtime writes `/tmp/perf-<pid>.map` so that
    /// `perf record` names the guest's compiled functions.
    pub fn load_with(perf_map: bool) -> wasmtime::Result<Host> {
        let mut config = wasmtime::Config::new();
        if perf_map {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config)?;
        let component = Component::from_file(&engine, crate::COMPONENT_PATH)?;
        let linker = Linker::<Memory>::new(&engine);
        let pre = TiEcsPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Host {
            engine,
            component,
            pre,
        })
    }

    /// One host per process: compiling takes a while.
    pub fn shared() -> &'static Host {
        static HOST: OnceLock<Host> = OnceLock::new();
        HOST.get_or_init(|| {
            Host::load().unwrap_or_else(|e| panic!("cannot load the component: {e:#}"))
        })
    }

    /// The component's imports, by name.
    pub fn imports(&self) -> Vec<String> {
        ti_ecs_host::bindings::import_names(&self.engine, &self.component)
    }

    /// The component's exports, by name.
    pub fn exports(&self) -> Vec<String> {
        ti_ecs_host::bindings::export_names(&self.engine, &self.component)
    }

    /// A fresh instance in its own store.
    pub fn instance(&self) -> wasmtime::Result<Instance> {
        let mut store = Store::new(&self.engine, Memory::default());
        store.limiter(|m| m);
        let bindings = self.pre.instantiate(&mut store)?;
        Ok(Instance { store, bindings })
    }
}

/// The store's data: the size the guest's linear memory has grown to (nothing is refused).
#[derive(Default)]
pub struct Memory {
    bytes: usize,
}

impl ResourceLimiter for Memory {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.bytes = self.bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// One instance of the component; calls may be repeated.
pub struct Instance {
    store: Store<Memory>,
    bindings: TiEcs,
}

impl Instance {
    /// The size of the guest's linear memory, in bytes (it never shrinks).
    pub fn memory_bytes(&self) -> usize {
        self.store.data().bytes
    }

    /// `transform`.
    pub fn transform(
        &mut self,
        dataset: Dataset,
        record: &str,
        options: &Options,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        self.bindings
            .ti_ecs_transformer()
            .call_transform(&mut self.store, dataset, record, options)
    }

    /// `transform-batch`.
    pub fn transform_batch(
        &mut self,
        dataset: Dataset,
        records: &[String],
        options: &Options,
    ) -> wasmtime::Result<Result<Vec<Vec<String>>, Error>> {
        self.bindings.ti_ecs_transformer().call_transform_batch(
            &mut self.store,
            dataset,
            records,
            options,
        )
    }
}

/// A session of the component (`open-session`): a data set and options read once.
#[derive(Clone, Copy)]
pub struct Session(ResourceAny);

impl Instance {
    /// `open-session`.
    pub fn open_session(
        &mut self,
        dataset: Dataset,
        options: &Options,
    ) -> wasmtime::Result<Result<Session, Error>> {
        let r = self.bindings.ti_ecs_transformer().call_open_session(
            &mut self.store,
            dataset,
            options,
        )?;
        Ok(r.map(Session))
    }

    /// `session.transform`.
    pub fn session_transform(
        &mut self,
        session: Session,
        record: &str,
    ) -> wasmtime::Result<Vec<String>> {
        self.bindings.ti_ecs_transformer().session().call_transform(
            &mut self.store,
            session.0,
            record,
        )
    }

    /// `session.transform-batch`.
    pub fn session_transform_batch(
        &mut self,
        session: Session,
        records: &[String],
    ) -> wasmtime::Result<Vec<Vec<String>>> {
        self.bindings
            .ti_ecs_transformer()
            .session()
            .call_transform_batch(&mut self.store, session.0, records)
    }

    /// Drops the session (its destructor runs in the guest).
    pub fn close_session(&mut self, session: Session) -> wasmtime::Result<()> {
        session.0.resource_drop(&mut self.store)
    }

    /// `open-session` of every data set, with the same options.
    pub fn open_sessions(
        &mut self,
        options: &Options,
    ) -> wasmtime::Result<Result<Sessions, Error>> {
        let mut all = Vec::new();
        for (_, _, dataset) in ti_ecs_host::bindings::DATASETS {
            match self.open_session(*dataset, options)? {
                Ok(s) => all.push((*dataset, s)),
                Err(e) => return Ok(Err(e)),
            }
        }
        Ok(Ok(Sessions(all)))
    }
}

/// A session of every data set, with the same options ([`Instance::open_sessions`]).
pub struct Sessions(Vec<(Dataset, Session)>);

impl Sessions {
    /// The session of `dataset`.
    pub fn of(&self, dataset: Dataset) -> Option<Session> {
        self.0.iter().find(|(d, _)| *d == dataset).map(|(_, s)| *s)
    }
}

/// The WIT data set of a data-set id (`ti_misp.threat`) or WIT name.
pub fn dataset(id: &str) -> Option<Dataset> {
    Some(match id.parse::<ti_ecs::Dataset>().ok()? {
        ti_ecs::Dataset::AnomaliThreatstream => Dataset::AnomaliThreatstream,
        ti_ecs::Dataset::AnomaliIntelligence => Dataset::AnomaliIntelligence,
        ti_ecs::Dataset::MispThreat => Dataset::MispThreat,
        ti_ecs::Dataset::MispThreatAttributes => Dataset::MispThreatAttributes,
    })
}

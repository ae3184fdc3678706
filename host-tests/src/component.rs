//! The `ti:ecs` component in wasmtime, with no WASI and no host functions linked.

use std::sync::OnceLock;

use serde::Deserialize;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "ti-ecs",
});

pub use exports::ti::ecs::transformer::{Dataset, Error, Limits, Options, SeverityScale};

/// The compiled component and an empty linker: it imports nothing, so nothing is linked.
pub struct Host {
    engine: Engine,
    component: Component,
    pre: TiEcsPre<()>,
}

impl Host {
    /// Compiles the component built by `build.rs`.
    pub fn load() -> wasmtime::Result<Host> {
        let engine = Engine::default();
        let component = Component::from_file(&engine, crate::COMPONENT_PATH)?;
        let linker = Linker::<()>::new(&engine);
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
        self.component
            .component_type()
            .imports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect()
    }

    /// The component's exports, by name.
    pub fn exports(&self) -> Vec<String> {
        self.component
            .component_type()
            .exports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect()
    }

    /// A fresh instance in its own store.
    pub fn instance(&self) -> wasmtime::Result<Instance> {
        let mut store = Store::new(&self.engine, ());
        let bindings = self.pre.instantiate(&mut store)?;
        Ok(Instance { store, bindings })
    }
}

/// One instance of the component; calls may be repeated.
pub struct Instance {
    store: Store<()>,
    bindings: TiEcs,
}

impl Instance {
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

/// The WIT data set of a data-set id (`ti_misp.threat`) or WIT name.
pub fn dataset(id: &str) -> Option<Dataset> {
    Some(match id.parse::<ti_ecs::Dataset>().ok()? {
        ti_ecs::Dataset::AnomaliThreatstream => Dataset::AnomaliThreatstream,
        ti_ecs::Dataset::AnomaliIntelligence => Dataset::AnomaliIntelligence,
        ti_ecs::Dataset::MispThreat => Dataset::MispThreat,
        ti_ecs::Dataset::MispThreatAttributes => Dataset::MispThreatAttributes,
    })
}

/// The core's JSON options form, mirrored to build WIT [`Options`] from the same files.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    now: String,
    #[serde(default)]
    ioc_expiration_duration: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    preserve_original_event: bool,
    #[serde(default)]
    raw_field: Option<String>,
    #[serde(default)]
    severity_scale: Option<String>,
    #[serde(default)]
    identity: bool,
    #[serde(default)]
    limits: SpecLimits,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct SpecLimits {
    max_input_bytes: Option<u64>,
    max_depth: Option<u32>,
    max_documents: Option<u64>,
    max_string_bytes: Option<u64>,
}

/// WIT [`Options`] from the core's JSON options form (a golden case's `.options.json`).
pub fn options_from_json(text: &str) -> Result<Options, String> {
    let s: Spec = serde_json::from_str(text).map_err(|e| format!("invalid options: {e}"))?;
    let severity_scale = match s.severity_scale.as_deref() {
        None | Some("fixture") => SeverityScale::Fixture,
        Some("detection") => SeverityScale::Detection,
        Some(other) => return Err(format!("invalid option `severity_scale`: `{other}`")),
    };
    Ok(Options {
        now: s.now,
        ioc_expiration_duration: s.ioc_expiration_duration,
        tags: s.tags,
        preserve_original_event: s.preserve_original_event,
        raw_field: s.raw_field,
        severity_scale,
        identity: s.identity,
        limits: Limits {
            max_input_bytes: s.limits.max_input_bytes,
            max_depth: s.limits.max_depth,
            max_documents: s.limits.max_documents,
            max_string_bytes: s.limits.max_string_bytes,
        },
    })
}

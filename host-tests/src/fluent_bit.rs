//! The Fluent Bit filter module in wasmtime, called the way Fluent Bit's `wasm` filter
//! calls it (`shared/hosts/FLUENT_BIT.md`):
//!
//! 1. one instance for many records; `_initialize` is called once after instantiation;
//! 2. per record, the tag and the record (NUL-terminated) are copied into guest memory —
//!    through the module's exported `malloc` ([`Copy::Malloc`]), or into a host-managed
//!    region of the guest's memory the size of Fluent Bit's default app heap
//!    ([`Copy::HostRegion`]), where a record that does not fit is passed as
//!    `record_ptr == 0` with its real length, as Fluent Bit does;
//! 3. `f(tag_ptr, tag_len, time_sec, time_nsec, record_ptr, record_len) -> ptr`;
//! 4. the NUL-terminated result is copied out at once; the inputs are freed.
//!
//! The module's WASI imports are linked to stubs that record every call (and fail it):
//! the filter must not need them.

use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::{
    Engine, Extern, ExternType, Instance, Linker, Memory, Module, Store, TypedFunc, Val,
};

/// Usable size of Fluent Bit's default app heap (`wasm_heap_size` 8 KiB gives ~63 KiB).
pub const HOST_REGION: u32 = 63 * 1024;

/// How the host copies the record into the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copy {
    /// Through the module's exported `malloc` / `free`.
    Malloc,
    /// Into a region of guest memory the host manages (no guest allocator involved).
    HostRegion,
}

/// The result of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The returned pointer was null: the record is dropped.
    Null,
    /// The bytes before the NUL (empty: the record is dropped).
    Text(Vec<u8>),
}

impl Output {
    /// The returned text, empty for a null pointer.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Output::Null => &[],
            Output::Text(t) => t,
        }
    }
}

type Filter = TypedFunc<(u32, u32, u32, u32, u32, u32), u32>;

/// WASI functions the module called (there should be none).
pub type WasiCalls = Arc<Mutex<Vec<String>>>;

/// One module instance, reused for every record, as Fluent Bit does.
pub struct FluentBit {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
    malloc: TypedFunc<u32, u32>,
    free: TypedFunc<u32, ()>,
    copy: Copy,
    /// Start of the host region ([`Copy::HostRegion`]).
    region: u32,
    wasi_calls: WasiCalls,
}

/// The compiled module, shared by every instance.
pub fn module() -> &'static (Engine, Module) {
    static MODULE: OnceLock<(Engine, Module)> = OnceLock::new();
    MODULE.get_or_init(|| {
        compile(false).unwrap_or_else(|e| panic!("cannot load the fluent bit module: {e:#}"))
    })
}

/// The module compiled in an engine of its own; with `perf_map`, wasmtime writes
/// `/tmp/perf-<pid>.map` so that `perf record` names the module's compiled functions.
pub fn compile(perf_map: bool) -> wasmtime::Result<(Engine, Module)> {
    let mut config = wasmtime::Config::new();
    if perf_map {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config)?;
    let module = Module::from_file(&engine, crate::FLUENT_BIT_PATH)?;
    Ok((engine, module))
}

impl FluentBit {
    /// A new instance of the shared module ([`module`]), `_initialize`d.
    pub fn new(copy: Copy) -> wasmtime::Result<FluentBit> {
        let (engine, module) = module();
        FluentBit::instantiate(engine, module, copy)
    }

    /// A new instance of `module`, compiled in `engine` ([`compile`]), `_initialize`d.
    pub fn instantiate(
        engine: &Engine,
        module: &Module,
        copy: Copy,
    ) -> wasmtime::Result<FluentBit> {
        let wasi_calls = WasiCalls::default();
        let mut linker = Linker::<()>::new(engine);
        for import in module.imports() {
            let ExternType::Func(ty) = import.ty() else {
                wasmtime::bail!(
                    "unexpected non-function import `{}::{}`",
                    import.module(),
                    import.name()
                );
            };
            let name = format!("{}::{}", import.module(), import.name());
            let calls = wasi_calls.clone();
            linker.func_new(
                import.module(),
                import.name(),
                ty.clone(),
                move |_, _, results| {
                    calls
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(name.clone());
                    if name.ends_with("::proc_exit") {
                        wasmtime::bail!("the module called `{name}`");
                    }
                    // ENOSYS: the host offers nothing.
                    for r in results.iter_mut() {
                        *r = Val::I32(52);
                    }
                    Ok(())
                },
            )?;
        }
        let mut store = Store::new(engine, ());
        let instance = linker.instantiate(&mut store, module)?;
        if let Some(init) = instance.get_func(&mut store, "_initialize") {
            init.typed::<(), ()>(&store)?.call(&mut store, ())?;
        }
        let Some(Extern::Memory(memory)) = instance.get_export(&mut store, "memory") else {
            wasmtime::bail!("the module exports no memory");
        };
        let malloc = instance.get_typed_func::<u32, u32>(&mut store, "malloc")?;
        let free = instance.get_typed_func::<u32, ()>(&mut store, "free")?;
        let mut region = 0;
        if copy == Copy::HostRegion {
            // One more page at the end of memory; the guest allocator grows past it.
            let pages = memory.grow(&mut store, 1)?;
            region = u32::try_from(pages * 65536)?;
        }
        Ok(FluentBit {
            store,
            instance,
            memory,
            malloc,
            free,
            copy,
            region,
            wasi_calls,
        })
    }

    /// WASI functions called so far.
    pub fn wasi_calls(&self) -> Vec<String> {
        self.wasi_calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn filter(&mut self, function: &str) -> wasmtime::Result<Filter> {
        self.instance.get_typed_func(&mut self.store, function)
    }

    /// The size of the guest's linear memory, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// Calls `function` on one record, Fluent Bit style.
    pub fn call(
        &mut self,
        function: &str,
        tag: &str,
        time: (u32, u32),
        record: &[u8],
    ) -> wasmtime::Result<Output> {
        let f = self.filter(function)?;
        let tag_len = u32::try_from(tag.len())?;
        let record_len = u32::try_from(record.len())?;
        let (tag_ptr, record_ptr, owned) = match self.copy {
            Copy::Malloc => {
                let tag_ptr = self.copy_in(tag.as_bytes())?;
                let record_ptr = self.copy_in(record)?;
                (tag_ptr, record_ptr, true)
            }
            Copy::HostRegion => {
                let tag_ptr = self.region;
                self.write(tag_ptr, tag.as_bytes())?;
                let record_ptr = tag_ptr + tag_len + 1;
                let fits = u64::from(tag_len) + 1 + u64::from(record_len) < u64::from(HOST_REGION);
                if fits {
                    self.write(record_ptr, record)?;
                    (tag_ptr, record_ptr, false)
                } else {
                    (tag_ptr, 0, false)
                }
            }
        };
        let ret = f.call(
            &mut self.store,
            (tag_ptr, tag_len, time.0, time.1, record_ptr, record_len),
        )?;
        let out = self.read_c_str(ret)?;
        if owned {
            self.free.call(&mut self.store, tag_ptr)?;
            self.free.call(&mut self.store, record_ptr)?;
        }
        Ok(out)
    }

    /// Calls `function` with `record_ptr == 0` and the given length, as Fluent Bit does
    /// when a record does not fit its heap.
    pub fn call_without_record(
        &mut self,
        function: &str,
        time: (u32, u32),
        record_len: u32,
    ) -> wasmtime::Result<Output> {
        let f = self.filter(function)?;
        let ret = f.call(&mut self.store, (0, 0, time.0, time.1, 0, record_len))?;
        self.read_c_str(ret)
    }

    /// `malloc(len + 1)`, then the bytes and a NUL.
    fn copy_in(&mut self, bytes: &[u8]) -> wasmtime::Result<u32> {
        let size = u32::try_from(bytes.len() + 1)?;
        let ptr = self.malloc.call(&mut self.store, size)?;
        if ptr == 0 {
            wasmtime::bail!("guest malloc({size}) returned null");
        }
        self.write(ptr, bytes)?;
        Ok(ptr)
    }

    fn write(&mut self, ptr: u32, bytes: &[u8]) -> wasmtime::Result<()> {
        self.memory.write(&mut self.store, ptr as usize, bytes)?;
        self.memory
            .write(&mut self.store, ptr as usize + bytes.len(), &[0])?;
        Ok(())
    }

    fn read_c_str(&self, ptr: u32) -> wasmtime::Result<Output> {
        if ptr == 0 {
            return Ok(Output::Null);
        }
        let data = self.memory.data(&self.store);
        let Some(tail) = data.get(ptr as usize..) else {
            wasmtime::bail!(
                "result pointer {ptr} is outside guest memory ({} bytes)",
                data.len()
            );
        };
        // Fluent Bit takes the result's length with `strlen` (glibc's, word- and
        // SIMD-wide); a byte loop here would charge the module for a slower host.
        let Some(end) = memchr::memchr(0, tail) else {
            wasmtime::bail!("result at {ptr} has no terminating NUL");
        };
        Ok(Output::Text(tail[..end].to_vec()))
    }
}

/// The exported function of a data-set id (`ti_misp.threat` → `misp_threat`).
pub fn function(dataset_id: &str) -> Option<&'static str> {
    Some(match dataset_id.parse::<ti_ecs::Dataset>().ok()? {
        ti_ecs::Dataset::AnomaliThreatstream => "anomali_threatstream",
        ti_ecs::Dataset::AnomaliIntelligence => "anomali_intelligence",
        ti_ecs::Dataset::MispThreat => "misp_threat",
        ti_ecs::Dataset::MispThreatAttributes => "misp_threat_attributes",
    })
}

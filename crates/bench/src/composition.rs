//! A big composition for the bundle benches: the `meet` example of
//! `testdata/` (root `meet` importing `inc` and `five`, both on `add`),
//! with every member padded by an unused core module of code, so the
//! whole composition weighs about as much as asked (50 MB in the benches).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use semver::Version;
use warg_depsolve_names::PackageName;
use warg_depsolve_registry::MemorySource;
use warg_depsolve_solver::{resolve, Resolution, Root, SolveOptions};

/// `testdata/` of the repository.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// A core module of about `code_bytes` of code: functions of 1 KiB of
/// `nop`s, none called (also the padding of the scan bench).
pub fn code_module(code_bytes: usize) -> Vec<u8> {
    use wasm_encoder::{
        CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, Module,
        TypeSection,
    };
    const BODY: usize = 1024;
    let funcs = (code_bytes / BODY).max(1);
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    body.raw(std::iter::repeat_n(0x01, BODY));
    body.instruction(&Instruction::End);
    for _ in 0..funcs {
        functions.function(0);
        code.function(&body);
    }
    let mut exports = ExportSection::new();
    exports.export("f0", ExportKind::Func, 0);
    let mut module = Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&exports)
        .section(&code);
    module.finish()
}

/// `component` with `module` appended as a last (unused) core module
/// section.
pub fn pad(component: &[u8], module: &[u8]) -> Vec<u8> {
    const CORE_MODULE_SECTION: u8 = 1;
    let mut out = Vec::with_capacity(component.len() + module.len() + 6);
    out.extend_from_slice(component);
    out.push(CORE_MODULE_SECTION);
    let mut n = module.len() as u64;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(module);
    out
}

/// The composition, solved, with every byte in memory.
pub struct Composition {
    /// The root component (padded `meet`).
    pub root: Vec<u8>,
    /// The registry holding the padded packages.
    pub source: MemorySource,
    /// The resolution of the root against it.
    pub resolution: Resolution,
    /// The packages' bytes, indexed like `resolution.packages`.
    pub packages: Vec<Arc<[u8]>>,
}

impl Composition {
    /// Bytes of the root and every package.
    pub fn input_len(&self) -> usize {
        self.root.len() + self.packages.iter().map(|p| p.len()).sum::<usize>()
    }

    /// Writes the root (`root.wasm`) and the packages (`<i>.wasm`) into
    /// `dir`; returns their paths, root first.
    pub fn write_inputs(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut paths = vec![dir.join("root.wasm")];
        std::fs::write(&paths[0], &self.root)?;
        for (i, p) in self.packages.iter().enumerate() {
            let path = dir.join(format!("{i}.wasm"));
            std::fs::write(&path, p)?;
            paths.push(path);
        }
        Ok(paths)
    }
}

/// Builds the `meet` composition weighing about `total_bytes`: root `meet`,
/// `test:inc@1.0.0`, `test:five@1.0.0`, `test:add@1.1.0`, each padded with
/// a quarter of the code. Panics if `testdata/` is missing or broken.
pub fn meet_composition(total_bytes: usize) -> Composition {
    let data = testdata();
    let module = code_module(total_bytes / 4);
    let root = pad(
        &wat::parse_file(data.join("roots/meet.wat")).expect("meet.wat compiles"),
        &module,
    );
    let source = MemorySource::new("memory");
    for (package, version) in [
        ("test:add", "1.1.0"),
        ("test:inc", "1.0.0"),
        ("test:five", "1.0.0"),
    ] {
        let name: PackageName = package.parse().expect("valid name");
        let version: Version = version.parse().expect("valid version");
        let file = data
            .join("registry")
            .join(name.namespace())
            .join(name.name())
            .join(format!("{version}.wasm"));
        let bytes = std::fs::read(&file).expect("fixture exists");
        source
            .add(&name, &version, pad(&bytes, &module))
            .expect("padded fixture scans");
    }
    let scanned = warg_depsolve_registry::ReleaseMetadata::from_component(
        &"test:meet".parse().expect("valid name"),
        &Version::new(0, 0, 0),
        &root,
    )
    .expect("meet scans");
    let root_deps = Root::new("meet", scanned.dependencies);
    let resolution = resolve(&source, &root_deps, &SolveOptions::default()).expect("meet resolves");
    let packages =
        warg_depsolve_compose::fetch_packages(&resolution, &source).expect("packages fetch");
    Composition {
        root,
        source,
        resolution,
        packages,
    }
}

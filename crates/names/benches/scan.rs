#![allow(missing_docs)] // criterion_group! generates undocumented items.
//! `scan` cost must not depend on code size: a component nesting a ~50 MB
//! core module scans in about the same time as one nesting a tiny module.
//!
//! Run with `cargo bench -p warg-depsolve-names --bench scan`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use warg_depsolve_names::scan::{scan, NestedKind};
use wasm_encoder::{
    CodeSection, Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection,
    ExportKind, ExportSection, Function, FunctionSection, InstanceType, Module, ModuleSection,
    TypeSection,
};

/// Size of the big module's code section, roughly.
const BIG_CODE_BYTES: usize = 50 * 1024 * 1024;
/// Body size of each function of the big module.
const FUNC_BODY_BYTES: usize = 1024;

/// A core module with `funcs` functions of `body_len` `nop`s each.
fn module(funcs: usize, body_len: usize) -> Module {
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    body.raw(std::iter::repeat_n(0x01, body_len)); // nop
    body.instruction(&wasm_encoder::Instruction::End);
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
    module
}

/// A small component: a few imports and one nested module.
fn component(nested: &Module) -> Vec<u8> {
    let mut component = Component::new();
    let mut types = ComponentTypeSection::new();
    types.instance(&InstanceType::new());
    component.section(&types);
    let mut imports = ComponentImportSection::new();
    imports.import("wasi:cli/stdout@0.2.3", ComponentTypeRef::Instance(0));
    imports.import("wasi:cli/stderr@0.2.3", ComponentTypeRef::Instance(0));
    imports.import(
        wasm_encoder::ComponentExternName {
            name: "inc".into(),
            implements: None,
            version_suffix: None,
            external_id: Some("unlocked-dep=<test:inc@{>=1.0.0}>".into()),
        },
        ComponentTypeRef::Instance(0),
    );
    component.section(&imports);
    component.section(&ModuleSection(nested));
    component.finish()
}

fn bench_scan(c: &mut Criterion) {
    // Built once, outside the timed loops.
    let tiny = component(&module(1, 1));
    let big = component(&module(BIG_CODE_BYTES / FUNC_BODY_BYTES, FUNC_BODY_BYTES));
    for (label, bytes) in [("tiny", &tiny), ("big", &big)] {
        let s = scan(bytes).expect("bench component scans");
        assert_eq!(s.imports.len(), 3);
        assert_eq!(s.nested.len(), 1);
        assert_eq!(s.nested[0].kind, NestedKind::Module);
        eprintln!(
            "{label}: component {} bytes, nested module {} bytes",
            bytes.len(),
            s.nested[0].range.len()
        );
    }

    let mut group = c.benchmark_group("scan");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("component nesting a tiny module", |b| {
        b.iter(|| scan(black_box(&tiny)).unwrap())
    });
    group.bench_function("component nesting a 50 MB module", |b| {
        b.iter(|| scan(black_box(&big)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_scan);
criterion_main!(benches);

//! Malformed plugins, made with `wasm-encoder` (never committed as binaries).

use std::borrow::Cow;

use wasm_encoder::{
    CodeSection, Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection, CustomSection, Function,
    FunctionSection, InstanceType, Module, ModuleSection, PrimitiveValType, RawSection, TypeBounds, TypeSection,
};

/// The top-level sections of a component or module: `(id, contents)`, after the 8-byte header.
fn sections(bytes: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes[pos];
        pos += 1;
        let (mut size, mut shift) = (0usize, 0);
        loop {
            let b = bytes[pos];
            pos += 1;
            size |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        out.push((id, &bytes[pos..pos + size]));
        pos += size;
    }
    out
}

/// The name of a custom section, from its contents.
fn custom_name(contents: &[u8]) -> &[u8] {
    let len = usize::from(contents[0]); // names here are short: a one-byte LEB
    &contents[1..1 + len]
}

/// `component` with its top-level `subnetkit:abi` section replaced by `version` (or removed).
pub(crate) fn with_abi(component: &[u8], version: Option<&str>) -> Vec<u8> {
    let mut out = component[..8].to_vec();
    for (id, contents) in sections(component) {
        if id == 0 && custom_name(contents) == b"subnetkit:abi" {
            continue;
        }
        wasm_encoder::ComponentSection::append_to_component(&RawSection { id, data: contents }, &mut out);
    }
    if let Some(version) = version {
        append_abi(&mut out, version);
    }
    out
}

/// Appends a top-level `subnetkit:abi` section saying `version`.
fn append_abi(out: &mut Vec<u8>, version: &str) {
    let section = CustomSection { name: Cow::Borrowed("subnetkit:abi"), data: Cow::Borrowed(version.as_bytes()) };
    wasm_encoder::ComponentSection::append_to_component(&section, out);
}

/// A component with the right ABI section that imports an instance named `name` holding one
/// function `now: func() -> u64`, and nothing else.
pub(crate) fn importing(name: &str) -> Vec<u8> {
    let mut instance = InstanceType::new();
    instance.ty().function().params([] as [(&str, PrimitiveValType); 0]).result(Some(PrimitiveValType::U64.into()));
    instance.export("now", ComponentTypeRef::Func(0));
    importing_instance(name, &instance)
}

/// A component with the right ABI section that imports an instance named `name` holding only a
/// type (a record `seed { value: u64 }`): no function, no resource, and nothing else.
pub(crate) fn importing_types(name: &str) -> Vec<u8> {
    let mut instance = InstanceType::new();
    instance.ty().defined_type().record([("value", PrimitiveValType::U64)]);
    instance.export("seed", ComponentTypeRef::Type(TypeBounds::Eq(0)));
    importing_instance(name, &instance)
}

/// A component with the right ABI section whose only content is an import of `instance` as `name`.
fn importing_instance(name: &str, instance: &InstanceType) -> Vec<u8> {
    let mut component = Component::new();
    let mut types = ComponentTypeSection::new();
    types.instance(instance);
    component.section(&types);
    let mut imports = ComponentImportSection::new();
    imports.import(name, ComponentTypeRef::Instance(0));
    component.section(&imports);
    let mut bytes = component.finish();
    append_abi(&mut bytes, "0.1.0");
    bytes
}

/// A component with the right ABI section and nothing else (so no exports).
pub(crate) fn empty_component() -> Vec<u8> {
    let mut bytes = Component::new().finish();
    append_abi(&mut bytes, "0.1.0");
    bytes
}

/// A core module with `count` functions of `body_bytes` bytes of `nop`s each.
fn core_module(count: u32, body_bytes: usize) -> Module {
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    module.section(&types);
    let mut functions = FunctionSection::new();
    for _ in 0..count {
        functions.function(0);
    }
    module.section(&functions);
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    body.raw(std::iter::repeat_n(0x01, body_bytes)); // nop
    body.raw([0x0b]); // end
    for _ in 0..count {
        code.function(&body);
    }
    module.section(&code);
    module
}

/// A compile-time bomb: a component holding a core module with `count` functions of `body_bytes`
/// bytes each. Well-formed wasm, but compiling it would take a long time.
pub(crate) fn bomb(count: u32, body_bytes: usize) -> Vec<u8> {
    let mut component = Component::new();
    component.section(&ModuleSection(&core_module(count, body_bytes)));
    let mut bytes = component.finish();
    append_abi(&mut bytes, "0.1.0");
    bytes
}

/// A plain core module (not a component).
pub(crate) fn plain_module() -> Vec<u8> {
    core_module(1, 1).finish()
}

#[test]
fn abi_rewriting_round_trips() {
    let bytes = empty_component();
    assert_eq!(with_abi(&bytes, Some("0.1.0")), bytes);
    assert!(wasmparser::Validator::new().validate_all(&with_abi(&bytes, Some("9.9.9"))).is_ok());
}

//! The wasm route, end to end without wasmtime: every built plugin parses and validates as a
//! component, carries `subnetkit:abi` = the SDK's ABI version at its top level, imports nothing
//! at all (not even types), and exports the `mechanism` interface with its three functions.

use wasmparser::component_types::ComponentEntityType;
use wasmparser::{ComponentExternalKind, Encoding, Parser, Payload, Validator, WasmFeatures};

/// The interface every plugin exports: the types and the three functions.
const INTERFACE: &str = "subnetkit:mechanism/mechanism@0.1.0";

/// One test per guest: adding a guest without a line here fails to compile.
macro_rules! guest_test {
    ($name:ident, $constant:ident) => {
        #[test]
        fn $name() {
            check_component(stringify!($name), test_plugins::$constant);
        }
    };
}

mod each_guest {
    use super::check_component;
    test_plugins::foreach_guest!(guest_test);
}

/// What a component's top level declares.
#[derive(Debug, Default)]
struct TopLevel {
    abi: Vec<String>,
    imports: Vec<String>,
    exports: Vec<(String, ComponentExternalKind)>,
}

fn top_level(bytes: &[u8]) -> TopLevel {
    let mut top = TopLevel::default();
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("parses") {
            Payload::Version { encoding, .. } => {
                if depth == 0 {
                    assert_eq!(encoding, Encoding::Component, "not a component");
                }
                depth += 1;
            }
            Payload::End(_) => depth -= 1,
            Payload::CustomSection(s) if depth == 1 && s.name() == componentize::ABI_SECTION => {
                top.abi.push(String::from_utf8(s.data().to_vec()).expect("utf-8"));
            }
            Payload::ComponentImportSection(imports) if depth == 1 => {
                for import in imports {
                    top.imports.push(import.expect("import").name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(exports) if depth == 1 => {
                for export in exports {
                    let export = export.expect("export");
                    top.exports.push((export.name.name.to_owned(), export.kind));
                }
            }
            _ => {}
        }
    }
    top
}

#[track_caller]
fn check_component(name: &str, path: &str) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: cannot read {path}: {e}"));
    let types = Validator::new_with_features(WasmFeatures::default())
        .validate_all(&bytes)
        .unwrap_or_else(|e| panic!("{name}: invalid component: {e}"));
    let top = top_level(&bytes);
    assert_eq!(top.abi, [sdk_guest::ABI_VERSION], "{name}: one top-level ABI section");
    assert_eq!(componentize::abi_version(&bytes).unwrap().as_deref(), Some(sdk_guest::ABI_VERSION));
    assert_eq!(top.imports, Vec::<String>::new(), "{name}: imports nothing");
    let instances: Vec<&str> = top
        .exports
        .iter()
        .filter(|(_, kind)| *kind == ComponentExternalKind::Instance)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(instances, [INTERFACE], "{name}: exports {:?}", top.exports);
    let interface = match types.component_item_for_export(INTERFACE).map(|item| &item.ty) {
        Some(ComponentEntityType::Instance(id)) => &types[*id],
        other => panic!("{name}: `{INTERFACE}` is {other:?}"),
    };
    let funcs: Vec<&str> = interface
        .exports
        .iter()
        .filter(|(_, export)| matches!(export.ty, ComponentEntityType::Func(_)))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(funcs, ["manifest", "make-task", "score"], "{name}: `{INTERFACE}` exports {:?}", interface.exports);
}

#[test]
fn the_abi_section_is_the_first_section() {
    for (name, path) in test_plugins::ALL {
        let bytes = std::fs::read(path).unwrap();
        let mut payloads = Parser::new(0).parse_all(&bytes);
        assert!(matches!(payloads.next(), Some(Ok(Payload::Version { .. }))));
        match payloads.next() {
            Some(Ok(Payload::CustomSection(s))) => assert_eq!(s.name(), componentize::ABI_SECTION, "{name}"),
            other => panic!("{name}: first section is {other:?}"),
        }
    }
}

#[test]
fn constants_agree() {
    assert_eq!(componentize::ABI_SECTION, sdk_guest::ABI_SECTION);
    assert_eq!(test_plugins::path("good"), Some(test_plugins::GOOD));
    assert_eq!(test_plugins::path("nope"), None);
    let names: Vec<&str> = test_plugins::ALL.iter().map(|(n, _)| *n).collect();
    for expected in ["float-heavy", "good", "rouge-l"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    for (name, path) in test_plugins::ALL {
        assert_eq!(std::path::Path::new(path).parent().unwrap(), std::path::Path::new(test_plugins::DIR), "{name}");
    }
}

#[test]
fn core_modules_carry_the_abi_section_and_the_world() {
    for (name, path) in test_plugins::CORE_MODULES {
        let bytes = std::fs::read(path).unwrap();
        let mut names = Vec::new();
        for payload in Parser::new(0).parse_all(&bytes) {
            if let Payload::CustomSection(s) = payload.unwrap() {
                names.push(s.name().to_owned());
            }
        }
        if !["float-heavy", "good", "rouge-l"].contains(name) {
            continue;
        }
        assert_eq!(componentize::abi_version(&bytes).unwrap().as_deref(), Some(sdk_guest::ABI_VERSION), "{name}");
        assert!(names.iter().any(|n| n.starts_with("component-type:")), "{name}: {names:?}");
        assert!(names.iter().any(|n| n == "name"), "{name}: keeps its name section: {names:?}");
        assert!(!names.iter().any(|n| n.starts_with(".debug")), "{name}: no DWARF: {names:?}");
    }
}

#[test]
fn componentize_refuses_a_module_without_the_abi_section() {
    let (_, path) = test_plugins::CORE_MODULES.iter().find(|(n, _)| *n == "good").unwrap();
    let core = std::fs::read(path).unwrap();
    let stripped = without_custom_section(&core, componentize::ABI_SECTION);
    assert!(matches!(componentize::componentize(&stripped), Err(componentize::Error::MissingAbi)));
    // Stamping it again is all it takes.
    let mut restamped = stripped.clone();
    wasm_encoder_free_custom_section(&mut restamped, componentize::ABI_SECTION, b"0.1.0");
    let component = componentize::componentize(&restamped).unwrap();
    assert_eq!(top_level(&component).imports, Vec::<String>::new(), "imports nothing");
    assert_eq!(componentize::abi_version(&component).unwrap().as_deref(), Some("0.1.0"));
}

/// `module` without its top-level custom sections named `name`.
fn without_custom_section(module: &[u8], name: &str) -> Vec<u8> {
    let mut out = module[..8].to_vec();
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.unwrap();
        if let Payload::CustomSection(s) = &payload
            && s.name() == name
        {
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            out.push(id);
            let range = range.start as usize..range.end as usize;
            leb128(&mut out, range.len() as u64);
            out.extend_from_slice(&module[range]);
        }
    }
    out
}

/// Appends a custom section to a module, by hand.
fn wasm_encoder_free_custom_section(module: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut body = Vec::new();
    leb128(&mut body, name.len() as u64);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    module.push(0);
    leb128(module, body.len() as u64);
    module.extend_from_slice(&body);
}

fn leb128(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

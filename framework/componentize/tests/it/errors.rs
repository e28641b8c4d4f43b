use std::borrow::Cow;

use componentize::{ABI_SECTION, Error, abi_version, componentize};
use wasm_encoder::{Component, ComponentSectionId, CustomSection, Module, ModuleSection, RawSection};

fn custom(name: &str, data: &[u8]) -> CustomSection<'static> {
    CustomSection { name: Cow::Owned(name.to_owned()), data: Cow::Owned(data.to_vec()) }
}

/// A core module with the given custom sections and nothing else.
fn module(sections: &[(&str, &[u8])]) -> Vec<u8> {
    let mut m = Module::new();
    for (name, data) in sections {
        m.section(&custom(name, data));
    }
    m.finish()
}

#[test]
fn reads_the_version_of_a_module() {
    assert_eq!(abi_version(&module(&[(ABI_SECTION, b"0.1.0")])).unwrap().as_deref(), Some("0.1.0"));
    assert_eq!(abi_version(&module(&[("other", b"x"), (ABI_SECTION, b"9.9.9")])).unwrap().as_deref(), Some("9.9.9"));
    assert_eq!(abi_version(&module(&[])).unwrap(), None);
    assert_eq!(abi_version(&module(&[("subnetkit:abi-x", b"0.1.0")])).unwrap(), None);
}

#[test]
fn reads_only_the_top_level_of_a_component() {
    let inner = module(&[(ABI_SECTION, b"0.0.1")]);
    let mut c = Component::new();
    c.section(&ModuleSection(&Module::new()));
    c.section(&RawSection { id: ComponentSectionId::CoreModule.into(), data: &inner });
    let nested_only = c.clone().finish();
    assert_eq!(abi_version(&nested_only).unwrap(), None, "a nested module's section does not count");

    c.section(&custom(ABI_SECTION, b"0.1.0"));
    assert_eq!(abi_version(&c.finish()).unwrap().as_deref(), Some("0.1.0"));
}

#[test]
fn refuses_bad_sections() {
    let twice = module(&[(ABI_SECTION, b"0.1.0"), (ABI_SECTION, b"0.1.0")]);
    assert!(matches!(abi_version(&twice), Err(Error::DuplicateAbi)));
    assert!(matches!(componentize(&twice), Err(Error::DuplicateAbi)));

    let not_utf8 = module(&[(ABI_SECTION, &[0xff, 0xfe])]);
    assert!(matches!(abi_version(&not_utf8), Err(Error::AbiNotUtf8)));
    assert_eq!(abi_version(&not_utf8).unwrap_err().to_string(), "the `subnetkit:abi` section is not UTF-8");
}

#[test]
fn malformed_bytes_are_errors_not_panics() {
    let good = module(&[(ABI_SECTION, b"0.1.0")]);
    let cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\0asm".to_vec(),
        b"not wasm at all".to_vec(),
        good[..good.len() - 1].to_vec(),
        [good.as_slice(), &[0x00, 0x7f]].concat(),
    ];
    for bytes in cases {
        let err = abi_version(&bytes).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{bytes:?}: {err}");
        assert!(err.to_string().starts_with("malformed wasm: "), "{err}");
        assert!(matches!(componentize(&bytes), Err(Error::Malformed(_))), "{bytes:?}");
    }
    let unknown = [good.as_slice(), &[0x42, 0x00]].concat();
    let err = abi_version(&unknown).unwrap_err();
    assert_eq!(err.to_string(), format!("malformed wasm: unknown section id 66 at offset {}", good.len() + 2));

    // Every prefix of a valid module is an error or a shorter answer, never a panic.
    let mut c = Component::new();
    c.section(&ModuleSection(&Module::new()));
    c.section(&custom(ABI_SECTION, b"0.1.0"));
    let bytes = c.finish();
    for end in 0..bytes.len() {
        let _ = abi_version(&bytes[..end]);
        let _ = componentize(&bytes[..end]);
    }
}

#[test]
fn componentize_refuses_what_it_cannot_wrap() {
    let mut c = Component::new();
    c.section(&custom(ABI_SECTION, b"0.1.0"));
    let err = componentize(&c.finish()).unwrap_err();
    assert!(matches!(err, Error::NotCoreModule));
    assert_eq!(err.to_string(), "expected a core wasm module, got a component");

    let err = componentize(&module(&[])).unwrap_err();
    assert!(matches!(err, Error::MissingAbi));
    assert_eq!(
        err.to_string(),
        "the module has no `subnetkit:abi` section (export the plugin with `sdk_guest::export_mechanism!`)"
    );

    // The ABI section but no embedded WIT world: the component would export nothing.
    let err = componentize(&module(&[(ABI_SECTION, b"0.1.0")])).unwrap_err();
    assert!(matches!(err, Error::MissingWorld), "{err}");
    assert_eq!(err.to_string(), "the module has no embedded WIT world (build it with `sdk-guest`)");

    // A world section that wit-component cannot decode.
    let err = componentize(&module(&[(ABI_SECTION, b"0.1.0"), ("component-type:x", b"garbage")])).unwrap_err();
    assert!(matches!(err, Error::Encode(_)), "{err}");
    assert!(err.to_string().starts_with("cannot componentize the module: "), "{err}");
}

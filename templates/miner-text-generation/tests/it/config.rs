use miner_text_generation::{Backend, ConfigError, GeneratorConfig, OpenAiConfig, Sampling, SmolLm2Config};

fn parse(json: &str) -> GeneratorConfig {
    serde_json::from_str(json).unwrap_or_else(|error| panic!("{json}: {error}"))
}

/// Asserts that building `config` fails on `field` with a message containing `needle`.
fn check_invalid(config: GeneratorConfig, field: &str, needle: &str) {
    let error = Backend::from_config(&config).expect_err("the config should be refused");
    match &error {
        ConfigError::Invalid { field: got, reason } => {
            assert_eq!(*got, field, "{error}");
            assert!(reason.contains(needle), "`{reason}` should contain `{needle}`");
            assert!(error.to_string().contains(&format!("`{field}`")), "{error}");
        }
        other => panic!("expected an invalid `{field}`, got {other:?}"),
    }
}

fn openai(base_url: &str) -> OpenAiConfig {
    OpenAiConfig::new(base_url, "some-model")
}

#[test]
fn parses_every_backend() {
    assert_eq!(
        parse(r#"{"backend": "smollm2", "gguf": "/m/model.gguf"}"#),
        GeneratorConfig::SmolLm2(SmolLm2Config { gguf: Some("/m/model.gguf".into()), sampling: None })
    );
    assert_eq!(
        parse(r#"{"backend": "smollm2"}"#),
        GeneratorConfig::SmolLm2(SmolLm2Config { gguf: None, sampling: None })
    );
    assert_eq!(
        parse(
            r#"{"backend": "openai_compatible", "base_url": "http://127.0.0.1:8000", "model": "m",
                "api_key_env": "KEY", "timeout_ms": 900}"#
        ),
        GeneratorConfig::OpenaiCompatible(OpenAiConfig {
            base_url: "http://127.0.0.1:8000".into(),
            model: "m".into(),
            api_key_env: Some("KEY".into()),
            timeout_ms: 900,
        })
    );
    assert_eq!(
        parse(r#"{"backend": "openai_compatible", "base_url": "https://api.example.com", "model": "m"}"#),
        GeneratorConfig::OpenaiCompatible(OpenAiConfig::new("https://api.example.com", "m"))
    );
    assert_eq!(parse(r#"{"backend": "test_fallback"}"#), GeneratorConfig::TestFallback);
}

#[test]
fn round_trips_through_json() {
    for config in [
        GeneratorConfig::default(),
        GeneratorConfig::SmolLm2(SmolLm2Config { gguf: Some("/x.gguf".into()), sampling: None }),
        GeneratorConfig::OpenaiCompatible(openai("http://localhost:1")),
        GeneratorConfig::TestFallback,
    ] {
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(parse(&json), config, "{json}");
    }
}

#[test]
fn the_default_is_the_real_model_not_the_fallback() {
    assert_eq!(GeneratorConfig::default(), GeneratorConfig::SmolLm2(SmolLm2Config { gguf: None, sampling: None }));
}

#[test]
fn refuses_unknown_backends_and_fields() {
    for json in [
        r#"{"backend": "gpt5"}"#,
        r#"{"gguf": "/m.gguf"}"#,
        r#"{"backend": "smollm2", "path": "/m.gguf"}"#,
        r#"{"backend": "openai_compatible", "base_url": "http://h", "model": "m", "api_key": "sk-secret"}"#,
        r#"{"backend": "openai_compatible", "model": "m"}"#,
    ] {
        assert!(serde_json::from_str::<GeneratorConfig>(json).is_err(), "{json} should be refused");
    }
}

#[test]
fn validation_names_the_field() {
    let config = |openai: OpenAiConfig| GeneratorConfig::OpenaiCompatible(openai);
    check_invalid(config(openai("not a url")), "openai_compatible.base_url", "relative URL");
    check_invalid(config(openai("ftp://host")), "openai_compatible.base_url", "`ftp`");
    check_invalid(config(openai("http://host/v1")), "openai_compatible.base_url", "without `/v1`");
    check_invalid(config(openai("http://host/v1/")), "openai_compatible.base_url", "without `/v1`");
    check_invalid(config(openai("http://host/?key=1")), "openai_compatible.base_url", "query");
    check_invalid(config(OpenAiConfig::new("http://host", " ")), "openai_compatible.model", "empty");
    check_invalid(config(OpenAiConfig { timeout_ms: 0, ..openai("http://host") }), "openai_compatible.timeout_ms", "0");
    check_invalid(
        config(OpenAiConfig { timeout_ms: 600_001, ..openai("http://host") }),
        "openai_compatible.timeout_ms",
        "600001",
    );
    check_invalid(
        config(OpenAiConfig { api_key_env: Some(String::new()), ..openai("http://host") }),
        "openai_compatible.api_key_env",
        "not a variable name",
    );
    check_invalid(
        config(OpenAiConfig {
            api_key_env: Some("MINER_TEXT_GENERATION_TEST_SURELY_UNSET_KEY".into()),
            ..openai("http://host")
        }),
        "openai_compatible.api_key_env",
        "`MINER_TEXT_GENERATION_TEST_SURELY_UNSET_KEY` is not set",
    );
    check_invalid(
        GeneratorConfig::SmolLm2(SmolLm2Config { gguf: Some("".into()), sampling: None }),
        "smollm2.gguf",
        "empty",
    );
}

fn smollm2_sampling(sampling: Sampling) -> GeneratorConfig {
    GeneratorConfig::SmolLm2(SmolLm2Config { gguf: None, sampling: Some(sampling) })
}

#[test]
fn parses_smollm2_sampling() {
    assert_eq!(
        parse(r#"{"backend": "smollm2", "sampling": {"temperature": 0.7, "top_p": 0.9, "seed": 7}}"#),
        smollm2_sampling(Sampling::new(0.7).with_top_p(0.9).with_seed(7))
    );
    assert_eq!(
        parse(r#"{"backend": "smollm2", "sampling": {"temperature": 1}}"#),
        smollm2_sampling(Sampling { temperature: 1.0, top_p: None, seed: None })
    );
    assert_eq!(
        parse(
            r#"{"backend": "smollm2", "gguf": "/m.gguf", "sampling": {"temperature": 0.5, "seed": 18446744073709551615}}"#
        ),
        GeneratorConfig::SmolLm2(SmolLm2Config {
            gguf: Some("/m.gguf".into()),
            sampling: Some(Sampling::new(0.5).with_seed(u64::MAX)),
        })
    );
    assert_eq!(parse(r#"{"backend": "smollm2", "sampling": null}"#), GeneratorConfig::default());
    for json in [
        r#"{"backend": "smollm2", "sampling": {}}"#,
        r#"{"backend": "smollm2", "sampling": {"top_p": 0.9}}"#,
        r#"{"backend": "smollm2", "sampling": {"temperature": 0.7, "top_k": 40}}"#,
        r#"{"backend": "smollm2", "sampling": {"temperature": 0.7, "seed": -1}}"#,
        r#"{"backend": "smollm2", "sampling": 0.7}"#,
    ] {
        assert!(serde_json::from_str::<GeneratorConfig>(json).is_err(), "{json} should be refused");
    }
    let config = smollm2_sampling(Sampling::new(1.5).with_top_p(1.0).with_seed(3));
    assert_eq!(parse(&serde_json::to_string(&config).unwrap()), config);
}

#[test]
fn sampling_validation_names_the_field() {
    for (sampling, field, needle) in [
        (Sampling::new(0.0), "smollm2.sampling.temperature", "0 is outside (0, 2]"),
        (Sampling::new(-0.5), "smollm2.sampling.temperature", "-0.5 is outside"),
        (Sampling::new(2.5), "smollm2.sampling.temperature", "2.5 is outside"),
        (Sampling::new(f64::NAN), "smollm2.sampling.temperature", "NaN is outside"),
        (Sampling::new(f64::INFINITY), "smollm2.sampling.temperature", "inf is outside"),
        (Sampling::new(0.7).with_top_p(0.0), "smollm2.sampling.top_p", "0 is outside (0, 1]"),
        (Sampling::new(0.7).with_top_p(1.01), "smollm2.sampling.top_p", "1.01 is outside"),
        (Sampling::new(0.7).with_top_p(f64::NAN), "smollm2.sampling.top_p", "NaN is outside"),
    ] {
        check_invalid(smollm2_sampling(sampling), field, needle);
        let error = sampling.validate().expect_err("out of range");
        assert!(error.to_string().contains(&format!("`{field}`")), "{error}");
    }
    for sampling in
        [Sampling::new(2.0), Sampling::new(1e-6).with_top_p(1.0).with_seed(0), Sampling::new(0.7).with_top_p(1e-3)]
    {
        sampling.validate().unwrap_or_else(|error| panic!("{sampling:?}: {error}"));
        assert!(smollm2_sampling(sampling).validate().is_ok(), "{sampling:?}");
    }
}

#[test]
fn a_valid_openai_config_builds_and_keeps_a_path_prefix() {
    let backend = Backend::from_config(&GeneratorConfig::OpenaiCompatible(openai("http://127.0.0.1:9/proxy/")))
        .expect("a valid config");
    assert_eq!(backend.name(), "openai_compatible");
    let Backend::OpenAiCompatible(client) = backend else { panic!("wrong backend") };
    assert_eq!(client.url(), "http://127.0.0.1:9/proxy/v1/chat/completions");
}

#[test]
fn the_test_fallback_is_built_only_when_named() {
    let backend = Backend::from_config(&GeneratorConfig::TestFallback).unwrap();
    assert_eq!(backend.name(), "test_fallback");
}

#[cfg(not(feature = "smollm2"))]
#[test]
fn smollm2_without_the_feature_says_which_feature() {
    check_invalid(GeneratorConfig::default(), "backend", "--features smollm2");
}

#[cfg(feature = "smollm2")]
#[test]
fn smollm2_with_a_missing_file_names_the_file() {
    let config =
        GeneratorConfig::SmolLm2(SmolLm2Config { gguf: Some("/nonexistent/model.gguf".into()), sampling: None });
    let error = Backend::from_config(&config).expect_err("no such file");
    assert!(matches!(error, ConfigError::Load(_)), "{error:?}");
    assert!(error.to_string().contains("/nonexistent/model.gguf"), "{error}");
}

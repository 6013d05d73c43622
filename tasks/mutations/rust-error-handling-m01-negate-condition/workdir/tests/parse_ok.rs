use svcconf::{parse_config, Config, DEFAULT_TIMEOUT_MS, DEFAULT_WORKERS};

#[test]
fn full_file_parses() {
    let text = "\
# worker service
host = queue.internal
port = 5672
workers = 8
timeout_ms = 1500
verbose = true
";
    let cfg = parse_config(text).unwrap();
    assert_eq!(
        cfg,
        Config {
            host: "queue.internal".into(),
            port: 5672,
            workers: 8,
            timeout_ms: 1500,
            verbose: true,
        }
    );
}

#[test]
fn optional_keys_default() {
    let cfg = parse_config("host=localhost\nport=80\n").unwrap();
    assert_eq!(cfg.workers, DEFAULT_WORKERS);
    assert_eq!(cfg.timeout_ms, DEFAULT_TIMEOUT_MS);
    assert!(!cfg.verbose);
}

// Scoring tests for svcconf's error handling; copied into the work dir only when grading.

mod tests {
    use std::panic;
    use svcconf::{parse_config, parse_pairs, ConfigError};

    fn err(text: &str) -> ConfigError {
        let text = text.to_string();
        match panic::catch_unwind(move || parse_config(&text)) {
            Ok(Ok(cfg)) => panic!("expected an error, got {:?}", cfg),
            Ok(Err(e)) => e,
            Err(_) => panic!("parse_config panicked instead of returning an error"),
        }
    }

    #[test]
    fn happy_path_still_works() {
        let cfg = parse_config("  host = a.b  \n\n# c\nport=1\nverbose = false\n").unwrap();
        assert_eq!(cfg.host, "a.b");
        assert_eq!(cfg.port, 1);
        assert!(!cfg.verbose);
    }

    #[test]
    fn malformed_line_reports_one_based_line_number() {
        assert_eq!(err("host = a\n\n# comment\nport 80\n"), ConfigError::MalformedLine { line: 4 });
    }

    #[test]
    fn missing_required_key() {
        assert_eq!(err("port = 80\n"), ConfigError::MissingKey("host".into()));
        assert_eq!(err("host = a\n"), ConfigError::MissingKey("port".into()));
    }

    #[test]
    fn invalid_required_value() {
        assert_eq!(
            err("host = a\nport = 99999\n"),
            ConfigError::InvalidValue { key: "port".into(), value: "99999".into() }
        );
    }

    #[test]
    fn invalid_optional_value() {
        assert_eq!(
            err("host = a\nport = 1\nworkers = many\n"),
            ConfigError::InvalidValue { key: "workers".into(), value: "many".into() }
        );
        assert_eq!(
            err("host = a\nport = 1\nverbose = yes\n"),
            ConfigError::InvalidValue { key: "verbose".into(), value: "yes".into() }
        );
    }

    #[test]
    fn duplicate_key() {
        assert_eq!(err("host = a\nport = 1\nhost = b\n"), ConfigError::DuplicateKey("host".into()));
    }

    #[test]
    fn parse_pairs_reports_errors_too() {
        assert_eq!(parse_pairs("ok = 1\nnope\n"), Err(ConfigError::MalformedLine { line: 2 }));
        assert_eq!(parse_pairs("a=1\na=2\n"), Err(ConfigError::DuplicateKey("a".into())));
    }

    #[test]
    fn errors_display_a_message() {
        let e = err("host = a\nport = x\n");
        assert_eq!(e.to_string(), "key `port`: cannot parse `x`");
    }
}

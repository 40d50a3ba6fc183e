use std::path::PathBuf;

/// `openapi/openapi.json` must be what the code generates. Refresh it with
/// `UPDATE_OPENAPI=1 cargo test -p registratura-e2e openapi` (or `just openapi`).
#[test]
fn the_committed_openapi_spec_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let generated = registratura::pages::openapi::spec_json() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("the spec is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale; refresh it with: UPDATE_OPENAPI=1 cargo test -p registratura-e2e openapi"
    );
}

#[test]
fn every_error_code_is_in_the_spec() {
    let spec = registratura::pages::openapi::spec_json();
    for code in api_types::ErrorCode::ALL {
        assert!(
            spec.contains(&format!("\"{}\"", code.as_str())),
            "{code:?} is missing"
        );
    }
}

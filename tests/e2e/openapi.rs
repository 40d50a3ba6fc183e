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

/// The codes an operation of the spec declares: its error responses' descriptions list them,
/// each in backticks, under the status they go with.
fn declared(spec: &serde_json::Value, path: &str, method: &str) -> Vec<(u16, String)> {
    let responses = spec["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is in the spec"));
    let mut codes = Vec::new();
    for (status, response) in responses {
        let Ok(status) = status.parse::<u16>() else {
            continue;
        };
        if status < 400 {
            continue;
        }
        let text = response["description"].as_str().unwrap_or_default();
        for part in text.split('`').skip(1).step_by(2) {
            codes.push((status, part.to_owned()));
        }
    }
    codes
}

#[test]
fn every_error_code_a_route_can_answer_is_declared_on_it_under_its_status() {
    let spec: serde_json::Value =
        serde_json::from_str(&registratura::pages::openapi::spec_json()).expect("JSON");
    let mut answered = std::collections::BTreeSet::new();
    for endpoint in registratura::routes::ENDPOINTS {
        let method = format!("{:?}", endpoint.route.method).to_lowercase();
        let declared = declared(&spec, endpoint.route.path, &method);
        let failures = endpoint.failures();
        for code in &failures {
            answered.insert(code.as_str());
            assert!(
                declared.contains(&(code.status(), code.as_str().to_owned())),
                "{method} {} can answer {} ({}), which its operation does not declare: {declared:?}",
                endpoint.route.path,
                code.as_str(),
                code.status()
            );
        }
        // Nothing declared that the route table does not say it answers.
        for (status, code) in &declared {
            assert!(
                failures
                    .iter()
                    .any(|f| f.as_str() == code && f.status() == *status),
                "{method} {} declares {code} ({status}), which it never answers",
                endpoint.route.path
            );
        }
    }
    // Every code of the API is answered by some route (the pages' own answers aside).
    for code in api_types::ErrorCode::ALL {
        assert!(
            answered.contains(code.as_str()) || code == api_types::ErrorCode::MethodNotAllowed,
            "{code:?} is answered by no route of the table"
        );
    }
}

/// Every `$ref` of a value, recursively.
fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_schema_the_spec_refers_to_is_in_it() {
    let spec: serde_json::Value =
        serde_json::from_str(&registratura::pages::openapi::spec_json()).expect("JSON");
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {r}"));
        assert!(
            spec["components"]["schemas"].get(name).is_some(),
            "{r} is referred to and not defined"
        );
    }
}

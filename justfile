# Registratura's everyday commands. `just` alone lists them.

_default:
    @just --list

# Run the gateway with the built-in sandbox МИС (as `cargo run --release`).
run:
    cargo run --release

# Run the sandbox МИС alone on 127.0.0.1:8090.
sandbox:
    cargo run --release -- sandbox

# Format the code.
fmt:
    cargo fmt --all

# Lint everything as CI does.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Run the tests.
test:
    cargo test --workspace

# Exactly what CI runs (installs xmllint and zeep if missing; makes every optional test mandatory).
ci:
    bash .ci/run

# Regenerate openapi/openapi.json from the code.
openapi:
    UPDATE_OPENAPI=1 cargo test -p registratura-e2e --test e2e openapi

# Regenerate the sandbox's WSDL from the hub contract in ../shared.
wsdl:
    python3 crates/sandbox-mis/wsdl/generate.py ../shared/mis/netrika-hub > crates/sandbox-mis/wsdl/hub.wsdl

# Run the benchmarks (figures go to BENCHMARKS.md).
bench:
    cargo bench -p registratura-e2e --bench gateway

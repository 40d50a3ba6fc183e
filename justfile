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
    cargo clippy -p widget --target wasm32-unknown-unknown -- -D warnings
    cargo clippy -p widget --target wasm32-unknown-unknown --no-default-features -- -D warnings

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

# Run the benchmarks, or one section (codec, overhead, cached, rush, surge, scale, region, size, widget, failover); installs wrk and
# nginx if missing. The table and the machine go to BENCHMARKS.md.
bench section="":
    #!/usr/bin/env bash
    set -euo pipefail
    missing=()
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v nginx >/dev/null 2>&1 || missing+=(nginx)
    if [ ${#missing[@]} -gt 0 ]; then
      sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    # 1 000 open connections need as many descriptors, on both sides.
    ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true
    # The gateway runs as the release binary, as operators run it.
    cargo build --release -p registratura --bin registratura
    cargo bench -p registratura-e2e --bench gateway -- {{section}}

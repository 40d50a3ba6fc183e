//! Feeds arbitrary bytes to every XML decoder of the hub adapter: none may panic, hang or
//! blow up memory. Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run xml_decoders -- -max_total_time=60`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mis_hub::contract::{Operation, decode_request, decode_response};

fuzz_target!(|data: &[u8]| {
    let _ = mis_hub::xml::parse(data);
    let _ = decode_request(data);
    for op in Operation::ALL.iter().copied() {
        let _ = decode_response(op, data);
    }
});

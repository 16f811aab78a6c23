//! component_interfaces on raw bytes: no panic; the lists it returns are
//! sorted and free of duplicates.
#![no_main]

use lectern_marketplace::package::component_interfaces;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(wit) = component_interfaces(data) {
        assert!(wit.imports.windows(2).all(|w| w[0] < w[1]));
        assert!(wit.exports.windows(2).all(|w| w[0] < w[1]));
    }
});

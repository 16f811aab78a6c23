//! PackageManifest::parse on raw bytes. Property: an accepted manifest is
//! canonical (its RFC 8785 serialisation is exactly the input) and valid.
#![no_main]

use lectern_marketplace::canonical;
use lectern_marketplace::package::{Limits, PackageManifest};
use lectern_marketplace_fuzz::SMALL_LIMITS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for limits in [Limits::default(), SMALL_LIMITS] {
        if let Ok(m) = PackageManifest::parse(data, &limits) {
            assert_eq!(canonical::to_vec(&m).expect("serialises"), data, "accepted a non-canonical manifest");
            m.validate(&limits).expect("an accepted manifest validates");
            m.semver().expect("an accepted manifest has a semantic version");
            let _ = (m.key(), m.file_name(), m.target_path());
        }
    }
});

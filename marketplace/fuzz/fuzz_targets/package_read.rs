//! Package::read with the default limits and with small ones. The first
//! input byte picks what the rest is: odd, a tar archive the harness gzips
//! (so mutations reach the tar and manifest checks instead of breaking the
//! deflate stream or its CRC); even, the package bytes as they are.
//! Property: a package that reads re-packs (deterministically) into an
//! archive that reads back as an equal package, and its manifest bytes parse
//! back to its manifest.
#![no_main]

use lectern_marketplace::package::{Limits, Package, PackageManifest};
use lectern_marketplace_fuzz::SMALL_LIMITS;
use libfuzzer_sys::fuzz_target;

fn check(data: &[u8], limits: &Limits) {
    let Ok(package) = Package::read(data, limits) else { return };
    let manifest = PackageManifest::parse(&package.manifest_bytes, limits).expect("the manifest it read parses again");
    assert_eq!(manifest, package.manifest);
    let packed = package.pack().expect("a package that reads packs");
    // The re-packed archive may compress worse than the input did.
    let relaxed = Limits { archive_bytes: u64::MAX, ..*limits };
    let again = Package::read(&packed, &relaxed).expect("a re-packed package reads");
    assert_eq!(again, package, "re-pack and re-read changed the package");
    assert_eq!(again.pack().expect("packs"), packed, "packing is not deterministic");
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else { return };
    let archive = if mode & 1 == 1 { lectern_marketplace_fuzz::gzip(rest) } else { rest.to_vec() };
    check(&archive, &Limits::default());
    check(&archive, &SMALL_LIMITS);
});

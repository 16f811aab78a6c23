//! Short course pages the tutor tests index (shared by the e2e suite and the
//! generator check, which are separate test binaries).

/// A page with a section and a subsection about ARP.
pub const ARP: &str = "Hosts on an Ethernet segment talk to each other with MAC addresses.

## How ARP resolves addresses

The Address Resolution Protocol (ARP) maps an IPv4 address to a MAC address. A host that wants to reach \
192.0.2.7 broadcasts an ARP request asking who has that address; the owner answers with its MAC address \
in a unicast ARP reply.

### The ARP cache

Replies are kept in the ARP cache for a few minutes so that not every frame needs a broadcast. Entries \
expire, and a gratuitous ARP updates neighbours when an address moves.
";

/// A page about DNS resolvers.
pub const DNS: &str = "## Resolvers

A DNS resolver turns names such as www.example.org into IP addresses by asking root, top-level domain and \
authoritative name servers in turn, and caches each answer for its time to live.
";

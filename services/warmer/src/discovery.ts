// Where the targets are. Sidecar: one API over loopback, from WARMER_TARGET(_PUBLIC). Fleet: every
// address behind a DNS name, resolved again every WARMER_RESOLVE_INTERVAL_MS.
import { promises as dns } from 'node:dns';
import { isIPv6 } from 'node:net';

export interface TargetAddress {
  id: string;
  adminUrl: URL;
  publicUrl: URL;
}

export interface FleetOptions {
  host: string;
  adminPort: number;
  publicPort: number;
  /** `ip` or `ip:port` of a DNS server to ask instead of the system resolver. */
  dnsServer?: string | undefined;
}

export function sidecarTarget(adminUrl: URL, publicUrl: URL): TargetAddress {
  return { id: adminUrl.host, adminUrl, publicUrl };
}

/** Every address behind the name, sorted so the target list is stable. */
export async function resolveFleet(opts: FleetOptions): Promise<TargetAddress[]> {
  let addresses: string[];
  if (opts.dnsServer) {
    const resolver = new dns.Resolver({ timeout: 2_000, tries: 2 });
    resolver.setServers([opts.dnsServer]);
    addresses = await resolver.resolve4(opts.host);
  } else {
    // The system resolver also reads /etc/hosts and Compose's embedded DNS.
    addresses = (await dns.lookup(opts.host, { all: true })).map((a) => a.address);
  }
  return [...new Set(addresses)].sort().map((address) => {
    const host = isIPv6(address) ? `[${address}]` : address;
    return {
      id: address,
      adminUrl: new URL(`http://${host}:${opts.adminPort}`),
      publicUrl: new URL(`http://${host}:${opts.publicPort}`),
    };
  });
}

// The kernel's TCP counters (this network namespace) that show a burst's SYNs or handshakes being
// dropped: a full accept queue (ListenOverflows, ListenDrops), a full SYN queue (TCPReqQFullDrop),
// SYN cookies, and the clients' SYN retransmissions. Read from /proc/net/netstat like `nstat` does.
import { readFileSync } from 'node:fs';

export const TCP_DROP_COUNTERS = [
  'ListenOverflows',
  'ListenDrops',
  'TCPReqQFullDrop',
  'SyncookiesSent',
  'TCPSynRetrans',
] as const;

/** The TcpExt counters above right now; empty where /proc/net/netstat is not there (not Linux). */
export function tcpCounters(): Record<string, number> {
  let text: string;
  try {
    text = readFileSync('/proc/net/netstat', 'utf8');
  } catch {
    return {};
  }
  const lines = text.split('\n');
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (!lines[i]!.startsWith('TcpExt:')) continue;
    const names = lines[i]!.split(/\s+/).slice(1);
    const values = lines[i + 1]!.split(/\s+/).slice(1);
    names.forEach((name, j) => {
      if ((TCP_DROP_COUNTERS as readonly string[]).includes(name)) out[name] = Number(values[j]);
    });
  }
  return out;
}

/**
 * Connections waiting in the accept queue of the IPv4 socket listening on `port` (the rx_queue of a
 * LISTEN row in /proc/net/tcp, what `ss -ltn` shows as Recv-Q): connected as far as the client can
 * tell, not yet accepted by the server. undefined where it cannot be read (not Linux).
 */
export function acceptQueueLength(port: number): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  let total: number | undefined;
  for (const line of text.split('\n')) {
    // "sl local rem st tx_queue:rx_queue ..."; st 0A is LISTEN.
    const fields = line.trim().split(/\s+/);
    if (fields[3] !== '0A' || !`${fields[1]} `.endsWith(local)) continue;
    total = (total ?? 0) + parseInt(fields[4]!.split(':')[1]!, 16);
  }
  return total;
}
